"""Per-record features for linking people, computed once per record, never per pair.

All features are text with '' for missing, so comparisons and blocking keys treat every column
alike. From a normalised frame (union, civil or roster) this derives: the name without the
minority separator and its pinyin (with and without tones) and surname pinyin; the ID's
18-character form, validity, Excel damage and parts (first 14 = place + birth date, first 15,
the last 4 = sequence code + check digit); the birth
date (stated, else from the ID) as YYYYMMDD; and sex, district, street, address, phone, employer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.normalise.id_number import id_shaped
from pipeline.normalise.names import pinyin_columns, surname
from pipeline.normalise.vocab import map_unique
from pipeline.textops import slice_text

PASSTHROUGH = ("sex", "district_code", "street", "address", "phone", "employer")
# Every column of a normalised frame that person_features reads (when present).
INPUTS = ("name", "id_norm", "id_valid", "id_excel_damaged", "id_placeholder", "birth_date",
          "id_birth_date", "birth_date_source", *PASSTHROUGH)


def feature_inputs(frame: pd.DataFrame) -> pd.DataFrame:
    """Only the columns person_features reads: what a distributed engine has to ship."""
    return frame[[c for c in INPUTS if c in frame.columns]]


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("").astype(object)


def _ymd(series: pd.Series) -> pd.Series:
    """Dates as YYYYMMDD text ('' when missing); integer arithmetic, not strftime per row."""
    dates = pd.to_datetime(series, errors="coerce")
    known = dates.notna().to_numpy()
    number = (dates.dt.year * 10000 + dates.dt.month * 100 + dates.dt.day).to_numpy(
        dtype=np.float64)
    text = np.full(len(dates), "", dtype=object)
    text[known] = number[known].astype(np.int64).astype(str).astype(object)
    return pd.Series(text, index=series.index, dtype=object)


def person_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Features of Chinese person records (a normalised union, civil or roster frame)."""
    out = pd.DataFrame(index=frame.index)
    name = _text(frame["name"])
    out["name"] = name
    out["name_nosep"] = map_unique(name, lambda v: "" if v is None else v.replace("·", ""))
    pinyin = pinyin_columns(frame["name"])
    out["name_py_tone"] = _text(pinyin["name_pinyin_tone"])
    out["name_py"] = _text(pinyin["name_pinyin"])
    surnames = pd.Series(map_unique(frame["name"], lambda v: surname(v) if isinstance(
        v, str) else None), index=frame.index, dtype=object)
    out["surname_py"] = _text(pinyin_columns(surnames.astype("string"))["name_pinyin"])

    id_norm = _text(frame["id_norm"])
    shaped = id_shaped(id_norm.to_numpy(dtype=object))
    if "id_placeholder" in frame.columns:  # a placeholder is no evidence: as if blank
        shaped &= ~frame["id_placeholder"].fillna(False).to_numpy(dtype=bool)
    out["id"] = id_norm.where(shaped, "")
    out["id_valid"] = np.where(frame["id_valid"].astype(bool), "1", "")
    out["id_x000"] = np.where(frame["id_excel_damaged"].astype(bool) & shaped, "1", "")
    ids = out["id"].to_numpy(dtype=object)
    out["id14"] = slice_text(ids, 0, 14)
    # The first 15 digits survive Excel's damage; blocking on them finds the `…000` rows.
    out["id15"] = slice_text(ids, 0, 15)
    # The sequence code and check digit (digits 15–18, GB 11643): with the name, a block that
    # finds a number mistyped in its first 14 digits (place or birth date).
    out["id_tail"] = slice_text(ids, 14, 18)

    birth_column = frame["birth_date"] if "birth_date" in frame.columns else frame[
        "id_birth_date"]
    out["birth"] = _ymd(birth_column)
    out["birth_source"] = _text(frame["birth_date_source"]) if "birth_date_source" in \
        frame.columns else ""
    out["birth_year"] = slice_text(out["birth"].to_numpy(dtype=object), 0, 4)
    for column in PASSTHROUGH:
        out[column] = _text(frame[column]) if column in frame.columns else ""
    return out.astype(object)

"""Per-record features for linking people, computed once per record, never per pair.

All features are text with '' for missing, so comparisons and blocking keys treat every column
alike. From a normalised frame (union, civil or roster) this derives: the name without the
minority separator and its pinyin (with and without tones) and surname pinyin; the ID's
18-character form, validity, Excel damage and parts (first 14 = place + birth date); the birth
date (stated, else from the ID) as YYYYMMDD; and sex, district, street, address, phone, employer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.normalise.names import pinyin_columns, surname
from pipeline.normalise.vocab import map_unique

ID_FORMAT = r"^\d{17}[\dX]$"
PASSTHROUGH = ("sex", "district_code", "street", "address", "phone", "employer")


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
    out["name_nosep"] = name.str.replace("·", "", regex=False)
    pinyin = pinyin_columns(frame["name"])
    out["name_py_tone"] = _text(pinyin["name_pinyin_tone"])
    out["name_py"] = _text(pinyin["name_pinyin"])
    surnames = pd.Series(map_unique(frame["name"], lambda v: surname(v) if isinstance(
        v, str) else None), index=frame.index, dtype=object)
    out["surname_py"] = _text(pinyin_columns(surnames.astype("string"))["name_pinyin"])

    id_norm = _text(frame["id_norm"])
    shaped = id_norm.str.match(ID_FORMAT).fillna(False).astype(bool)
    out["id"] = id_norm.where(shaped, "")
    out["id_valid"] = np.where(frame["id_valid"].astype(bool), "1", "")
    out["id_x000"] = np.where(frame["id_excel_damaged"].astype(bool) & shaped, "1", "")
    out["id14"] = out["id"].str.slice(0, 14)
    # The first 15 digits survive Excel's damage; blocking on them finds the `…000` rows.
    out["id15"] = out["id"].str.slice(0, 15)

    birth_column = frame["birth_date"] if "birth_date" in frame.columns else frame[
        "id_birth_date"]
    out["birth"] = _ymd(birth_column)
    out["birth_source"] = _text(frame["birth_date_source"]) if "birth_date_source" in \
        frame.columns else ""
    out["birth_year"] = out["birth"].str.slice(0, 4)
    for column in PASSTHROUGH:
        out[column] = _text(frame[column]) if column in frame.columns else ""
    return out.astype(object)

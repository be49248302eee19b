"""Normalise a column by its kind. Each kind maps a raw Series to typed columns and a mask of
values that were present but could not be understood (reported, never silently blanked)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from pipeline.normalise import dates, districts, id_number, names, uscc, vocab

_SPACES = re.compile(r"\s+")


@dataclass
class Normalised:
    """Typed columns produced from one raw column, and which rows were not understood."""

    columns: dict[str, pd.Series]
    not_understood: pd.Series  # bool


def _none_mask(values: pd.Series) -> pd.Series:
    return pd.Series(False, index=values.index, dtype=bool)


def _text(value: object) -> str | None:
    """NFKC, surrounding space stripped, inner runs of white space made one space."""
    if vocab.is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", str(value))).strip()
    return text or None


def _texts(values: pd.Series) -> pd.Series:
    """`_text` of every value (string dtype, same index); clean values skip Python."""
    return pd.Series(vocab.map_unique(values, _text, identity_when_clean=True),
                     index=values.index, dtype="string")


def text_column(field: str, values: pd.Series) -> Normalised:
    return Normalised({field: _texts(values)}, _none_mask(values))


def key_column(field: str, values: pd.Series) -> Normalised:
    """Identifiers (档案编号, 家庭编号, 成员序号): no spaces; `007` and `7` stay distinct."""
    return Normalised({field: pd.Series(vocab.map_unique(values, vocab.clean_text,
                                                            identity_when_clean=True),
                                        index=values.index, dtype="string")}, _none_mask(values))


def name_column(field: str, values: pd.Series) -> Normalised:
    normalised = names.normalise_names(values)
    raw = _texts(values)
    return Normalised({f"{field}_raw": raw, field: normalised}, _none_mask(values))


def id_column(field: str, values: pd.Series, as_of: dt.date | None) -> Normalised:
    checks = id_number.check_ids(values, as_of=as_of)
    raw = _texts(values)
    columns = {"id_raw": raw, **{c: checks[c] for c in checks.columns}}
    return Normalised(columns, _none_mask(values))


def date_column(field: str, values: pd.Series) -> Normalised:
    parsed = dates.parse_dates(values)
    return Normalised({field: parsed["value"]}, parsed["unparseable"])


def int_column(field: str, values: pd.Series) -> Normalised:
    parsed = vocab.parse_ints(values)
    return Normalised({field: parsed["value"]}, parsed["unparseable"])


def money_column(field: str, values: pd.Series) -> Normalised:
    parsed = vocab.parse_moneys(values)
    return Normalised({field: parsed["value"]}, parsed["unparseable"])


def district_column(field: str, values: pd.Series) -> Normalised:
    codes = districts.district_codes(values)
    raw = _texts(values)
    return Normalised({f"{field}_raw": raw, "district_code": codes}, raw.notna() & codes.isna())


def uscc_column(field: str, values: pd.Series) -> Normalised:
    cleaned = pd.Series(vocab.map_unique(values, uscc.clean_uscc), index=values.index,
                        dtype="string")
    valid = pd.Series(vocab.map_unique(values, uscc.uscc_valid), index=values.index, dtype=bool)
    return Normalised({field: cleaned, f"{field}_valid": valid}, cleaned.notna() & ~valid)


def vocab_column(fn: Callable[[object], str | None]) -> Callable[[str, pd.Series], Normalised]:
    """A column from a controlled vocabulary: unknown values become NA and are reported."""

    def normalise(field: str, values: pd.Series) -> Normalised:
        canon = vocab.canon_series(values, fn)
        unknown = (canon == vocab.UNRECOGNISED).fillna(False).astype(bool)
        return Normalised({field: canon.mask(unknown)}, unknown)

    return normalise


# The kinds a source plan may name.
KINDS: dict[str, Callable[..., Normalised]] = {
    "text": text_column,
    "key": key_column,
    "name": name_column,
    "date": date_column,
    "int": int_column,
    "money": money_column,
    "district": district_column,
    "uscc": uscc_column,
    "assistance": vocab_column(vocab.canon_assistance),
    "roll_status": vocab_column(vocab.canon_roll_status),
    "case_status": vocab_column(vocab.canon_case_status),
    "person_status": vocab_column(vocab.canon_person_status),
    "sex": vocab_column(vocab.canon_sex),
    "relation": vocab_column(vocab.canon_relation),
    "category": vocab_column(vocab.canon_category),
    "phone": vocab_column(vocab.canon_phone),
}

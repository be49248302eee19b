"""Administrative division codes (GB/T 2260) and Beijing district names.

Two sources of knowledge:

* every six-digit code that has existed in any version of GB/T 2260: ``data/gbt2260_history.csv``
  (every code of the Ministry of Civil Affairs' published yearly lists 1981–2024, 6,450 codes
  with their first and last year; compiled by the CC0 dataset ``yescallop/areacodes``, see
  ``data/README.md``), united with the history table shipped with python-stdnum
  (``stdnum/cn/loc.dat``, which adds the 市辖区 pseudo-codes such as 130101 that real ID numbers
  carry, and lacks 17 published codes such as 330113 临平区, 329012 昆山, 379014 平度). An ID
  number's prefix is where it was issued and never changes, so abolished codes (110103 崇文区,
  110228 密云县) stay valid;
* ``data/beijing_districts.csv``: Beijing's current districts plus their historical codes and
  names, each pointing at the current successor district.

Names are resolved within Beijing only (朝阳 is also a city in Liaoning); the inputs are Beijing.
"""

from __future__ import annotations

import csv
import math
import numbers
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd

from pipeline.normalise.cell_text import unprotect

_LOC_PROVINCE = re.compile(r"^(\d{2}) province=")
_LOC_COUNTY = re.compile(r"^\s+(\d{4}) county=")
_CODE_TEXT = re.compile(r"^(\d{6})(?:\.0*)?$")
_WHITESPACE = re.compile(r"\s+")
_BEIJING_PREFIXES = ("北京市市辖区", "北京市", "北京")

# Codes that any sound copy of the history table must contain (abolished ones included).
_MUST_KNOW = ("110103", "110104", "110221", "110229", "110111", "110119", "310115", "440305")


@dataclass(frozen=True)
class District:
    """One row of the Beijing district table."""

    code: str
    name: str
    current_code: str
    valid_from: int | None
    valid_to: int | None
    aliases: tuple[str, ...]


def _parse_loc(text: str) -> frozenset[str]:
    """All six-digit codes in a ``loc.dat`` text: province prefix + four-digit county code."""
    codes: set[str] = set()
    province: str | None = None
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if m := _LOC_PROVINCE.match(line):
            province = m.group(1)
            codes.add(province + "0000")
        elif (m := _LOC_COUNTY.match(line)) and province is not None:
            codes.add(province + m.group(1))
    return frozenset(codes)


HISTORY_FILE = "gbt2260_history.csv"


@lru_cache(maxsize=1)
def published_admin_codes() -> frozenset[str]:
    """The codes of the published GB/T 2260 lists 1981–2024 (``data/gbt2260_history.csv``).

    Raises RuntimeError when the shipped table is damaged (fewer than 6,000 codes or a
    code that must be there is missing): better no night than every old ID reported invalid."""
    path = resources.files("pipeline.normalise") / "data" / HISTORY_FILE
    with path.open(encoding="utf-8-sig", newline="") as handle:
        codes = frozenset(row["code"].strip() for row in csv.DictReader(handle))
    if len(codes) < 6000 or any(c not in codes for c in (*_MUST_KNOW, "330113", "329012")):
        raise RuntimeError(f"pipeline/normalise/data/{HISTORY_FILE} looks incomplete")
    return codes


@lru_cache(maxsize=1)
def known_admin_codes() -> frozenset[str]:
    """Every code known in any version of GB/T 2260 (provinces, prefectures, counties): the
    published lists (:func:`published_admin_codes`) and python-stdnum's table.

    Raises RuntimeError when either table looks incomplete."""
    text = (resources.files("stdnum.cn") / "loc.dat").read_text(encoding="utf-8")
    codes = _parse_loc(text)
    missing = [c for c in _MUST_KNOW if c not in codes]
    if missing or len(codes) < 3000:
        raise RuntimeError(
            "stdnum/cn/loc.dat looks incomplete; the GB/T 2260 history table is unusable"
        )
    return codes | published_admin_codes()


def admin_code_known(code: str) -> bool:
    """True if ``code`` is a six-digit code that existed in some version of GB/T 2260."""
    return isinstance(code, str) and code in known_admin_codes()


def _year(text: str) -> int | None:
    return int(text) if text.strip() else None


@lru_cache(maxsize=1)
def beijing_districts() -> tuple[District, ...]:
    """The shipped Beijing table, current and historical codes."""
    path = resources.files("pipeline.normalise") / "data" / "beijing_districts.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return tuple(
        District(
            code=r["code"].strip(),
            name=r["name"].strip(),
            current_code=r["current_code"].strip(),
            valid_from=_year(r["valid_from"]),
            valid_to=_year(r["valid_to"]),
            aliases=tuple(a.strip() for a in r["aliases"].split("|") if a.strip()),
        )
        for r in rows
    )


@lru_cache(maxsize=1)
def _code_to_current() -> dict[str, str]:
    return {d.code: d.current_code for d in beijing_districts()}


@lru_cache(maxsize=1)
def _name_to_current() -> dict[str, str]:
    """Name/alias → current code. Conflicting names would be a table bug, so fail loudly."""
    index: dict[str, str] = {}
    for d in beijing_districts():
        for key in (d.name, *d.aliases):
            if index.setdefault(key, d.current_code) != d.current_code:
                raise RuntimeError(f"Beijing district table maps {key} to two districts")
    return index


@lru_cache(maxsize=1)
def _current_names() -> dict[str, str]:
    return {d.code: d.name for d in beijing_districts() if d.code == d.current_code}


@lru_cache(maxsize=1)
def _t2s():  # pragma: no cover - depends on the installed OpenCC build
    try:
        import opencc

        return opencc.OpenCC("t2s")
    except Exception:  # traditional-script fallback is optional
        return None


def _as_text(value: object) -> str | None:
    """Text form of a cell; numeric cells (110108, 110108.0) become their integer digits."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        f = float(value)
        if math.isnan(f) or not f.is_integer():
            return None
        return str(int(f))
    text = unicodedata.normalize("NFKC", unprotect(str(value)))
    return _WHITESPACE.sub("", text) or None


def _from_code(code: str) -> str | None:
    current = _code_to_current().get(code)
    if current is not None:
        return current
    return code if admin_code_known(code) else None


def _from_name(name: str) -> str | None:
    index = _name_to_current()
    candidates = [name]
    for prefix in _BEIJING_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            candidates.append(name[len(prefix) :])
    for candidate in candidates:
        if candidate in index:
            return index[candidate]
    return None


@lru_cache(maxsize=4096)
def _resolve(text: str) -> str | None:
    if m := _CODE_TEXT.match(text):
        return _from_code(m.group(1))
    found = _from_name(text)
    if found is None and (converter := _t2s()) is not None:
        simplified = converter.convert(text)
        if simplified != text:
            found = _from_name(simplified)
    return found


def district_code(value: object) -> str | None:
    """Current six-digit code for a district given as code, old code, name, old name or alias.

    A Beijing historical code or name resolves to its current successor (110103 → 110101,
    密云县 → 110118). A known non-Beijing code is returned unchanged; anything else is ``None``.
    """
    text = _as_text(value)
    return None if text is None else _resolve(text)


def district_codes(values: pd.Series) -> pd.Series:
    """Vectorised :func:`district_code`; same index, ``string`` dtype, ``<NA>`` if unresolved."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    resolved = [district_code(u) for u in uniques] + [None]
    taken = [resolved[c] for c in codes]  # code -1 picks the trailing None
    return pd.Series(pd.array(taken, dtype="string"), index=values.index, name=values.name)


def district_name(code: object) -> str | None:
    """Current name (海淀区) for a current Beijing district code; ``None`` otherwise."""
    text = _as_text(code)
    return None if text is None else _current_names().get(text)

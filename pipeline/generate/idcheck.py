"""The truth's own reading of written values: ID numbers, birth-date cells, GBK-era names.

Written for the truth (truth.py) from the rules of SPEC §1.4, independently of the pipeline's
normalisers: what a careful reader of the exported files would decide.

ID numbers are cleaned first (NFKC; zero-width characters, a ``="…"`` wrapper, one leading
apostrophe, white space — tabs, NBSP — and hyphens removed; x upper-cased), then judged:

* ``valid``: a resident ID (GB 11643: 18 characters, MOD 11-2 check character, a real birth
  date from 1900 to the reference date, a prefix of some published GB/T 2260 list 1981–2024),
  a legacy 15-digit one with a real date and a published prefix, a residence permit of Hong
  Kong / Macau / Taiwan residents (810000 / 820000 / 830000), or the 2023 foreigners'
  permanent-residence number (9, a published province NN0000, three nationality digits,
  birth date, sequence, check character);
* ``unpublished_prefix``: sound in every respect but a prefix no published list holds;
* ``placeholder``: typed for an unknown number (one digit repeated, a ±1 digit run, a prefix
  then zeros, an all-zero birth part, an all-zero sequence unless digits 16–18 are ``000``,
  which is Excel's damage);
* ``invalid`` (check character, date, format, Excel damage) and ``blank``.
"""

from __future__ import annotations

import csv
import itertools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path

from .constants import REFERENCE_DATE
from .dates import EXCEL_EPOCH

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643-1999
ID_CHECK = "10X98765432"
PERMIT_PREFIXES = frozenset({"810000", "820000", "830000"})
MIN_BIRTH = date(1900, 1, 1)
# Excel's day 60 is 1900-02-29 (which never existed); every day before 1900-03-01 is no date.
FIRST_REAL_SERIAL = 61

_HISTORY = "gbt2260_history.csv"
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_FORMULA = re.compile(r'^=\s*"(.*)"$', re.DOTALL)
_DROP = re.compile(r"[\s\-‐‑‒–—―−]+")


def _history_paths() -> tuple[Path, ...]:
    """Where the GB/T 2260 history is: shipped with the normalisers, else the shared copy."""
    here = Path(__file__).resolve()
    return (here.parent.parent / "normalise" / "data" / _HISTORY,
            here.parents[3] / "shared" / "data" / _HISTORY)


@lru_cache(maxsize=1)
def published_codes() -> frozenset[str]:
    """Every code of the published GB/T 2260 lists 1981–2024 (6,450 codes)."""
    for path in _history_paths():
        if path.exists():
            with path.open(encoding="utf-8-sig", newline="") as fh:
                return frozenset(row["code"] for row in csv.DictReader(fh))
    raise FileNotFoundError(f"{_HISTORY} not found in {[str(p) for p in _history_paths()]}")


def id_check_char(body17: str) -> str:
    """GB 11643 MOD 11-2 check character of 17 digits."""
    return ID_CHECK[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True)) % 11]


def clean_id(raw: object) -> str:
    """The written number without protection marks, spaces and hyphens (may be '')."""
    if raw is None:
        return ""
    if isinstance(raw, str) and raw.isascii() and raw.isalnum():
        return raw.upper()  # the usual plain cell: nothing to remove
    s = unicodedata.normalize("NFKC", str(raw))
    s = _ZERO_WIDTH.sub("", s).strip()
    if m := _FORMULA.match(s):
        s = m.group(1).strip()
    if s.startswith("'"):
        s = s[1:]
    return _DROP.sub("", s).upper()


def _real_date(y: int, m: int, d: int) -> bool:
    try:
        born = date(y, m, d)
    except ValueError:
        return False
    return MIN_BIRTH <= born <= REFERENCE_DATE


def _run_or_repeat(digits: str) -> bool:
    """One digit repeated, or each digit one more / one less than the last (wrapping 9/0)."""
    step = (int(digits[1]) - int(digits[0])) % 10
    if step not in (0, 1, 9):
        return False
    return all((int(b) - int(a)) % 10 == step for a, b in itertools.pairwise(digits))


def is_placeholder(s: str) -> bool:
    """Placeholder patterns on a cleaned 18-digit (or legacy 15-digit) number."""
    if len(s) == 15:
        return _run_or_repeat(s) or s[6:12] == "000000" or s[12:15] == "000"
    body = s[:17]
    if _run_or_repeat(body) or body[6:] == "0" * 11 or body[6:14] == "0" * 8:
        return True
    return body[14:17] == "000" and s[15:18] != "000"


@dataclass(frozen=True)
class IdVerdict:
    """``status`` (valid / unpublished_prefix / placeholder / invalid / blank) and, for sound
    numbers (valid or unpublished_prefix), the canonical 18 characters."""

    status: str
    canonical: str | None = None


def _prefix_status(s: str) -> str:
    """valid / unpublished_prefix / invalid from the first six characters of a sound number."""
    prefix = s[:6]
    if prefix in PERMIT_PREFIXES or prefix in published_codes():
        return "valid"
    if prefix[0] == "9":
        return "valid" if prefix[1:3] + "0000" in published_codes() else "invalid"
    return "unpublished_prefix"


@cache
def check_id(raw: object) -> IdVerdict:
    """The truth's verdict on one written ID cell."""
    s = clean_id(raw)
    if not s:
        return IdVerdict("blank")
    if len(s) == 15 and s.isdigit():
        if is_placeholder(s):
            return IdVerdict("placeholder")
        if not _real_date(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12])):
            return IdVerdict("invalid")
        body = s[:6] + "19" + s[6:]
        full = body + id_check_char(body)
        status = _prefix_status(full)
        return IdVerdict(status, full if status != "invalid" else None)
    if len(s) != 18 or not s[:17].isdigit() or s[17] not in "0123456789X":
        return IdVerdict("invalid")
    if is_placeholder(s):
        return IdVerdict("placeholder")
    if id_check_char(s[:17]) != s[17]:
        return IdVerdict("invalid")
    if not _real_date(int(s[6:10]), int(s[10:12]), int(s[12:14])):
        return IdVerdict("invalid")
    status = _prefix_status(s)
    return IdVerdict(status, s if status != "invalid" else None)


# ---------------------------------------------------------------- birth-date cells

_YMD = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


@dataclass(frozen=True)
class DateSerial:
    """An Excel date cell given by its serial number (written with a date style)."""

    serial: int


def parse_written_date(value: object) -> date | None:
    """A written date cell as a date; None for blank, unreadable or before 1900-03-01."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, DateSerial):
        value = value.serial
    if isinstance(value, int | float) and not isinstance(value, bool):
        serial = int(value)
        return EXCEL_EPOCH + timedelta(days=serial) if serial >= FIRST_REAL_SERIAL else None
    text = str(value or "").strip()
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    if m := _YMD.match(text):
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    return None


# ---------------------------------------------------------------- names


@lru_cache(maxsize=1)
def gbk_pua_map() -> dict[int, int]:
    """Private-use code points of GBK-era systems (GB codes FE50–FEA0 at U+E815–U+E864, in
    code order) → the standard characters GB 18030 gives them, as Python's gb18030 codec
    decodes the byte pairs (66 of the 80; e.g. U+E863 → 䶮 U+4DAE, U+E844 → 䜣 U+4723)."""
    out: dict[int, int] = {}
    pua = 0xE815
    for low in [*range(0x50, 0x7F), *range(0x80, 0xA1)]:
        char = bytes((0xFE, low)).decode("gb18030")
        if not 0xE000 <= ord(char) <= 0xF8FF:
            out[pua] = ord(char)
        pua += 1
    return out


def standard_to_pua(text: str) -> str:
    """``text`` as a GBK-era system stores it: mapped characters at their private-use points."""
    return text.translate({std: pua for pua, std in gbk_pua_map().items()})

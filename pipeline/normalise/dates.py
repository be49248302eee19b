"""Date parsing for the formats found in real roll and civil-affairs files.

Accepted: date/datetime/Timestamp cells, Excel serial numbers (1900 date system), and strings
``2019-03-01``, ``2019/3/1``, ``2019.03.01``, ``20190301``, ``2019年3月1日``, each optionally
followed by a time (``2019/3/1 0:00``, ``2019-03-01 00:00:00``). Day-first or month-first
forms (``01/03/2019``) are ambiguous and give None. Nothing here raises.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
import unicodedata

import numpy as np
import pandas as pd

from pipeline.normalise.vocab import is_blank
from pipeline.textops import is_text

# Plausibility window for every path; it also keeps results inside datetime64[ns].
MIN_YEAR = 1900
MAX_YEAR = 2100
# Excel's 1900 date system counts a 1900-02-29 that never existed (serial 60, Lotus 1-2-3's
# leap-year bug, kept by Excel for compatibility: Microsoft KB 214326). Serials 1–59 are
# January–February 1900, one day off from the true calendar, and 60 is no day at all. No
# worker, family member or file in these exports dates from then: a cell there is an Excel
# artefact (a small number typed into a date-formatted cell), so every date before 1900-03-01,
# from a serial, a date cell (python-calamine shows serial 60 as 1900-02-28) or text, is not a
# date: reported as a field issue, never evidence.
MIN_DATE = dt.date(1900, 3, 1)

# Excel serials: from 61 on the day count is off by one (the fake leap day), so the epoch is
# effectively 1899-12-30.
MIN_SERIAL = 61
MAX_SERIAL = 80_000  # 2119-01-10
_EPOCH_AFTER_LEAP = dt.date(1899, 12, 30)

_TIME = r"(?:(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"
_Y, _M, _D = r"(?P<y>\d{4})", r"(?P<m>\d{1,2})", r"(?P<d>\d{1,2})"
_YMD_SEPARATED = re.compile(rf"^{_Y}(?P<sep>[-/.]){_M}(?P=sep){_D}{_TIME}$")
_YMD_CHINESE = re.compile(rf"^{_Y}\s*年\s*{_M}\s*月\s*{_D}\s*日?{_TIME}$")
_YMD_COMPACT = re.compile(rf"^{_Y}(?P<m>\d{{2}})(?P<d>\d{{2}}){_TIME}$")
_SERIAL = re.compile(r"^\d{1,5}(?:\.\d+)?$")
# A bare year (2019) or year.month (2019.3) is not a date, although it looks like a serial.
_YEAR_LIKE = re.compile(r"^(?:19|20)\d{2}(?:\.\d{1,2})?$")


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    """A real calendar date inside the window, else None (2019-02-30 → None)."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return _in_window(dt.date(year, month, day))
    except ValueError:
        return None


def _in_window(day: dt.date) -> dt.date | None:
    """``day`` if it lies between 1900-03-01 (:data:`MIN_DATE`) and the end of MAX_YEAR."""
    return day if day >= MIN_DATE and day.year <= MAX_YEAR else None


def from_excel_serial(serial: float) -> dt.date | None:
    """Date of an Excel (1900 system) serial number; a time fraction is truncated."""
    if not math.isfinite(serial):
        return None
    whole = math.floor(serial)
    if not MIN_SERIAL <= whole <= MAX_SERIAL:  # 1–60: Excel's January–February 1900
        return None
    return _EPOCH_AFTER_LEAP + dt.timedelta(days=whole)


def _from_number(value: float) -> dt.date | None:
    """A numeric cell: YYYYMMDD when it has 8 integer digits, else an Excel serial."""
    if math.isfinite(value) and value == int(value) and 10_000_000 <= value <= 99_999_999:
        whole = int(value)
        return _make_date(whole // 10_000, whole // 100 % 100, whole % 100)
    return from_excel_serial(value)


def _from_text(text: str) -> dt.date | None:
    text = unicodedata.normalize("NFKC", text).strip()
    for pattern in (_YMD_SEPARATED, _YMD_CHINESE, _YMD_COMPACT):
        match = pattern.match(text)
        if match:
            return _make_date(int(match["y"]), int(match["m"]), int(match["d"]))
    if _SERIAL.match(text) and not _YEAR_LIKE.match(text):
        return from_excel_serial(float(text))
    return None


def parse_date(value: object) -> dt.date | None:
    """Parse one date cell; None when blank, invalid or ambiguous. Never raises."""
    try:
        if is_blank(value) or isinstance(value, bool):
            return None
        if isinstance(value, dt.datetime):  # includes pd.Timestamp
            return _in_window(value.date())
        if isinstance(value, dt.date):
            return _in_window(value)
        if isinstance(value, np.datetime64):
            return _in_window(pd.Timestamp(value).date())
        if isinstance(value, numbers.Real):
            return _from_number(float(value))
        if isinstance(value, str):
            return _from_text(value)
    except (ValueError, TypeError, OverflowError, ArithmeticError):
        return None
    return None


def _parse_one(value: object) -> tuple[np.datetime64, bool]:
    day = parse_date(value)
    if day is None:
        return np.datetime64("NaT", "ns"), not is_blank(value)
    return np.datetime64(day, "ns"), False


# `2019-03-01`, `2019/3/1`, `2019.3.1`: one separator, ASCII digits, no time. In RE2 (Arrow)
# each separator is its own pattern, since RE2 has no back-reference for "the same again".
_PLAIN_PATTERNS = tuple(rf"^(?P<y>[0-9]{{4}}){re.escape(sep)}(?P<m>[0-9]{{1,2}})"
                        rf"{re.escape(sep)}(?P<d>[0-9]{{1,2}})$" for sep in "-/.")


def _parse_plain(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(handled, datetime64[ns] values) for plain Y-M-D texts, all at once; what `parse_date`
    gives them (a real date within the window, else NaT — and then it is unparseable)."""
    from pipeline.normalise.calendar import NAT, days_since_epoch, real_dates
    from pipeline.textops import extract_ints

    handled = np.zeros(len(texts), dtype=bool)
    days = np.full(len(texts), NAT, dtype=np.int64)
    for pattern in _PLAIN_PATTERNS:
        matched, (year, month, day) = extract_ints(texts, pattern, ("y", "m", "d"))
        matched &= ~handled
        on_or_after = year * 10000 + month * 100 + day >= (
            MIN_DATE.year * 10000 + MIN_DATE.month * 100 + MIN_DATE.day)
        good = matched & real_dates(year, month, day) & on_or_after & (year <= MAX_YEAR)
        days[good] = days_since_epoch(year, month, day)[good]
        handled |= matched
    return handled, days.view("datetime64[D]").astype("datetime64[ns]")


def parse_dates(values: pd.Series) -> pd.DataFrame:
    """Columns ``value`` (datetime64[ns], NaT if blank/unparseable) and ``unparseable``.

    ``unparseable`` is True only for non-blank input that could not be parsed, so callers can
    report it. Computed once per distinct value; plain ``Y-M-D`` texts all at once.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
    value = np.full(len(uniques) + 1, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    unparseable = np.zeros(len(uniques) + 1, dtype=bool)
    text = is_text(uniques)
    plain = np.zeros(len(uniques), dtype=bool)
    if text.any():
        handled, parsed = _parse_plain(uniques[text])
        where = np.flatnonzero(text)[handled]
        value[where], unparseable[where] = parsed[handled], np.isnat(parsed[handled])
        plain[where] = True
    for i in np.flatnonzero(~plain):
        value[i], unparseable[i] = _parse_one(uniques[i])
    value[-1], unparseable[-1] = _parse_one(None)  # code -1 (missing) takes the last slot
    return pd.DataFrame({"value": value[codes], "unparseable": unparseable[codes]},
                        index=values.index)

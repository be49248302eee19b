"""Proleptic Gregorian calendar arithmetic on numpy arrays (for batch date and ID checks)."""

from __future__ import annotations

import numpy as np

NAT = np.iinfo(np.int64).min  # the int64 value numpy reads as NaT
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    return _MONTH_DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)


def real_dates(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """True where (year, month, day) is a date that exists (year ≥ 1)."""
    return (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (
        day <= days_in_month(year, month))


def days_since_epoch(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days from 1970-01-01 (H. Hinnant's days_from_civil); meaningful for real dates only."""
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    year_of_era = y - era * 400
    day_of_year = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468

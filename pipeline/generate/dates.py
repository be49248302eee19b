"""Day arithmetic on int day numbers (days since 1970-01-01), deterministic and vectorisable."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

EPOCH = date(1970, 1, 1)
EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_OFFSET = (EPOCH - EXCEL_EPOCH).days  # serial = day + EXCEL_OFFSET


def day(d: date) -> int:
    return (d - EPOCH).days


def to_date(n: int) -> date:
    return EPOCH + timedelta(days=int(n))


def year_start(y: int) -> int:
    return day(date(y, 1, 1))


def random_day_in_year(r, y: int) -> int:
    return year_start(y) + r.randrange(366 if (y % 4 == 0 and (y % 100 or y % 400 == 0)) else 365)


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day int arrays for int day numbers."""
    idx = pd.DatetimeIndex(np.asarray(days, dtype="int64").astype("datetime64[D]"))
    return (idx.year.to_numpy(), idx.month.to_numpy(), idx.day.to_numpy())


def years_from_year_starts(rng: np.random.Generator, years: np.ndarray) -> np.ndarray:
    """Random day within each given year (vectorised; one ``rng.random`` draw per year)."""
    return day_in_year(years, rng.random(len(years)))


def day_in_year(years: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Day numbers (int64, shape of ``years``): the day at fraction ``u`` (0 ≤ u < 1) of each
    year."""
    starts = (years.astype("int64") - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    starts = starts.astype("int64")
    leap = (years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0))
    return starts + (u * np.where(leap, 366, 365)).astype("int64")


def year_of(days: np.ndarray) -> np.ndarray:
    return ymd(days)[0].astype("int64")

"""Tests for pipeline.normalise.dates."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from pipeline.normalise.dates import from_excel_serial, parse_date, parse_dates

MARCH_1 = dt.date(2019, 3, 1)


@pytest.mark.parametrize(
    "text",
    [
        "2019-03-01",
        "2019/3/1",
        "2019/03/01",
        "2019.03.01",
        "2019.3.1",
        "2019-3-1",
        "20190301",
        "2019年3月1日",
        "2019年03月01日",
        "2019年3月1",
        "2019 年 3 月 1 日",
        "2019-03-01 00:00:00",
        "2019-03-01 23:59:59.000",
        "2019-03-01T08:30:00",
        "2019/3/1 0:00",
        "２０１９－０３－０１",  # full-width
        "２０１９年３月１日",
        "  2019-03-01\t",
        "\u30002019/3/1\u3000",
    ],
)
def test_string_formats(text: str) -> None:
    assert parse_date(text) == MARCH_1


@pytest.mark.parametrize(
    "value",
    [
        dt.date(2019, 3, 1),
        dt.datetime(2019, 3, 1, 17, 45),
        pd.Timestamp("2019-03-01 12:00"),
        np.datetime64("2019-03-01"),
    ],
)
def test_date_objects(value: object) -> None:
    assert parse_date(value) == MARCH_1


@pytest.mark.parametrize("value", [43525, 43525.0, 43525.99, "43525", "43525.5", np.int64(43525)])
def test_excel_serial(value: object) -> None:
    assert parse_date(value) == MARCH_1


def test_excel_serial_1900_leap_bug() -> None:
    # 1–59 are Excel's January–February 1900 (one day off), 60 its fake 1900-02-29: no dates.
    assert from_excel_serial(1) is None
    assert from_excel_serial(59) is None
    assert from_excel_serial(60) is None
    assert from_excel_serial(60.5) is None
    assert from_excel_serial(61) == dt.date(1900, 3, 1)
    assert from_excel_serial(62) == dt.date(1900, 3, 2)
    assert from_excel_serial(0) is None
    assert from_excel_serial(80_001) is None


@pytest.mark.parametrize("cell", [
    dt.date(1900, 2, 28),  # what python-calamine shows for a date cell holding serial 60
    dt.date(1900, 1, 1), dt.datetime(1900, 2, 28, 12, 0), "1900-02-29", "1900-02-28",
    "1900年1月5日", "19000228", "60", "59", 60, 1, dt.time(0, 0),
])
def test_excel_epoch_cells_are_no_date_and_reported(cell: object) -> None:
    assert parse_date(cell) is None
    parsed = parse_dates(pd.Series([cell, "2019-03-01"], dtype=object))
    assert parsed["unparseable"].tolist() == [True, False]
    assert parsed["value"].isna().tolist() == [True, False]


def test_first_real_day_after_the_excel_epoch() -> None:
    assert parse_date("1900-03-01") == dt.date(1900, 3, 1)
    assert parse_date(dt.date(1900, 3, 1)) == dt.date(1900, 3, 1)


def test_eight_digits_are_yyyymmdd_not_serial() -> None:
    assert parse_date("20190301") == MARCH_1
    assert parse_date(20190301) == MARCH_1
    assert parse_date("20191301") is None  # month 13: not silently a serial


@pytest.mark.parametrize(
    "value",
    [
        "2019-02-30",
        "2019/2/29",
        "2019年13月1日",
        "20190230",
        "01/03/2019",  # day/month order unknown
        "03/01/2019",
        "2019",  # a year, not serial 2019
        "2019.3",
        "2019-03",
        "2019-03/01",  # mixed separators
        "abc",
        "2019-03-01 abc",
        "43525x",
        "-5",
        99_999,
        -1,
        math.inf,
        True,
        dt.date(1800, 1, 1),
        [2019, 3, 1],
    ],
)
def test_invalid_or_ambiguous_is_none(value: object) -> None:
    assert parse_date(value) is None


@pytest.mark.parametrize("value", [None, math.nan, pd.NA, pd.NaT, "", "   ", "/"])
def test_blank_is_none(value: object) -> None:
    assert parse_date(value) is None


def test_parse_dates_frame() -> None:
    values = pd.Series(
        ["2019-03-01", None, "2019-02-30", 43525, "", math.nan, "2019年3月1日", "/"],
        index=list("hgfedcba"),
    )
    frame = parse_dates(values)
    assert list(frame.columns) == ["value", "unparseable"]
    assert list(frame.index) == list("hgfedcba")
    assert frame["value"].dtype == "datetime64[ns]"
    assert frame["unparseable"].dtype == bool
    expected = pd.Timestamp("2019-03-01")
    assert frame.loc["h", "value"] == expected
    assert frame.loc["e", "value"] == expected
    assert frame.loc["b", "value"] == expected
    assert frame["value"].isna().tolist() == [False, True, True, False, True, True, False, True]
    assert frame["unparseable"].tolist() == [False, False, True, False, False, False, False, False]


def test_parse_dates_string_dtype_and_empty() -> None:
    frame = parse_dates(pd.Series(["20190301", pd.NA], dtype="string"))
    assert frame["value"].tolist()[0] == pd.Timestamp("2019-03-01")
    assert frame["unparseable"].tolist() == [False, False]
    empty = parse_dates(pd.Series([], dtype="string"))
    assert len(empty) == 0
    assert empty["value"].dtype == "datetime64[ns]"


def test_batch_parse_equals_parse_date_on_plain_and_odd_dates() -> None:
    """parse_dates reads plain Y-M-D texts all at once; it must agree with parse_date."""
    import random

    from pipeline.normalise.dates import parse_date

    rng = random.Random(5)
    values: list[object] = []
    for _ in range(5000):
        year = rng.choice([1899, 1900, 1950, 2000, 2024, 2100, 2101])
        sep = rng.choice("-/.")
        month, day = rng.randint(0, 13), rng.randint(0, 32)
        values.append(rng.choice([f"{year}{sep}{month:02d}{sep}{day:02d}",
                                  f"{year}{sep}{month}{sep}{day}"]))
    values += ["2019-03/01", "2019年3月1日", "20190301", "43000", "2019", "2019.3",
               " 2019-03-01", "２０１９-03-01", "2019-03-01 00:00:00", None, "", "/", 43000.0,
               dt.date(2020, 2, 29), pd.Timestamp("2021-01-01"), "abc"]
    parsed = parse_dates(pd.Series(values, dtype=object))
    expected = [parse_date(v) for v in values]
    assert [None if pd.isna(v) else v.date() for v in parsed["value"]] == expected
    blank = {None, "", "/"}
    assert parsed["unparseable"].tolist() == [
        e is None and not (isinstance(v, str | type(None)) and v in blank)
        for v, e in zip(values, expected, strict=True)]

"""Tests for pipeline.normalise.vocab."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
import pytest

from pipeline.normalise.vocab import (
    UNRECOGNISED,
    canon_assistance,
    canon_case_status,
    canon_category,
    canon_person_status,
    canon_phone,
    canon_relation,
    canon_roll_status,
    canon_series,
    canon_sex,
    is_blank,
    parse_int,
    parse_ints,
    parse_money,
    parse_moneys,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("低保", "低保"),
        ("城乡低保", "低保"),
        ("城市低保", "低保"),
        ("农村低保", "低保"),
        ("最低生活保障", "低保"),
        ("低保户", "低保"),
        (" 低 保 ", "低保"),
        ("是", "低保"),
        ("Y", "低保"),
        ("y", "低保"),
        ("低收入", "低收入"),
        ("低收入家庭", "低收入"),
        ("低收入户", "低收入"),
        ("低收入人口", "低收入"),
        ("特困", "特困"),
        ("特困供养", "特困"),
        ("特困人员", "特困"),
        ("特困供养人员", "特困"),
        ("五保", "特困"),
        ("无", "无"),
        ("否", "无"),
        ("没有", "无"),
        ("未享受", "无"),
        ("N", "无"),
        ("临时救助", UNRECOGNISED),
        ("1", UNRECOGNISED),  # codes are not guessed
        ("低保、特困", UNRECOGNISED),
        (None, None),
        ("", None),
        ("  ", None),
        (math.nan, None),
        ("/", None),
    ],
)
def test_canon_assistance(raw: object, expected: str | None) -> None:
    assert canon_assistance(raw) == expected


@pytest.mark.parametrize(
    ("fn", "raw", "expected"),
    [
        (canon_roll_status, "在档", "在档"),
        (canon_roll_status, "在册", "在档"),
        (canon_roll_status, "正常", "在档"),
        (canon_roll_status, "已脱困", "已脱困"),
        (canon_roll_status, "脱困", "已脱困"),
        (canon_roll_status, "已退出", "已脱困"),
        (canon_roll_status, "待审核", UNRECOGNISED),
        (canon_case_status, "在保", "在保"),
        (canon_case_status, "正常", "在保"),
        (canon_case_status, "保障中", "在保"),
        (canon_case_status, "停保", "停保"),
        (canon_case_status, "暂停", "停保"),
        (canon_case_status, "退出", "退出"),
        (canon_case_status, "已退出", "退出"),
        (canon_case_status, "注销", "退出"),
        (canon_case_status, "在档", UNRECOGNISED),
        (canon_person_status, "正常", "正常"),
        (canon_person_status, "死亡", "死亡"),
        (canon_person_status, "已死亡", "死亡"),
        (canon_person_status, "去世", "死亡"),
        (canon_person_status, "已故", "死亡"),
        (canon_person_status, "失踪", UNRECOGNISED),
        (canon_sex, "男", "男"),
        (canon_sex, "男性", "男"),
        (canon_sex, "M", "男"),
        (canon_sex, "m", "男"),
        (canon_sex, 1, "男"),
        (canon_sex, 1.0, "男"),
        (canon_sex, "1", "男"),
        (canon_sex, "女", "女"),
        (canon_sex, "女性", "女"),
        (canon_sex, "F", "女"),
        (canon_sex, 2, "女"),
        (canon_sex, "Ｆ", "女"),
        (canon_sex, "9", UNRECOGNISED),
        (canon_sex, "未知", UNRECOGNISED),
        (canon_category, "深度困难", "深度困难"),
        (canon_category, "相对困难", "相对困难"),
        (canon_category, "意外致困", "意外致困"),
        (canon_category, " 深度 困难 ", "深度困难"),
        (canon_category, "一般困难", UNRECOGNISED),
    ],
)
def test_vocabularies(
    fn: Callable[[object], str | None], raw: object, expected: str | None
) -> None:
    assert fn(raw) == expected
    assert fn(None) is None
    assert fn("") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("户主", "户主"),
        ("本人", "户主"),
        ("配偶", "配偶"),
        ("妻子", "配偶"),
        ("丈夫", "配偶"),
        ("妻", "配偶"),
        ("夫", "配偶"),
        ("子", "子女"),
        ("女", "子女"),
        ("儿子", "子女"),
        ("女儿", "子女"),
        ("长子", "子女"),
        ("次女", "子女"),
        ("三子", "子女"),
        ("养女", "子女"),
        ("父母", "父母"),
        ("父亲", "父母"),
        ("母亲", "父母"),
        ("父", "父母"),
        ("母", "父母"),
        ("孙子", "其他"),
        ("兄弟", "其他"),
        ("儿媳", "其他"),
        ("女婿", "其他"),
        ("随便什么", "其他"),  # open vocabulary: a word is never UNRECOGNISED
        ("13912345678", UNRECOGNISED),  # a number is another column's (a phone, an ID)
        ("110105198001011234", UNRECOGNISED),
        (None, None),
        ("", None),
    ],
)
def test_canon_relation(raw: object, expected: str | None) -> None:
    assert canon_relation(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        (13812345678.0, "13812345678"),  # Excel float
        (13812345678, "13812345678"),
        ("13812345678.0", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+86-13812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("010-62345678", "01062345678"),
        ("(010)62345678", "01062345678"),
        ("（010）62345678", "01062345678"),
        ("62345678", "62345678"),
        ("12345678901", UNRECOGNISED),  # 11 digits but not a mobile prefix
        ("1381234567", UNRECOGNISED),  # 10-digit mobile: a digit missing
        ("1.38123E+10", UNRECOGNISED),  # Excel scientific notation lost digits
        ("13812345678/13912345678", UNRECOGNISED),
        ("010-62345678转123", UNRECOGNISED),
        ("123", UNRECOGNISED),
        ("无", UNRECOGNISED),
        (None, None),
        (math.nan, None),
        ("", None),
    ],
)
def test_canon_phone(raw: object, expected: str | None) -> None:
    assert canon_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3", 3),
        ("3人", 3),
        ("3口", 3),
        ("3.0", 3),
        (3.0, 3),
        (3, 3),
        ("３", 3),
        (" 3 ", 3),
        ("1,200", 1200),
        ("3.5", None),
        (3.5, None),
        ("三", None),
        ("abc", None),
        (None, None),
        (math.nan, None),
        ("", None),
        (True, None),
    ],
)
def test_parse_int(raw: object, expected: int | None) -> None:
    result = parse_int(raw)
    assert result == expected
    assert result is None or type(result) is int


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1320", 1320.0),
        (1320, 1320.0),
        (1320.5, 1320.5),
        ("1,320.50", 1320.5),
        ("¥1320", 1320.0),
        ("￥1320", 1320.0),
        ("1320元", 1320.0),
        ("￥1,320.50元", 1320.5),
        ("１３２０．５", 1320.5),
        (" 1320 ", 1320.0),
        ("0", 0.0),
        ("abc", None),
        ("1320美元", None),
        ("1.2.3", None),
        (None, None),
        (math.nan, None),
        ("", None),
    ],
)
def test_parse_money(raw: object, expected: float | None) -> None:
    assert parse_money(raw) == expected


def test_parse_ints_frame() -> None:
    values = pd.Series(["3", "3人", None, "abc", 2.0, "", "3"], index=list("abcdefg"))
    frame = parse_ints(values)
    assert list(frame.index) == list("abcdefg")
    assert frame["value"].dtype == "Int64"
    assert frame["unparseable"].dtype == bool
    assert frame["value"].tolist() == [3, 3, pd.NA, pd.NA, 2, pd.NA, 3]
    assert frame["unparseable"].tolist() == [False, False, False, True, False, False, False]


def test_parse_moneys_frame() -> None:
    values = pd.Series(["1,320.50", None, "约一千", 1170], dtype=object)
    frame = parse_moneys(values)
    assert frame["value"].dtype == "Float64"
    assert frame["value"].tolist() == [1320.5, pd.NA, pd.NA, 1170.0]
    assert frame["unparseable"].tolist() == [False, False, True, False]


def test_canon_series() -> None:
    values = pd.Series(["是", "否", None, "城乡低保", "乱写", "是"], index=[10, 11, 12, 13, 14, 15])
    result = canon_series(values, canon_assistance)
    assert result.dtype == "string"
    assert list(result.index) == [10, 11, 12, 13, 14, 15]
    assert result.tolist() == ["低保", "无", pd.NA, "低保", UNRECOGNISED, "低保"]


def test_canon_series_mixed_numeric_sex() -> None:
    values = pd.Series([1, 2.0, "男", None], dtype=object)
    assert canon_series(values, canon_sex).tolist() == ["男", "女", "男", pd.NA]


def test_is_blank() -> None:
    assert is_blank(None)
    assert is_blank(math.nan)
    assert is_blank(pd.NA)
    assert is_blank("\u3000 ")
    assert is_blank("/")
    assert not is_blank("0")
    assert not is_blank(0)


def test_already_clean_values_are_exactly_those_the_cleaners_leave_unchanged() -> None:
    """The Arrow fast path may only skip values that clean_text and _text return as they are."""
    import numpy as np

    from pipeline.normalise.fields import _text
    from pipeline.normalise.vocab import already_clean, clean_text

    values = np.array(["张伟", "买买提·艾力", "110105199001011237", "a b", "null", "NULL",
                       "N/A", "#n/a", "ｆｕｌｌ", "", " x", "王\u3000五", "张\u00a0", "x\u2028y",
                       "x\x1cy", "1", "—", "ﬁne", "Straße", "nan", "张三 ", None, 3.0,
                       "朝阳区建国路", "ok-value", "①"], dtype=object)
    flags = already_clean(values)
    for value, flag in zip(values, flags, strict=True):
        if flag:
            assert clean_text(value) == value and _text(value) == value, value
    # and it does take the common case (so the fast path is really used)
    assert flags[[0, 1, 2, 23, 24]].all()
    assert not flags[[3, 4, 5, 8, 11, 12, 13, 14, 17, 25]].any()

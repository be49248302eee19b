"""GB/T 2260 code knowledge and Beijing district resolution."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.normalise.districts import (
    admin_code_known,
    beijing_districts,
    district_code,
    district_codes,
    district_name,
)

CURRENT = {
    "110101": "东城区", "110102": "西城区", "110105": "朝阳区", "110106": "丰台区",
    "110107": "石景山区", "110108": "海淀区", "110109": "门头沟区", "110111": "房山区",
    "110112": "通州区", "110113": "顺义区", "110114": "昌平区", "110115": "大兴区",
    "110116": "怀柔区", "110117": "平谷区", "110118": "密云区", "110119": "延庆区",
}  # fmt: skip


@pytest.mark.parametrize(
    "code",
    ["110103", "110104", "110110", "310115", "440305", "110100", "110200", "110000"]
    + [f"1102{n:02d}" for n in range(21, 30)]
    + [f"1101{n:02d}" for n in range(11, 20)],
)
def test_admin_codes_ever_known(code: str) -> None:
    assert admin_code_known(code)


@pytest.mark.parametrize("code", ["990101", "110199", "000000", "11010", "1101011", ""])
def test_admin_codes_unknown(code: str) -> None:
    assert not admin_code_known(code)


def test_table_has_all_current_districts() -> None:
    current = {d.code: d.name for d in beijing_districts() if d.code == d.current_code}
    assert current == CURRENT
    for d in beijing_districts():
        assert d.current_code in CURRENT
        assert admin_code_known(d.code)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("海淀区", "110108"),
        ("海淀", "110108"),
        ("北京市海淀区", "110108"),
        (" 海 淀 区 ", "110108"),
        ("朝阳", "110105"),
        ("通州", "110112"),
        ("崇文区", "110101"),
        ("宣武", "110102"),
        ("燕山区", "110111"),
        ("密云县", "110118"),
        ("北京市延庆县", "110119"),
        ("通县", "110112"),
        ("房山县", "110111"),
        ("海澱區", "110108"),
    ],
)
def test_names_resolve_to_current_code(value: str, expected: str) -> None:
    assert district_code(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("110108", "110108"),
        ("１１０１０８", "110108"),
        (110108, "110108"),
        (110108.0, "110108"),
        ("110108.0", "110108"),
        ("110103", "110101"),
        ("110104", "110102"),
        ("110110", "110111"),
        ("110228", "110118"),
        ("110223", "110112"),
        ("110203", "110112"),
        ("110209", "110119"),
        ("310115", "310115"),
        ("440305", "440305"),
    ],
)
def test_codes(value: object, expected: str) -> None:
    assert district_code(value) == expected


@pytest.mark.parametrize(
    "value",
    [None, "", "  ", float("nan"), pd.NA, "990101", "1101", "垃圾", "朝阳市", "辽宁省朝阳市",
     110108.5, "北京市"],
)  # fmt: skip
def test_garbage_is_none(value: object) -> None:
    assert district_code(value) is None


def test_district_codes_vectorised() -> None:
    values = pd.Series(["海淀", None, 110103.0, "海淀", "xx", "110228"], index=list("abcdef"))
    out = district_codes(values)
    assert out.dtype == pd.StringDtype()
    assert list(out.index) == list("abcdef")
    assert out.tolist() == ["110108", pd.NA, "110101", "110108", pd.NA, "110118"]


def test_district_name() -> None:
    assert district_name("110108") == "海淀区"
    assert district_name("110119") == "延庆区"
    assert district_name("110103") is None  # not a current code
    assert district_name("440305") is None
    assert district_name(None) is None

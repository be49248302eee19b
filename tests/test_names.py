"""Tests for pipeline.normalise.names."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pipeline.normalise.names import (
    SEPARATOR,
    VARIANTS,
    _t2s,
    name_without_separator,
    normalise_name,
    normalise_names,
    pinyin_columns,
    pinyin_keys,
    surname,
)


@pytest.mark.parametrize("raw", [None, math.nan, pd.NA, "", "   ", "\u3000", "/", "·", "..."])
def test_blank_is_none(raw: object) -> None:
    assert normalise_name(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("張偉", "张伟"),
        ("鍾麗華", "钟丽华"),
        ("劉德華", "刘德华"),
        ("王 伟", "王伟"),
        ("王　伟", "王伟"),  # U+3000 ideographic space
        (" 王\t伟 ", "王伟"),
        ("王\u200b伟", "王伟"),  # zero-width space from web copies
        ("ＬＩ　Ｍｉｎｇ", "LIMING"),  # full-width Latin, upper-cased
        ("ｊｏｈｎ", "JOHN"),
        ("王伟2", "王伟2"),  # digits are kept, not silently stripped
        ("王伟２", "王伟2"),
        ("王伟(小)", "王伟(小)"),  # unexpected punctuation stays visible
    ],
)
def test_normalise_name(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(("variant", "standard"), sorted(VARIANTS.items()))
def test_variant_table_applies(variant: str, standard: str) -> None:
    assert normalise_name(f"李{variant}") == f"李{standard}"


def test_variant_table_covers_what_opencc_leaves() -> None:
    left_by_opencc = [c for c in "囯衞锺凃" if _t2s().convert(c) == c]
    assert left_by_opencc, "OpenCC now maps these; the test premise changed"
    for char in left_by_opencc:
        assert normalise_name(char + "强") == VARIANTS[char] + "强"


@pytest.mark.parametrize(
    "raw",
    [
        "买买提·艾力",
        "买买提•艾力",  # U+2022
        "买买提‧艾力",  # U+2027
        "买买提・艾力",  # U+30FB
        "买买提･艾力",  # U+FF65 half-width katakana middle dot
        "买买提.艾力",
        "买买提．艾力",  # U+FF0E, NFKC → '.'
        "买买提∙艾力",  # U+2219
        "买买提⋅艾力",  # U+22C5
        "买买提··艾力",
        "·买买提 · 艾力·",
        "買買提·艾力",
    ],
)
def test_minority_separators_unify(raw: str) -> None:
    assert normalise_name(raw) == "买买提\u00b7艾力"


def test_gb18030_round_trip_keeps_separator() -> None:
    name = "买买提·艾力"
    assert name.encode("gb18030").decode("gb18030") == name
    assert normalise_name(name.encode("gb18030").decode("gb18030")) == name


def test_gb2312_decoding_damage_is_repaired() -> None:
    damaged = "买买提·艾力".encode("gb18030").decode("gb2312")
    assert damaged == "买买提\u30fb艾力"  # what NOTES warns about
    assert normalise_name(damaged) == "买买提·艾力"


def test_idempotent() -> None:
    for raw in ["張偉", "买买提•艾力", "ａｂ　c", "囯强"]:
        once = normalise_name(raw)
        assert normalise_name(once) == once


def test_name_without_separator() -> None:
    assert name_without_separator("买买提·艾力") == "买买提艾力"
    assert name_without_separator("王伟") == "王伟"
    assert name_without_separator(None) is None
    assert name_without_separator(SEPARATOR) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("王伟", "王"),
        ("欧阳锋", "欧阳"),
        ("司马相如", "司马"),
        ("诸葛亮", "诸葛"),
        ("尉迟恭", "尉迟"),
        ("万俟卨", "万俟"),
        ("欧阳", "欧"),  # two characters: single surname + given name
        ("买买提·艾力", "买买提"),
        ("阿卜杜·热合曼·买买提", "阿卜杜"),
        (None, None),
        ("", None),
    ],
)
def test_surname(name: str | None, expected: str | None) -> None:
    assert surname(name) == expected


def test_normalise_names_vectorised() -> None:
    values = pd.Series(
        ["張偉", None, "王 伟", "張偉", math.nan, "买买提•艾力"], index=[5, 4, 3, 2, 1, 0]
    )
    result = normalise_names(values)
    assert result.dtype == "string"
    assert list(result.index) == [5, 4, 3, 2, 1, 0]
    assert result.tolist() == ["张伟", pd.NA, "王伟", "张伟", pd.NA, "买买提·艾力"]


def test_normalise_names_string_dtype_input() -> None:
    values = pd.Series(["張偉", pd.NA], dtype="string")
    assert normalise_names(values).tolist() == ["张伟", pd.NA]


def test_pinyin_keys_basic() -> None:
    assert pinyin_keys("张伟") == ("zhang1wei3", "zhangwei")
    assert pinyin_keys("張偉") == ("zhang1wei3", "zhangwei")
    assert pinyin_keys(None) is None
    assert pinyin_keys("  ") is None


@pytest.mark.parametrize(
    ("name", "tone", "plain"),
    [
        ("单雄信", "shan4xiong2xin4", "shanxiongxin"),
        ("曾国藩", "zeng1guo2fan1", "zengguofan"),
        ("解放", "xie4fang4", "xiefang"),
        ("仇英", "qiu2ying1", "qiuying"),
        ("区伟", "ou1wei3", "ouwei"),
        ("查良镛", "zha1liang2yong1", "zhaliangyong"),
        ("朴树", "piao2shu4", "piaoshu"),
        ("翟天", "zhai2tian1", "zhaitian"),
        ("尉迟恭", "yu4chi2gong1", "yuchigong"),
        ("万俟卨", "mo4qi2xie4", "moqixie"),
    ],
)
def test_heteronym_surnames_use_surname_reading(name: str, tone: str, plain: str) -> None:
    assert pinyin_keys(name) == (tone, plain)


def test_surname_reading_only_for_the_surname() -> None:
    # 单 inside a given name keeps its everyday reading
    assert pinyin_keys("王单")[1] == "wangdan"


def test_homophones_share_toneless_pinyin() -> None:
    assert pinyin_keys("张伟")[1] == pinyin_keys("章伟")[1]
    assert pinyin_keys("王伟")[1] == pinyin_keys("汪伟")[1]
    assert pinyin_keys("王伟")[0] != pinyin_keys("汪伟")[0]  # differ by tone only


def test_minority_name_pinyin_ignores_separator() -> None:
    assert pinyin_keys("买买提·艾力") == pinyin_keys("买买提•艾力")
    assert pinyin_keys("买买提·艾力")[1] == "maimaitiaili"


def test_pinyin_columns() -> None:
    names = pd.Series(["张伟", None, "章伟", "单雄信"], index=["a", "b", "c", "d"])
    frame = pinyin_columns(names)
    assert list(frame.columns) == ["name_pinyin_tone", "name_pinyin"]
    assert list(frame.index) == ["a", "b", "c", "d"]
    assert (frame.dtypes == "string").all()
    assert frame["name_pinyin"].tolist() == ["zhangwei", pd.NA, "zhangwei", "shanxiongxin"]
    assert frame.loc["d", "name_pinyin_tone"] == "shan4xiong2xin4"


def test_given_name_not_read_as_phrase_with_surname() -> None:
    # pypinyin's phrase dictionary would read 曾经 as "ceng2 jing1"
    assert pinyin_keys("曾经") == ("zeng1jing1", "zengjing")


def test_pinyin_of_latin_and_lv() -> None:
    assert pinyin_keys("ｊｏｈｎ") == ("john", "john")
    assert pinyin_keys("吕伟") == ("lv3wei3", "lvwei")


# --------------------------------------------------------------- GBK-era private-use code points
def test_pua_table_agrees_with_the_gb18030_2005_codec() -> None:
    """The 66 characters GB 18030-2005 moved out of the PUA are what Python's gb18030 codec
    decodes their byte pairs (FE50–FEA0) to; the 14 it left there are mapped by 2022's list."""
    from pipeline.normalise.gb18030_pua import PUA_TO_STANDARD

    trails = [t for t in range(0x50, 0xA1) if t != 0x7F]
    assert len(PUA_TO_STANDARD) == len(trails) == 80
    moved_in_2022 = 0
    for index, trail in enumerate(trails):
        pua = 0xE815 + index
        decoded = ord(bytes([0xFE, trail]).decode("gb18030"))
        if 0xE000 <= decoded <= 0xF8FF:
            assert decoded == pua
            moved_in_2022 += 1
        else:
            assert PUA_TO_STANDARD[pua] == decoded, hex(pua)
    assert moved_in_2022 == 14
    assert PUA_TO_STANDARD[0xE863] == 0x4DAE  # 䶮
    assert PUA_TO_STANDARD[0xE81E] == 0x9FB4


@pytest.mark.parametrize(("old", "new"), [("刘\ue863", "刘䶮"), ("王\ue81e", "王\u9fb4")])
def test_private_use_spellings_are_the_standard_name(old: str, new: str) -> None:
    assert normalise_name(old) == normalise_name(new) == new


# --------------------------------------------------------------- dashes as the separator
@pytest.mark.parametrize("dash", ["-", "‐", "‑", "‒", "–", "—", "―", "－", "−"])
def test_a_dash_between_minority_name_parts_is_the_separator(dash: str) -> None:
    assert normalise_name(f"阿依古丽{dash}买买提") == "阿依古丽·买买提"
    assert normalise_name(f"阿依古丽 {dash} 买买提") == "阿依古丽·买买提"

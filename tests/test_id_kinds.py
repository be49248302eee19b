"""Kinds of GB 11643-format number, issuing places of every published GB/T 2260 list, and
placeholders typed for an unknown number."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipeline.normalise.id_kinds import id_kind
from pipeline.normalise.id_number import check_char, check_id, check_ids
from pipeline.normalise.shared_ids import shared_id_rows
from pipeline.schema import Source
from tests.helpers import raw_frame, valid_id


def foreign(province: str = "11", nation: str = "840", birth: str = "19850312",
            seq: str = "014") -> str:
    return valid_id("9" + province + nation + birth + seq)


@pytest.mark.parametrize(("prefix", "kind"), [
    ("810000", "permit_hk"), ("820000", "permit_mo"), ("830000", "permit_tw")])
def test_residence_permits_are_valid_numbers_of_their_own_kind(prefix: str, kind: str) -> None:
    check = check_id(valid_id(prefix + "19800501021"))
    assert check.valid and check.kind == kind
    assert check.birth_date == dt.date(1980, 5, 1) and check.sex == "男"


@pytest.mark.parametrize("nation", ["840", "410", "392", "643", "704"])
def test_foreigners_permanent_residence_number(nation: str) -> None:
    check = check_id(foreign(nation=nation))
    assert check.valid and check.kind == "foreign_permanent"
    assert check.birth_date == dt.date(1985, 3, 12)
    assert check.admin_code == "110000"


def test_foreigners_number_checks_like_a_resident_id() -> None:
    good = foreign()
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    assert check_id(wrong).problem == "checksum"
    assert check_id(valid_id("91184019851332014")).problem == "birth_date"  # month 13
    assert check_id(foreign(province="99")).problem == "admin_code"  # no province 99


@pytest.mark.parametrize("prefix", [
    "330113", "330114",  # 临平区, 钱塘区 (2021)
    "329012", "379014", "230834", "329013", "132733",  # 1980s codes python-stdnum lacks
    "110103", "110228",  # abolished Beijing codes
])
def test_every_published_gbt2260_code_is_a_known_issuer(prefix: str) -> None:
    check = check_id(valid_id(prefix + "19700101123"))
    assert check.valid, prefix
    batch = check_ids(pd.Series([valid_id(prefix + "19700101123")]))
    assert bool(batch["id_valid"].iloc[0])


def test_an_unpublished_prefix_alone_is_invalid_but_only_that() -> None:
    check = check_id(valid_id("750101" + "19700101123"))
    assert check.problem == "admin_code" and check.birth_date == dt.date(1970, 1, 1)


@pytest.mark.parametrize("raw", [
    "111111111111111111", "000000000000000000", "99999999999999999X", "22222222222222222X",
    "123456789012345678", "012345678901234567", "987654321098765432",
    "110105000000000000", "11010500000000001X",  # a prefix followed by zeros
    valid_id("110105" + "00000000" + "123"),  # an all-zero birth date
    valid_id("110105" + "19800101" + "000"),  # an all-zero sequence
    "111111111111111", "123456789012345", "110105000000000",  # legacy 15 digits
    "0", "000000", "不详", "未知", "暂无",
])
def test_placeholders_are_invalid_and_no_evidence(raw: str) -> None:
    check = check_id(raw)
    assert check.problem == "placeholder", raw
    assert check.birth_date is None and check.sex is None
    batch = check_ids(pd.Series([raw, valid_id("11010519800101123")]))
    assert batch["id_placeholder"].tolist() == [True, False]
    assert batch["id_problem"].iloc[0] == "placeholder"
    assert pd.isna(batch["id_birth_date"].iloc[0])


def test_excel_damage_is_not_a_placeholder() -> None:
    # 15 significant digits then 000: the sequence's last two digits are zeros, not all three.
    first15 = next(f"11010519800101{d}" for d in "0123456789"
                   if check_char(f"11010519800101{d}00") != "0")
    assert check_id(first15 + "000").problem == "excel_damage"


def test_real_numbers_with_zero_digits_are_not_placeholders() -> None:
    for first17 in ("11010519800101010", "11010020000101001", "12010119900909100"):
        assert check_id(first17 + check_char(first17)).valid, first17


def test_kind_of_prefix() -> None:
    assert id_kind("110105") == "resident" and id_kind("911840") == "foreign_permanent"


def _roll(rows: list[dict]) -> pd.DataFrame:
    from pipeline.normalise.sources import normalise_source

    base = {"roll_status": "在档"}
    return normalise_source(raw_frame(Source.UNION, [{**base, **r} for r in rows]),
                            Source.UNION, dt.date(2025, 6, 30)).frame


def test_a_number_shared_by_different_people_is_a_placeholder() -> None:
    shared = valid_id("11010519800101123")
    roll = _roll([
        {"roll_id": "A", "name": "周建国", "id_number": shared, "birth_date": "1980-01-01"},
        {"roll_id": "B", "name": "郑海涛", "id_number": shared, "birth_date": "1975-06-06"},
        {"roll_id": "C", "name": "李明", "id_number": valid_id("11010519700101123")},
    ])
    assert roll["id_problem"].tolist()[:2] == ["shared", "shared"]
    assert not roll["id_valid"].iloc[:2].any() and roll["id_placeholder"].iloc[:2].all()
    assert roll["birth_date"].iloc[0] == pd.Timestamp("1980-01-01")  # the stated one stays
    assert bool(roll["id_valid"].iloc[2])


def test_one_person_filed_twice_is_not_sharing() -> None:
    same = valid_id("11010519800101123")
    roll = _roll([
        {"roll_id": "A", "name": "張偉", "id_number": same, "birth_date": "1980-01-01"},
        {"roll_id": "B", "name": "张 伟", "id_number": same, "birth_date": "1980-01-01"},
        {"roll_id": "C", "name": "张玮", "id_number": same},  # same name by its sound
    ])
    assert roll["id_valid"].all() and roll["id_problem"].isna().all()


def test_sharing_is_decided_per_file() -> None:
    same = valid_id("11010519800101123")
    a = raw_frame(Source.UNION, [{"roll_id": "A", "name": "周建国", "id_number": same}], "a.csv")
    b = raw_frame(Source.UNION, [{"roll_id": "B", "name": "郑海涛", "id_number": same}], "b.csv")
    frame = pd.concat([a, b], ignore_index=True)
    frame["name"] = frame["name"].astype("string")
    frame["id_norm"] = pd.array([same, same], dtype="string")
    frame["id_placeholder"] = False
    assert not shared_id_rows(frame).any()


def test_equal_invalid_numbers_never_make_an_id_exact_link() -> None:
    from pipeline.link.people import _method

    pairs = pd.DataFrame({"id_number_level": ["exact", "exact", "exact"]})
    left = pd.DataFrame({"id_valid": [True, False, True]})
    right = pd.DataFrame({"id_valid": [True, True, False]})
    assert list(_method(pairs, left, right)) == ["id_exact", "probabilistic", "probabilistic"]


def test_placeholders_are_neither_blocking_keys_nor_comparison_evidence() -> None:
    from pipeline.link.features import person_features
    from pipeline.normalise.sources import normalise_source

    rows = [{"roll_id": "A", "name": "周建国", "id_number": "111111111111111111",
             "roll_status": "在档"},
            {"roll_id": "B", "name": "郑海涛", "id_number": valid_id("11010519800101123"),
             "roll_status": "在档"}]
    frame = normalise_source(raw_frame(Source.UNION, rows), Source.UNION).frame
    features = person_features(frame)
    assert features["id"].tolist()[0] == "" and features["id14"].tolist()[0] == ""
    assert features["birth"].tolist()[0] == ""  # no birth date from a placeholder
    assert features["id"].tolist()[1] != ""

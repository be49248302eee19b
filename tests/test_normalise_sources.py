"""Whole-row normalisation: typed columns, issues reported, unusable rows quarantined."""

from __future__ import annotations

import datetime as dt

from pipeline.normalise.sources import normalise_source
from pipeline.schema import Source
from tests.helpers import raw_frame, valid_id

AS_OF = dt.date(2026, 6, 30)
GOOD = valid_id("11010519900101123")


def test_union_rows_are_typed_and_ids_checked() -> None:
    raw = raw_frame(Source.UNION, [
        {"roll_id": "A1", "name": "張 偉", "id_number": GOOD.lower(), "roll_status": "在档",
         "district": "崇文区", "claimed_assistance": "是", "household_size": "3人",
         "birth_date": "2019年3月1日"},
    ])
    result = normalise_source(raw, Source.UNION, AS_OF)
    row = result.frame.iloc[0]
    assert row["name"] == "张伟" and row["name_raw"] == "張 偉"
    assert row["id_norm"] == GOOD.upper() and bool(row["id_valid"])
    assert row["district_code"] == "110101"  # 崇文区 became part of 东城区
    assert row["claimed_assistance"] == "低保"
    assert row["household_size"] == 3
    assert row["birth_date"] == dt.datetime(2019, 3, 1)
    assert result.quarantine.empty


def test_not_understood_values_are_reported_not_silently_blanked() -> None:
    raw = raw_frame(Source.UNION, [
        {"roll_id": "A1", "name": "王芳", "id_number": GOOD, "roll_status": "在档",
         "household_size": "很多", "claimed_assistance": "说不清", "birth_date": "上个月"},
    ])
    row = normalise_source(raw, Source.UNION, AS_OF).frame.iloc[0]
    assert set(row["field_issues"].split(";")) == {"household_size", "claimed_assistance",
                                                   "birth_date"}


def test_unusable_rows_go_to_quarantine_with_reason_and_raw_values() -> None:
    raw = raw_frame(Source.UNION, [
        {"roll_id": "A1", "name": "王芳", "id_number": GOOD, "roll_status": "在档"},
        {"roll_id": "A2", "name": None, "id_number": None, "roll_status": "在档"},
        {"roll_id": None, "name": "李娜", "id_number": GOOD, "roll_status": "在档"},
        {"roll_id": "A4", "name": "赵强", "id_number": GOOD, "roll_status": "不知道"},
    ])
    result = normalise_source(raw, Source.UNION, AS_OF)
    assert list(result.frame["roll_id"]) == ["A1"]
    quarantine = result.quarantine
    assert list(quarantine["reason_code"]) == ["no_name_no_id", "missing_roll_id",
                                               "bad_roll_status"]
    assert list(quarantine["source_row"]) == [3, 4, 5]
    assert quarantine.loc[2, "raw_roll_status"] == "不知道"
    assert len(result.frame) + len(quarantine) == len(raw)  # every row accounted for


def test_damaged_id_row_is_kept_for_linking_on_other_fields() -> None:
    raw = raw_frame(Source.UNION, [
        {"roll_id": "A1", "name": "王芳", "id_number": "1.10105E+17", "roll_status": "在档"},
    ])
    result = normalise_source(raw, Source.UNION, AS_OF)
    assert len(result.frame) == 1
    assert result.frame.loc[0, "id_problem"] == "excel_damage"


def test_civil_requires_person_key_and_known_assistance_type() -> None:
    raw = raw_frame(Source.CIVIL, [
        {"case_id": "C1", "member_no": "1", "name": "张伟", "id_number": GOOD,
         "assistance_type": "城市低保", "district_code": "110105", "case_status": "在保"},
        {"case_id": "C1", "member_no": None, "name": "李娜", "id_number": GOOD,
         "assistance_type": "低保", "district_code": "110105", "case_status": "在保"},
        {"case_id": "C2", "member_no": "1", "name": "王芳", "id_number": GOOD,
         "assistance_type": "其他补助", "district_code": "110105", "case_status": "在保"},
    ])
    result = normalise_source(raw, Source.CIVIL, AS_OF)
    assert list(result.frame["assistance_type"]) == ["低保"]
    assert list(result.quarantine["reason_code"]) == ["missing_member_no", "bad_assistance_type"]

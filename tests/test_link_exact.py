"""Exact-ID linking and the assignment rule of SPEC §3."""

from __future__ import annotations

import datetime as dt

from pipeline.link.exact import link_civil_members, link_union_civil, roll_duplicate_groups
from pipeline.normalise.sources import normalise_source
from pipeline.schema import Source
from tests.helpers import raw_frame, valid_id

AS_OF = dt.date(2026, 6, 30)
A = valid_id("11010519900101123")
B = valid_id("11010819850505234")


def union(rows):
    return normalise_source(raw_frame(Source.UNION, rows), Source.UNION, AS_OF).frame


def civil(rows):
    base = {"assistance_type": "低保", "district_code": "110105", "case_status": "在保"}
    return normalise_source(raw_frame(Source.CIVIL, [{**base, **r} for r in rows]),
                            Source.CIVIL, AS_OF).frame


def test_equal_valid_ids_link_and_damaged_ids_do_not() -> None:
    u = union([
        {"roll_id": "R1", "name": "张伟", "id_number": A, "roll_status": "在档"},
        {"roll_id": "R2", "name": "李娜", "id_number": B[:-1] + "0", "roll_status": "在档"},
    ])
    c = civil([
        {"case_id": "C1", "member_no": "1", "name": "張偉", "id_number": A},
        {"case_id": "C2", "member_no": "1", "name": "李娜", "id_number": B},
    ])
    links = link_union_civil(u, c)
    assert list(zip(links["union_roll_id"], links["civil_case_id"], strict=True)) == [("R1", "C1")]
    assert links.loc[0, "decision"] == "match" and links.loc[0, "method"] == "id_exact"
    assert bool(links.loc[0, "name_agrees"])  # 張偉 and 张伟 agree after normalisation
    assert 0 < links.loc[0, "match_probability"] <= 1


def test_a_roll_row_has_at_most_one_match_and_active_case_wins() -> None:
    u = union([{"roll_id": "R1", "name": "张伟", "id_number": A, "roll_status": "在档"}])
    c = civil([
        {"case_id": "C-OLD", "member_no": "1", "name": "张伟", "id_number": A,
         "case_status": "退出", "approved_date": "2018-01-01"},
        {"case_id": "C-NEW", "member_no": "2", "name": "张伟", "id_number": A,
         "approved_date": "2022-01-01"},
    ])
    links = link_union_civil(u, c)
    decisions = dict(zip(links["civil_case_id"], links["decision"], strict=True))
    assert decisions == {"C-NEW": "match", "C-OLD": "possible"}


def test_same_worker_filed_twice_matches_one_civil_person_twice() -> None:
    u = union([
        {"roll_id": "R1", "name": "张伟", "id_number": A, "roll_status": "在档"},
        {"roll_id": "R2", "name": "张伟", "id_number": A, "roll_status": "在档"},
        {"roll_id": "R3", "name": "李娜", "id_number": B, "roll_status": "已脱困"},
        {"roll_id": "R4", "name": "李娜", "id_number": B, "roll_status": "在档"},
    ])
    c = civil([{"case_id": "C1", "member_no": "1", "name": "张伟", "id_number": A}])
    links = link_union_civil(u, c)
    assert sorted(links["union_roll_id"]) == ["R1", "R2"]
    assert set(links["decision"]) == {"match"}
    dups = roll_duplicate_groups(u)
    assert sorted(dups["roll_id"]) == ["R1", "R2"]  # R3 is 已脱困: history, not a duplicate


def test_names_that_disagree_are_kept_and_flagged() -> None:
    u = union([{"roll_id": "R1", "name": "张伟", "id_number": A, "roll_status": "在档"}])
    c = civil([{"case_id": "C1", "member_no": "1", "name": "王秀英", "id_number": A}])
    links = link_union_civil(u, c)
    assert len(links) == 1 and not bool(links.loc[0, "name_agrees"])


def test_minority_names_agree_across_separators() -> None:
    u = union([{"roll_id": "R1", "name": "买买提•艾力", "id_number": A, "roll_status": "在档"}])
    c = civil([{"case_id": "C1", "member_no": "1", "name": "买买提艾力", "id_number": A}])
    assert bool(link_union_civil(u, c).loc[0, "name_agrees"])


def test_member_links() -> None:
    c = civil([{"case_id": "C1", "member_no": "1", "name": "张伟", "id_number": A}])
    members = normalise_source(raw_frame(Source.MEMBERS, [
        {"member_id": "M1", "name": "张伟", "id_number": A},
        {"member_id": "M2", "name": "李娜", "id_number": B},
    ]), Source.MEMBERS, AS_OF).frame
    links = link_civil_members(c, members)
    assert list(links["member_id"]) == ["M1"] and list(links["decision"]) == ["match"]

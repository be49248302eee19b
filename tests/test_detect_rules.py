"""Detection rules as pure functions of the night's context, and the finding contract."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipeline.detect import detect_all
from pipeline.detect.finding import COLUMNS, DetectContext, discrepancy_id
from pipeline.normalise.sources import normalise_source
from pipeline.schema import Source
from tests.helpers import raw_frame, valid_id

AS_OF = dt.date(2026, 6, 30)
A = valid_id("11010519900101123")
B = valid_id("11010819850505234")


LINK_COLUMNS = ["union_row_key", "union_roll_id", "civil_row_key", "civil_case_id",
                "civil_member_no", "match_probability", "decision", "method", "name_agrees"]


def findings_for(roll_rows, civil_rows, links=(), duplicates=()):
    """Rules over normalised frames and the linker's outputs, given here by hand."""
    union = normalise_source(raw_frame(Source.UNION, roll_rows), Source.UNION, AS_OF).frame
    base = {"assistance_type": "低保", "district_code": "110105", "case_status": "在保"}
    civil = normalise_source(raw_frame(Source.CIVIL, [{**base, **r} for r in civil_rows]),
                             Source.CIVIL, AS_OF).frame
    ctx = DetectContext(
        union=union, civil=civil, members=None,
        links=pd.DataFrame(list(links), columns=LINK_COLUMNS), member_links=None,
        roll_duplicates=pd.DataFrame(list(duplicates), columns=["row_key", "roll_id", "group"]),
        as_of=AS_OF, config={})
    return detect_all(ctx)


def test_invalid_id_only_for_active_entries_and_names_the_problem() -> None:
    findings = findings_for([
        {"roll_id": "R1", "name": "张伟", "id_number": A[:-1] + ("0" if A[-1] != "0" else "1"),
         "roll_status": "在档"},
        {"roll_id": "R2", "name": "李娜", "id_number": "1.10105E+17", "roll_status": "已脱困"},
        {"roll_id": "R3", "name": "王芳", "id_number": B, "roll_status": "在档"},
    ], [])
    assert list(findings["type"]) == ["INVALID_ID"]
    assert findings.loc[0, "union_roll_id"] == "R1"
    assert findings.loc[0, "union_value"] == "checksum"
    assert list(findings.columns) == list(COLUMNS)


def test_duplicate_roll_entries_each_get_a_finding_naming_the_other() -> None:
    findings = findings_for([
        {"roll_id": "R1", "name": "张伟", "id_number": A, "roll_status": "在档"},
        {"roll_id": "R2", "name": "张伟", "id_number": A, "roll_status": "在档"},
    ], [], duplicates=[("U0", "R1", "U0,U1"), ("U1", "R2", "U0,U1")])
    dups = findings[findings["type"] == "DUPLICATE_ROLL_ENTRY"]
    assert dict(zip(dups["union_roll_id"], dups["union_value"], strict=True)) == {
        "R1": "R2", "R2": "R1"}
    assert set(dups["severity"]) == {"high"}


def test_id_name_conflict_on_exact_id_with_other_name() -> None:
    findings = findings_for(
        [{"roll_id": "R1", "name": "张伟", "id_number": A, "roll_status": "在档"}],
        [{"case_id": "C1", "member_no": "1", "name": "王秀英", "id_number": A}],
        links=[("U0", "R1", "C0", "C1", "1", 1.0, "match", "id_exact", False)])
    conflict = findings[findings["type"] == "ID_NAME_CONFLICT"]
    assert list(conflict["civil_case_id"]) == ["C1"]
    assert "姓名不一致" in conflict.iloc[0]["summary"]


def test_discrepancy_id_is_stable_and_depends_only_on_code_and_keys() -> None:
    first = discrepancy_id("INVALID_ID", ("R1", None, None, None))
    assert first == discrepancy_id("INVALID_ID", ("R1", None, None, None))
    assert first != discrepancy_id("INVALID_ID", ("R2", None, None, None))
    assert first != discrepancy_id("DECEASED", ("R1", None, None, None))

"""Detection rules as pure functions of the night's context, and the finding contract."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipeline.detect import detect_all
from pipeline.detect.common import standard_on
from pipeline.detect.finding import COLUMNS, DetectContext, discrepancy_id
from pipeline.detect.rules import rules
from pipeline.normalise.sources import normalise_source
from pipeline.schema import Source
from tests.helpers import raw_frame, valid_id

AS_OF = dt.date(2026, 6, 30)
A = valid_id("11010519900101123")
B = valid_id("11010819850505234")


LINK_COLUMNS = ["union_row_key", "union_roll_id", "civil_row_key", "civil_case_id",
                "civil_member_no", "match_probability", "decision", "method", "name_agrees"]
MEMBER_LINK_COLUMNS = ["civil_row_key", "civil_case_id", "civil_member_no", "member_row_key",
                       "member_id", "match_probability", "decision", "method"]
YEARLY = 12 * 1320.0  # the allowance at stake on AS_OF (standard 1,320 from July 2022)


def findings_for(roll_rows, civil_rows, links=(), duplicates=(), member_rows=None,
                 member_links=(), config=None):
    """Rules over normalised frames and the linker's outputs, given here by hand. Row keys are
    U<i> / C<i> / M<i> by position in roll_rows / civil_rows / member_rows."""
    union = normalise_source(raw_frame(Source.UNION, roll_rows), Source.UNION, AS_OF).frame
    base = {"assistance_type": "低保", "district_code": "110105", "case_status": "在保"}
    civil = normalise_source(raw_frame(Source.CIVIL, [{**base, **r} for r in civil_rows]),
                             Source.CIVIL, AS_OF).frame
    members = None
    if member_rows is not None:
        members = normalise_source(raw_frame(Source.MEMBERS, member_rows), Source.MEMBERS,
                                   AS_OF).frame
    ctx = DetectContext(
        union=union, civil=civil, members=members,
        links=pd.DataFrame(list(links), columns=LINK_COLUMNS),
        member_links=None if members is None else pd.DataFrame(list(member_links),
                                                               columns=MEMBER_LINK_COLUMNS),
        roll_duplicates=pd.DataFrame(list(duplicates), columns=["row_key", "roll_id", "group"]),
        as_of=AS_OF, config=config if config is not None else {})
    return detect_all(ctx)


def link(u: int, roll_id: str, c: int, case_id: str, member_no: str = "1",
         decision: str = "match", probability: float = 1.0) -> tuple:
    """A roll → civil link between roll row u and civil row c."""
    return (f"U{u}", roll_id, f"C{c}", case_id, member_no, probability, decision,
            "id_exact" if decision == "match" else "probabilistic", True)


def member_link(c: int, case_id: str, member_no: str, m: int, member_id: str,
                decision: str = "match") -> tuple:
    return (f"C{c}", case_id, member_no, f"M{m}", member_id, 0.99, decision, "probabilistic")


def roll(roll_id: str, first17: str, **fields) -> dict:
    """A roll row: 在档 with a valid ID unless told otherwise."""
    return {"roll_id": roll_id, "name": "张伟", "id_number": valid_id(first17),
            "roll_status": "在档", **fields}


def person(case_id: str, member_no: str, first17: str, **fields) -> dict:
    return {"case_id": case_id, "member_no": member_no, "name": "张伟",
            "id_number": valid_id(first17), **fields}


def of_type(findings: pd.DataFrame, code: str) -> pd.DataFrame:
    return findings[findings["type"] == code].reset_index(drop=True)


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


def id17(i: int) -> str:
    return f"11010519800101{i:03d}"


def test_every_rule_is_registered_once() -> None:
    """The registry's own checks are in tests/test_rule_registry.py (codes against SPEC §4)."""
    codes = [rule.code for rule in rules()]
    assert len(codes) == len(set(codes))
    assert {rule.severity for rule in rules()} <= {"high", "medium", "low"}


def test_dated_standard_follows_the_table() -> None:
    assert standard_on(AS_OF, {}) == 1320
    assert standard_on(dt.date(2022, 6, 30), {}) == 1170
    assert standard_on(dt.date(2022, 7, 1), {}) == 1320
    assert pd.isna(standard_on(dt.date(2019, 1, 1), {}))
    own = {"dibao_standards": [{"from": "2026-01-01", "yuan_per_month": 1400}]}
    assert standard_on(AS_OF, own) == 1400


def test_claimed_assistance_not_found_only_for_active_claims_without_a_match() -> None:
    findings = findings_for([
        roll("R1", id17(1), claimed_assistance="低保", district="朝阳区"),
        roll("R2", id17(2), claimed_assistance="特困", roll_status="已脱困"),
        roll("R3", id17(3), claimed_assistance=None),
        roll("R4", id17(4), claimed_assistance="无"),
        roll("R5", id17(5), claimed_assistance="低保"),  # matched, case ended
        roll("R6", id17(6), claimed_assistance="是"),  # only a possible link
    ], [person("C5", "1", id17(5), case_status="退出", exit_date="2025-01-01"),
        person("C6", "1", id17(16))],
        links=[link(4, "R5", 0, "C5"), link(5, "R6", 1, "C6", decision="possible",
                                            probability=0.6)])
    hit = of_type(findings, "CLAIMED_ASSISTANCE_NOT_FOUND")
    assert list(hit["union_roll_id"]) == ["R1", "R6"]
    assert list(hit["union_value"]) == ["低保", "低保"]
    assert set(hit["severity"]) == {"high"}
    assert list(hit["amount_at_risk_yuan"]) == [YEARLY, YEARLY]
    assert hit.loc[0, "district_code"] == "110105"
    assert "疑似匹配" in hit.loc[1, "summary"] and "疑似匹配" not in hit.loc[0, "summary"]
    assert list(of_type(findings, "ASSISTANCE_ENDED")["union_roll_id"]) == ["R5"]


def test_assistance_ended_only_when_the_stop_is_in_force_on_as_of() -> None:
    findings = findings_for([
        roll("R1", id17(1), claimed_assistance="低保"),
        roll("R2", id17(2), claimed_assistance="低保"),  # stop dated after as-of
        roll("R3", id17(3), claimed_assistance="低保", roll_status="已脱困"),
        roll("R4", id17(4), claimed_assistance="低收入"),  # stopped, no exit date
        roll("R5", id17(5), claimed_assistance="无"),  # ended and not claimed: nothing
    ], [person("C1", "1", id17(1), case_status="停保", exit_date="2026-01-15"),
        person("C2", "1", id17(2), case_status="停保", exit_date="2026-07-15"),
        person("C3", "1", id17(3), case_status="退出", exit_date="2024-01-01"),
        person("C4", "1", id17(4), case_status="退出", assistance_type="低收入"),
        person("C5", "1", id17(5), case_status="退出", exit_date="2024-01-01")],
        links=[link(i, f"R{i + 1}", i, f"C{i + 1}") for i in range(5)])
    hit = of_type(findings, "ASSISTANCE_ENDED")
    assert list(hit["union_roll_id"]) == ["R1", "R4"]
    assert list(hit["civil_case_id"]) == ["C1", "C4"]
    assert list(hit["civil_value"]) == ["停保（2026-01-15）", "退出"]
    assert list(hit["match_probability"]) == [1.0, 1.0]
    assert list(hit["amount_at_risk_yuan"]) == [YEARLY, YEARLY]
    assert of_type(findings, "ASSISTANCE_TYPE_MISMATCH").empty  # R2 is active and agrees
    assert of_type(findings, "UNCLAIMED_ASSISTANCE").empty


def test_assistance_type_mismatch_needs_both_sides_active() -> None:
    findings = findings_for([
        roll("R1", id17(1), claimed_assistance="低收入"),
        roll("R2", id17(2), claimed_assistance="低保"),
        roll("R3", id17(3), claimed_assistance="低收入"),  # case ended: ASSISTANCE_ENDED
        roll("R4", id17(4), claimed_assistance="特困", roll_status="已脱困"),
    ], [person("C1", "1", id17(1), assistance_type="城市低保"),
        person("C2", "1", id17(2)),
        person("C3", "1", id17(3), case_status="停保", exit_date="2026-03-01"),
        person("C4", "1", id17(4))],
        links=[link(i, f"R{i + 1}", i, f"C{i + 1}") for i in range(4)])
    hit = of_type(findings, "ASSISTANCE_TYPE_MISMATCH")
    assert list(hit["union_roll_id"]) == ["R1"]
    assert (hit.loc[0, "union_value"], hit.loc[0, "civil_value"]) == ("低收入", "低保")
    assert hit.loc[0, "severity"] == "medium"
    assert pd.isna(hit.loc[0, "amount_at_risk_yuan"])
    assert list(of_type(findings, "ASSISTANCE_ENDED")["union_roll_id"]) == ["R3"]


def test_unclaimed_assistance_only_for_an_explicit_no_and_an_active_case() -> None:
    findings = findings_for([
        roll("R1", id17(1), claimed_assistance="否"),
        roll("R2", id17(2), claimed_assistance=None),  # blank claim: not 无
        roll("R3", id17(3), claimed_assistance="无"),  # case ended
        roll("R4", id17(4), claimed_assistance="无", roll_status="已脱困"),
        roll("R5", id17(5), claimed_assistance="无"),  # no match at all
    ], [person("C1", "1", id17(1), assistance_type="特困"),
        person("C2", "1", id17(2)),
        person("C3", "1", id17(3), case_status="退出", exit_date="2025-05-01"),
        person("C4", "1", id17(4))],
        links=[link(i, f"R{i + 1}", i, f"C{i + 1}") for i in range(4)])
    hit = of_type(findings, "UNCLAIMED_ASSISTANCE")
    assert list(hit["union_roll_id"]) == ["R1"]
    assert (hit.loc[0, "union_value"], hit.loc[0, "civil_value"]) == ("无", "特困")
    assert hit.loc[0, "amount_at_risk_yuan"] == YEARLY
    claim_codes = {"CLAIMED_ASSISTANCE_NOT_FOUND", "ASSISTANCE_ENDED", "ASSISTANCE_TYPE_MISMATCH"}
    assert not set(findings["type"]) & claim_codes


def test_household_size_mismatch_needs_both_sizes_and_an_active_entry() -> None:
    findings = findings_for([
        roll("R1", id17(1), household_size="3"),
        roll("R2", id17(2), household_size=None),
        roll("R3", id17(3), household_size="3", roll_status="已脱困"),
        roll("R4", id17(4), household_size="4"),
        roll("R5", id17(5), household_size="2"),  # not matched
    ], [person("C1", "1", id17(1), household_size="4", covered_size="3"),
        person("C2", "1", id17(2), household_size="4"),
        person("C3", "1", id17(3), household_size="4"),
        person("C4", "1", id17(4), household_size="4", covered_size="2")],
        links=[link(i, f"R{i + 1}", i, f"C{i + 1}") for i in range(4)])
    hit = of_type(findings, "HOUSEHOLD_SIZE_MISMATCH")
    assert list(hit["union_roll_id"]) == ["R1"]
    assert (hit.loc[0, "union_value"], hit.loc[0, "civil_value"]) == ("3", "4")
    assert hit.loc[0, "severity"] == "medium"
    assert "3人" in hit.loc[0, "summary"] and "张伟" not in hit.loc[0, "summary"]


def test_deceased_for_an_active_entry_and_other_findings_still_apply() -> None:
    findings = findings_for([
        roll("R1", id17(1), claimed_assistance="低保", household_size="2"),
        roll("R2", id17(2), roll_status="已脱困"),
        roll("R3", id17(3)),
    ], [person("C1", "1", id17(1), person_status="死亡", deceased_date="2026年3月1日",
               household_size="3"),
        person("C2", "1", id17(2), person_status="死亡"),
        person("C3", "1", id17(3), person_status="正常")],
        links=[link(i, f"R{i + 1}", i, f"C{i + 1}") for i in range(3)])
    hit = of_type(findings, "DECEASED")
    assert list(hit["union_roll_id"]) == ["R1"]
    assert hit.loc[0, "civil_value"] == "死亡（2026-03-01）"
    assert hit.loc[0, "severity"] == "high"
    assert hit.loc[0, "amount_at_risk_yuan"] == YEARLY
    assert list(of_type(findings, "HOUSEHOLD_SIZE_MISMATCH")["union_roll_id"]) == ["R1"]


def test_not_on_hardship_roll_per_member_of_an_active_case_nobody_on_the_roll() -> None:
    civil = [
        person("C1", "1", id17(11)), person("C1", "2", id17(12), district_code="110108"),
        person("C2", "1", id17(21)), person("C2", "2", id17(22)),  # R1 (在档) is on the roll
        person("C3", "1", id17(31), case_status="停保", exit_date="2025-01-01"),
        person("C4", "1", id17(41)),  # member link only possible
        person("C5", "1", id17(51)), person("C5", "2", id17(52)),  # only an 已脱困 entry
    ]
    members = [{"member_id": f"HY{i}", "name": "张伟", "id_number": None} for i in range(5)]
    member_links = [
        member_link(1, "C1", "2", 0, "HY0"), member_link(3, "C2", "2", 1, "HY1"),
        member_link(4, "C3", "1", 2, "HY2"), member_link(5, "C4", "1", 3, "HY3", "possible"),
        member_link(7, "C5", "2", 4, "HY4"),
    ]
    rolls = [roll("R1", id17(21)), roll("R2", id17(51), roll_status="已脱困")]
    links = [link(0, "R1", 2, "C2"), link(1, "R2", 6, "C5")]
    findings = findings_for(rolls, civil, links=links, member_rows=members,
                            member_links=member_links)
    hit = of_type(findings, "NOT_ON_HARDSHIP_ROLL")
    assert list(hit["member_id"]) == ["HY0", "HY4"]
    assert list(hit["civil_case_id"]) == ["C1", "C5"]
    assert list(hit["civil_member_no"]) == ["2", "2"]
    assert hit["union_roll_id"].isna().all()
    assert list(hit["district_code"]) == ["110108", "110105"]
    assert list(hit["amount_at_risk_yuan"]) == [YEARLY, YEARLY]
    without_roster = findings_for(rolls, civil, links=links)
    assert of_type(without_roster, "NOT_ON_HARDSHIP_ROLL").empty


def test_category_inconsistent_against_the_standard_on_as_of() -> None:
    rows = [
        roll("R1", id17(1), category="深度困难", income_per_capita="1320"),
        roll("R2", id17(2), category="深度困难", income_per_capita="1319.99"),
        roll("R3", id17(3), category="相对困难", income_per_capita="2640"),
        roll("R4", id17(4), category="相对困难", income_per_capita="2639"),
        roll("R5", id17(5), category="相对困难", income_per_capita="500"),
        roll("R6", id17(6), category="意外致困", income_per_capita="9000"),
        roll("R7", id17(7), category="深度困难", income_per_capita="5000",
             roll_status="已脱困"),
        roll("R8", id17(8), category="深度困难", income_per_capita=None),
    ]
    hit = of_type(findings_for(rows, []), "CATEGORY_INCONSISTENT")
    assert list(hit["union_roll_id"]) == ["R1", "R3"]
    assert list(hit["union_value"]) == ["深度困难", "相对困难"]
    assert "2,640" in hit.loc[1, "summary"]
    assert hit["amount_at_risk_yuan"].isna().all()
    # Under the 2020 standard (1,170) R2 contradicts its category too.
    older = {"dibao_standards": [{"from": "2020-07-01", "yuan_per_month": 1170}]}
    hit = of_type(findings_for(rows, [], config=older), "CATEGORY_INCONSISTENT")
    assert list(hit["union_roll_id"]) == ["R1", "R2", "R3", "R4"]


def test_possible_match_review_for_active_entries_only() -> None:
    findings = findings_for(
        [roll("R1", id17(1)), roll("R2", id17(2), roll_status="已脱困")],
        [person("C1", "1", id17(11)), person("C2", "1", id17(12))],
        links=[link(0, "R1", 0, "C1", decision="possible", probability=0.42),
               link(1, "R2", 1, "C2", decision="possible", probability=0.5)])
    hit = of_type(findings, "POSSIBLE_MATCH_REVIEW")
    assert list(hit["union_roll_id"]) == ["R1"]
    assert (hit.loc[0, "civil_case_id"], hit.loc[0, "civil_member_no"]) == ("C1", "1")
    assert hit.loc[0, "match_probability"] == 0.42
    assert hit.loc[0, "severity"] == "low"
    assert "42%" in hit.loc[0, "summary"]
    # A possible link is not a match: no civil-comparison finding for R1.
    assert set(findings["type"]) == {"POSSIBLE_MATCH_REVIEW"}


def test_duplicate_amount_on_all_but_the_first_entry_of_a_group() -> None:
    findings = findings_for([
        roll("R2", id17(1)), roll("R1", id17(1)), roll("R3", id17(1)),
    ], [], duplicates=[("U0", "R2", "U0,U1,U2"), ("U1", "R1", "U0,U1,U2"),
                       ("U2", "R3", "U0,U1,U2")])
    dups = of_type(findings, "DUPLICATE_ROLL_ENTRY").set_index("union_roll_id")
    assert pd.isna(dups.loc["R1", "amount_at_risk_yuan"])
    assert dups.loc["R2", "amount_at_risk_yuan"] == YEARLY
    assert dups.loc["R3", "amount_at_risk_yuan"] == YEARLY


def test_findings_name_no_person_and_fill_the_contract() -> None:
    findings = findings_for([
        roll("R1", id17(1), claimed_assistance="低收入", household_size="5",
             category="深度困难", income_per_capita="2000"),
        roll("R2", id17(2), claimed_assistance="低保"),
    ], [person("C1", "1", id17(1), person_status="死亡", household_size="4")],
        links=[link(0, "R1", 0, "C1")])
    assert list(findings.columns) == list(COLUMNS)
    assert findings["discrepancy_id"].is_unique
    assert not findings["summary"].str.contains("张伟|" + id17(1)).any()
    assert findings["summary"].str.endswith("。").all()
    assert set(findings["type"]) == {"ASSISTANCE_TYPE_MISMATCH", "HOUSEHOLD_SIZE_MISMATCH",
                                     "DECEASED", "CATEGORY_INCONSISTENT",
                                     "CLAIMED_ASSISTANCE_NOT_FOUND"}

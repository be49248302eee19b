"""Scoring against truth."""

from __future__ import annotations

import pandas as pd

from pipeline.evaluate import format_scores, invalid_id_by_kind, prf, score_findings, score_links


def test_prf() -> None:
    scores = prf({1, 2, 3, 4}, {2, 3, 4, 5, 6})
    assert scores["precision"] == 0.75 and scores["recall"] == 0.6
    assert abs(scores["f1"] - 2 * 0.75 * 0.6 / 1.35) < 1e-6


def test_links_scored_on_matches_with_recall_by_id_kind() -> None:
    links = pd.DataFrame({
        "union_roll_id": ["R1", "R2", "R3"], "civil_case_id": ["C1", "C2", "C9"],
        "civil_member_no": ["1", "1", "1"], "decision": ["match", "match", "possible"],
        "method": ["id_exact", "id_exact", "id_exact"]})
    truth = pd.DataFrame({
        "union_roll_id": ["R1", "R2", "R3"], "civil_case_id": ["C1", "C2", "C3"],
        "civil_member_no": ["1", "2", "1"], "id_kind": ["valid", "valid", "typo"]})
    scores = score_links(links, truth)
    assert scores["all"]["precision"] == 0.5 and scores["all"]["true_positive"] == 1
    assert scores["recall_by_id_kind"] == {"typo": 0.0, "valid": 0.5}


def test_findings_scored_per_code_on_their_entity() -> None:
    findings = pd.DataFrame({"type": ["INVALID_ID", "NOT_ON_HARDSHIP_ROLL",
                                      "POSSIBLE_MATCH_REVIEW"],
                             "union_roll_id": ["R1", None, "R5"], "member_id": [None, "M1", None]})
    truth = pd.DataFrame({"type": ["INVALID_ID", "INVALID_ID", "NOT_ON_HARDSHIP_ROLL"],
                          "union_roll_id": ["R1", "R2", ""], "member_id": ["", "", "M1"]})
    scores = score_findings(findings, truth)
    assert scores["INVALID_ID"]["recall"] == 0.5 and scores["INVALID_ID"]["precision"] == 1.0
    assert scores["NOT_ON_HARDSHIP_ROLL"]["f1"] == 1.0
    assert scores["POSSIBLE_MATCH_REVIEW"] == {"count": 1}


def test_links_recall_by_every_kind_column() -> None:
    links = pd.DataFrame({
        "union_roll_id": ["R1", "R2"], "civil_case_id": ["C1", "C2"],
        "civil_member_no": ["1", "1"], "decision": ["match", "match"],
        "method": ["probabilistic", "id_exact"]})
    truth = pd.DataFrame({
        "union_roll_id": ["R1", "R2", "R3"], "civil_case_id": ["C1", "C2", "C3"],
        "civil_member_no": ["1", "1", "1"], "id_kind": ["placeholder", "permit_hk", "shared"],
        "civil_id_kind": ["valid", "valid", "text_formula"],
        "name_kind": ["pua_roll", "standard", "dash_separator"],
        "birth_kind": ["stated", "excel_1900_02_29", "stated"]})
    scores = score_links(links, truth)
    assert scores["recall_by_id_kind"] == {"permit_hk": 1.0, "placeholder": 1.0, "shared": 0.0}
    assert scores["recall_by_kind"]["civil_id_kind"] == {"text_formula": 0.0, "valid": 1.0}
    assert scores["recall_by_kind"]["name_kind"]["dash_separator"] == 0.0
    assert scores["recall_by_kind"]["birth_kind"] == {"excel_1900_02_29": 1.0, "stated": 0.5}
    text = format_scores({"links": scores, "discrepancies": {}})
    assert "link recall by civil-side ID kind:" in text
    assert "link recall by roll birth-date kind:" in text


def test_invalid_id_compared_row_by_row_per_kind() -> None:
    kinds = pd.DataFrame({
        "union_roll_id": ["R1", "R2", "R3", "R4", "R5"],
        "id_kind": ["permit_tw", "placeholder", "placeholder", "shared", "typo"],
        "roll_status": ["在档", "在档", "在档", "在档", "已脱困"]})
    truth = pd.DataFrame({"type": ["INVALID_ID"] * 3, "union_roll_id": ["R2", "R3", "R4"],
                          "member_id": ["", "", ""]})
    findings = pd.DataFrame({"type": ["INVALID_ID", "INVALID_ID"],
                             "union_roll_id": ["R1", "R2"], "member_id": [None, None]})
    by_kind = invalid_id_by_kind(findings, truth, kinds)
    assert by_kind == {
        "permit_tw": {"rows": 1, "truth": 0, "run": 1, "agree": 0},
        "placeholder": {"rows": 2, "truth": 2, "run": 1, "agree": 1},
        "shared": {"rows": 1, "truth": 1, "run": 0, "agree": 0},
    }
    text = format_scores({"links": {"all": prf(set(), set()), "by_method": {}},
                          "discrepancies": {}, "invalid_id_by_kind": by_kind})
    assert "INVALID_ID by roll-side ID kind" in text and "permit_tw" in text

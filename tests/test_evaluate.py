"""Scoring against truth."""

from __future__ import annotations

import pandas as pd

from pipeline.evaluate import prf, score_findings, score_links


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

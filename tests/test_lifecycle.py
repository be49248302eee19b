"""Findings across nights: stable ids, new → persisting, resolved, re-runs, dismissals."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipeline.detect.finding import findings_frame
from pipeline.detect.lifecycle import (
    apply_decisions,
    apply_history,
    empty_history,
    evidence_hash,
)

NIGHT1, NIGHT2, NIGHT3 = dt.date(2026, 7, 1), dt.date(2026, 7, 2), dt.date(2026, 7, 3)


def findings(roll_ids: list[str], value: str = "3", as_of: dt.date = NIGHT1) -> pd.DataFrame:
    rows = pd.DataFrame({"union_roll_id": roll_ids, "union_value": [value] * len(roll_ids),
                         "civil_value": ["4"] * len(roll_ids)})
    return findings_frame("HOUSEHOLD_SIZE_MISMATCH", "medium", rows,
                          pd.Series(["…"] * len(roll_ids)), as_of)


def test_second_night_persists_with_same_ids_and_first_seen() -> None:
    first, history, resolved = apply_history(findings(["R1", "R2"]), empty_history(), NIGHT1)
    assert set(first["status"]) == {"new"} and resolved.empty
    second, history, resolved = apply_history(findings(["R1", "R2"], as_of=NIGHT2), history,
                                              NIGHT2)
    assert list(second["discrepancy_id"]) == list(first["discrepancy_id"])
    assert set(second["status"]) == {"persisting"}
    assert set(second["first_seen"]) == {pd.Timestamp(NIGHT1)}
    third, history, resolved = apply_history(findings(["R1"], as_of=NIGHT3), history, NIGHT3)
    assert list(third["status"]) == ["persisting"]
    assert list(resolved["union_roll_id"]) == ["R2"]  # gone since last night
    assert len(history) == 5


def test_rerunning_a_night_replaces_it() -> None:
    _, history, _ = apply_history(findings(["R1"]), empty_history(), NIGHT1)
    _, history, _ = apply_history(findings(["R1", "R2"], as_of=NIGHT2), history, NIGHT2)
    again, history, _ = apply_history(findings(["R1", "R2"], as_of=NIGHT2), history, NIGHT2)
    assert dict(zip(again["union_roll_id"], again["status"], strict=True)) == {
        "R1": "persisting", "R2": "new"}
    assert len(history) == 3


def test_dismissed_finding_stays_away_until_its_evidence_changes() -> None:
    tonight = findings(["R1", "R2"])
    decided = tonight[tonight["union_roll_id"] == "R1"]
    decisions = pd.DataFrame({
        "discrepancy_id": decided["discrepancy_id"], "decision": ["dismissed"],
        "note": ["已核实"], "decided_by": ["analyst"], "decided_at": ["2026-07-01T09:00"],
        "evidence": evidence_hash(decided)})
    raised, suppressed = apply_decisions(findings(["R1", "R2"], as_of=NIGHT2), decisions)
    assert list(raised["union_roll_id"]) == ["R2"] and list(suppressed["union_roll_id"]) == ["R1"]
    changed, _ = apply_decisions(findings(["R1", "R2"], value="5", as_of=NIGHT3), decisions)
    assert sorted(changed["union_roll_id"]) == ["R1", "R2"]  # new evidence: raised again


def test_confirmed_findings_are_still_raised() -> None:
    tonight = findings(["R1"])
    decisions = pd.DataFrame({
        "discrepancy_id": tonight["discrepancy_id"], "decision": ["confirmed"], "note": [""],
        "decided_by": ["a"], "decided_at": ["2026-07-01"], "evidence": evidence_hash(tonight)})
    raised, suppressed = apply_decisions(tonight, decisions)
    assert len(raised) == 1 and suppressed.empty


def test_a_night_without_findings() -> None:
    from pipeline.detect.finding import empty_findings

    tracked, history, resolved = apply_history(empty_findings(), empty_history(), NIGHT1)
    assert tracked.empty and history.empty and resolved.empty
    assert evidence_hash(empty_findings()).empty

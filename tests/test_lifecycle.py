"""Findings across nights: stable ids, new → persisting, resolved, re-runs, and analysts'
decisions (confirmed, dismissed on review, pending, labels for the linker)."""

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


def decided(tonight: pd.DataFrame, decision: str, who: str = "analyst",
            at: str = "2026-07-01T09:00") -> pd.DataFrame:
    return pd.DataFrame({
        "discrepancy_id": tonight["discrepancy_id"], "decision": [decision] * len(tonight),
        "note": [""] * len(tonight), "decided_by": [who] * len(tonight),
        "decided_at": [at] * len(tonight), "evidence": evidence_hash(tonight)})


def test_confirmed_finding_keeps_status_confirmed_with_who_and_when() -> None:
    from pipeline.detect.tracking import review_counts, track_frames

    night1 = track_frames(findings(["R1", "R2"]), None, empty_history(), NIGHT1)
    decisions = decided(night1.findings[night1.findings["union_roll_id"] == "R1"], "confirmed",
                        "张伟")
    night2 = track_frames(findings(["R1", "R2"], as_of=NIGHT2), decisions, night1.history,
                          NIGHT2)
    out = night2.findings.set_index("union_roll_id")
    assert out.loc["R1", "status"] == "confirmed" and out.loc["R2", "status"] == "persisting"
    assert out.loc["R1", "review_decision"] == "confirmed"
    assert out.loc["R1", "reviewed_by"] == "张伟"
    assert out.loc["R1", "reviewed_at"] == pd.Timestamp("2026-07-01 09:00")
    assert pd.isna(out.loc["R2", "review_decision"]) and pd.isna(out.loc["R2", "reviewed_at"])
    assert review_counts(night2) == {"new": 0, "persisting": 1, "confirmed": 1, "pending": 0,
                                     "dismissed_on_review": 0, "resolved": 0}
    # a confirmed finding whose values change is a new question: no longer confirmed
    night3 = track_frames(findings(["R1", "R2"], value="5", as_of=NIGHT3), decisions,
                          night2.history, NIGHT3)
    assert set(night3.findings["status"]) == {"persisting"}
    assert night3.findings["review_decision"].isna().all()


def test_dismissed_finding_is_dismissed_on_review_never_resolved() -> None:
    from pipeline.detect.tracking import review_counts, track_frames

    night1 = track_frames(findings(["R1", "R2", "R3"]), None, empty_history(), NIGHT1)
    by_roll = night1.findings.set_index("union_roll_id")
    decisions = decided(night1.findings[night1.findings["union_roll_id"] == "R1"], "dismissed")
    # R1 dismissed (held back), R3 really gone (resolved)
    night2 = track_frames(findings(["R1", "R2"], as_of=NIGHT2), decisions, night1.history,
                          NIGHT2)
    assert list(night2.findings["union_roll_id"]) == ["R2"] and night2.suppressed == 1
    assert list(night2.dismissed["discrepancy_id"]) == [by_roll.loc["R1", "discrepancy_id"]]
    assert list(night2.resolved["union_roll_id"]) == ["R3"]
    counts = review_counts(night2)
    assert (counts["dismissed_on_review"], counts["resolved"]) == (1, 1)
    # a dismissed finding that no rule raises any more (a dismissed possible match: no longer a
    # candidate link) is dismissed on review too, not resolved
    night2b = track_frames(findings(["R2", "R3"], as_of=NIGHT2), decisions, night1.history,
                           NIGHT2)
    assert night2b.resolved.empty and night2b.suppressed == 0
    assert list(night2b.dismissed["union_roll_id"]) == ["R1"]


def test_pending_keeps_a_finding_open_and_undoes_a_dismissal() -> None:
    from pipeline.detect.tracking import review_counts, track_frames

    night1 = track_frames(findings(["R1"]), None, empty_history(), NIGHT1)
    dismissal = decided(night1.findings, "dismissed", at="2026-07-01T09:00")
    pending = decided(night1.findings, "pending", at="2026-07-01T10:00")
    night2 = track_frames(findings(["R1"], as_of=NIGHT2), pd.concat([pending, dismissal]),
                          night1.history, NIGHT2)
    finding = night2.findings.iloc[0]
    assert (finding["status"], finding["review_decision"]) == ("persisting", "pending")
    assert review_counts(night2)["pending"] == 1 and night2.dismissed.empty


def test_review_labels_follow_the_latest_decision() -> None:
    from pipeline.detect.tracking import review_labels_from

    rows = pd.DataFrame({"union_roll_id": ["R1", "R2", "R3"], "civil_case_id": ["C1", "C2", "C3"],
                         "civil_member_no": ["1", "1", "1"], "match_probability": [0.5] * 3})
    tonight = findings_frame("POSSIBLE_MATCH_REVIEW", "low", rows, pd.Series(["…"] * 3), NIGHT1)
    _, history, _ = apply_history(tonight, empty_history(), NIGHT1)
    decisions = pd.concat([
        decided(tonight.iloc[[0]], "confirmed"), decided(tonight.iloc[[1]], "dismissed"),
        decided(tonight.iloc[[2]], "confirmed", at="2026-07-01T09:00"),
        decided(tonight.iloc[[2]], "pending", at="2026-07-01T10:00")])
    labels = review_labels_from(decisions, history)
    assert dict(zip(labels["union_roll_id"], labels["label"], strict=True)) == {
        "R1": "match", "R2": "non_match"}

"""Tonight's findings against the state folder: decisions applied, history, resolved.

The glue between the pure lifecycle functions and `pipeline.state.StateStore`. Reading
happens before publishing; `save` is called only after the night published, so a failed
night never advances the history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from pipeline.detect.lifecycle import (
    DECISION_COLUMNS,
    apply_decisions,
    apply_history,
    empty_history,
    evidence_hash,
    latest_decisions,
)
from pipeline.state import StateStore, atomic_write_bytes

REVIEW_CODE = "POSSIBLE_MATCH_REVIEW"


@dataclass
class TrackedFindings:
    findings: pd.DataFrame  # with status, first_seen, evidence
    resolved: pd.DataFrame  # raised last night, gone tonight
    suppressed: int  # dismissed by an analyst, evidence unchanged
    history: pd.DataFrame  # to save after publishing


def read_history(state: StateStore | None) -> pd.DataFrame:
    if state is None or not state.history_path.exists():
        return empty_history()
    history = pd.read_parquet(state.history_path)
    history["night"] = pd.to_datetime(history["night"]).astype("datetime64[ns]")
    return history


def read_decisions(state: StateStore | None) -> pd.DataFrame:
    """Analysts' decisions; a missing file is none. Unknown decision words are ignored."""
    if state is None or not state.decisions_path.exists():
        return pd.DataFrame(columns=list(DECISION_COLUMNS), dtype="string")
    decisions = pd.read_csv(state.decisions_path, dtype=str, keep_default_na=False,
                            encoding="utf-8-sig")
    for column in DECISION_COLUMNS:
        if column not in decisions.columns:
            decisions[column] = ""
    return decisions[decisions["decision"].isin(["confirmed", "dismissed"])]


def track(findings: pd.DataFrame, state: StateStore | None, as_of: dt.date) -> TrackedFindings:
    raised, suppressed = apply_decisions(findings, read_decisions(state))
    with_status, history, resolved = apply_history(raised, read_history(state), as_of)
    with_status["evidence"] = evidence_hash(with_status)
    return TrackedFindings(with_status, resolved, len(suppressed), history)


def save(state: StateStore, tracked: TrackedFindings) -> None:
    import io

    buffer = io.BytesIO()
    tracked.history.to_parquet(buffer, index=False, compression="zstd")
    atomic_write_bytes(state.history_path, buffer.getvalue())


def review_labels(state: StateStore | None) -> pd.DataFrame:
    """Analysts' decisions on possible matches, as labels for the linker:
    (union_roll_id, civil_case_id, civil_member_no, label) with label match / non_match."""
    decisions = read_decisions(state)
    history = read_history(state)
    columns = ["union_roll_id", "civil_case_id", "civil_member_no", "label"]
    if decisions.empty or history.empty:
        return pd.DataFrame(columns=columns, dtype="string")
    reviews = history[history["type"] == REVIEW_CODE].drop_duplicates("discrepancy_id")
    latest = latest_decisions(decisions)
    labelled = reviews.merge(latest[["discrepancy_id", "decision"]], on="discrepancy_id")
    labelled["label"] = labelled["decision"].map({"confirmed": "match",
                                                  "dismissed": "non_match"})
    return labelled[columns].astype("string").reset_index(drop=True)

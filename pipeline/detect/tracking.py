"""Tonight's findings against the state folder: decisions applied, history, resolved.

The glue between the pure lifecycle functions and `pipeline.state.StateStore`. Reading
happens before publishing; `save` is called only after the night published, so a failed
night never advances the history.

The frame functions (`track_frames`, `review_labels_from`) take what the night read (a
`StateSnapshot`'s history and decisions, or `pipeline.review.inbox.ImportPlan.decisions`);
`track` and `review_labels` read the state folder themselves and call them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from pipeline.detect.finding import KEY_COLUMNS
from pipeline.detect.lifecycle import (
    CONFIRMED,
    DISMISSED,
    PENDING,
    apply_decisions,
    apply_history,
    apply_review,
    dismissed_ids,
    empty_decisions,
    empty_history,
    evidence_hash,
    latest_decisions,
    previous_night,
)
from pipeline.state import StateStore, atomic_write_bytes

REVIEW_CODE = "POSSIBLE_MATCH_REVIEW"
DISMISSED_COLUMNS = ("discrepancy_id", "type", *KEY_COLUMNS)


@dataclass
class TrackedFindings:
    findings: pd.DataFrame  # with status, first_seen, evidence, review_decision, reviewed_*
    resolved: pd.DataFrame  # raised last night, gone tonight, not dismissed by an analyst
    suppressed: int  # dismissed by an analyst, evidence unchanged, held back tonight
    history: pd.DataFrame  # to save after publishing
    # Dismissed on review tonight: held back (suppressed) or raised last night and gone with a
    # standing dismissal (a dismissed possible match is no longer a candidate link).
    dismissed: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(DISMISSED_COLUMNS), dtype="string"))


def read_history(state: StateStore | None) -> pd.DataFrame:
    if state is None or not state.history_path.exists():
        return empty_history()
    history = pd.read_parquet(state.history_path)
    history["night"] = pd.to_datetime(history["night"]).astype("datetime64[ns]")
    return history


def read_decisions(state: StateStore | None) -> pd.DataFrame:
    """Analysts' standing decisions: the decision log, and the rows of the old
    `review_decisions.csv` (UTF-8, UTF-8 with BOM, GBK or GB18030) that validate against the
    history. Never raises on a bad file: an unreadable one counts as no decisions (the night's
    import, `pipeline.review.inbox.prepare`, reports it as a warning)."""
    if state is None:
        return empty_decisions()
    from pipeline.review.inbox import standing_decisions

    return standing_decisions(state, read_history(state))


def track_frames(findings: pd.DataFrame, decisions: pd.DataFrame | None,
                 history: pd.DataFrame, as_of: dt.date) -> TrackedFindings:
    """Tonight's findings through the decisions and the history (see `lifecycle`)."""
    decisions = decisions if decisions is not None else empty_decisions()
    raised, suppressed = apply_decisions(findings, decisions)
    standing_dismissed = dismissed_ids(decisions)
    with_status, updated, resolved = apply_history(raised, history, as_of, standing_dismissed)
    with_status = apply_review(with_status, decisions)
    with_status["evidence"] = evidence_hash(with_status)
    last = previous_night(history, as_of)
    gone = last[~last["discrepancy_id"].isin(set(with_status["discrepancy_id"]))
                & last["discrepancy_id"].isin(standing_dismissed)]
    held = suppressed.reindex(columns=list(DISMISSED_COLUMNS))
    dismissed = pd.concat([held, gone.reindex(columns=list(DISMISSED_COLUMNS))],
                          ignore_index=True).drop_duplicates("discrepancy_id")
    dismissed = dismissed.astype("string").reset_index(drop=True)
    return TrackedFindings(with_status, resolved, len(suppressed), updated, dismissed)


def state_frames(state) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(decisions, history) of a state: a `StateStore` is read; anything holding them as
    frames (`StateSnapshot`: `.decisions`, `.history`) gives its own; None gives none."""
    if state is None:
        return empty_decisions(), empty_history()
    decisions, history = getattr(state, "decisions", None), getattr(state, "history", None)
    if isinstance(decisions, pd.DataFrame) and isinstance(history, pd.DataFrame):
        return decisions, history
    return read_decisions(state), read_history(state)


def track(findings: pd.DataFrame, state, as_of: dt.date) -> TrackedFindings:
    """`track_frames` over a state (see `state_frames`)."""
    decisions, history = state_frames(state)
    return track_frames(findings, decisions, history, as_of)


def review_counts(tracked: TrackedFindings) -> dict[str, int]:
    """Tonight's findings per review state, for `manifest["findings_lifecycle"]`, the report
    and Prefect: new / persisting / confirmed (status), pending (待核实, still open: new or
    persisting), dismissed on review (held back, never resolved), resolved (gone since last
    night)."""
    findings = tracked.findings
    status = findings["status"].astype("string")
    decision = findings["review_decision"].astype("string") if "review_decision" in \
        findings.columns else pd.Series(pd.NA, index=findings.index, dtype="string")
    return {
        "new": int((status == "new").sum()),
        "persisting": int((status == "persisting").sum()),
        CONFIRMED: int((status == CONFIRMED).sum()),
        PENDING: int((decision == PENDING).sum()),
        "dismissed_on_review": len(tracked.dismissed),
        "resolved": len(tracked.resolved),
    }


def save(state: StateStore, tracked: TrackedFindings) -> None:
    import io

    buffer = io.BytesIO()
    tracked.history.to_parquet(buffer, index=False, compression="zstd")
    atomic_write_bytes(state.history_path, buffer.getvalue())


def review_labels_from(decisions: pd.DataFrame | None, history: pd.DataFrame) -> pd.DataFrame:
    """Analysts' decisions on possible matches, as labels for the linker:
    (union_roll_id, civil_case_id, civil_member_no, label) with label match (confirmed) /
    non_match (dismissed); 待核实 is no label."""
    columns = ["union_roll_id", "civil_case_id", "civil_member_no", "label"]
    if decisions is None or decisions.empty or history.empty:
        return pd.DataFrame(columns=columns, dtype="string")
    reviews = history[history["type"] == REVIEW_CODE].drop_duplicates("discrepancy_id")
    latest = latest_decisions(decisions[decisions["decision"].isin([CONFIRMED, DISMISSED,
                                                                     PENDING])])
    labelled = reviews.merge(latest[["discrepancy_id", "decision"]], on="discrepancy_id")
    labelled["label"] = labelled["decision"].map({CONFIRMED: "match", DISMISSED: "non_match"})
    labelled = labelled[labelled["label"].notna()]
    return labelled[columns].astype("string").reset_index(drop=True)


def review_labels(state) -> pd.DataFrame:
    """`review_labels_from` over a state's decisions and history (see `state_frames`)."""
    return review_labels_from(*state_frames(state))

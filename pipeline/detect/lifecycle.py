"""Findings across nights: new or persisting, first seen, resolved, and analysts' decisions.

Pure functions over frames; `pipeline.state.StateStore` reads and writes them.

- History: one row per finding per night it was raised (`discrepancy_id`, type, keys,
  `evidence`, `night`). Tonight's finding is `persisting` when it was raised on the previous
  night that published, else `new`; `first_seen` is its earliest night, so a finding that went
  away and came back keeps its first date. Re-running a night replaces that night's rows.
- Resolved: ids raised on the previous night and absent tonight.
- Review decisions (`review_decisions.csv`, written by analysts): `discrepancy_id`,
  `decision` (`confirmed` / `dismissed`), `note`, `decided_by`, `decided_at`, and `evidence`
  (copied from the finding when deciding). A dismissed finding is not raised again while its
  evidence (the type, keys and compared values) is unchanged; if the evidence changes, it is.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd

from pipeline.detect.finding import KEY_COLUMNS

HISTORY_COLUMNS = ("discrepancy_id", "type", *KEY_COLUMNS, "evidence", "night")
DECISION_COLUMNS = ("discrepancy_id", "decision", "note", "decided_by", "decided_at",
                    "evidence")
DECISIONS = ("confirmed", "dismissed")


def evidence_hash(findings: pd.DataFrame) -> pd.Series:
    """What a decision was made on: the code, the keys and the values compared."""
    columns = ["type", *KEY_COLUMNS, "union_value", "civil_value"]
    if findings.empty:  # agg over no rows gives a frame, not a series
        return pd.Series([], index=findings.index, dtype="string")
    text = findings[columns].astype("string").fillna("").agg("|".join, axis=1)
    return text.map(lambda t: hashlib.sha256(t.encode("utf-8")).hexdigest()[:16]).astype(
        "string")


def empty_history() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in HISTORY_COLUMNS})
    frame["night"] = pd.Series(dtype="datetime64[ns]")
    return frame


def latest_decisions(decisions: pd.DataFrame) -> pd.DataFrame:
    """Each finding's most recent decision (an analyst may change their mind)."""
    return decisions.sort_values("decided_at", kind="mergesort").drop_duplicates(
        "discrepancy_id", keep="last")


def apply_decisions(findings: pd.DataFrame, decisions: pd.DataFrame
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(findings still raised, findings suppressed by a dismissal on unchanged evidence)."""
    if decisions.empty or findings.empty:
        return findings, findings.iloc[0:0]
    latest = latest_decisions(decisions)
    dismissed = latest[latest["decision"] == "dismissed"].set_index("discrepancy_id")["evidence"]
    evidence = evidence_hash(findings)
    decided_on = findings["discrepancy_id"].map(dismissed)
    suppressed = decided_on.notna() & (decided_on == evidence)
    return findings[~suppressed].reset_index(drop=True), findings[suppressed]


def apply_history(findings: pd.DataFrame, history: pd.DataFrame, as_of: dt.date
                  ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(findings with status and first_seen, updated history, resolved since last night)."""
    tonight = pd.Timestamp(as_of)
    earlier = history[history["night"] < tonight] if not history.empty else empty_history()
    previous_night = earlier["night"].max() if not earlier.empty else None
    last_night = earlier[earlier["night"] == previous_night] if previous_night is not None \
        else empty_history()
    first_seen = earlier.groupby("discrepancy_id")["night"].min()

    out = findings.copy()
    out["first_seen"] = out["discrepancy_id"].map(first_seen).fillna(tonight).astype(
        "datetime64[ns]")
    out["status"] = out["discrepancy_id"].isin(set(last_night["discrepancy_id"])).map(
        {True: "persisting", False: "new"}).astype("string")

    current = out[["discrepancy_id", "type", *KEY_COLUMNS]].copy()
    current["evidence"] = evidence_hash(out)
    current["night"] = tonight
    later = history[history["night"] > tonight] if not history.empty else empty_history()
    parts = [p[list(HISTORY_COLUMNS)] for p in (earlier, current, later) if not p.empty]
    updated = pd.concat(parts, ignore_index=True) if parts else empty_history()
    updated = updated.sort_values(["night", "discrepancy_id"], kind="mergesort")

    resolved = last_night[~last_night["discrepancy_id"].isin(set(out["discrepancy_id"]))]
    return out, updated.reset_index(drop=True), resolved.reset_index(drop=True)

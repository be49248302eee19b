"""Findings across nights: new or persisting, first seen, resolved, and analysts' decisions.

Pure functions over frames; `pipeline.state.StateStore` reads and writes them.

- History: one row per finding per night it was raised (`discrepancy_id`, type, keys,
  `evidence`, `night`). Tonight's finding is `persisting` when it was raised on the previous
  night that published, else `new`; `first_seen` is its earliest night, so a finding that went
  away and came back keeps its first date. Re-running a night replaces that night's rows.
- Resolved: ids raised on the previous night and absent tonight, except those an analyst
  dismissed: a dismissed finding is "dismissed on review", never "resolved".
- Review decisions (`pipeline.review`: the decision log, filled `review.xlsx` copies, the old
  `review_decisions.csv`): `discrepancy_id`, `decision` (`confirmed` / `dismissed` /
  `pending`), `note`, `decided_by`, `decided_at`, and `evidence` (the finding's evidence when
  it was decided). A decision counts only while the finding's evidence (the type, keys and
  compared values) is what was decided on; if the evidence changes, the finding is a new
  question. Then:
  - dismissed: the finding is not raised (it is counted as dismissed on review);
  - confirmed: the finding stays, with status `confirmed` (neither new nor persisting);
  - pending (待核实): the finding stays new or persisting, marked as awaiting verification.
  Each raised finding carries `review_decision`, `reviewed_by`, `reviewed_at` (empty when no
  decision applies).
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd

from pipeline.detect.finding import KEY_COLUMNS

HISTORY_COLUMNS = ("discrepancy_id", "type", *KEY_COLUMNS, "evidence", "night")
DECISION_COLUMNS = ("discrepancy_id", "decision", "note", "decided_by", "decided_at",
                    "evidence")
CONFIRMED, DISMISSED, PENDING = "confirmed", "dismissed", "pending"
DECISIONS = (CONFIRMED, DISMISSED, PENDING)
REVIEW_COLUMNS = ("review_decision", "reviewed_by", "reviewed_at")
STATUSES = ("new", "persisting", CONFIRMED)


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


def empty_decisions() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in DECISION_COLUMNS})


def latest_decisions(decisions: pd.DataFrame) -> pd.DataFrame:
    """Each finding's most recent decision (an analyst may change their mind): the latest
    `decided_at`, and among equal times the one recorded last."""
    return decisions.sort_values("decided_at", kind="mergesort").drop_duplicates(
        "discrepancy_id", keep="last")


def _standing(decisions: pd.DataFrame | None) -> pd.DataFrame:
    """The latest decision per finding, indexed by discrepancy_id (known words only)."""
    if decisions is None or decisions.empty:
        return empty_decisions().set_index("discrepancy_id")
    known = decisions[decisions["decision"].isin(DECISIONS)]
    return latest_decisions(known).set_index("discrepancy_id")


def apply_decisions(findings: pd.DataFrame, decisions: pd.DataFrame
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(findings still raised, findings suppressed by a dismissal on unchanged evidence).

    Only a finding's latest decision counts: a dismissal followed by 待核实 or a confirmation
    raises the finding again."""
    if decisions is None or decisions.empty or findings.empty:
        return findings, findings.iloc[0:0]
    latest = _standing(decisions)
    dismissed = latest[latest["decision"] == DISMISSED]["evidence"]
    evidence = evidence_hash(findings)
    decided_on = findings["discrepancy_id"].map(dismissed)
    suppressed = (decided_on.notna() & (decided_on == evidence)).fillna(False).astype(bool)
    return findings[~suppressed].reset_index(drop=True), findings[suppressed]


def dismissed_ids(decisions: pd.DataFrame | None) -> set[str]:
    """Findings whose latest decision is a dismissal (whatever their evidence)."""
    latest = _standing(decisions)
    return set(latest.index[latest["decision"] == DISMISSED].astype(str))


def apply_review(findings: pd.DataFrame, decisions: pd.DataFrame | None) -> pd.DataFrame:
    """Tonight's raised findings with `review_decision`, `reviewed_by`, `reviewed_at` from each
    one's latest decision when it was made on tonight's evidence; a confirmed one gets status
    `confirmed`. (A dismissal on tonight's evidence never reaches here: `apply_decisions`
    held the finding back.)"""
    out = findings.copy()
    latest = _standing(decisions)
    ids = out["discrepancy_id"].astype("string")
    decided_on = ids.map(latest["evidence"]) if len(latest) else pd.Series(
        pd.NA, index=out.index, dtype="string")
    applies = (decided_on.notna() & (decided_on == evidence_hash(out))).fillna(False)
    applies = applies.astype(bool)

    def column(name: str) -> pd.Series:
        if not len(latest):
            return pd.Series(pd.NA, index=out.index, dtype="string")
        return ids.map(latest[name]).astype("string").where(applies)

    out["review_decision"] = column("decision")
    out["reviewed_by"] = column("decided_by")
    out["reviewed_at"] = pd.to_datetime(column("decided_at").astype(object), errors="coerce",
                                        format="mixed").astype("datetime64[ns]")
    confirmed = (out["review_decision"] == CONFIRMED).fillna(False).astype(bool)
    out["status"] = out["status"].astype("string").mask(confirmed, CONFIRMED)
    return out


def apply_history(findings: pd.DataFrame, history: pd.DataFrame, as_of: dt.date,
                  dismissed: set[str] | frozenset[str] = frozenset()
                  ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(findings with status and first_seen, updated history, resolved since last night).

    `dismissed`: ids an analyst dismissed; absent tonight, they are not resolved."""
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

    gone = last_night[~last_night["discrepancy_id"].isin(set(out["discrepancy_id"]))]
    resolved = gone[~gone["discrepancy_id"].isin(set(dismissed))]
    return out, updated.reset_index(drop=True), resolved.reset_index(drop=True)


def previous_night(history: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The history rows of the last night before as_of (empty when there is none)."""
    if history.empty:
        return empty_history()
    earlier = history[history["night"] < pd.Timestamp(as_of)]
    if earlier.empty:
        return empty_history()
    return earlier[earlier["night"] == earlier["night"].max()]


def latest_evidence(history: pd.DataFrame, before: dt.date | None = None) -> pd.Series:
    """Each finding's evidence on the last night it was raised (before `before`, if given):
    what a decision made on that night's review.xlsx was made on."""
    if history.empty:
        return pd.Series(dtype="string")
    rows = history if before is None else history[history["night"] < pd.Timestamp(before)]
    rows = rows.sort_values("night", kind="mergesort").drop_duplicates("discrepancy_id",
                                                                        keep="last")
    return rows.set_index("discrepancy_id")["evidence"].astype("string")

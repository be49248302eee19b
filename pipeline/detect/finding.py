"""The shape of a finding (SPEC §3 `discrepancies.parquet`) and its stable id."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import pandas as pd

KEY_COLUMNS = ("union_roll_id", "civil_case_id", "civil_member_no", "member_id")
SEVERITIES = ("high", "medium", "low")  # most to least urgent
# `severity_rank` sorts severities where text cannot (DuckDB reads `severity` as VARCHAR, and
# 'high' < 'low' < 'medium' alphabetically): 1 high, 2 medium, 3 low.
SEVERITY_RANKS = {severity: rank for rank, severity in enumerate(SEVERITIES, start=1)}
# An analyst's decision on the finding (SPEC §3), filled in by the review import: the codes
# `confirmed` / `dismissed` / `pending` (people-facing outputs say 确认 / 驳回 / 待核实), who
# decided and when (local time, Asia/Shanghai, no zone). Empty until someone decides.
REVIEW_COLUMNS = ("review_decision", "reviewed_by", "reviewed_at")
REVIEW_DECISIONS = ("confirmed", "dismissed", "pending")
COLUMNS = (
    "discrepancy_id", "type", "severity", "severity_rank", *KEY_COLUMNS, "district_code",
    "union_value", "civil_value", "match_probability", "amount_at_risk_yuan", "summary",
    "status", *REVIEW_COLUMNS, "first_seen", "as_of",
)
STRING_COLUMNS = ("discrepancy_id", "type", "severity", *KEY_COLUMNS, "district_code",
                  "union_value", "civil_value", "summary", "status", "review_decision",
                  "reviewed_by")


@dataclass
class DetectContext:
    """Everything a rule may read: normalised inputs, links, the night's date, configuration."""

    union: pd.DataFrame
    civil: pd.DataFrame
    members: pd.DataFrame | None
    links: pd.DataFrame
    member_links: pd.DataFrame | None
    roll_duplicates: pd.DataFrame
    as_of: dt.date
    config: dict


def discrepancy_id(code: str, keys: tuple[object, ...]) -> str:
    """A hash of the code and the entities' stable keys: the same finding has the same id every
    night (never row numbers or probabilities, which move)."""
    text = "|".join([code, *("" if k is None or k is pd.NA else str(k) for k in keys)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def findings_frame(code: str, severity: str | pd.Series, rows: pd.DataFrame,
                   summary: pd.Series, as_of: dt.date) -> pd.DataFrame:
    """Complete a rule's rows (keys, values, amounts it knows) into the SPEC columns.

    ``severity`` is the rule's one severity, or a Series aligned with ``rows`` when it varies
    by finding (high / medium / low)."""
    out = pd.DataFrame(index=rows.index)
    for column in COLUMNS:
        out[column] = rows[column] if column in rows.columns else pd.NA
    out["type"] = code
    out["severity"] = severity
    out["summary"] = summary
    out["status"] = "new"
    out["as_of"] = pd.Timestamp(as_of)
    out["first_seen"] = pd.Timestamp(as_of)
    out["discrepancy_id"] = [
        discrepancy_id(code, keys) for keys in zip(*(out[c] for c in KEY_COLUMNS), strict=True)
    ]
    return typed(out)


def severity_rank(severity: pd.Series) -> pd.Series:
    """1 high, 2 medium, 3 low (nullable int8): what `ORDER BY` and `sort_values` can use."""
    return severity.astype("string").map(SEVERITY_RANKS).astype("Int8")


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Real types for analysts: strings, floats, dates; `severity_rank` follows `severity`.

    Money (`amount_at_risk_yuan`) stays float64: the amounts are whole yuan (12 × a whole-yuan
    monthly standard), which a double holds exactly, and pandas, DuckDB and Excel all read a
    double as a plain number (see pipeline/report/outputs.py)."""
    frame = frame.reindex(columns=list(COLUMNS))
    for column in STRING_COLUMNS:
        frame[column] = frame[column].astype("string")
    frame["severity_rank"] = severity_rank(frame["severity"])
    for column in ("match_probability", "amount_at_risk_yuan"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in ("first_seen", "as_of"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    frame["reviewed_at"] = _local_times(frame["reviewed_at"])
    return frame


def _local_times(values: pd.Series) -> pd.Series:
    """Date-times as naive Asia/Shanghai times (a zoned value is converted, then unzoned)."""
    times = pd.to_datetime(values, errors="coerce")
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    return times.astype("datetime64[ns]")


def empty_findings() -> pd.DataFrame:
    return typed(pd.DataFrame(columns=list(COLUMNS)))

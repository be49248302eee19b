"""Shared pieces of the rules: the dated 低保 standard, which entries and cases count on as-of,
and "the matched civil person of each 在档 roll row".

Definitions used by every rule (SPEC §4, docs/discrepancies.md):
- a roll entry counts when it is 在档 (已脱困 entries are history);
- "matched" means a roll → civil link with decision `match` (a roll row has at most one);
- a civil case is *ended on as-of* when it is 停保/退出 and its exit date is on or before as-of
  (or missing); otherwise it is *active* (在保, or a stop that only takes effect later);
- the roll *claims* assistance when 享受民政救助 is 低保/低收入/特困; 无 claims none; a blank or
  not-understood value (NA) is neither, and gets none of the claim-based codes.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from pipeline.config import default_config
from pipeline.detect.finding import DetectContext

ASSISTANCE_TYPES = ("低保", "低收入", "特困")
NO_ASSISTANCE = "无"
ENDED_STATUSES = ("停保", "退出")
MATCH, POSSIBLE = "match", "possible"

# Civil columns carried next to a matched roll row, each as `civil_<name>`.
CIVIL_COLUMNS = ("row_key", "case_id", "member_no", "assistance_type", "case_status", "exit_date",
                 "household_size", "person_status", "deceased_date", "district_code")


def standard_on(as_of: dt.date, config: dict | None) -> float:
    """The 低保 standard (yuan per person per month) in force on as_of, from the configuration's
    dated table `dibao_standards` (the packaged defaults when the configuration has none).
    NaN when as_of is before the table's first date (no known standard)."""
    table = (config or {}).get("dibao_standards") or default_config()["dibao_standards"]
    day = pd.Timestamp(as_of)
    in_force = [(pd.Timestamp(str(row["from"])), float(row["yuan_per_month"])) for row in table]
    in_force = sorted(r for r in in_force if r[0] <= day)
    return in_force[-1][1] if in_force else math.nan


def yearly_allowance(ctx: DetectContext) -> float:
    """What the union pays a 低保/低收入 hardship household a year: 12 × the standard on as-of."""
    return 12 * standard_on(ctx.as_of, ctx.config)


def active_roll(union: pd.DataFrame) -> pd.DataFrame:
    """The 在档 roll entries."""
    return union[(union["roll_status"] == "在档").fillna(False).astype(bool)]


def case_ended(status: pd.Series, exit_date: pd.Series, as_of: dt.date) -> pd.Series:
    """停保/退出 with an exit date on or before as-of, or without an exit date."""
    stopped = status.isin(ENDED_STATUSES).fillna(False).astype(bool)
    exit_date = pd.to_datetime(exit_date)
    before = (exit_date.isna() | (exit_date <= pd.Timestamp(as_of))).astype(bool)
    return stopped & before


def case_active(status: pd.Series, exit_date: pd.Series, as_of: dt.date) -> pd.Series:
    """在保 on as-of: 在保, or 停保/退出 whose exit date is still to come."""
    known = status.notna().astype(bool)
    return known & ~case_ended(status, exit_date, as_of)


def claims_assistance(claimed: pd.Series) -> pd.Series:
    return claimed.isin(ASSISTANCE_TYPES).fillna(False).astype(bool)


def claims_none(claimed: pd.Series) -> pd.Series:
    return (claimed == NO_ASSISTANCE).fillna(False).astype(bool)


def links_with(ctx: DetectContext, decision: str) -> pd.DataFrame:
    links = ctx.links
    if links.empty:
        return links.iloc[0:0]
    return links[(links["decision"].astype("string") == decision).fillna(False).astype(bool)]


def matched_roll(ctx: DetectContext) -> pd.DataFrame:
    """Each 在档 roll row with its matched civil person: the roll's own columns, the link's
    `match_probability`, the civil person's columns as `civil_<name>`, and `civil_active` /
    `civil_ended` (case status on as-of)."""
    roll = active_roll(ctx.union)
    links = links_with(ctx, MATCH)[["union_row_key", "civil_row_key", "match_probability"]]
    links = links.astype({"union_row_key": "string", "civil_row_key": "string"})
    civil = ctx.civil[list(CIVIL_COLUMNS)].add_prefix("civil_")
    civil = civil.astype({"civil_row_key": "string"})
    out = roll.astype({"row_key": "string"}).merge(
        links, left_on="row_key", right_on="union_row_key", how="inner")
    out = out.merge(civil, on="civil_row_key", how="inner")
    out["civil_ended"] = case_ended(out["civil_case_status"], out["civil_exit_date"], ctx.as_of)
    out["civil_active"] = case_active(out["civil_case_status"], out["civil_exit_date"],
                                      ctx.as_of)
    return out.sort_values(["roll_id", "row_key"], kind="mergesort").reset_index(drop=True)


def pair_rows(hit: pd.DataFrame, **values: object) -> pd.DataFrame:
    """A finding's rows for matched (roll row, civil person) pairs: the keys, the roll's
    district and the link's probability, plus the rule's own values (union_value, …)."""
    return pd.DataFrame({
        "union_roll_id": hit["roll_id"],
        "civil_case_id": hit["civil_case_id"],
        "civil_member_no": hit["civil_member_no"],
        "district_code": hit["district_code"],
        "match_probability": hit["match_probability"],
        **values,
    })


def date_text(values: pd.Series) -> pd.Series:
    """Dates as YYYY-MM-DD text, NA where missing."""
    values = pd.to_datetime(values)
    return pd.Series([d.strftime("%Y-%m-%d") if pd.notna(d) else pd.NA for d in values],
                     index=values.index, dtype="string")


def status_text(status: pd.Series, day: pd.Series) -> pd.Series:
    """`停保（2025-03-01）`, or the status alone when the date is missing."""
    days = date_text(day)
    status = status.astype("string")
    return status.where(days.isna(), status + "（" + days.fillna("") + "）")


def yuan(value: float) -> str:
    return f"{value:,.0f}" if not math.isnan(value) else "未知"

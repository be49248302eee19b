"""CLAIMED_ASSISTANCE_NOT_FOUND: a 在档 roll entry claims 低保/低收入/特困, and the worker
matches no civil-affairs record at all.

Rule: 在档, 享受民政救助 is 低保/低收入/特困, and no roll → civil link with decision `match`.
A matched case that has ended is ASSISTANCE_ENDED instead; a blank or not-understood claim gets
no finding. A `possible` link does not count as found (it is reviewed under
POSSIBLE_MATCH_REVIEW; the summary says so).
Inputs: the normalised roll, the links. Severity high: the union may be paying the hardship
allowance on a claim civil affairs does not support; amount at risk = 12 × the 低保 standard.
Analyst: ask the filing union for the household's 救助证; if there is none, correct the claim
and review the allowance.
"""

from __future__ import annotations

import pandas as pd

from pipeline.detect.common import (
    MATCH,
    POSSIBLE,
    active_roll,
    claims_assistance,
    links_with,
    yearly_allowance,
)
from pipeline.detect.finding import DetectContext, findings_frame

CODE = "CLAIMED_ASSISTANCE_NOT_FOUND"
SEVERITY = "high"
LABEL_ZH = "声称享受救助但民政无记录"
KEYS = ("union_roll_id",)
MONEY = "at_risk"
TRUTH_KEY = ("union_roll_id",)


def detect(ctx: DetectContext) -> pd.DataFrame:
    roll = active_roll(ctx.union)
    matched = set(links_with(ctx, MATCH)["union_row_key"].astype(str))
    possible = set(links_with(ctx, POSSIBLE)["union_row_key"].astype(str))
    keys = roll["row_key"].astype(str)
    hit = roll[claims_assistance(roll["claimed_assistance"]) & ~keys.isin(matched)]
    rows = pd.DataFrame({
        "union_roll_id": hit["roll_id"],
        "district_code": hit["district_code"],
        "union_value": hit["claimed_assistance"],
        "amount_at_risk_yuan": yearly_allowance(ctx),
    })
    review = hit["row_key"].astype(str).isin(possible)
    tail = pd.Series("，请向建档工会核实救助证明。", index=hit.index, dtype="string").mask(
        review, "（有待人工复核的疑似匹配），请先复核匹配，再向建档工会核实救助证明。")
    summary = "档案" + hit["roll_id"].astype("string") + "登记享受" + \
        hit["claimed_assistance"].astype("string") + "，但民政救助数据中未找到该职工" + tail
    return findings_frame(CODE, SEVERITY, rows, summary, ctx.as_of)

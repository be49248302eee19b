"""UNCLAIMED_ASSISTANCE: the roll says 无 but the worker's household is active in civil affairs.

Rule: 在档, 享受民政救助 is 无 (a blank or not-understood claim is not 无), matched civil
person whose case is active on as-of.
Inputs: the roll's claim, the civil case's type and status. `union_value` 无, `civil_value`
the civil type. Severity medium: possible under-support (the household may be entitled to the
低保-linked hardship allowance it is not getting); amount at risk = 12 × the 低保 standard.
Analyst: confirm with civil affairs, update the roll's claim and the help the household gets.
"""

from __future__ import annotations

import pandas as pd

from pipeline.detect.common import claims_none, matched_roll, pair_rows, yearly_allowance
from pipeline.detect.finding import DetectContext, findings_frame

CODE = "UNCLAIMED_ASSISTANCE"
SEVERITY = "medium"
LABEL_ZH = "享受救助但档案未登记"
KEYS = ("union_roll_id", "civil_case_id")
MONEY = "outreach"  # the roll says 无: help the household may be owed, not a payment made
TRUTH_KEY = ("union_roll_id",)


def detect(ctx: DetectContext) -> pd.DataFrame:
    pairs = matched_roll(ctx)
    hit = pairs[claims_none(pairs["claimed_assistance"]) & pairs["civil_active"]]
    rows = pair_rows(
        hit,
        union_value=hit["claimed_assistance"],
        civil_value=hit["civil_assistance_type"],
        amount_at_risk_yuan=yearly_allowance(ctx),
    )
    summary = "档案" + hit["roll_id"].astype("string") + "登记未享受民政救助，但民政家庭" + \
        hit["civil_case_id"].astype("string") + "正在享受" + \
        hit["civil_assistance_type"].astype("string").fillna("救助") + \
        "，可能少享受了帮扶，请核实后更新。"
    return findings_frame(CODE, SEVERITY, rows, summary, ctx.as_of)

"""ASSISTANCE_ENDED: the matched civil-affairs case is 停保/退出 on as-of while the 在档 roll
entry still claims assistance.

Rule: 在档, claims 低保/低收入/特困, matched (decision `match`) civil person whose case is
停保/退出 with an exit date on or before as-of (or no exit date). A stop dated after as-of is
not yet in force: the case still counts as active.
Inputs: the roll, the links, the civil case status and exit date. `union_value` is the claim,
`civil_value` the status with its exit date. Severity high: the allowance may still be paid
after civil affairs stopped assistance; amount at risk = 12 × the 低保 standard.
Analyst: confirm the stop with civil affairs; update the roll's claim and re-assess the
household's hardship status (it may have left hardship: 脱困).
"""

from __future__ import annotations

import pandas as pd

from pipeline.detect.common import (
    claims_assistance,
    matched_roll,
    pair_rows,
    status_text,
    yearly_allowance,
)
from pipeline.detect.finding import DetectContext, findings_frame

CODE = "ASSISTANCE_ENDED"
SEVERITY = "high"
LABEL_ZH = "民政救助已停止"
KEYS = ("union_roll_id", "civil_case_id")
MONEY = "at_risk"
TRUTH_KEY = ("union_roll_id",)


def detect(ctx: DetectContext) -> pd.DataFrame:
    pairs = matched_roll(ctx)
    hit = pairs[claims_assistance(pairs["claimed_assistance"]) & pairs["civil_ended"]]
    civil_value = status_text(hit["civil_case_status"], hit["civil_exit_date"])
    rows = pair_rows(
        hit,
        union_value=hit["claimed_assistance"],
        civil_value=civil_value,
        amount_at_risk_yuan=yearly_allowance(ctx),
    )
    summary = "档案" + hit["roll_id"].astype("string") + "仍登记享受" + \
        hit["claimed_assistance"].astype("string") + "，但民政家庭" + \
        hit["civil_case_id"].astype("string") + "已" + civil_value + \
        "，请核实后更新救助情况并复核困难职工身份。"
    return findings_frame(CODE, SEVERITY, rows, summary, ctx.as_of)

"""DECEASED: civil affairs records the worker as 死亡 while the roll entry is 在档.

Rule: 在档, matched civil person whose 人员状态 is 死亡 (other findings on the row still
apply). The death is taken as recorded; its date, when given, is shown but not required.
Inputs: the links, civil `person_status`, `deceased_date`. `civil_value` is 死亡 with its date.
Severity high: help may be paid for a deceased worker; amount at risk = 12 × the 低保 standard.
Analyst: confirm the death (civil affairs, public-security record), close the roll entry, stop
payment and look after any surviving family through the proper channel.
"""

from __future__ import annotations

import pandas as pd

from pipeline.detect.common import matched_roll, pair_rows, status_text, yearly_allowance
from pipeline.detect.finding import DetectContext, findings_frame

CODE = "DECEASED"
SEVERITY = "high"
LABEL_ZH = "民政记录已死亡"
KEYS = ("union_roll_id", "civil_case_id", "civil_member_no")
MONEY = "at_risk"
TRUTH_KEY = ("union_roll_id",)


def detect(ctx: DetectContext) -> pd.DataFrame:
    pairs = matched_roll(ctx)
    hit = pairs[(pairs["civil_person_status"] == "死亡").fillna(False).astype(bool)]
    civil_value = status_text(hit["civil_person_status"], hit["civil_deceased_date"])
    rows = pair_rows(
        hit,
        union_value=hit["roll_status"],
        civil_value=civil_value,
        amount_at_risk_yuan=yearly_allowance(ctx),
    )
    summary = "档案" + hit["roll_id"].astype("string") + "仍在档，但民政家庭" + \
        hit["civil_case_id"].astype("string") + "记录该职工已" + civil_value + \
        "，请核实后办理销档并停止帮扶。"
    return findings_frame(CODE, SEVERITY, rows, summary, ctx.as_of)

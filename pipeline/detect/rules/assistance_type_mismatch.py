"""ASSISTANCE_TYPE_MISMATCH: roll claim and civil case both active, different assistance type.

Rule: 在档, claims 低保/低收入/特困, matched civil person whose case is active on as-of, and
the claimed type differs from the case's 救助类别.
Inputs: the roll's claim, the civil case's type and status. `union_value` claimed type,
`civil_value` civil type. Severity medium: the household is assisted, but the roll's tier may
be wrong. No amount at risk (the union's allowance is the same for 低保 and 低收入).
Analyst: correct the roll's 享受民政救助 from the civil-affairs record.
"""

from __future__ import annotations

import pandas as pd

from pipeline.detect.common import claims_assistance, matched_roll, pair_rows
from pipeline.detect.finding import DetectContext, findings_frame

CODE = "ASSISTANCE_TYPE_MISMATCH"
SEVERITY = "medium"
LABEL_ZH = "救助类别不一致"
KEYS = ("union_roll_id", "civil_case_id")
MONEY = None
TRUTH_KEY = ("union_roll_id",)


def detect(ctx: DetectContext) -> pd.DataFrame:
    pairs = matched_roll(ctx)
    differs = (pairs["claimed_assistance"] != pairs["civil_assistance_type"]).fillna(False)
    hit = pairs[claims_assistance(pairs["claimed_assistance"]) & pairs["civil_active"]
                & pairs["civil_assistance_type"].notna() & differs.astype(bool)]
    rows = pair_rows(
        hit,
        union_value=hit["claimed_assistance"],
        civil_value=hit["civil_assistance_type"],
    )
    summary = "档案" + hit["roll_id"].astype("string") + "登记享受" + \
        hit["claimed_assistance"].astype("string") + "，民政家庭" + \
        hit["civil_case_id"].astype("string") + "实际为" + \
        hit["civil_assistance_type"].astype("string") + "，请按民政记录更正救助类别。"
    return findings_frame(CODE, SEVERITY, rows, summary, ctx.as_of)

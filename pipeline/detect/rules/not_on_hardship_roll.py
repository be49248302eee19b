"""NOT_ON_HARDSHIP_ROLL: an active civil-affairs household has a union member (roster), and no
one of that household has a 在档 roll entry: an outreach candidate, one finding per member.

Rule (household level, only when a roster was given): a civil person whose case is active on
as-of is linked (decision `match`) to a roster member, and no person of that case is matched by
a 在档 roll entry. A member whom civil affairs records as 死亡 is not an outreach candidate.
Keys: member_id, civil_case_id, civil_member_no; district from the civil case; `civil_value`
the case's assistance type. Severity low: nobody is paid wrongly, it is a lead to follow;
amount at risk = 12 × the 低保 standard (the allowance the household could receive).
Analyst: pass the lead to the member's grassroots union to check hardship and, if it qualifies,
file the household (建档).
"""

from __future__ import annotations

import pandas as pd

from pipeline.detect.common import MATCH, case_active, matched_roll, yearly_allowance
from pipeline.detect.finding import DetectContext, findings_frame

CODE = "NOT_ON_HARDSHIP_ROLL"
SEVERITY = "low"
LABEL_ZH = "救助家庭会员未建档"  # 低保, 低收入 and 特困 households alike
KEYS = ("civil_case_id", "civil_member_no", "member_id")
MONEY = "outreach"  # not on the roll: help the household could receive
TRUTH_KEY = ("member_id",)


def detect(ctx: DetectContext) -> pd.DataFrame:
    member_links = ctx.member_links
    if ctx.members is None or member_links is None or member_links.empty:
        return findings_frame(CODE, SEVERITY, pd.DataFrame(), pd.Series(dtype="string"),
                              ctx.as_of)
    matched = member_links[(member_links["decision"].astype("string") == MATCH)
                           .fillna(False).astype(bool)]
    matched = matched[["civil_row_key", "member_id", "match_probability"]].astype(
        {"civil_row_key": "string"})
    civil = ctx.civil.astype({"row_key": "string"})
    civil = civil[case_active(civil["case_status"], civil["exit_date"], ctx.as_of)
                  & (civil["person_status"] != "死亡").fillna(True).astype(bool)]
    on_roll = set(matched_roll(ctx)["civil_case_id"].astype(str))
    civil = civil[~civil["case_id"].astype(str).isin(on_roll)]
    hit = matched.merge(civil, left_on="civil_row_key", right_on="row_key", how="inner")
    hit = hit.drop_duplicates(["member_id", "case_id", "member_no"]).sort_values(
        ["case_id", "member_no", "member_id"], kind="mergesort").reset_index(drop=True)
    rows = pd.DataFrame({
        "civil_case_id": hit["case_id"],
        "civil_member_no": hit["member_no"],
        "member_id": hit["member_id"],
        "district_code": hit["district_code"],
        "civil_value": hit["assistance_type"],
        "match_probability": hit["match_probability"],
        "amount_at_risk_yuan": yearly_allowance(ctx),
    })
    summary = "会员" + hit["member_id"].astype("string") + "所在的民政家庭" + \
        hit["case_id"].astype("string") + "正在享受" + \
        hit["assistance_type"].astype("string").fillna("救助") + \
        "，但该家庭无人在困难职工档案中，请基层工会走访核实是否建档。"
    return findings_frame(CODE, SEVERITY, rows, summary, ctx.as_of)

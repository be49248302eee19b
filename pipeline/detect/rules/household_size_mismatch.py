"""HOUSEHOLD_SIZE_MISMATCH: roll 家庭人口 differs from the civil-affairs 家庭总人数.

Rule: 在档, matched civil person, both the roll's household size and the civil 家庭总人数
(whole family, not 保障人数) of the person's case present, and different. Applies whatever the
claim and the case status (the family is the same family).
Inputs: roll `household_size`, civil `household_size`. Values as text. Severity medium: the
per-capita income, and so the category and eligibility, rest on the household size. No amount.
Analyst: check the household register (户口簿) and correct the side that is wrong.
"""

from __future__ import annotations

import pandas as pd

from pipeline.detect.common import matched_roll, pair_rows
from pipeline.detect.finding import DetectContext, findings_frame

CODE = "HOUSEHOLD_SIZE_MISMATCH"
SEVERITY = "medium"
LABEL_ZH = "家庭人口不一致"
KEYS = ("union_roll_id", "civil_case_id")
MONEY = None
TRUTH_KEY = ("union_roll_id",)


def detect(ctx: DetectContext) -> pd.DataFrame:
    pairs = matched_roll(ctx)
    roll_size = pairs["household_size"].astype("Int64")
    civil_size = pairs["civil_household_size"].astype("Int64")
    hit_mask = (roll_size.notna() & civil_size.notna()).astype(bool)
    hit_mask &= (roll_size != civil_size).fillna(False).astype(bool)
    hit = pairs[hit_mask]
    union_value = hit["household_size"].astype("Int64").astype("string")
    civil_value = hit["civil_household_size"].astype("Int64").astype("string")
    rows = pair_rows(hit, union_value=union_value, civil_value=civil_value)
    summary = "档案" + hit["roll_id"].astype("string") + "登记家庭人口" + union_value + \
        "人，民政家庭" + hit["civil_case_id"].astype("string") + "家庭总人数为" + civil_value + \
        "人，请核对户口簿后更正。"
    return findings_frame(CODE, SEVERITY, rows, summary, ctx.as_of)

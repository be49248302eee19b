"""CATEGORY_INCONSISTENT: the roll's 困难类别 contradicts its own income per capita against the
dated 低保 standard in force on as-of.

Rule: 在档 and either 深度困难 with 家庭月人均收入 ≥ the standard (深度困难 means below it), or
相对困难 with income ≥ twice the standard (相对困难 means below twice it). 意外致困 is defined by
hardship costs above 80% of yearly income, which income alone cannot check, so it is never
flagged. A 相对困难 entry with income below the standard is not flagged either: "below twice the
standard" still holds, so its own figures do not contradict the category (it may deserve the
deeper category, but 深度困难 rests on more than income, and that is a judgement, not a
contradiction). Rows without a category or an income, or an as-of before the standards table,
are not checked.
Inputs: roll `category`, `income_per_capita`, config `dibao_standards`. `union_value` is the
category, `civil_value` the income and the standard it was checked against. Severity medium: a
household may get help at a tier its own figures do not support. No amount at risk.
Analyst: ask the filing union to re-check the income and re-assess the category.
"""

from __future__ import annotations

import math

import pandas as pd

from pipeline.detect.common import active_roll, standard_on, yuan
from pipeline.detect.finding import DetectContext, findings_frame

CODE = "CATEGORY_INCONSISTENT"
SEVERITY = "medium"
LABEL_ZH = "困难类别与收入不符"
KEYS = ("union_roll_id",)
MONEY = None
TRUTH_KEY = ("union_roll_id",)

# Category → the multiple of the standard its income must stay below.
CEILING = {"深度困难": 1, "相对困难": 2}


def detect(ctx: DetectContext) -> pd.DataFrame:
    standard = standard_on(ctx.as_of, ctx.config)
    roll = active_roll(ctx.union)
    if math.isnan(standard):
        roll = roll.iloc[0:0]
    ceiling = roll["category"].astype("object").map(CEILING).astype("Float64") * standard
    income = roll["income_per_capita"].astype("Float64")
    hit = roll[(income >= ceiling).fillna(False).astype(bool)]
    ceiling = ceiling[hit.index]
    income_text = hit["income_per_capita"].astype("Float64").map(yuan).astype("string")
    ceiling_text = ceiling.map(yuan).astype("string")
    rule_text = hit["category"].astype("object").map(
        {"深度困难": "低保标准", "相对困难": "低保标准的2倍"}).astype("string")
    rows = pd.DataFrame({
        "union_roll_id": hit["roll_id"],
        "district_code": hit["district_code"],
        "union_value": hit["category"],
        "civil_value": "月人均收入" + income_text + "元；" + rule_text + ceiling_text + "元",
    })
    summary = "档案" + hit["roll_id"].astype("string") + "困难类别为" + \
        hit["category"].astype("string") + "，但家庭月人均收入" + income_text + "元不低于" + \
        rule_text + ceiling_text + "元，请核实收入并重新认定困难类别。"
    return findings_frame(CODE, SEVERITY, rows, summary, ctx.as_of)

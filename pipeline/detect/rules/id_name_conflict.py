"""ID_NAME_CONFLICT: the same valid ID on both sides, names different after normalisation.

Inputs: exact-ID links with `name_agrees` false. Analyst: check which side recorded the wrong
person (often a spouse's name or a mistyped ID) and correct it at the source.
"""

from __future__ import annotations

import pandas as pd

from pipeline.detect.finding import DetectContext, findings_frame

CODE = "ID_NAME_CONFLICT"
SEVERITY = "high"
LABEL_ZH = "身份证号与姓名不符"
KEYS = ("union_roll_id", "civil_case_id", "civil_member_no")
MONEY = None
TRUTH_KEY = ("union_roll_id",)


def detect(ctx: DetectContext) -> pd.DataFrame:
    links = ctx.links
    hit = links[(links["method"] == "id_exact") & ~links["name_agrees"]]
    roll = ctx.union.set_index("row_key")
    active = (roll.loc[hit["union_row_key"], "roll_status"] == "在档").to_numpy()
    hit = hit[active]
    rows = pd.DataFrame({
        "union_roll_id": hit["union_roll_id"],
        "civil_case_id": hit["civil_case_id"],
        "civil_member_no": hit["civil_member_no"],
        "district_code": roll.loc[hit["union_row_key"], "district_code"].to_numpy(),
        "match_probability": hit["match_probability"],
    })
    summary = "档案" + rows["union_roll_id"].astype(str) + "与民政家庭" + \
        rows["civil_case_id"].astype(str) + "身份证号相同但姓名不一致，请核实是否登记错人。"
    return findings_frame(CODE, SEVERITY, rows, summary, ctx.as_of)

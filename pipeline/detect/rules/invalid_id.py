"""INVALID_ID: a 在档 roll entry whose ID number fails validation.

Inputs: the normalised roll (its `id_problem`). Analyst: ask the filing union to correct the
number from the worker's ID card; until then the row is linked on its other fields.
"""

from __future__ import annotations

import pandas as pd

from pipeline.detect.finding import DetectContext, findings_frame

CODE = "INVALID_ID"
SEVERITY = "medium"

PROBLEM_TEXT = {
    "missing": "身份证号为空",
    "excel_damage": "身份证号被 Excel 截断为科学计数或末三位为 000",
    "format": "身份证号格式错误",
    "checksum": "身份证号校验位错误",
    "birth_date": "身份证号中的出生日期不存在或不合理",
    "admin_code": "身份证号前六位不是已知的行政区划代码",
}


def detect(ctx: DetectContext) -> pd.DataFrame:
    roll = ctx.union
    hit = roll[(roll["roll_status"] == "在档").fillna(False) & roll["id_problem"].notna()]
    rows = pd.DataFrame({
        "union_roll_id": hit["roll_id"],
        "district_code": hit["district_code"],
        "union_value": hit["id_problem"],
    })
    summary = "档案" + hit["roll_id"].astype(str) + "：" + hit["id_problem"].map(PROBLEM_TEXT) + \
        "，请核对身份证原件后更正。"
    return findings_frame(CODE, SEVERITY, rows, summary, ctx.as_of)

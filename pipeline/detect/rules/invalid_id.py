"""INVALID_ID: a 在档 roll entry whose ID number fails validation.

Inputs: the normalised roll (its `id_problem`, see `pipeline/normalise/id_number.py`,
`id_kinds.py` and `shared_ids.py`). Analyst: ask the filing union to correct the number from
the worker's ID card; until then the row is linked on its other fields.

Severity is `medium`, except when the only problem is a prefix in no published GB/T 2260 list
(`admin_code`): some real local codes were never published, so the number may still be right
and the finding is `low`. Placeholders and numbers shared by different people in one file are
never evidence for a link; the summary says so.
"""

from __future__ import annotations

import pandas as pd

from pipeline.detect.finding import DetectContext, findings_frame

CODE = "INVALID_ID"
SEVERITY = "medium"
LABEL_ZH = "身份证号无效"
KEYS = ("union_roll_id",)
MONEY = None
TRUTH_KEY = ("union_roll_id",)
# Problems after which the number may still be correct.
LOW_SEVERITY_PROBLEMS = frozenset({"admin_code"})

PROBLEM_TEXT = {
    "missing": "身份证号为空，请核对身份证原件后补填",
    "placeholder": "身份证号为占位号码（如全为同一数字、连续数字、以 0 补位，"
                   "或出生日期、顺序码全为 0），不是真实号码，比对时不作为依据；"
                   "请核对身份证原件后更正",
    "shared": "该身份证号在同一文件中被姓名和出生日期都不同的多人使用，疑为误抄或占位，"
              "比对时不作为依据；请核对身份证原件后更正",
    "excel_damage": "身份证号被 Excel 截断为科学计数或末三位为 000，请核对身份证原件后更正",
    "format": "身份证号格式错误，请核对身份证原件后更正",
    "checksum": "身份证号校验位错误，请核对身份证原件后更正",
    "birth_date": "身份证号中的出生日期不存在或不合理，请核对身份证原件后更正",
    "admin_code": "身份证号前六位不在已公布的行政区划代码表（GB/T 2260，1981–2024 年各版）中；"
                  "部分地方代码从未公布，号码仍可能正确，请核对身份证原件",
}

# `union_value` (the problem's code) as the review workbook shows it.
VALUES_ZH = {
    "missing": "号码为空", "placeholder": "占位号码", "shared": "多人共用同一号码",
    "excel_damage": "被 Excel 截断", "format": "格式错误", "checksum": "校验位错误",
    "birth_date": "出生日期错误", "admin_code": "前六位未见于已公布区划代码",
}


def detect(ctx: DetectContext) -> pd.DataFrame:
    roll = ctx.union
    hit = roll[(roll["roll_status"] == "在档").fillna(False) & roll["id_problem"].notna()]
    rows = pd.DataFrame({
        "union_roll_id": hit["roll_id"],
        "district_code": hit["district_code"],
        "union_value": hit["id_problem"],
    })
    problem = hit["id_problem"].map(PROBLEM_TEXT)
    summary = "档案" + hit["roll_id"].astype(str) + "：" + problem + "。"
    severity = hit["id_problem"].map(
        lambda problem: "low" if problem in LOW_SEVERITY_PROBLEMS else SEVERITY)
    return findings_frame(CODE, severity, rows, summary, ctx.as_of)

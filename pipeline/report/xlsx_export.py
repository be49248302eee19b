"""An XLSX copy of the findings for colleagues without Parquet tools (Excel, WPS).

The first sheet (比对问题) holds the same rows and columns as `discrepancies.parquet`, so the
recipes of docs/analysts.md name the same columns; the header row is frozen and filterable,
money is a number (sum it, sort it), days are dates, and `severity_rank` (1 高, 2 中, 3 低)
sorts by urgency where the words would sort alphabetically. A second sheet (说明) says in
Chinese what each column and each code means.

Every text cell that a spreadsheet would read as a formula (starting with = + - @, a tab or
a carriage return, or their full-width forms) is written as text with a leading apostrophe:
a name like `=HYPERLINK("http://…")` from an input file must never become a live formula.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
SHEET = "比对问题"
NOTES_SHEET = "说明"

# What each findings column means, for the 说明 sheet (and docs/analysts.md says the same).
COLUMN_NOTES_ZH = {
    "discrepancy_id": "问题编号：同一问题每晚编号不变，用它跟踪处理进度",
    "type": "问题代码（含义见下方“问题类型”）",
    "severity": "严重程度：high 高 / medium 中 / low 低",
    "severity_rank": "严重程度排序号：1 高、2 中、3 低（按此列升序排序即先高后低）",
    "union_roll_id": "档案编号（工会困难职工档案）",
    "civil_case_id": "民政家庭编号",
    "civil_member_no": "民政成员序号",
    "member_id": "会员编号（工会会员名册）",
    "district_code": "区县代码",
    "union_value": "档案一方的比对值",
    "civil_value": "民政一方的比对值",
    "match_probability": "匹配概率（0–1）",
    "amount_at_risk_yuan": "涉及年度金额（元）：可能错付的补助，或可能应得未得的帮扶，见“金额含义”",
    "summary": "一句话说明（不含姓名和身份证号）",
    "status": "状态：new 今日新增 / persisting 持续存在 / confirmed 已确认",
    "review_decision": "处理结果：confirmed 确认 / dismissed 驳回 / pending 待核实；空为未处理",
    "reviewed_by": "处理人",
    "reviewed_at": "处理时间（北京时间）",
    "first_seen": "首次发现日期",
    "as_of": "比对日期",
    "evidence": "证据指纹：处理决定所依据的比对内容，内容变化后问题会重新提出",
}
SEVERITY_ZH = {"high": "高", "medium": "中", "low": "低"}
MONEY_ZH = {"at_risk": "可能错付（应核减或追回）", "outreach": "可能应帮未帮（帮扶潜力）",
            None: "不涉及金额"}


def neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


TIME_COLUMNS = ("reviewed_at",)  # date and time; every other time column is a day


def _cell_value(value: object, column: str) -> object:
    """A frame's value as openpyxl writes it: blanks as empty cells, days as dates."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        if column in TIME_COLUMNS:
            return value.to_pydatetime().replace(tzinfo=None)
        return value.date()
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return value.item()
    return value


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def write_findings_xlsx(findings: pd.DataFrame, path: Path) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET)
    columns = [str(c) for c in findings.columns]
    sheet.freeze_panes = "A2"
    last = _column_letter(max(len(columns) - 1, 0))
    sheet.auto_filter.ref = f"A1:{last}{len(findings) + 1}"
    for i, column in enumerate(columns):
        sheet.column_dimensions[_column_letter(i)].width = (
            60 if column == "summary" else 24 if column == "discrepancy_id" else 16)
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in findings.itertuples(index=False, name=None):
        cells = []
        for column, raw in zip(columns, row, strict=True):
            value = _cell_value(raw, column)
            cell = WriteOnlyCell(sheet, value=neutralise(value))
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text
            elif column == "amount_at_risk_yuan" and value is not None:
                cell.number_format = "#,##0.00"
            elif isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
    _notes_sheet(workbook, columns)
    workbook.save(path)
    return len(findings)


def _notes_sheet(workbook, columns: list[str]) -> None:
    """说明: each column's meaning, then each code's label, severity and what its amount is."""
    from pipeline.detect.rules import rules

    notes = workbook.create_sheet(NOTES_SHEET)
    notes.column_dimensions["A"].width = 34
    notes.column_dimensions["B"].width = 30
    notes.column_dimensions["C"].width = 12
    notes.column_dimensions["D"].width = 30
    notes.append(["列名", "含义"])
    for column in columns:
        notes.append([column, COLUMN_NOTES_ZH.get(column, "")])
    notes.append([])
    notes.append(["问题类型（type）", "中文名称", "严重程度", "金额含义"])
    for rule in rules():
        notes.append([rule.code, rule.label_zh, SEVERITY_ZH[rule.severity],
                      MONEY_ZH[rule.money]])

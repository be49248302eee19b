"""`review.xlsx`: tonight's open findings for analysts to decide, in Excel or WPS.

One row per open finding (status new or persisting; those awaiting verification, 待核实, come
with their earlier 处理结果 / 备注 / 处理人 / 处理日期 filled in). Chinese headers, the header row
frozen, an autofilter, widths that fit, numbers rounded (概率 to 0.00, 金额 to the fen), codes,
severities and statuses as Chinese labels, names and ID numbers masked. The analyst fills
处理结果 (a dropdown: 确认 / 驳回 / 待核实), 备注, 处理人 and 处理日期; the finding's id (问题编号)
and evidence (依据) sit in hidden columns so that the filled copy can be read back
(`pipeline.review.inbox`). A second sheet, 填写说明, says how.

Every text cell is written as text, never a formula (`xlsx_export.neutralise`).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.detect.lifecycle import PENDING, latest_decisions
from pipeline.redaction import redact
from pipeline.report.xlsx_export import neutralise
from pipeline.review import DECISION_LABELS, SEVERITY_LABELS, STATUS_LABELS

SHEET = "待处理问题"
HELP_SHEET = "填写说明"
OPEN_STATUSES = ("new", "persisting")

# The headers analysts fill, and the hidden ones read back (see inbox.HEADERS for aliases).
DECISION, NOTE, REVIEWER, DATE = "处理结果", "备注", "处理人", "处理日期"
ID, EVIDENCE = "问题编号", "依据"
LOCATION = "档案所在位置"  # file › sheet › row of the roll entry (stages.roll_locations)


@dataclass(frozen=True)
class Column:
    header: str
    width: float | None = None  # None: fit the content
    number_format: str | None = None
    hidden: bool = False
    fill_in: bool = False  # a column the analyst fills (shaded)


COLUMNS = (
    Column("问题类型"), Column("严重程度", 9), Column("状态", 8),
    Column("首次发现", 11, "yyyy-mm-dd"), Column("所属区"), Column("档案编号"),
    Column(LOCATION),
    Column("姓名", 9), Column("身份证号", 20), Column("民政家庭编号"), Column("成员序号", 9),
    Column("会员编号"), Column("工会数据"), Column("民政数据"),
    Column("匹配概率", 9, "0.00"), Column("涉及金额（元/年）", 14, "#,##0.00"),
    Column("问题说明", 60),
    Column(DECISION, 10, fill_in=True), Column(NOTE, 30, fill_in=True),
    Column(REVIEWER, 10, fill_in=True), Column(DATE, 12, "yyyy-mm-dd", fill_in=True),
    Column(ID, 22, hidden=True), Column(EVIDENCE, 18, hidden=True),
)
HEADERS = tuple(c.header for c in COLUMNS)

HELP_TEXT = (
    "如何填写",
    "1. 在“待处理问题”表中，逐行核实问题，在“处理结果”列的下拉框中选择：确认（问题属实）、"
    "驳回（问题不成立，今后不再提示，除非数据发生变化）或 待核实（仍需核实，问题保持打开）。",
    "2. 填写“处理人”（姓名或工号，必填）、“处理日期”（如 2026-07-01，可不填：按导入日期记录）"
    "和“备注”（可选）。不处理的行留空即可。",
    "3. 不要删除或修改隐藏的“问题编号”“依据”两列；可以筛选、排序、删除不处理的行。",
    "4. 保存（.xlsx，或另存为 CSV 均可），把文件放入服务器的 STATE/inbox/ 文件夹（文件名不限，"
    "可放多个），或运行 bidui review import 文件 --state STATE。",
    "5. 次日的比对结果中可以看到处理结果；未被采用的行及原因列在 review_import.parquet 和"
    "报告中（例如：处理结果不在可选范围内、问题已变化需重新处理）。",
)


def _open(findings: pd.DataFrame) -> pd.DataFrame:
    status = findings["status"].astype("string")
    return findings[status.isin(OPEN_STATUSES).fillna(False).astype(bool)]


def _text(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    text = str(value)
    return text if text else None


def _date(value: object) -> dt.date | dt.datetime | None:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    if pd.isna(stamp):
        return None
    if stamp.hour or stamp.minute:
        return stamp.to_pydatetime().replace(second=0, microsecond=0, tzinfo=None)
    return stamp.date()


def _number(value: object, digits: int) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else round(number, digits)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def review_rows(findings: pd.DataFrame, people: pd.DataFrame | None = None,
                decisions: pd.DataFrame | None = None,
                civil_people: pd.DataFrame | None = None) -> list[list[object]]:
    """The workbook's data rows (HEADERS order): open findings, people-facing values. The
    masked name and ID are the roll entry's (`people`) or, for a finding without one
    (NOT_ON_HARDSHIP_ROLL), the civil-affairs person's (`civil_people`)."""
    from pipeline.detect.rules import rules
    from pipeline.normalise.districts import district_name

    labels = {rule.code: rule.label_zh for rule in rules()}
    values_zh = {rule.code: dict(rule.values_zh) for rule in rules()}
    masked = _by_key(people, ["union_roll_id"], ["name_masked", "id_masked"])
    located = _by_key(people, ["union_roll_id"], ["location"])
    by_person = _by_key(civil_people, ["civil_case_id", "civil_member_no"],
                        ["name_masked", "id_masked"])
    earlier = {}
    if decisions is not None and len(decisions):
        latest = latest_decisions(decisions)
        earlier = {r.discrepancy_id: r for r in latest.itertuples(index=False)}

    rows = []
    for f in _open(findings).itertuples(index=False):
        roll = _text(f.union_roll_id)
        case, member_no = _text(f.civil_case_id), _text(f.civil_member_no)
        name, id_masked = (masked.get((roll,), (None, None)) if roll
                           else by_person.get((case, member_no), (None, None)))
        pending = _text(getattr(f, "review_decision", None)) == PENDING
        before = earlier.get(f.discrepancy_id) if pending else None
        district = _text(f.district_code)
        rows.append([
            labels.get(f.type, f.type), SEVERITY_LABELS.get(f.severity, f.severity),
            STATUS_LABELS.get(f.status, f.status), _date(f.first_seen),
            (district_name(district) or district) if district else None, roll,
            _text(located.get((roll,), (None,))[0]) if roll else None,
            _text(name), _text(id_masked), case, member_no,
            _text(f.member_id),
            *(redact(values_zh.get(str(f.type), {}).get(t, t)) if (t := _text(v)) else None
              for v in (f.union_value, f.civil_value)),
            _number(f.match_probability, 2), _number(f.amount_at_risk_yuan, 2),
            redact(t) if (t := _text(f.summary)) else None,
            DECISION_LABELS[PENDING] if before is not None else None,
            # an ID number in a note is shown masked (an older log's too)
            (redact(t) if (t := _text(before.note)) else None) if before is not None else None,
            _text(before.decided_by) if before is not None else None,
            _date(before.decided_at) if before is not None else None,
            str(f.discrepancy_id), _text(getattr(f, "evidence", None)),
        ])
    return rows


def _by_key(frame: pd.DataFrame | None, keys: list[str], values: list[str]
            ) -> dict[tuple[str, ...], tuple]:
    """(the `keys` columns as text) → the `values` columns, first row per key; {} without a
    frame or without every values column (an older caller's `people` has no location)."""
    if frame is None or not len(frame) or not set(values) <= set(frame.columns):
        return {}
    unique = frame.drop_duplicates(keys)
    return dict(zip(zip(*(unique[k].astype(str) for k in keys), strict=True),
                    zip(*(unique[v] for v in values), strict=True), strict=True))


def write_review_workbook(findings: pd.DataFrame, path: Path,
                          people: pd.DataFrame | None = None,
                          decisions: pd.DataFrame | None = None,
                          civil_people: pd.DataFrame | None = None) -> int:
    """Write `review.xlsx` at path; returns the number of finding rows.

    `findings`: tonight's tracked findings (with `evidence` and, when present,
    `review_decision`); `people`: union_roll_id → name_masked, id_masked and, when
    given, location (as the report gets them); `decisions`: tonight's decisions, to fill
    in the rows awaiting verification; `civil_people`: civil_case_id, civil_member_no →
    name_masked, id_masked, for the findings without a roll entry."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    rows = review_rows(findings, people, decisions, civil_people)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET)
    letters = {c.header: get_column_letter(i) for i, c in enumerate(COLUMNS, start=1)}
    for index, column in enumerate(COLUMNS):
        width = column.width
        if width is None:
            sample = [column.header] + [str(r[index]) for r in rows[:2000]
                                        if r[index] is not None]
            width = min(max(_display_width(t) for t in sample) + 2, 40)
        dimension = sheet.column_dimensions[letters[column.header]]
        dimension.width = width
        dimension.hidden = column.hidden
    sheet.freeze_panes = "A2"
    last_row = max(len(rows) + 1, 2)
    sheet.auto_filter.ref = f"A1:{letters[COLUMNS[-1].header]}{len(rows) + 1}"

    choice = DataValidation(
        type="list", formula1='"' + ",".join(DECISION_LABELS.values()) + '"',
        allow_blank=True, showDropDown=False, showErrorMessage=True, errorStyle="stop",
        errorTitle="处理结果", error="请在下拉列表中选择：确认、驳回 或 待核实。",
        showInputMessage=True, promptTitle="处理结果", prompt="确认 / 驳回 / 待核实")
    choice.add(f"{letters[DECISION]}2:{letters[DECISION]}{last_row}")
    sheet.data_validations.append(choice)  # write-only sheets lack add_data_validation

    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDDDDD")
    input_fill = PatternFill("solid", fgColor="FFF2CC")
    header = []
    for column in COLUMNS:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font, cell.fill = bold, input_fill if column.fill_in else header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
        header.append(cell)
    sheet.append(header)
    for row in rows:
        cells = []
        for column, value in zip(COLUMNS, row, strict=True):
            cell = WriteOnlyCell(sheet, value=neutralise(value))
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text
            if column.number_format:
                cell.number_format = column.number_format
            if column.fill_in:
                cell.fill = input_fill
            cells.append(cell)
        sheet.append(cells)

    help_sheet = workbook.create_sheet(HELP_SHEET)
    help_sheet.column_dimensions["A"].width = 120
    for line in HELP_TEXT:
        help_sheet.append([line])
    workbook.save(path)
    return len(rows)

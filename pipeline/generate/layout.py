"""Layout of the roll workbook as district unions fill it in (SPEC §1.4).

One data sheet per district (the rows filed by that district's unions), each with its own
header: often a title row and a note row above it, sometimes a two-row header whose group cells
are merged across (职工基本信息 over 姓名 … 统一社会信用代码) and whose single headers are merged
down; after the data, sometimes template rows holding only a serial number, then a 合计 row (the
sum of 家庭人口数) and sometimes a 制表人 / 审核人 row. A 填表说明 sheet of text only comes
first or last. Per file, a leading 序号 column numbers each sheet's rows.

Rows are people: the layout never changes the truth, only where each row is written
(``positions``: sheet and Excel row, kept in truth/roll_id_kinds.csv).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from . import names as nm
from .constants import (
    DISTRICT_CODES,
    DISTRICTS,
    LAYOUT_P_BLANK_BEFORE_FOOTER,
    LAYOUT_P_INSTRUCTIONS_FIRST,
    LAYOUT_P_SERIAL_COLUMN,
    LAYOUT_P_SIGNATURE,
    LAYOUT_P_TEMPLATE_ROWS,
    LAYOUT_P_TITLE,
    LAYOUT_P_TWO_ROW_HEADER,
    REFERENCE_DATE,
)

INSTRUCTIONS_SHEET = "填表说明"
SERIAL_HEADER = "序号"
FOOTER_LABEL = "合计"
SUM_HEADER = "家庭人口数"
# Group cells of the two-row header (first row), over the headers they group (second row).
HEADER_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("职工基本信息", ("职工姓名", "公民身份号码(必填)", "性别", "出生日期", "手机号码", "单位名称",
                "统一社会信用代码")),
    ("居住信息", ("所属区", "街道（乡镇）", " 家庭住址 ")),
    ("家庭经济状况", ("家庭人口数", "月人均收入")),
)
INSTRUCTIONS: tuple[str, ...] = (
    "填表说明",
    "一、本表由各区总工会、产业（局、集团公司）工会按户填报，每户一行，以职工本人为户主填写。",
    "二、公民身份号码填写18位号码；港澳台居民填写居住证号码，外国人填写外国人永久居留身份证号码。",
    "三、出生日期、建档日期、脱困日期按“2020-01-01”格式填写。",
    "四、民政救助类别填写：低保、低收入、特困或无。",
    "五、困难类别填写：深度困难、相对困难、意外致困。",
    "六、档案状态填写：在档或已脱困；已脱困的须填写脱困日期。",
    "七、请勿修改表头、合并单元格或删除本说明页。",
)


@dataclass(frozen=True)
class SheetPlan:
    """One data sheet: its rows (indices into the written roll frame) and its decorations."""

    name: str
    rows: tuple[int, ...]
    title: str | None
    note: str | None
    two_row_header: bool
    template_rows: int
    blank_before_footer: bool
    signature: str | None

    @property
    def header_rows(self) -> int:
        return 2 if self.two_row_header else 1

    @property
    def first_data_row(self) -> int:
        """Excel row number (1-based) of the first data row."""
        return 1 + (self.title is not None) + (self.note is not None) + self.header_rows

    @property
    def footer_rows(self) -> int:
        return 1 + (self.signature is not None)


@dataclass(frozen=True)
class RollLayout:
    """The whole workbook: data sheets in order, the 序号 column, where 填表说明 goes."""

    sheets: tuple[SheetPlan, ...]
    serial_column: bool
    instructions: str | None  # "first", "last" or None (no instructions sheet)

    def positions(self, n_rows: int) -> tuple[list[str], list[int]]:
        """(sheet name, Excel row) of each written roll row."""
        sheet = [""] * n_rows
        excel_row = [0] * n_rows
        for plan in self.sheets:
            for k, i in enumerate(plan.rows):
                sheet[i] = plan.name
                excel_row[i] = plan.first_data_row + k
        return sheet, excel_row

    def meta(self) -> dict:
        """What truth/meta.json says about the layout (rows that are not people, per sheet)."""
        sheets = [{
            "name": p.name, "data_rows": len(p.rows), "title_rows": int(p.title is not None)
            + int(p.note is not None), "header_rows": p.header_rows,
            "two_row_header": p.two_row_header, "template_rows": p.template_rows,
            "blank_rows": int(p.blank_before_footer), "footer_rows": p.footer_rows,
        } for p in self.sheets]
        return {
            "sheets": sheets,
            "serial_column": self.serial_column,
            "instructions_sheet": INSTRUCTIONS_SHEET if self.instructions else None,
            "data_rows": sum(s["data_rows"] for s in sheets),
            "non_data_rows": sum(s["template_rows"] + s["footer_rows"] for s in sheets),
        }


def single_sheet(n_rows: int, name: str) -> RollLayout:
    """The plain layout: one sheet, one header row, data only."""
    plan = SheetPlan(name, tuple(range(n_rows)), None, None, False, 0, False, None)
    return RollLayout((plan,), False, None)


def plan_layout(r: random.Random, district_codes: list[str]) -> RollLayout:
    """A workbook with one sheet per district of ``district_codes`` (each row's filing district),
    in GB/T 2260 order; decorations drawn per sheet."""
    by_district: dict[str, list[int]] = {}
    for i, code in enumerate(district_codes):
        by_district.setdefault(code, []).append(i)
    serial_column = r.random() < LAYOUT_P_SERIAL_COLUMN
    instructions = "first" if r.random() < LAYOUT_P_INSTRUCTIONS_FIRST else "last"
    sheets = tuple(_sheet(r, DISTRICTS[code][0], tuple(by_district[code]))
                   for code in DISTRICT_CODES if code in by_district)
    return RollLayout(sheets, serial_column, instructions)


def _sheet(r: random.Random, district: str, rows: tuple[int, ...]) -> SheetPlan:
    ref = REFERENCE_DATE
    title = note = signature = None
    if r.random() < LAYOUT_P_TITLE:
        title = f"{ref.year}年{district}困难职工档案花名册"
        if r.random() < 0.8:
            note = (f"填报单位：{district}总工会（盖章）        "
                    f"填报日期：{ref.year}年{ref.month}月{ref.day}日        金额单位：元")
    two_rows = r.random() < LAYOUT_P_TWO_ROW_HEADER
    template = r.randint(1, 4) if r.random() < LAYOUT_P_TEMPLATE_ROWS else 0
    blank = r.random() < LAYOUT_P_BLANK_BEFORE_FOOTER
    if r.random() < LAYOUT_P_SIGNATURE:
        signature = (f"制表人：{nm.person_name(r, r.random() < 0.4)}        "
                     f"审核人：{nm.person_name(r, r.random() < 0.6)}")
    return SheetPlan(district, rows, title, note, two_rows, template, blank, signature)

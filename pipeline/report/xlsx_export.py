"""An XLSX copy of the findings for colleagues without Parquet tools.

Every text cell that a spreadsheet would read as a formula (starting with = + - @, a tab or
a carriage return, or their full-width forms) is written as text with a leading apostrophe:
a name like `=HYPERLINK("http://…")` from an input file must never become a live formula.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
SHEET = "比对问题"


def neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_findings_xlsx(findings: pd.DataFrame, path: Path) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET)
    sheet.append([str(c) for c in findings.columns])
    for row in findings.itertuples(index=False, name=None):
        cells = []
        for value in row:
            if value is None or value is pd.NA or (isinstance(value, float) and value != value):
                value = None
            elif isinstance(value, pd.Timestamp):
                value = value.date()
            cell = WriteOnlyCell(sheet, value=neutralise(value))
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text
            cells.append(cell)
        sheet.append(cells)
    workbook.save(path)
    return len(findings)

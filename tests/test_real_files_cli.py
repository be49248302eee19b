"""A workbook shaped like a real district export, through a whole night as `bidui run` runs it
(in-process): title rows, two data sheets, an instructions sheet, 合计 footers and
pre-numbered empty rows.

The manifest names every sheet read and skipped, accounts for every row (read = linked +
unlinked + quarantined + non-data), and nothing the night prints or logs holds personal data.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import openpyxl
import pandas as pd
from python_calamine import CalamineWorkbook

CASES = Path(__file__).resolve().parent / "cases"


def _district_export(tmp_path: Path) -> tuple[Path, list[list[object]]]:
    """Case 04's 42 rows rewritten as a district union's export."""
    source = CalamineWorkbook.from_path(str(next(CASES.glob("04*")) / "union_roll.xlsx"))
    sheets = {name: source.get_sheet_by_name(name).to_python() for name in source.sheet_names}
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "填表说明"
    notes.append(["填表说明"])
    notes.append(["1. 每名困难职工一行；2. 身份证号请以文本格式填写；"])
    notes.append(["3. 档案状态填 在档 或 已脱困。"])
    people: list[list[object]] = []
    for number, (name, rows) in enumerate(sheets.items()):
        sheet = book.create_sheet(name)
        sheet.append([f"2025年{name}困难职工档案花名册"])
        sheet.append([])
        sheet.append(rows[0])
        for row in rows[1:]:
            sheet.append(row)
            people.append(row)
        sheet.append(["合计", f"{len(rows) - 1}人"] + [None] * 9 + [
            sum(float(r[11] or 0) for r in rows[1:])])
        if number == 1:
            sheet.append([None] * 3)
            sheet.append([43])  # pre-numbered template rows left empty
            sheet.append([44])
    path = tmp_path / "union_roll.xlsx"
    book.save(path)
    return path, people


def test_manifest_names_every_sheet_and_accounts_for_every_row(night, tmp_path, caplog,
                                                               capfd) -> None:
    union, people = _district_export(tmp_path)
    civil = next(CASES.glob("04*")) / "civil_exchange.csv"
    out = tmp_path / "out"
    caplog.set_level(logging.DEBUG)
    result = night("--union", str(union), "--civil", str(civil), "--out", str(out),
                   "--as-of", "2025-06-30")
    assert result.returncode == 0, result.stderr[-2000:]
    console = capfd.readouterr()
    printed = result.stdout + result.stderr + caplog.text + console.out + console.err
    for row in people:
        assert str(row[1]) not in printed and str(row[2]) not in printed

    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    (entry,) = [i for i in manifest["inputs"] if i["source"] == "union"]
    sheets = {s["name"]: s for s in entry["sheets"]}
    assert sheets["填表说明"]["status"] == "skipped" and sheets["填表说明"]["reason"]
    assert sheets["朝阳区"]["status"] == sheets["海淀区"]["status"] == "read"
    assert sheets["朝阳区"]["header_rows"] == [3]
    assert sheets["朝阳区"]["non_data"] == {"footer": 1}
    assert sheets["海淀区"]["non_data"] == {"footer": 1, "serial_only": 2}
    assert entry["rows_non_data"] == 4
    assert entry["rows_read"] == 42 + 4
    assert entry["rows_read"] == (entry["rows_linked"] + entry["rows_unlinked"]
                                  + entry["rows_quarantined"] + entry["rows_non_data"])
    assert entry["balanced"]
    for source in manifest["accounting"].values():
        assert source["balanced"]

    quarantine = pd.read_parquet(out / "quarantine.parquet")
    assert not (quarantine["source"] == "union").any()  # footers are not quarantined
    links = pd.read_parquet(out / "links.parquet")
    assert len(links) == 16
    issues = pd.read_parquet(out / "field_issues.parquet")
    assert set(issues.columns) >= {"source", "source_file", "source_sheet", "source_row",
                                   "header", "reason_code", "reason", "raw_value_masked"}

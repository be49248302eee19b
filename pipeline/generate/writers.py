"""File writers: the roll XLSX (byte-deterministic), GB18030 and UTF-8-BOM CSVs, truth files.

The XLSX is written directly as SpreadsheetML (inline strings, one date style, one text style):
openpyxl needs ~15 s for 20k rows and stamps the current time into the file; this takes ~1 s,
and every zip entry and core property carries the fixed REFERENCE_DATE.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

from .render import ROLL_DATE_COLUMNS

FIXED_DT = datetime(2026, 6, 30, 0, 0, 0)
_ZIP_DT = (2026, 6, 30, 0, 0, 0)
ROLL_SHEET = "困难职工档案"
ID_HEADER = "公民身份号码(必填)"
_EXCEL_EPOCH = date(1899, 12, 30)
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument."

CONTENT_TYPES = (
    _XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
    '+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}spreadsheetml.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}spreadsheetml.worksheet'
    '+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_CT}spreadsheetml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.'
    'core-properties+xml"/>'
    f'<Override PartName="/docProps/app.xml" ContentType="{_CT}extended-properties+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    _XML + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    f'<Relationship Id="rId2" Type="{_PKG_REL}/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    _XML + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
    f'<sheet name="{ROLL_SHEET}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    _XML + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
)
STYLES = (
    _XML + f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>"
)
_STAMP = FIXED_DT.strftime("%Y-%m-%dT%H:%M:%SZ")
CORE = (
    _XML + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/'
    'dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:creator>bidui generate</dc:creator>"
    f'<dcterms:created xsi:type="dcterms:W3CDTF">{_STAMP}</dcterms:created>'
    f'<dcterms:modified xsi:type="dcterms:W3CDTF">{_STAMP}</dcterms:modified>'
    "</cp:coreProperties>"
)
APP = (
    _XML + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties"><Application>Microsoft Excel</Application></Properties>'
)


def _col(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        s = chr(65 + rem) + s
    return s


def _cell(ref: str, v: object, text_style: bool) -> str:
    if v is None or (isinstance(v, str) and v == ""):
        return ""
    if isinstance(v, date):
        return f'<c r="{ref}" s="1"><v>{(v - _EXCEL_EPOCH).days}</v></c>'
    if isinstance(v, bool):
        return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, int | float):
        return f'<c r="{ref}"><v>{v!r}</v></c>'
    style = ' s="2"' if text_style else ""
    return (f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{escape(str(v))}'
            "</t></is></c>")


def sheet_xml(df: pd.DataFrame) -> str:
    cols = [_col(i) for i in range(len(df.columns))]
    id_col = list(df.columns).index(ID_HEADER) if ID_HEADER in df.columns else -1
    parts = [_XML, f'<worksheet xmlns="{_MAIN}"><sheetData>']
    header = "".join(_cell(f"{c}1", h, False) for c, h in zip(cols, df.columns, strict=True))
    parts.append(f'<row r="1">{header}</row>')
    for n, values in enumerate(df.itertuples(index=False, name=None), start=2):
        cells = "".join(_cell(f"{c}{n}", v, j == id_col)
                        for j, (c, v) in enumerate(zip(cols, values, strict=True)))
        parts.append(f'<row r="{n}">{cells}</row>')
    parts.append("</sheetData></worksheet>")
    return "".join(parts)


def write_roll_xlsx(df: pd.DataFrame, path: Path) -> None:
    assert all(c in df.columns for c in ROLL_DATE_COLUMNS)
    entries = (
        ("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
        ("docProps/app.xml", APP), ("docProps/core.xml", CORE),
        ("xl/workbook.xml", WORKBOOK), ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
        ("xl/styles.xml", STYLES), ("xl/worksheets/sheet1.xml", sheet_xml(df)),
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in entries:
            zi = zipfile.ZipInfo(name, date_time=_ZIP_DT)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            z.writestr(zi, text.encode("utf-8"))
    path.write_bytes(out.getvalue())


def _write_csv(df: pd.DataFrame, path: Path, encoding: str, newline: str) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=newline)
    w.writerow(list(df.columns))
    w.writerows(df.itertuples(index=False, name=None))
    path.write_bytes(buf.getvalue().encode(encoding))


def write_civil_csv(df: pd.DataFrame, path: Path) -> None:
    _write_csv(df, path, "gb18030", "\r\n")


def write_members_csv(df: pd.DataFrame, path: Path) -> None:
    _write_csv(df, path, "utf-8-sig", "\n")


def write_truth(truth: dict[str, pd.DataFrame], meta: dict, truth_dir: Path) -> None:
    truth_dir.mkdir(parents=True, exist_ok=True)
    for name, df in truth.items():
        df.to_csv(truth_dir / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")
    (truth_dir / "meta.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (truth_dir / "README.md").write_text(TRUTH_README, encoding="utf-8")


TRUTH_README = """\
# truth/ — what the generator knows to be true

Computed from the final generated data (not from planting intentions). Reference date
(the as-of for every rule) is in `meta.json` (`reference_date`, 2026-06-30); run the pipeline
with `--as-of 2026-06-30` to compare.

- `links.csv` — `union_roll_id, civil_case_id, civil_member_no, id_kind`: every true link of a
  roll row (在档 or 已脱困) to the civil person who is that worker. Roll rows absent here have no
  civil counterpart. Duplicate roll entries each link to the same civil person.
- `member_links.csv` — `civil_case_id, civil_member_no, member_id`: every civil person who is on
  the union roster.
- `roll_id_kinds.csv` — `union_roll_id, id_kind, roll_status` for every roll row. `id_kind` is how
  the roll wrote the ID: valid, lowercase_x, fullwidth, spaces, legacy15 (all valid after
  normalisation) or typo, transposition, excel_e17, excel_000, blank (invalid).
- `discrepancies.csv` — `type, union_roll_id, civil_case_id, civil_member_no, member_id`, one row
  per true finding (empty string = not applicable). Key per type: roll codes are keyed on
  `(type, union_roll_id)`; the civil columns are filled for the civil-comparison codes
  (ASSISTANCE_ENDED, ASSISTANCE_TYPE_MISMATCH, UNCLAIMED_ASSISTANCE, HOUSEHOLD_SIZE_MISMATCH,
  DECEASED, ID_NAME_CONFLICT) and empty for CLAIMED_ASSISTANCE_NOT_FOUND, DUPLICATE_ROLL_ENTRY,
  INVALID_ID, CATEGORY_INCONSISTENT. NOT_ON_HARDSHIP_ROLL is keyed on `(type, member_id)` and
  also carries the civil person. POSSIBLE_MATCH_REVIEW has no truth.
- `meta.json` — seed, households, reference date, row counts per file, finding counts per code.

Rules used: CATEGORY_INCONSISTENT = 深度困难 with income ≥ 1320, or 相对困难 with income ≥ 2640
(all other rows are consistent under both the 1,170 and the 1,320 standard). ID_NAME_CONFLICT
compares names after NFKC, whitespace removal, separators ·•‧・. unified, OpenCC t2s, 囯→国; a
homophone given name (张伟/张玮) is a real conflict. INVALID_ID = the written roll ID is not valid
after NFKC, whitespace removal, upper-casing x and upgrading legacy 15-digit IDs.
"""

"""File writers: the roll XLSX (byte-deterministic), GB18030 and UTF-8-BOM CSVs, truth files.

The XLSX is written directly as SpreadsheetML (inline strings; a date, a text, a header and a
title style; several sheets, merged cells): openpyxl needs ~15 s for 20k rows and stamps the
current time into the file; this takes ~1 s, and every zip entry and core property carries the
fixed REFERENCE_DATE.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

from .idcheck import DateSerial
from .layout import (
    FOOTER_LABEL,
    HEADER_GROUPS,
    INSTRUCTIONS,
    INSTRUCTIONS_SHEET,
    SERIAL_HEADER,
    SUM_HEADER,
    RollLayout,
    SheetPlan,
    single_sheet,
)
from .render import MEMBER_HEADERS, ROLL_DATE_COLUMNS

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
# Cell styles (cellXfs): 0 general, 1 date, 2 text (@), 3 header, 4 title.
DATE_STYLE, TEXT_STYLE, HEADER_STYLE, TITLE_STYLE = 1, 2, 3, 4


def content_types(n_sheets: int) -> str:
    """[Content_Types].xml for ``n_sheets`` worksheets."""
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{k}.xml" ContentType="{_CT}spreadsheetml.'
        'worksheet+xml"/>' for k in range(1, n_sheets + 1))
    return (
        _XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}spreadsheetml.sheet.main+xml"/>'
        f'{sheets}'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
        'package.core-properties+xml"/>'
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


def workbook_xml(names: list[str]) -> str:
    """xl/workbook.xml listing the sheets in order."""
    sheets = "".join(f'<sheet name="{escape(n)}" sheetId="{k}" r:id="rId{k}"/>'
                     for k, n in enumerate(names, start=1))
    return _XML + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{sheets}</sheets></workbook>'


def workbook_rels(n_sheets: int) -> str:
    """xl/_rels/workbook.xml.rels: the sheets, then the styles."""
    sheets = "".join(f'<Relationship Id="rId{k}" Type="{_REL}/worksheet" '
                     f'Target="worksheets/sheet{k}.xml"/>' for k in range(1, n_sheets + 1))
    return (_XML + f'<Relationships xmlns="{_PKG_REL}">{sheets}'
            f'<Relationship Id="rId{n_sheets + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
            "</Relationships>")


STYLES = (
    _XML + f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="3"><font><sz val="11"/><name val="宋体"/></font>'
    '<font><b/><sz val="11"/><name val="宋体"/></font>'
    '<font><b/><sz val="16"/><name val="宋体"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" '
    'applyAlignment="1"><alignment horizontal="center" vertical="center" wrapText="1"/></xf>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1" '
    'applyAlignment="1"><alignment horizontal="center" vertical="center"/></xf>'
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


def _cell(ref: str, v: object, text_style: bool, style: int = 0) -> str:
    """One <c> element ('' for an empty value). ``style`` applies to text cells."""
    if v is None or (isinstance(v, str) and v == ""):
        return ""
    if isinstance(v, DateSerial):  # a date cell given by its serial (60 = Excel's 1900-02-29)
        return f'<c r="{ref}" s="{DATE_STYLE}"><v>{v.serial}</v></c>'
    if isinstance(v, date):
        return f'<c r="{ref}" s="{DATE_STYLE}"><v>{(v - _EXCEL_EPOCH).days}</v></c>'
    if isinstance(v, bool):
        return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, int | float):
        return f'<c r="{ref}"><v>{v!r}</v></c>'
    s = f' s="{TEXT_STYLE}"' if text_style else (f' s="{style}"' if style else "")
    return (f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{escape(str(v))}'
            "</t></is></c>")


def _row(n: int, cells: str) -> str:
    return f'<row r="{n}">{cells}</row>'


class _SheetWriter:
    """Rows of one worksheet, numbered as they are added, and its merged ranges."""

    def __init__(self, columns: list[str]) -> None:
        self.cols = [_col(i) for i in range(len(columns))]
        self.parts: list[str] = []
        self.merges: list[str] = []
        self.n = 0

    def add(self, values: list[object], style: int = 0, text_col: int = -1) -> int:
        self.n += 1
        cells = "".join(_cell(f"{c}{self.n}", v, j == text_col, style)
                        for j, (c, v) in enumerate(zip(self.cols, values, strict=False)))
        self.parts.append(_row(self.n, cells))
        return self.n

    def merge(self, first_col: int, first_row: int, last_col: int, last_row: int) -> None:
        self.merges.append(f"{self.cols[first_col]}{first_row}:{self.cols[last_col]}{last_row}")

    def xml(self) -> str:
        merged = ""
        if self.merges:
            merged = (f'<mergeCells count="{len(self.merges)}">'
                      + "".join(f'<mergeCell ref="{m}"/>' for m in self.merges) + "</mergeCells>")
        return (_XML + f'<worksheet xmlns="{_MAIN}"><sheetData>' + "".join(self.parts)
                + f"</sheetData>{merged}</worksheet>")


def _header(w: _SheetWriter, columns: list[str], two_rows: bool) -> None:
    """One header row, or two: group cells merged across, single headers merged down."""
    if not two_rows:
        w.add(list(columns), HEADER_STYLE)
        return
    group_of = {h: g for g, hs in HEADER_GROUPS for h in hs}
    top: list[object] = []
    bottom: list[object] = []
    previous = None
    for h in columns:
        g = group_of.get(h)
        top.append(h if g is None else (g if g != previous else None))
        bottom.append(None if g is None else h)
        previous = g
    first = w.add(top, HEADER_STYLE)
    w.add(bottom, HEADER_STYLE)
    j = 0
    while j < len(columns):
        g = group_of.get(columns[j])
        if g is None:
            w.merge(j, first, j, first + 1)
            j += 1
            continue
        k = j
        while k + 1 < len(columns) and group_of.get(columns[k + 1]) == g:
            k += 1
        if k > j:
            w.merge(j, first, k, first)
        j = k + 1


def sheet_xml(df: pd.DataFrame, plan: SheetPlan | None = None, serial_column: bool = False,
              rows: list[tuple] | None = None) -> str:
    """One data sheet of the roll: title and note, header(s), data, template rows, footers."""
    plan = plan or single_sheet(len(df), ROLL_SHEET).sheets[0]
    rows = rows if rows is not None else list(df.itertuples(index=False, name=None))
    columns = ([SERIAL_HEADER] if serial_column else []) + list(df.columns)
    width = len(columns)
    lead = [None] if serial_column else []
    id_col = columns.index(ID_HEADER) if ID_HEADER in columns else -1
    sum_col = list(df.columns).index(SUM_HEADER)
    w = _SheetWriter(columns)
    for text, style in ((plan.title, TITLE_STYLE), (plan.note, 0)):
        if text is not None:
            n = w.add([text], style)
            w.merge(0, n, width - 1, n)
    _header(w, columns, plan.two_row_header)
    total = 0
    for k, i in enumerate(plan.rows, start=1):
        values = rows[i]
        total += int(values[sum_col])
        w.add(([k] if serial_column else []) + list(values), text_col=id_col)
    for k in range(len(plan.rows) + 1, len(plan.rows) + 1 + plan.template_rows):
        w.add([k])  # a pre-numbered template row: 序号 only, or a bare number in column A
    if plan.blank_before_footer:
        w.add([])
    footer: list[object] = [None] * width
    footer[0] = FOOTER_LABEL
    footer[len(lead) + sum_col] = total
    w.add(footer)
    if plan.signature is not None:
        w.add([plan.signature])
    return w.xml()


def instructions_xml() -> str:
    """The 填表说明 sheet: text only, one line per row, no header."""
    w = _SheetWriter(["A"])
    for line in INSTRUCTIONS:
        w.add([line])
    return w.xml()


def write_roll_xlsx(df: pd.DataFrame, path: Path, layout: RollLayout | None = None) -> None:
    """The roll workbook: the data sheets of ``layout`` (default: one plain sheet) and its
    instructions sheet."""
    assert all(c in df.columns for c in ROLL_DATE_COLUMNS)
    layout = layout or single_sheet(len(df), ROLL_SHEET)
    rows = list(df.itertuples(index=False, name=None))
    sheets = [(p.name, sheet_xml(df, p, layout.serial_column, rows)) for p in layout.sheets]
    if layout.instructions == "first":
        sheets.insert(0, (INSTRUCTIONS_SHEET, instructions_xml()))
    elif layout.instructions == "last":
        sheets.append((INSTRUCTIONS_SHEET, instructions_xml()))
    entries = [
        ("[Content_Types].xml", content_types(len(sheets))), ("_rels/.rels", ROOT_RELS),
        ("docProps/app.xml", APP), ("docProps/core.xml", CORE),
        ("xl/workbook.xml", workbook_xml([n for n, _ in sheets])),
        ("xl/_rels/workbook.xml.rels", workbook_rels(len(sheets))),
        ("xl/styles.xml", STYLES),
        *((f"xl/worksheets/sheet{k}.xml", x) for k, (_, x) in enumerate(sheets, start=1)),
    ]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in entries:
            zi = zipfile.ZipInfo(name, date_time=_ZIP_DT)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            z.writestr(zi, text.encode("utf-8"))
    path.write_bytes(out.getvalue())


# Stands for '"' inside a text formula while the csv module writes (it would quote the cell).
_RAW_QUOTE = "\x01"
CIVIL_ID_HEADER = "身份证号"
MEMBER_ID_HEADER = "公民身份号码"


def _raw_formula(value: object) -> object:
    """A text formula as exporters write it into a CSV: =, quote, digits, quote, unquoted as
    a field (the csv module would escape it as a quoted field with doubled quotes); both
    spellings read back as the same cell text."""
    if (isinstance(value, str) and value.startswith('="') and value.endswith('"')
            and not any(ch in value[2:-1] for ch in '",\r\n')):
        return "=" + _RAW_QUOTE + value[2:-1] + _RAW_QUOTE
    return value


CSV_CHUNK_ROWS = 100_000  # rows per piece: the whole roster as one Python string is ~0.5 GB


def _write_csv(frames: Iterable[pd.DataFrame], header: Sequence[str], path: Path,
               encoding: str, newline: str, formula_column: str | None = None) -> int:
    """The ``frames`` (each with the columns ``header``) one after the other as one CSV
    (minimal quoting), written in pieces; text formulas of ``formula_column`` unquoted
    (:func:`_raw_formula`). Returns the rows written."""
    encoder = codecs.getincrementalencoder(encoding)()
    written = 0
    with path.open("wb") as fh:
        buf = io.StringIO()
        csv.writer(buf, lineterminator=newline).writerow(list(header))
        for df in frames:
            columns = [df[c].tolist() for c in header]
            if formula_column is not None:
                values = columns[list(header).index(formula_column)]
                for i, v in enumerate(values):
                    if isinstance(v, str) and v[:2] == '="':
                        values[i] = _raw_formula(v)
            rows = zip(*columns, strict=True)
            for _ in range(0, len(df), CSV_CHUNK_ROWS):
                w = csv.writer(buf, lineterminator=newline)
                w.writerows(itertools.islice(rows, CSV_CHUNK_ROWS))
                fh.write(encoder.encode(buf.getvalue().replace(_RAW_QUOTE, '"')))
                buf = io.StringIO()
            written += len(df)
        fh.write(encoder.encode(buf.getvalue(), final=True))
    return written


def write_civil_csv(df: pd.DataFrame, path: Path) -> None:
    _write_csv([df], list(df.columns), path, "gb18030", "\r\n", CIVIL_ID_HEADER)


def write_members_csv(frames: pd.DataFrame | Iterable[pd.DataFrame], path: Path) -> int:
    """members.csv (UTF-8 with BOM) from one frame or a sequence of frames (MEMBER_HEADERS
    columns), one in memory at a time; returns the rows written."""
    if isinstance(frames, pd.DataFrame):
        frames = [frames]
    return _write_csv(frames, MEMBER_HEADERS, path, "utf-8-sig", "\n", MEMBER_ID_HEADER)


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

- `links.csv` — `union_roll_id, civil_case_id, civil_member_no, id_kind, civil_id_kind,
  name_kind, birth_kind`: every true link of a roll row (在档 or 已脱困) to the civil person who
  is that worker, whatever either side wrote for the ID. Roll rows absent here have no civil
  counterpart. Duplicate roll entries each link to the same civil person. `id_kind` /
  `civil_id_kind`: how each side wrote the number (below); `name_kind`: standard,
  dash_separator (the roll typed a dash between a minority name's parts), pua_roll / pua_civil
  (that side wrote a GBK-era private-use code point, e.g. U+E863 for 䶮); `birth_kind`: stated,
  or excel_1900_02_29 (the roll's 出生日期 cell holds Excel serial 60: no date).
- `member_links.csv` — `civil_case_id, civil_member_no, member_id`: every civil person who is on
  the union roster.
- `roll_id_kinds.csv` — `union_roll_id, id_kind, roll_status, source_sheet, source_row,
  name_kind, birth_kind` for every roll row; `source_sheet` / `source_row` are where the row is
  in `union_roll.xlsx` (Excel row number, title and header rows counted). `id_kind`:
  - valid after cleaning: valid, lowercase_x, fullwidth, spaces, legacy15; apostrophe
    (`'110105…`), text_formula (`="110105…"`), invisible_chars (tab, NBSP, zero-width
    characters); permit_hk / permit_mo / permit_tw (810000 / 820000 / 830000 residence
    permits), foreign_pr (2023 foreigners' permanent-residence number, first digit 9),
    historic_prefix (a code of the published GB/T 2260 lists 1981–2024 that python-stdnum
    lacks, e.g. 330113, 329012, 379014);
  - INVALID_ID: typo, transposition, excel_e17, excel_000, blank; unpublished_prefix (sound
    but in no published list); placeholder (`111111111111111111`, `000000000000000000`,
    `123456789012345678`, a prefix then zeros, an all-zero birth date or sequence); shared
    (a number carried by two workers of different names and birth dates: both rows).
- `discrepancies.csv` — `type, union_roll_id, civil_case_id, civil_member_no, member_id`, one row
  per true finding (empty string = not applicable). Key per type: roll codes are keyed on
  `(type, union_roll_id)`; the civil columns are filled for the civil-comparison codes
  (ASSISTANCE_ENDED, ASSISTANCE_TYPE_MISMATCH, UNCLAIMED_ASSISTANCE, HOUSEHOLD_SIZE_MISMATCH,
  DECEASED, ID_NAME_CONFLICT) and empty for CLAIMED_ASSISTANCE_NOT_FOUND, DUPLICATE_ROLL_ENTRY,
  INVALID_ID, CATEGORY_INCONSISTENT. NOT_ON_HARDSHIP_ROLL is keyed on `(type, member_id)` and
  also carries the civil person. POSSIBLE_MATCH_REVIEW has no truth.
- `meta.json` — seed, households, reference date, row counts per file (`union_roll.xlsx`:
  people rows), finding counts per code, kinds of ID per file, the roll's name and birth-date
  kinds, and `roll_layout`: per data sheet its data, title, header, template (serial number
  only), blank and footer (合计, 制表人) rows; `non_data_rows` = template + footer rows.

Rules used: an ID cell is cleaned (NFKC; zero-width characters, a `="…"` wrapper, a leading
`'`, white space and hyphens removed; x upper-cased). Valid: a resident ID (MOD 11-2 check
character, real birth date 1900 … reference date, prefix in any published GB/T 2260 list
1981–2024), a legacy 15-digit one with a real date, a residence permit (810000 / 820000 /
830000), a foreigners' permanent-residence number (9, a published NN0000 province, nationality,
birth date, sequence, check character). INVALID_ID = the roll ID is not valid, or is shared in
the roll by rows whose names differ and whose birth dates differ (or are not both stated).
CATEGORY_INCONSISTENT = 深度困难 with income ≥ 1320, or 相对困难 with income ≥ 2640 (all other
rows are consistent under both the 1,170 and the 1,320 standard). ID_NAME_CONFLICT = both sides
valid, not shared in their file, equal, and the names differ after GBK private-use code points
are mapped to their standard characters, NFKC, white-space and zero-width removal, separators
·•‧・. and dashes between a name's parts unified, OpenCC t2s, 囯→国; a homophone given name
(张伟/张玮) is a real conflict.
"""

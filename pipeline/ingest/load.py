"""Load the files of one source into a frame of SPEC fields, with provenance on every row.

Per input: every sheet is read (`readers.read_book`); a sheet whose header names all required
fields of the source is data, and its rows are stacked in sheet order with the sheet's name in
`source_sheet`. Other sheets (填表说明, summaries, empty sheets, lists) are skipped with a
reason in the manifest, never silently: a sheet that looks like data but lacks a required
column, or a hidden sheet with the source's header, is an InputError. Below the header, blank
rows are skipped (counted), footer rows (合计, 制表人, 注：…) and template rows holding only a
serial number are non-data rows (counted by kind), and every other row is a data row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputError
from pipeline.ingest.headers import (
    HEADER_SEARCH_ROWS,
    Header,
    HeaderMap,
    find_header,
    fold_header,
    is_field_list,
    map_headers,
)
from pipeline.ingest.readers import RawBook, RawSheet, cell_to_id_text, parquet_files, read_book
from pipeline.normalise.vocab import SPACE_CLASS
from pipeline.schema import (
    FIELDS,
    SOURCE_FILE,
    SOURCE_LABELS,
    SOURCE_NAMES,
    SOURCE_ROW,
    SOURCE_SHEET,
    Field,
    Source,
)
from pipeline.textops import is_text

BLANK_PATTERN = f"^[{SPACE_CLASS}]*$"
# A footer row starts one of its cells with one of these (after white space).
FOOTER_MARKERS = ("合计", "总计", "小计", "制表人", "制表", "填表人", "审核人", "负责人",
                  "注：", "注:", "说明", "备注：", "备注:")
FOOTER_PATTERN = f"^[{SPACE_CLASS}]*(" + "|".join(FOOTER_MARKERS) + ")"
WHOLE_NUMBER_PATTERN = f"^[{SPACE_CLASS}]*[0-9]+[{SPACE_CLASS}]*$"
COUNT_UNITS = "户人名个份条"
COUNT_PATTERN = (f"^[{SPACE_CLASS}]*[0-9]{{1,6}}(\\.[0-9]+)?[{SPACE_CLASS}]*[{COUNT_UNITS}]?"
                 f"[{SPACE_CLASS}]*$")
FOOTER, SERIAL_ONLY, REPEATED_HEADER = "footer", "serial_only", "repeated_header"


@dataclass
class SheetInfo:
    """What was read from one sheet (a CSV or Parquet input is one sheet named None).

    `rows_read` counts data and non-data rows below the header; blank rows are apart."""

    name: str | None
    status: str  # "read" or "skipped"
    reason: str | None = None  # why a sheet was skipped (Chinese, for a person)
    header_rows: list[int] = field(default_factory=list)  # 1-based, as in the file
    rows_read: int = 0
    rows_non_data: int = 0
    non_data: dict[str, int] = field(default_factory=dict)  # kind → rows
    blank_rows_skipped: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # field → header as written
    extra_columns: list[str] = field(default_factory=list)
    duplicate_columns: list[str] = field(default_factory=list)

    def manifest(self) -> dict:
        """The sheet's entry in the manifest (no cell values)."""
        if self.status != "read":
            return {"name": self.name, "status": self.status, "reason": self.reason}
        return {"name": self.name, "status": "read", "header_rows": self.header_rows,
                "rows_read": self.rows_read, "rows_non_data": self.rows_non_data,
                "non_data": dict(self.non_data), "blank_rows_skipped": self.blank_rows_skipped,
                "headers": dict(self.headers)}


@dataclass
class FileInfo:
    """What was read from one input file (feeds the manifest). The counts add up its sheets;
    `sheet` and `header_row` are those of the first sheet read (`header_row` its first header
    row), `headers` the header as written of each field (first sheet naming it)."""

    path: str
    source: str
    sha256: str
    size_bytes: int
    encoding: str | None
    sheet: str | None
    header_row: int
    rows_read: int
    blank_rows_skipped: int
    extra_columns: list[str] = field(default_factory=list)
    duplicate_columns: list[str] = field(default_factory=list)
    format: str | None = None  # csv, xlsx, xls, ods, parquet
    rows_non_data: int = 0
    non_data: dict[str, int] = field(default_factory=dict)
    sheets: list[SheetInfo] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def rows_data(self) -> int:
        """Rows that went on to normalisation (read minus non-data)."""
        return self.rows_read - self.rows_non_data


@dataclass
class Loaded:
    """All data rows of one source: one column per SPEC field present, extras, provenance."""

    source: Source
    frame: pd.DataFrame
    files: list[FileInfo]

    @property
    def rows(self) -> int:
        """The data rows read (those held, or, for a source held elsewhere in chunks, its
        files' count of them)."""
        return len(self.frame)


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file; of a Parquet folder, over its files' relative paths and bytes."""
    digest = hashlib.sha256()
    files = parquet_files(path) if path.is_dir() else [path]
    for item in files:
        if path.is_dir():
            digest.update(str(item.relative_to(path)).encode("utf-8") + b"\x00")
        with item.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _size_of(path: Path) -> int:
    if path.is_dir():
        return sum(item.stat().st_size for item in parquet_files(path))
    return path.stat().st_size


def load_source(paths: list[Path], source: Source) -> Loaded:
    """Read every file of a source; their rows are stacked in the order given. InputError
    when the files together hold no data row."""
    frames: list[pd.DataFrame] = []
    infos: list[FileInfo] = []
    for path in paths:
        frame, info = load_file(path, source)
        frames.append(frame)
        infos.append(info)
    if paths and sum(info.rows_data for info in infos) == 0:
        raise InputError(f"the {SOURCE_LABELS[source]} has a header but no data rows.",
                         "check that the export finished (a header-only file is a failed "
                         "export), then run again.", file=", ".join(str(p) for p in paths))
    columns = [f.name for f in FIELDS[source]]
    combined = _stack(frames, [*columns, SOURCE_FILE, SOURCE_SHEET, SOURCE_ROW])
    for name in columns:
        if name not in combined.columns:
            combined[name] = None
    combined[SOURCE_ROW] = combined[SOURCE_ROW].astype("int64")
    return Loaded(source=source, frame=combined, files=infos)


def _stack(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """Frames of sheets or files one below the other. A column some frames lack is None
    (not NaN) in their rows."""
    if not frames:
        return pd.DataFrame(columns=columns)
    if len(frames) == 1:
        return frames[0]
    combined = pd.concat(frames, ignore_index=True, sort=False)
    for name in combined.columns:
        if name != SOURCE_ROW and any(name not in frame.columns for frame in frames):
            column = combined[name].astype(object)
            combined[name] = column.where(column.notna(), None)
    return combined


def load_file(path: Path, source: Source) -> tuple[pd.DataFrame, FileInfo]:
    """One input → (frame of its data rows: fields + extras + provenance, FileInfo).

    InputError when the input cannot be read, a sheet looks like data but lacks a required
    column, a hidden sheet holds the source's header, or no sheet has the header at all."""
    fields = FIELDS[source]
    book = read_book(path)
    if not any(sheet.cells.size for sheet in book.sheets) and book.format == "csv":
        raise InputError(f"the file is empty; expected the {SOURCE_LABELS[source]} with a "
                         "header row.", "check that the export finished, then run again.",
                         file=str(path))
    frames: list[pd.DataFrame] = []
    sheets: list[SheetInfo] = []
    for raw in book.sheets:
        header = _sheet_header(raw, fields, source, path, book)
        if isinstance(header, str):
            sheets.append(SheetInfo(name=raw.name, status="skipped", reason=header))
            continue
        frame, info = _read_data_sheet(raw, header, fields, str(path))
        frames.append(frame)
        sheets.append(info)
    if not frames:
        raise _no_header_error(path, source, book, sheets)
    frame = _stack(frames, [SOURCE_FILE, SOURCE_SHEET, SOURCE_ROW])
    return frame, _file_info(path, source, book, sheets)


def _file_info(path: Path, source: Source, book: RawBook, sheets: list[SheetInfo]) -> FileInfo:
    """The file's FileInfo: counts added up over the sheets read."""
    read = [s for s in sheets if s.status == "read"]
    non_data: dict[str, int] = {}
    headers: dict[str, str] = {}
    extras: list[str] = []
    duplicates: list[str] = []
    for sheet in read:
        for kind, count in sheet.non_data.items():
            non_data[kind] = non_data.get(kind, 0) + count
        for name, text in sheet.headers.items():
            headers.setdefault(name, text)
        extras += [c for c in sheet.extra_columns if c not in extras]
        duplicates += [c for c in sheet.duplicate_columns if c not in duplicates]
    return FileInfo(
        path=str(path), source=source.value, sha256=sha256_of(path), size_bytes=_size_of(path),
        encoding=book.encoding, sheet=read[0].name, header_row=read[0].header_rows[0],
        rows_read=sum(s.rows_read for s in read),
        blank_rows_skipped=sum(s.blank_rows_skipped for s in read),
        extra_columns=extras, duplicate_columns=duplicates, format=book.format,
        rows_non_data=sum(s.rows_non_data for s in read), non_data=non_data, sheets=sheets,
        headers=headers)


# -- which sheets hold data ----------------------------------------------------------------------

def _sheet_header(raw: RawSheet, fields: tuple[Field, ...], source: Source, path: Path,
                  book: RawBook) -> Header | str:
    """The sheet's header when it holds the source's data, else the reason (Chinese) to skip it.

    InputError for a hidden sheet with the source's header, and for a visible sheet that looks
    like data (its best header names 2+ fields or a required one) but lacks a required column.
    """
    label = SOURCE_LABELS[source].split(" ")[0]
    if not raw.worksheet:
        return "图表或宏工作表，没有数据"
    if not _any_present(raw.cells[:HEADER_SEARCH_ROWS + 1]) and not _any_present(raw.cells):
        return "空工作表"
    if raw.header_row is not None:
        cells = raw.cells[raw.header_row].tolist()
        header = Header(raw.header_row, raw.header_row, cells, map_headers(cells, fields))
    else:
        header = find_header(raw.head(HEADER_SEARCH_ROWS + 1), fields, raw.merges)
    header_map = header.header_map
    if not raw.visible:
        if not header_map.missing_required:
            raise _hidden_sheet_error(raw, header, source, path)
        return f"隐藏的工作表，没有{label}的表头"
    if not header_map.missing_required:
        return header
    looks_like_data = len(header_map.field_columns) >= 2 or any(
        f.required and f.name in header_map.field_columns for f in fields)
    if raw.header_row is None and is_field_list(raw.head(HEADER_SEARCH_ROWS), header, fields):
        return "字段说明（字段名称竖排在一列），不是数据表"
    if looks_like_data:
        several = len(book.sheets) > 1 and book.format != "parquet"  # a folder's files
        other = other_source_of(header.cells, source)
        raise InputError(_missing_columns_text(header_map, source, several)
                         + (f" Its header has every required column of the "
                            f"{SOURCE_LABELS[other]} instead." if other else ""),
                         (f"pass this file with --{other.value} and the "
                          f"{SOURCE_NAMES[source]} with --{source.value} (the files look "
                          "swapped), or " if other else "")
                         + "rename the column in the file to one of the names shown (or add it)"
                         + ("; if this sheet holds no rows of this input, delete it or move it "
                            "to another workbook" if several else "")
                         + ", then run again.",
                         file=str(path), sheet=raw.name,
                         # a Parquet file's column names are not a row anybody can open
                         row=None if book.format == "parquet" else header.first_row + 1)
    return (f"前 {HEADER_SEARCH_ROWS} 行中没有{label}的表头（如填表说明、汇总表、代码表），"
            "不是数据表")


def _any_present(cells: np.ndarray) -> bool:
    """True when some cell of the block holds something (not None, not blank text)."""
    return any(_present_cells(pd.Series(cells[:, c], dtype=object)).any()
               for c in range(cells.shape[1]))


def _hidden_sheet_error(raw: RawSheet, header: Header, source: Source,
                        path: Path) -> InputError:
    return InputError(f"this sheet is hidden, but its header (row {header.rows[0]}) has every "
                      f"required column of the {SOURCE_LABELS[source]}: rows nobody sees in "
                      "the workbook are neither read nor skipped silently.",
                      "unhide the sheet (right-click a sheet tab → 取消隐藏) if its rows belong "
                      "to this input, or delete it if it is an old copy, then run again.",
                      file=str(path), sheet=raw.name)


def other_source_of(cells: list[object], source: Source) -> Source | None:
    """The other input whose required columns this header has, all of them (a file passed
    with the wrong option: the civil-affairs file as --union); None when none has. Reads
    header names only."""
    for other in Source:
        if other is not source and not map_headers(cells, FIELDS[other]).missing_required:
            return other
    return None


def _missing_columns_text(header_map: HeaderMap, source: Source, several_sheets: bool) -> str:
    """What is missing, with the accepted headers of each missing column (no cell values)."""
    parts = []
    for missing in header_map.missing_required:
        aliases = "、".join(missing.headers)
        parts.append(f"required column '{missing.canonical_header}' (accepted headers: {aliases})")
    absent = "; no ".join(parts)
    if several_sheets:
        named = len(header_map.field_columns)
        return (f"this sheet looks like {SOURCE_LABELS[source]} data (its header names {named} "
                f"of the fields) but has no {absent}.")
    return f"this {SOURCE_LABELS[source]} file has no {absent}."


def _no_header_error(path: Path, source: Source, book: RawBook,
                     sheets: list[SheetInfo]) -> InputError:
    """No sheet has the source's header: name the sheets and rows searched, and the fix."""
    required = "、".join(f.canonical_header for f in FIELDS[source] if f.required)
    if book.format == "parquet":  # a dataset's column names, not a header row
        cells = book.sheets[0].cells if book.sheets else np.empty((0, 0), dtype=object)
        names = [str(n) for n in cells[0]] if len(cells) else []
        shown = "、".join(names[:30]) + ("…" if len(names) > 30 else "")
        return InputError(f"the columns of this Parquet data are not those of the "
                          f"{SOURCE_LABELS[source]}: it needs at least {required}, and its "
                          f"columns are {shown or 'none'}.",
                          "name the columns as SPEC §1 does (accepted aliases included; "
                          "README: Parquet inputs), or check that the right file was passed "
                          "for this input, then run again.", file=str(path))
    rows = f"rows 1–{HEADER_SEARCH_ROWS}"
    if book.format in ("csv", "parquet"):
        where, sheet = f"in {rows}", None
    elif len(sheets) == 1:
        where, sheet = f"in {rows} of this sheet ({sheets[0].reason})", sheets[0].name
    else:
        listed = "; ".join(f"'{s.name}': {s.reason}" for s in sheets)
        where, sheet = f"in {rows} of any sheet ({listed})", None
    return InputError(f"no header row of the {SOURCE_LABELS[source]} was found {where}; a "
                      f"header names at least the required columns {required}.",
                      f"put the header row within the first {HEADER_SEARCH_ROWS} rows with the "
                      "column names of SPEC §1 (accepted aliases included), or check that the "
                      "right file was passed for this input, then run again.",
                      file=str(path), sheet=sheet)


# -- the rows of a data sheet --------------------------------------------------------------------

def _read_data_sheet(raw: RawSheet, header: Header, fields: tuple[Field, ...],
                     path: str) -> tuple[pd.DataFrame, SheetInfo]:
    """A data sheet's data rows as a frame, and its SheetInfo."""
    header_map = header.header_map
    cells = fill_down_merged(raw.cells, raw.merges, below=header.last_row)
    frame, blank, non_data = _frame_from_rows(cells, header.last_row, header_map, fields,
                                              path, raw.name, header)
    rows_non_data = sum(non_data.values())
    info = SheetInfo(
        name=raw.name, status="read", header_rows=header.rows,
        rows_read=len(frame) + rows_non_data, rows_non_data=rows_non_data,
        non_data={k: v for k, v in non_data.items() if v}, blank_rows_skipped=blank,
        headers={name: header.written(position)
                 for name, position in header_map.field_columns.items()},
        extra_columns=[c.removeprefix("extra:") for c in header_map.extra_columns],
        duplicate_columns=list(header_map.duplicate_fields))
    return frame, info


def fill_down_merged(cells: np.ndarray, merges: tuple, below: int) -> np.ndarray:
    """`cells` with every range merged over several data rows (below row index `below`) filled
    down from its first row, column by column: a 家庭编号, 家庭住址 or 家庭人口 merged over a
    household's members belongs to each member's row. Ranges merged across columns within
    one row (a 合计 spanning three columns) are left as they are: copying a cell sideways
    would put one field's value into another field. Returns `cells` itself when nothing is
    merged below the header (no copy)."""
    down = [m for m in merges if m[2] > m[0] and m[2] > below]
    if not down:
        return cells
    cells = cells.copy()
    for first_row, first_col, last_row, last_col in down:
        start = max(first_row, below + 1)
        if start > first_row:  # a range reaching up into the header: its data part only
            continue
        last_row = min(last_row, len(cells) - 1)
        last_col = min(last_col, cells.shape[1] - 1)
        for column in range(first_col, last_col + 1):
            cells[first_row + 1:last_row + 1, column] = cells[first_row, column]
    return cells


def _frame_from_rows(cells: np.ndarray, header_index: int, header_map: HeaderMap,
                     fields: tuple, path: str, sheet: str | None, header: Header | None = None
                     ) -> tuple[pd.DataFrame, int, dict[str, int]]:
    """The data records below the header as a frame, a column at a time; the blank records
    skipped; the non-data records by kind (see `frame_from_records`)."""
    return frame_from_records(cells[header_index + 1:], header_index + 1, header_map, fields,
                              path, sheet, header, cells)


def frame_from_records(body: np.ndarray, first_index: int, header_map: HeaderMap,
                       fields: tuple, path: str, sheet: str | None, header: Header | None = None,
                       header_grid: np.ndarray | None = None
                       ) -> tuple[pd.DataFrame, int, dict[str, int]]:
    """Records of a sheet below its header (`body`, records × columns; record 0 is the
    sheet's record `first_index`, 0-based) as (frame of the data records, blank records
    skipped, non-data records by kind). The streamed reader calls it on one block of records
    at a time; every record is judged on its own cells and the header's alone.

    Frame: a column per field and extra column of `header_map` (object dtype), then
    `source_file`, `source_sheet` and `source_row` (int64, the record's 1-based row number).
    A record is blank (skipped, counted) when none of its cells is present. Blank text becomes
    None; other cells pass through (CSV cells are text; workbook cells keep their type so dates
    and Excel serials survive), except ID-like cells, which become text (`cell_to_id_text`).
    With `header`, records repeating a header row of `header_grid` (the sheet's records, the
    header's rows at least, as wide as `body`) are non-data rows."""
    id_like = {f.name for f in fields if f.id_like}
    columns = [pd.Series(body[:, c], dtype=object) for c in range(body.shape[1])]
    present = [_present_cells(column) for column in columns]
    keep = np.logical_or.reduce(present) if present else np.zeros(len(body), dtype=bool)
    kinds = non_data_rows(columns, present, keep, header_map)
    if header is not None and header_grid is not None:
        repeated = repeated_header_rows(body, header_grid, header) & keep
        kinds = {kind: mask & ~repeated for kind, mask in kinds.items()}
        kinds[REPEATED_HEADER] = repeated
    data = keep.copy()
    for mask in kinds.values():
        data &= ~mask
    rows = np.flatnonzero(data)
    positions = {**header_map.field_columns, **header_map.extra_columns}
    out: dict[str, pd.Series] = {}
    for name, position in positions.items():
        if position >= len(columns):
            out[name] = pd.Series([None] * len(rows), dtype=object)
            continue
        column = columns[position].where(present[position], None)
        if name in id_like:
            column = _id_text(column)
        out[name] = column.iloc[rows].reset_index(drop=True)
    frame = pd.DataFrame(out, dtype=object) if out else pd.DataFrame(index=range(len(rows)))
    frame[SOURCE_FILE] = path
    frame[SOURCE_SHEET] = sheet
    frame[SOURCE_ROW] = pd.Series(first_index + 1 + rows, dtype="int64")
    counts = {kind: int(mask.sum()) for kind, mask in kinds.items()}
    return frame, int(len(body) - keep.sum()), counts


def non_data_rows(columns: list[pd.Series], present: list[np.ndarray], keep: np.ndarray,
                  header_map: HeaderMap) -> dict[str, np.ndarray]:
    """Boolean masks (one per record below the header) of the non-data records, by kind.

    `footer`: a present cell starts with a FOOTER_MARKERS word (合计, 制表人, 注：…) and the
    record has neither a name nor an ID number (a marker cell in those columns is no name or
    ID). `serial_only`: exactly one present cell, a whole number (a pre-numbered template
    row). Only records lacking a name or an ID are examined cell by cell, so a clean file
    costs one pass over two columns."""
    count = len(keep)
    name_at = header_map.field_columns.get("name")
    id_at = header_map.field_columns.get("id_number")
    has_name = present[name_at] if name_at is not None and name_at < len(present) \
        else np.zeros(count, bool)
    has_id = present[id_at] if id_at is not None and id_at < len(present) \
        else np.zeros(count, bool)
    candidates = np.flatnonzero(keep & ~(has_name & has_id))
    footer = np.zeros(count, dtype=bool)
    serial = np.zeros(count, dtype=bool)
    if not len(candidates):
        return {FOOTER: footer, SERIAL_ONLY: serial}
    marked = np.zeros(len(candidates), dtype=bool)
    named = has_name[candidates].copy()
    identified = has_id[candidates].copy()
    cells_present = np.zeros(len(candidates), dtype=np.int64)
    single = np.full(len(candidates), None, dtype=object)
    for position, column in enumerate(columns):
        here = present[position][candidates]
        if not here.any():
            continue
        values = column.to_numpy(dtype=object)[candidates]
        cells_present += here
        single[here] = values[here]
        text = here & is_text(values)
        mark = np.zeros(len(candidates), dtype=bool)
        if text.any():
            mark[text] = _match(values[text], FOOTER_PATTERN, _is_footer_text)
            marked |= mark
        if position in (name_at, id_at):
            # A marker or a count ("3户", 42) where a footer puts it is no name and no ID.
            not_person = mark | _count_cells(values, here, text)
            if position == name_at:
                named &= ~not_person
            else:
                identified &= ~not_person
    footer[candidates] = marked & ~named & ~identified
    one = (cells_present == 1) & ~footer[candidates]
    serial[candidates[one]] = _whole_numbers(single[one])
    return {FOOTER: footer, SERIAL_ONLY: serial}


def repeated_header_rows(body: np.ndarray, cells: np.ndarray, header: Header) -> np.ndarray:
    """Records below the header that repeat a header row: exports printed page by page (Excel's
    "rows to repeat at top", report systems) carry the header again on every page.

    A record repeats header row h when every cell h holds is equal in the record and the
    record holds nothing else; or when its name and ID number cells are the header's own
    column names (a repeated lower row of a two-row header). One vectorised comparison per
    header row on one column picks the few candidates; only those are checked further."""
    out = np.zeros(len(body), dtype=bool)
    if not len(body):
        return out
    for row in range(header.first_row, header.last_row + 1):
        expected = list(cells[row])
        held = [c for c, v in enumerate(expected) if not _blank_cell(v) and c < body.shape[1]]
        if not held:
            continue
        candidates = np.flatnonzero(body[:, held[0]] == expected[held[0]])
        for index in candidates:
            record = body[index]
            out[index] = all(
                record[c] == expected[c] if c in held else _blank_cell(record[c])
                for c in range(body.shape[1]))
    positions = [header.header_map.field_columns.get(f) for f in ("name", "id_number")]
    if all(p is not None and p < body.shape[1] and p < len(header.cells) for p in positions):
        named = np.ones(len(body), dtype=bool)
        for position in positions:
            named &= body[:, position] == header.cells[position]
        out |= named
    return out


def _blank_cell(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and value != value)


def _count_cells(values: np.ndarray, here: np.ndarray, text: np.ndarray) -> np.ndarray:
    """True for present cells holding a count: a number below 10^6, or text such as `42`,
    `3户`, `12 人` (no ID number or name looks like that)."""
    out = np.zeros(len(values), dtype=bool)
    if text.any():
        out[text] = _match(values[text], COUNT_PATTERN, _is_count_text)
    for index in np.flatnonzero(here & ~text):
        value = values[index]
        out[index] = isinstance(value, int | float | np.number) and not isinstance(value, bool) \
            and bool(abs(value) < 1e6)
    return out


def _whole_numbers(values: np.ndarray) -> np.ndarray:
    """True for cells that are a whole number: int, integral float or Decimal, digit text."""
    out = np.zeros(len(values), dtype=bool)
    text = is_text(values)
    if text.any():
        out[text] = _match(values[text], WHOLE_NUMBER_PATTERN, _is_digit_text)
    for index in np.flatnonzero(~text):
        value = values[index]
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            out[index] = True
        elif isinstance(value, float | np.floating):
            out[index] = bool(np.isfinite(value) and float(value).is_integer())
        elif isinstance(value, np.integer):
            out[index] = True
        else:
            try:
                out[index] = value == value.to_integral_value()  # Decimal
            except (AttributeError, ArithmeticError, TypeError):
                out[index] = False
    return out


def _present_cells(column: pd.Series) -> np.ndarray:
    """True where a cell holds something: not None/NaN/NaT and not blank text (only white
    space, as Python's `str.strip` sees it; checked in Arrow for all cells at once)."""
    values = column.to_numpy(dtype=object)
    text = is_text(values)
    present = column.notna().to_numpy() if not text.all() else np.ones(len(column), bool)
    if text.any():
        present[text] = ~blank_texts(values[text])
    return present


def blank_texts(texts: np.ndarray) -> np.ndarray:
    """True for strings that are empty or white space only."""
    return _match(texts, BLANK_PATTERN, lambda t: not t.strip())


def _is_footer_text(text: str) -> bool:
    return text.lstrip().startswith(FOOTER_MARKERS)


def _is_count_text(text: str) -> bool:
    digits = text.strip()
    digits = (digits[:-1] if digits.endswith(tuple(COUNT_UNITS)) else digits).strip()
    whole, _, fraction = digits.partition(".")
    return whole.isascii() and whole.isdigit() and len(whole) <= 6 and \
        (not fraction or (fraction.isascii() and fraction.isdigit()))


def _is_digit_text(text: str) -> bool:
    stripped = text.strip()
    return stripped.isascii() and stripped.isdigit()


def _match(texts: np.ndarray, pattern: str, fallback: Callable[[str], bool]) -> np.ndarray:
    """True for the strings matching an RE2 pattern (Arrow, all at once); `fallback`, its
    Python equivalent, for strings Arrow cannot take (such as lone surrogates)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        array = pa.array(texts, type=pa.large_string())
    except (pa.ArrowException, UnicodeError):
        return np.fromiter((fallback(t) for t in texts), dtype=bool, count=len(texts))
    return pc.match_substring_regex(array, pattern).to_numpy(zero_copy_only=False)


def _id_text(column: pd.Series) -> pd.Series:
    """ID-like cells as text: present text unchanged, numbers as Excel shows them."""
    other = ~is_text(column.to_numpy(dtype=object)) & column.notna().to_numpy()
    if other.any():
        column = column.copy()
        column[other] = column[other].map(cell_to_id_text)
    return column


__all__ = ["FileInfo", "Loaded", "SheetInfo", "fold_header", "load_file", "load_source"]

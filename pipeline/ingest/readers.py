"""Read one input (CSV, XLSX/XLSM, XLS, ODS, Parquet file or folder) into sheets of raw cells.

This is the I/O edge: everything after it works on in-memory arrays. Readers return raw
cells (text for CSV; typed cells for workbooks and Parquet, so that Excel date cells and
serials survive) for every sheet of a workbook, hidden ones included, with each sheet's
merged ranges; which sheets hold data and where their header is is decided in
`pipeline.ingest.load`.

Before reading, the content is sniffed by its first bytes: a file whose content does not match
its extension (an HTML page or CSV text saved as `.xls`, an `.xls` renamed `.xlsx`, …) is an
InputError that says what the file really is and how to fix it.
"""

from __future__ import annotations

import csv
import functools
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputError
from pipeline.ingest.encoding import detect_encoding
from pipeline.ingest.headers import Merge, fold_header

WORKBOOK_SUFFIXES = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".ods": "ods"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".txt"}
PARQUET_SUFFIXES = {".parquet"}
# A city's civil-affairs file is ~20 MB, a national roster a few GB split into files; a single
# input above this is refused rather than risk exhausting memory mid-night.
MAX_INPUT_BYTES = 4 * 1024**3
SNIFF_BYTES = 4096
# What pyarrow raises on Parquet data it cannot read.
PARQUET_ERRORS: tuple[type[Exception], ...] = (OSError, ValueError)

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# What a sniffed content kind is, for messages ("this .xls file is really …").
KIND_NAMES = {
    "xlsx": "an Excel .xlsx workbook",
    "ods": "an OpenDocument .ods spreadsheet",
    "ole2": "an old-style Office file (a legacy .xls workbook, or a password-protected workbook)",
    "parquet": "a Parquet file",
    "pdf": "a PDF document",
    "html": "an HTML page (a web page saved under a spreadsheet name, as web systems export "
            "their \"Excel\" files)",
    "xml2003": "an Excel 2003 XML spreadsheet",
    "xml": "an XML document",
    "text": "plain text (CSV)",
    "zip": "a ZIP archive that is not a workbook",
    "docx": "a Word document",
    "binary": "binary data of an unknown kind",
}
EXPECTED = {"xlsx": {"xlsx", "damaged-zip"}, "xls": {"ole2"}, "ods": {"ods", "damaged-zip"}}


@dataclass
class RawSheet:
    """Cells of one sheet (or CSV file, or Parquet dataset), every record from the top: record
    i is row i + 1 of the file (readers keep blank and title rows, so the numbering matches
    what stewards see in Excel).

    `cells` is a 2-D object array (records × widest record); a short record is padded with
    None, which reads as a blank cell. One array, not a list of lists, so that loading can
    work a column at a time at 10^6 rows. `merges` are the sheet's merged ranges in the same
    coordinates; `header_row` fixes the header's row (Parquet: its column names, row 0)
    instead of searching for it."""

    name: str | None
    cells: np.ndarray
    visible: bool = True
    worksheet: bool = True  # False for chart and macro sheets (nothing to read)
    merges: tuple[Merge, ...] = ()
    header_row: int | None = None

    def head(self, count: int) -> list[list[object]]:
        return self.cells[:count].tolist()


@dataclass
class RawBook:
    """Every sheet of one input, in workbook order, and how it was read."""

    format: str  # csv, xlsx, xls, ods or parquet
    encoding: str | None
    sheets: list[RawSheet] = field(default_factory=list)


def grid(rows: list[list[object]]) -> np.ndarray:
    """Ragged records → a rectangular object array, short records padded with None."""
    width = max((len(row) for row in rows), default=0)
    out = np.full((len(rows), width), None, dtype=object)
    for index, row in enumerate(rows):
        out[index, :len(row)] = row
    return out


def read_book(path: Path) -> RawBook:
    """Read a CSV, workbook or Parquet input. InputError naming the file when it does not exist,
    is too large, is of an unknown type, is not what its extension says, or cannot be read."""
    kind = input_kind(path)
    if kind == "parquet-folder":
        return _read_parquet(parquet_folder_files(path), path)
    if kind == "csv":
        return _read_csv(path)
    if kind == "parquet":
        return _read_parquet([path], path)
    return _read_workbook(path, kind)


def input_kind(path: Path) -> str:
    """What an input is, checked as `read_book` checks it before reading: `csv`, `parquet`,
    `parquet-folder`, `xlsx`, `xls` or `ods`. InputError when the path does not exist, is too
    large, is of an unknown type or is not what its extension says (a folder: see
    `parquet_folder_files`), or is Parquet data `check_parquet` refuses (its footers only
    are read: a damaged file is found before any work)."""
    if not path.exists():
        raise InputError("the file does not exist.", "check the path given on the command line.",
                         file=str(path))
    if path.is_dir():
        check_parquet(parquet_folder_files(path), path)
        return "parquet-folder"
    if not path.is_file():
        raise InputError("this is not a regular file.",
                         "pass a CSV, XLSX, XLS, ODS or Parquet file.", file=str(path))
    _check_size(path)
    suffix = path.suffix.lower()
    if suffix not in WORKBOOK_SUFFIXES and suffix not in CSV_SUFFIXES | PARQUET_SUFFIXES:
        raise InputError(f"unknown file type '{suffix}'.",
                         "pass a .csv, .xlsx, .xls, .ods or .parquet file (or a folder of "
                         "Parquet files).", file=str(path))
    kind = sniff(path)
    if kind == "empty":
        raise InputError("the file is empty (0 bytes).",
                         "check that the export finished, then run again.", file=str(path))
    if suffix in CSV_SUFFIXES:
        if kind not in ("text", "binary"):
            raise _mismatch(path, suffix, kind)
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        if kind != "parquet":
            raise _mismatch(path, suffix, kind)
        check_parquet([path], path)
        return "parquet"
    if kind not in EXPECTED[WORKBOOK_SUFFIXES[suffix]]:
        raise _mismatch(path, suffix, kind)
    return WORKBOOK_SUFFIXES[suffix]


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise InputError(f"the file is {size / 1024**3:.1f} GiB, above the limit of "
                         f"{MAX_INPUT_BYTES / 1024**3:.0f} GiB for one input.",
                         "split it into several files and pass them all (F...).", file=str(path))


# -- sniffing ------------------------------------------------------------------------------------

def sniff(path: Path) -> str:
    """What the file's first bytes say it is: one of KIND_NAMES, `empty`, or `damaged-zip`
    (starts like a ZIP archive but cannot be opened as one: a truncated workbook)."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head:
        return "empty"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(path, head)
    if head.startswith(OLE2_MAGIC):
        return "ole2"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"%PDF"):
        return "pdf"
    return _markup_kind(head) or ("text" if _looks_like_text(head) else "binary")


def _zip_kind(path: Path, head: bytes) -> str:
    """xlsx, ods, docx, zip (another archive) or damaged-zip."""
    if head[30:38] == b"mimetype" and head[38:38 + len(ODS_MIMETYPE)] == ODS_MIMETYPE:
        return "ods"
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:200] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError):
        return "damaged-zip"
    if mimetype.strip() == ODS_MIMETYPE:
        return "ods"
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        return "xlsx"
    if "word/document.xml" in names:
        return "docx"
    return "zip"


def _markup_kind(head: bytes) -> str | None:
    """html, xml2003 or xml when the text starts as markup (after a BOM and white space)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if not text.startswith(b"<"):
        return None
    if b"urn:schemas-microsoft-com:office:spreadsheet" in text or b"excel.sheet" in text:
        return "xml2003"
    if text.startswith((b"<!doctype html", b"<html", b"<table", b"<meta", b"<head", b"<body",
                        b"<style", b"<!--")) or b"<html" in text or b"<table" in text:
        return "html"
    if text.startswith(b"<?xml"):
        return "xml"
    return None


def _looks_like_text(head: bytes) -> bool:
    """No NUL byte (or a UTF-16 BOM), and the start decodes as UTF-8 or GB18030 (a multi-byte
    character cut at the end of the sample is allowed)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    return any(detect_encoding(head[:len(head) - cut]) is not None for cut in range(4))


def _mismatch(path: Path, suffix: str, kind: str) -> InputError:
    """The error for a file whose content is not what its extension says."""
    what = KIND_NAMES.get(kind, KIND_NAMES["binary"])
    if suffix in WORKBOOK_SUFFIXES:
        article = "a workbook"
    elif suffix in PARQUET_SUFFIXES:
        article = "Parquet data"
    else:
        article = "CSV text"
    return InputError(f"this {suffix} file is not {article}: it is really {what}.",
                      _MISMATCH_FIX.get(kind, "export the data again from the source system "
                                              "as .xlsx or CSV, then run again."),
                      file=str(path))


_SAVE_AS_XLSX = ("open it in Excel or WPS and save it as .xlsx (文件 → 另存为 → Excel 工作簿), "
                 "then pass the .xlsx file.")
_MISMATCH_FIX = {
    "xlsx": "rename it to .xlsx, then run again.",
    "ods": "rename it to .ods, then run again.",
    "ole2": "if it opens in Excel or WPS without a password, rename it to .xls; if it asks for "
            "a password, remove the password (save a copy without encryption), then run again.",
    "parquet": "rename it to .parquet, then run again.",
    "text": "rename it to .csv (it is already CSV text), then run again.",
    "html": _SAVE_AS_XLSX,
    "xml2003": _SAVE_AS_XLSX,
    "xml": _SAVE_AS_XLSX,
    "pdf": "a PDF cannot be read as data: export the table from the source system as .xlsx or "
           "CSV instead.",
    "zip": "pass the exported workbook itself, not an archive: unpack it first.",
    "docx": "copy the table into a workbook and save it as .xlsx, or export it again as .xlsx "
            "or CSV.",
    "damaged-zip": "the file looks like a damaged workbook: export it again or open it in Excel "
                   "and save it as .xlsx.",
}


# -- CSV -----------------------------------------------------------------------------------------

def _read_csv(path: Path) -> RawBook:
    raw = path.read_bytes()
    # Anywhere in the file, not only at its start: a NUL in a cell would reach the linker,
    # whose hashing (pandas') stops reading text at it.
    nul = raw.find(b"\x00")
    if nul >= 0 and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise nul_error(path, raw.count(b"\n", 0, nul) + 1)
    encoding = detect_encoding(raw)
    if encoding is None:
        raise encoding_error(path)
    text = raw.decode(encoding)
    if encoding == "utf-16" and text.startswith("\ufeff"):
        text = text[1:]
    sheet = RawSheet(name=None, cells=_parse_csv_text(text, path))
    return RawBook(format="csv", encoding=encoding, sheets=[sheet])


def nul_error(path: Path, line: int) -> InputError:
    """The error for a CSV holding a NUL byte, the first on `line` (1-based)."""
    return InputError(f"the file contains NUL bytes (the first on line {line}): it is not "
                      "a CSV text file.",
                      "export the sheet again as CSV (UTF-8 or GB18030) or XLSX.",
                      file=str(path))


def encoding_error(path: Path) -> InputError:
    return InputError("the text is neither UTF-8 nor GB18030/GBK.",
                      "save the file as UTF-8 or GB18030 CSV.", file=str(path))


def csv_parse_error(path: Path, error: csv.Error, line: int | None = None) -> InputError:
    """The error for CSV text the csv module cannot parse; `line`: the (1-based) line where
    the record it could not parse starts, when known. The module's
    message names the fault, never the cell."""
    where = f": the record that starts at line {line}" if line else ""
    return InputError(f"the CSV cannot be parsed{where} ({error}).",
                      ("check the quoting from that line on (a quote opened and not closed, "
                       "or text after a closing quote)" if line else "check the file's quoting")
                      + ", or export the file again.", file=str(path))


def swallowed_record(cells: np.ndarray, multiline: np.ndarray | None = None) -> int | None:
    """The first record (row of `cells`, a CSV's records × cells) with a cell that took in
    whole records: a quote opened and never closed (a stray `"` typed before a name) makes
    the csv module read every line up to the next quote, or to the end of the file, as one
    cell, and those rows would be lost without a word. A cell is taken for that when one of
    its lines after the first holds as many commas as a record has separators (a whole
    record); an address typed over two lines has none. None: no such cell (or fewer than
    three columns, where a comma says nothing).

    `multiline` (int64 row indices, ascending), when the caller knows them: the records that
    span more than one line of the file. Only those can hold a line break, so only they are
    looked at (the same answer; the streamed reader knows each record's lines, and most
    records have one)."""
    width = cells.shape[1] if cells.ndim == 2 else 0
    if width < 3 or not len(cells):
        return None
    rows = np.arange(len(cells)) if multiline is None else np.asarray(multiline, dtype=np.int64)
    if not len(rows):
        return None
    looked_at = cells if multiline is None else cells[rows]
    for position in range(width):
        column = pd.Series(looked_at[:, position], dtype=object)
        broken = column.str.contains("\n", regex=False, na=False).to_numpy(dtype=bool)
        for at in np.flatnonzero(broken):
            if any(line.count(",") >= width - 1
                   for line in str(looked_at[at, position]).split("\n")[1:]):
                return int(rows[at])
    return None


def unclosed_quote_error(path: Path, line: int) -> InputError:
    """The error for a record that took in whole records below it (`swallowed_record`)."""
    return InputError(f"the CSV has a quote that is opened and never closed: the record that "
                      f"starts at line {line} takes in the lines below it, whole records "
                      "among them, as one cell, so those rows would be lost.",
                      "close or remove the stray quote (\") on that line, or export the file "
                      "again, then run again.", file=str(path))


def record_start_line(text: str, index: int) -> int:
    """The (1-based) line where record `index` of the CSV text starts (csv module)."""
    reader = csv.reader(io.StringIO(text))
    read_to = 0
    for position, _record in enumerate(reader):
        if position == index:
            return read_to + 1
        read_to = reader.line_num
    return read_to + 1


def _parse_csv_text(text: str, path: Path) -> np.ndarray:
    """`_parse_records`, refused (InputError) when a quote opened and never closed took in
    whole records (`swallowed_record`)."""
    cells = _parse_records(text, path)
    swallowed = swallowed_record(cells)
    if swallowed is not None:
        raise unclosed_quote_error(path, record_start_line(text, swallowed))
    return cells


def _parse_records(text: str, path: Path) -> np.ndarray:
    """Parse CSV records. pandas' C parser for speed; the csv module if records are ragged
    (or pandas refuses the text otherwise: any ValueError, its EmptyDataError included)."""
    try:
        frame = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False,
                            skip_blank_lines=False, engine="c", na_filter=False)
        return frame.to_numpy(dtype=object)
    except (pd.errors.ParserError, ValueError):
        pass  # ragged rows (a title row above the header, or a stray comma): parse record by record
    reader = csv.reader(io.StringIO(text))
    records: list[list[str]] = []
    read_to = 0  # the last line of the last record read
    try:
        for record in reader:
            records.append(record)
            read_to = reader.line_num
    except csv.Error as error:  # an unclosed quote runs on far below the line to fix
        raise csv_parse_error(path, error, read_to + 1) from None
    return grid(records)


# -- workbooks (XLSX, XLSM, XLS, ODS) ------------------------------------------------------------

def _read_workbook(path: Path, workbook_format: str) -> RawBook:
    """Every sheet of a workbook, via python-calamine (which reads all three formats)."""
    with workbook_errors(path, workbook_format):
        workbook = open_workbook(path)
        sheets = [_read_sheet(workbook, meta) for meta in workbook.sheets_metadata]
    if not sheets:
        raise InputError("the workbook has no sheets.", _workbook_fix(workbook_format),
                         file=str(path))
    return RawBook(format=workbook_format, encoding=None, sheets=sheets)


def open_workbook(path: Path):
    """The python-calamine workbook (sheets are read when asked for)."""
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(str(path))


def _workbook_fix(workbook_format: str) -> str:
    return (f"check that it is a complete .{workbook_format} file; open it in Excel or WPS and "
            "save it again.")


@contextmanager
def workbook_errors(path: Path, workbook_format: str) -> Iterator[None]:
    """Turn python-calamine's errors while reading a workbook into InputErrors: a password,
    or damage (calamine raises a variety of zip/xml/BIFF errors)."""
    from python_calamine import PasswordError

    try:
        yield
    except PasswordError:
        raise InputError("the workbook is password-protected.",
                         "save a copy without the password (文件 → 信息 → 保护工作簿), then pass "
                         "that copy.", file=str(path)) from None
    except InputError:
        raise
    except Exception as error:
        raise InputError(f"the workbook cannot be read ({type(error).__name__}).",
                         _workbook_fix(workbook_format), file=str(path)) from None


def _read_sheet(workbook, meta) -> RawSheet:
    """One sheet's cells from A1 (blank leading rows and columns kept) and merged ranges."""
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    visible = meta.visible == SheetVisibleEnum.Visible
    if meta.typ != SheetTypeEnum.WorkSheet:
        return RawSheet(meta.name, grid([]), visible=visible, worksheet=False)
    sheet = workbook.get_sheet_by_name(meta.name)
    rows = sheet.to_python(skip_empty_area=False)
    return RawSheet(meta.name, grid(rows), visible=visible, merges=sheet_merges(sheet))


def sheet_merges(sheet) -> tuple[Merge, ...]:
    """A calamine sheet's merged ranges as (first_row, first_col, last_row, last_col)."""
    return tuple((top, left, bottom, right) for (top, left), (bottom, right)
                 in (sheet.merged_cell_ranges or ()))


# -- Parquet -------------------------------------------------------------------------------------

def parquet_files(folder: Path) -> list[Path]:
    """The data files of a Parquet folder, in path order (hidden and `_` files skipped, as
    Arrow and Spark do: `_SUCCESS`, `_common_metadata`, `.crc`)."""
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and not any(part.startswith((".", "_"))
                              for part in p.relative_to(folder).parts))


def parquet_folder_files(folder: Path) -> list[Path]:
    """The data files of a Parquet folder input. InputError when it has none, when one is too
    large, or when one is not Parquet."""
    files = parquet_files(folder)
    if not files:
        raise InputError("this is a folder without data files.",
                         "pass a CSV, XLSX, XLS, ODS or Parquet file, or a folder of Parquet "
                         "files (a partitioned dataset).", file=str(folder))
    for item in files:
        _check_size(item)
        if sniff(item) != "parquet":
            raise InputError(f"the folder holds a file that is not Parquet "
                             f"({item.relative_to(folder)}).",
                             "a folder input must hold only the Parquet files of one dataset: "
                             "move other files out of it.", file=str(folder))
    return files


def check_parquet(files: list[Path], base: Path) -> None:
    """Refuse Parquet data that would be read wrong, from the files' footers (no row read).

    - a file whose footer cannot be read (an unfinished or damaged export): named;
    - a folder whose files do not all have the first file's column names (in any order):
      another file's missing or renamed column would be read as empty cells, silently;
    - an ID number or credit-code column (`LONG_NUMBER_FIELDS`) stored as floating-point
      numbers: a double holds 15–17 significant digits, so 18-digit numbers are already
      damaged in the file (a column of integers keeps its digits and is read as text).

    InputError (exit 2) naming the file, the columns and the fix; the names listed are the
    columns' (never a cell's)."""
    import pyarrow as pa

    first: tuple[str, list[str]] | None = None
    for item in files:
        where = item.relative_to(base) if item != base else item.name
        try:
            schema = _parquet_schema(item)
        except (pa.ArrowException, *PARQUET_ERRORS) as error:
            raise InputError(f"the Parquet file {where} cannot be read "
                             f"({type(error).__name__}): it is damaged or the export did not "
                             "finish.", "export it again, then run again.",
                             file=str(base)) from None
        names = list(schema.names)
        if first is None:
            first = (str(where), names)
        elif set(names) != set(first[1]):  # in another order: each file is its own sheet
            lacks = [n for n in first[1] if n not in names]
            extra = [n for n in names if n not in first[1]]
            differs = "; ".join(filter(None, (
                f"it lacks {'、'.join(lacks)}" if lacks else "",
                f"it has {'、'.join(extra)}, which {first[0]} has not" if extra else "")))
            raise InputError(f"the files of this Parquet folder do not all have the same "
                             f"columns: {where} differs from {first[0]} ({differs}).",
                             f"export every file of the dataset with the same column names "
                             f"(those of {first[0]}), then run again.", file=str(base))
        floats = [n for n, t in zip(schema.names, schema.types, strict=True)
                  if pa.types.is_floating(t) and fold_header(n) in _id_like_headers()]
        if floats:
            raise InputError(f"the column {'、'.join(floats)} of {where} is stored as "
                             "floating-point numbers, which cannot hold an 18-digit number "
                             "exactly: the numbers in the file are already damaged.",
                             "export the column as text (a string column), then run again.",
                             file=str(base))


def _parquet_schema(path: Path):
    """The Arrow schema in `path`'s footer, read once per version of the file (its size and
    modification time): `input_kind` checks an input each time a stage asks what it is
    (the command line, ingest, each read of the roster, the piece plan), and a folder of
    many files would have its footers read that often. Raises as `pq.read_schema` (an
    error is not remembered)."""
    stat = path.stat()
    return _schema_of(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4096)
def _schema_of(path: str, size: int, mtime_ns: int):
    import pyarrow.parquet as pq

    return pq.read_schema(path)


# The fields whose numbers have 18 characters (GB 11643 ID numbers, GB 32100 unified social
# credit codes): more digits than a double holds. Shorter ID-like fields (成员序号, 区划代码,
# 手机号码) survive a float column and are read as text.
LONG_NUMBER_FIELDS = frozenset({"id_number", "employer_uscc"})


@functools.cache
def _id_like_headers() -> frozenset[str]:
    """Every accepted header (folded) of a `LONG_NUMBER_FIELDS` field of any source
    (`pipeline.schema`)."""
    from pipeline.schema import FIELDS

    return frozenset(fold_header(h) for fields in FIELDS.values() for f in fields
                     if f.name in LONG_NUMBER_FIELDS for h in f.headers)


def parquet_dataset(files: list[Path], base: Path):
    """The pyarrow dataset of a Parquet file or partitioned folder (hive `key=value` folders
    become columns, after the files' own). A column of bytes (`binary`: what pandas writes
    for text held as bytes) is read as text: Arrow checks it is UTF-8 (ArrowInvalid if not,
    `parquet_error`)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    def opened(schema=None):
        if base.is_dir():
            return ds.dataset([str(f) for f in files], schema=schema, format="parquet",
                              partitioning=ds.partitioning(flavor="hive"),
                              partition_base_dir=str(base))
        return ds.dataset(str(base), schema=schema, format="parquet")

    dataset = opened()
    if not any(pa.types.is_binary(t) or pa.types.is_large_binary(t)
               for t in dataset.schema.types):
        return dataset
    return opened(pa.schema([
        field.with_type(pa.large_string()) if pa.types.is_large_binary(field.type)
        else field.with_type(pa.string()) if pa.types.is_binary(field.type)
        else field for field in dataset.schema]))


def parquet_error(base: Path, error: Exception, files: list[Path] | None = None
                  ) -> InputError:
    """The InputError for Parquet data pyarrow could not read. For a folder it names the
    first file whose footer cannot be read (`files`, default: every file of the folder), so
    that among hundreds of partition files the operator knows which one to export again."""
    if "utf8" in str(error).lower().replace("-", ""):  # Arrow's own words; no cell quoted
        return InputError("a text column of the Parquet data holds bytes that are not UTF-8 "
                          "text.", "export the text columns as UTF-8 strings, then run again.",
                          file=str(base))
    bad = _unreadable_parquet_file(base, files)
    where = f"; the file {bad} is damaged or unfinished" if bad else ""
    fix = ("check that the export finished and that every file of the folder has the same "
           "columns, then run again." if base.is_dir() else
           "check that the export finished (export the file again), then run again.")
    return InputError(f"the Parquet data cannot be read ({type(error).__name__}){where}.",
                      fix, file=str(base))


def _unreadable_parquet_file(base: Path, files: list[Path] | None) -> str | None:
    """A folder's first file (relative path) whose Parquet footer cannot be read, if any."""
    try:
        if not base.is_dir():
            return None
        import pyarrow.parquet as pq

        for item in files if files is not None else parquet_folder_files(base):
            try:
                pq.ParquetFile(item).metadata  # noqa: B018  (reads the footer)
            except Exception:  # any failure names the file: this is only a diagnosis
                return str(Path(item).relative_to(base))
    except Exception:
        return None
    return None


def _read_parquet(files: list[Path], base: Path) -> RawBook:
    """A Parquet file as one sheet (named None), or a partitioned folder as one sheet per file
    (named by its path in the folder, `parquet_sheet_name`; hive `key=value` folders become
    columns), whose row 0 is the column names: record i + 1 is the file's row i. So a
    steward is pointed at the file of the folder and its row, as at a workbook's sheet."""
    import pyarrow as pa

    sheets = []
    for item in files if base.is_dir() else [base]:
        try:
            table = parquet_dataset([item], base).to_table()
        except (pa.ArrowException, *PARQUET_ERRORS) as error:
            raise parquet_error(base, error) from None
        cells = np.empty((table.num_rows + 1, table.num_columns), dtype=object)
        cells[0, :] = table.column_names
        for position, column in enumerate(table.columns):
            cells[1:, position] = _arrow_cells(column)
        sheets.append(RawSheet(name=parquet_sheet_name(item, base), cells=cells, header_row=0))
    return RawBook(format="parquet", encoding=None, sheets=sheets)


def parquet_sheet_name(item: Path, base: Path) -> str | None:
    """The provenance sheet of a Parquet file: its path within a folder input (POSIX
    separators), None for a file given itself."""
    return Path(item).relative_to(base).as_posix() if base.is_dir() else None


def _arrow_cells(column) -> np.ndarray:
    """An Arrow column as Python cells (str, int, float, date, datetime, Decimal; None for
    null). Integers stay exact (never float with NaN for nulls)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column.to_numpy(zero_copy_only=False)
    return np.fromiter(column.to_pylist(), dtype=object, count=len(column))


# -- cells ---------------------------------------------------------------------------------------

def cell_to_id_text(value: object) -> str | None:
    """Text of an ID-like cell. Numeric cells are what Excel does to long numbers.

    Excel keeps 15 significant digits of a number, so an 18-digit ID typed into a numeric cell
    is stored as 1.10108199001011E+17. We round to 15 significant digits, as Excel displays
    it, and let the ID check see the `…000` damage; a whole number keeps all its digits.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        try:
            if value.is_integer():
                if abs(value) >= 1e15:
                    return str(int(Decimal(format(value, ".15g"))))
                return str(int(value))
            return format(Decimal(repr(value)), "f")
        except (InvalidOperation, OverflowError, ValueError):
            return repr(value)
    text = str(value)
    return text if text.strip() else None

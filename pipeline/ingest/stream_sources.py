"""The records of one input's sheets, a block at a time: the streamed counterpart of `readers`.

`open_stream_book(path)` checks an input as `readers.read_book` does (same InputErrors) and
returns a `StreamBook` of `SheetSource`s. A source gives its first records (`head`, enough to
find the header) and then its records from any index in blocks of at most `size` records
(`blocks`): 2-D object arrays as `RawSheet.cells` holds them (record i is row i + 1 of the
file), a short record padded with None. What each format holds in memory at once:

- CSV: one block of records (plus the text reader's buffer). A first pass over the bytes
  finds a NUL byte and the encoding exactly as `_read_csv` does on the whole file; records
  are then parsed by the csv module, which gives what `_parse_csv_text` gives for the whole
  text (see `CsvRecords`), except for two kinds of file read whole, as `load` reads them: one
  where a CR ends a line on its own (old Mac line ends), and one holding a cell longer than
  the csv module's field limit of 131,072 characters (a hostile cell; the file is then read
  whole from that point on, the blocks already handed out being the same).
- XLSX/XLS/ODS: python-calamine has no row-streaming reader: opening a sheet reads all its
  cells into calamine's (Rust) memory. Only a block of rows becomes Python cells at a time
  (`CalamineSheet.iter_rows`). Sheets are read once to find their headers and again for
  their rows (the Rust copy of one sheet at a time, about twice calamine's reading time).
- Parquet file or folder: record batches of the pyarrow dataset (`Dataset.to_batches`, in
  dataset order, little read-ahead).

Not used, and why: pandas' C parser in chunks (`read_csv(chunksize=...)`) is not the whole-file
parser cut in pieces: with blank or short records at a chunk's start it refuses text the
whole-file parser reads ("Expected 0 fields in line 5") and it can drop the cells of a long
record the whole-file parser refuses. pyarrow's streaming CSV reader (`pyarrow.csv.open_csv`)
needs every record to have the header's number of fields (short, blank and long records are
invalid rows it can only skip, losing their row numbers), so it cannot give `load`'s frames.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from pipeline.errors import InputError
from pipeline.ingest.headers import HEADER_SEARCH_ROWS, Merge
from pipeline.ingest.load import _any_present, _present_cells
from pipeline.ingest.readers import (
    PARQUET_ERRORS,
    _arrow_cells,
    csv_parse_error,
    encoding_error,
    grid,
    input_kind,
    nul_error,
    open_workbook,
    parquet_dataset,
    parquet_error,
    parquet_folder_files,
    parquet_sheet_name,
    sheet_merges,
    swallowed_record,
    unclosed_quote_error,
    workbook_errors,
)

HEAD_ROWS = HEADER_SEARCH_ROWS + 1  # the records `load` looks at to find a header
BYTES_BLOCK = 1 << 20
_LONE_CR = re.compile(rb"\r(?!\n)")


@dataclass
class SheetSource:
    """One sheet of an input (a CSV or Parquet input is one sheet named None)."""

    name: str | None
    visible: bool = True
    worksheet: bool = True
    merges: tuple[Merge, ...] = ()
    header_row: int | None = None  # Parquet: row 0 holds the column names
    head: np.ndarray = field(default_factory=lambda: grid([]))

    def blocks(self, start: int, size: int) -> Iterator[tuple[int, np.ndarray]]:
        """(index of the block's first record, records) from record `start` to the end."""
        return iter(())


@dataclass
class StreamBook:
    """Every sheet of one input, in workbook order, and how it is read."""

    format: str  # csv, xlsx, xls, ods or parquet
    encoding: str | None
    sheets: list[SheetSource]


def open_stream_book(path: Path) -> StreamBook:
    """Check an input and find its sheets and their first records. InputError as `read_book`
    (a CSV's quoting errors may come later, from `blocks`)."""
    kind = input_kind(path)
    if kind == "csv":
        return _csv_book(path)
    if kind in ("parquet", "parquet-folder"):
        files = parquet_folder_files(path) if kind == "parquet-folder" else [path]
        return StreamBook("parquet", None, [_parquet_source(item, path) for item in files])
    return _workbook_book(path, kind)


def standin_head(head: np.ndarray, rest: Iterator[np.ndarray]) -> np.ndarray:
    """The head records `load` looks at, standing in for the whole sheet: when none of them
    holds a present cell, the first later record that does (or, lacking one, a blank
    one-cell record if any later record has a cell) is added below, so that "is the sheet
    empty" and "does it hold anything" are answered as on the whole sheet."""
    if _any_present(head):
        return head
    extra: list[object] | None = None
    for block in rest:
        present = np.flatnonzero(_present_rows(block))
        if len(present):
            extra = list(block[present[0]])
            break
        if extra is None and block.size:
            extra = [""]
    if extra is None:
        return head
    return grid([*head.tolist(), extra])


def _present_rows(block: np.ndarray) -> np.ndarray:
    out = np.zeros(len(block), dtype=bool)
    for column in range(block.shape[1]):
        out |= _present_cells(pd.Series(block[:, column], dtype=object))
    return out


def _rebatch(blocks: Iterator[np.ndarray], start: int, size: int, first: int = 0
             ) -> Iterator[tuple[int, np.ndarray]]:
    """(index of its first record, records) of blocks of at most `size` records from record
    `start` on, out of `blocks` (consecutive records, the first one record `first`)."""
    index = first
    for block in blocks:
        if index + len(block) <= start:
            index += len(block)
            continue
        if index < start:
            block = block[start - index:]
            index = start
        parts = [block[cut:cut + size] for cut in range(0, len(block), size)]
        del block
        while parts:
            part = parts.pop(0)
            index += len(part)
            yield index - len(part), part
            del part


# -- CSV -----------------------------------------------------------------------------------------

def scan_csv_bytes(path: Path) -> tuple[str, bool]:
    """(encoding, whether a CR ends a line on its own) of a CSV, in one pass over its bytes
    (two for GB18030), with `_read_csv`'s errors: a NUL byte (unless UTF-16), text neither
    UTF-8 nor GB18030 (InputError); undecodable text after a BOM (UnicodeDecodeError)."""
    with path.open("rb") as handle:
        first = handle.read(4)
    utf16 = first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if first.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif utf16:
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    decoder = codecs.getincrementaldecoder(encoding)()
    failure: UnicodeDecodeError | None = None
    newlines, lone_cr, cr_before = 0, utf16, False
    for block in _byte_blocks(path):
        if not utf16:
            nul = block.find(b"\x00")
            if nul >= 0:
                raise nul_error(path, newlines + block.count(b"\n", 0, nul) + 1)
            newlines += block.count(b"\n")
            lone_cr = lone_cr or (cr_before and not block.startswith(b"\n")) or any(
                match.end() < len(block) for match in _LONE_CR.finditer(block))
            cr_before = block.endswith(b"\r")
        if failure is None:
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                failure = error
    lone_cr = lone_cr or cr_before
    if failure is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            failure = error
    if failure is None:
        return encoding, lone_cr
    if encoding != "utf-8":
        raise failure
    gb = codecs.getincrementaldecoder("gb18030")()
    try:
        for block in _byte_blocks(path):
            gb.decode(block)
        gb.decode(b"", final=True)
    except UnicodeDecodeError:
        raise encoding_error(path) from None
    return "gb18030", lone_cr


def _byte_blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        yield from iter(lambda: handle.read(BYTES_BLOCK), b"")


FIELD_LIMIT_ERROR = "field larger than field limit"


class CsvRecords:
    """A CSV's records in order, as `readers._parse_csv_text` gives them for the whole text.

    Read by the csv module over the text (lines split at LF only, as over `io.StringIO`), a
    block at a time. That is what `_parse_csv_text` uses when pandas' parser refuses the text;
    when pandas accepts it, the two give the same records and cells, up to blank cells (pandas
    '' where a record is short, the csv module None: both blank for `load`), except where a
    CR ends a line on its own, and where a cell is longer than the csv module's field limit
    (131,072 characters; pandas has none). Such files are read whole, as `load` reads them
    (`whole=True`, or on meeting such a cell; `read_whole` then tells): their records are cut
    from `readers._read_csv`'s grid. `handed` counts the records handed out."""

    def __init__(self, path: Path, encoding: str, whole: bool = False) -> None:
        self.path, self.encoding = path, encoding
        self.handed = 0
        self._read_to = 0  # the last line of the last record read
        self._handle: IO[str] | None = None
        self._csv: Iterator[list[str]] | None = None
        self._cells: np.ndarray | None = None
        if whole:
            self._read_whole()
        else:
            self._handle = self._open()
            self._csv = csv.reader(self._handle)

    @property
    def read_whole(self) -> bool:
        return self._cells is not None

    def _open(self) -> IO[str]:
        """The text, untranslated, its lines split at LF only (as `io.StringIO(text)`)."""
        handle = self.path.open(encoding=self.encoding, newline="\n")
        if self.encoding == "utf-16":  # `_read_csv` drops a second BOM
            mark = handle.tell()
            if handle.read(1) != "\ufeff":
                handle.seek(mark)
        return handle

    def _read_whole(self) -> None:
        from pipeline.ingest.readers import _read_csv

        self.close()
        self._csv = None
        self._cells = _read_csv(self.path).sheets[0].cells

    def take(self, count: int) -> np.ndarray | None:
        """The next `count` records (fewer at the end), or None after the last."""
        if self._cells is None:
            assert self._csv is not None
            rows: list[list[str]] = []
            starts: list[int] = []  # each record's first line
            multiline: list[int] = []  # the records over more than one line (by index)
            try:
                for row in islice(self._csv, count):
                    start = self._read_to + 1
                    self._read_to = self._csv.line_num
                    if self._read_to > start:
                        multiline.append(len(rows))
                    rows.append(row)
                    starts.append(start)
            except csv.Error as error:
                if not str(error).startswith(FIELD_LIMIT_ERROR):  # the record's first line:
                    raise csv_parse_error(self.path, error, self._read_to + 1) from None
                self._read_whole()
            else:
                if not rows:
                    return None
                self.handed += len(rows)
                block = _grid(rows)
                swallowed = swallowed_record(block, np.asarray(multiline, dtype=np.int64))
                if swallowed is not None:  # as `readers._parse_csv_text` refuses it
                    raise unclosed_quote_error(self.path, starts[swallowed])
                return block
        assert self._cells is not None
        block = self._cells[self.handed:self.handed + count]
        self.handed += len(block)
        return block if len(block) else None

    def blocks(self, size: int) -> Iterator[np.ndarray]:
        while (block := self.take(size)) is not None:
            yield block
            del block

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _grid(rows: list[list[str]]) -> np.ndarray:
    """`readers.grid`, at C speed when every record has the same number of cells."""
    widths = set(map(len, rows))
    if len(widths) == 1:
        width = widths.pop()
        if width == 0:
            return np.empty((len(rows), 0), dtype=object)
        cells = np.empty((len(rows), width), dtype=object)
        cells[:] = rows
        return cells
    return grid(rows)


@dataclass
class CsvSource(SheetSource):
    """A CSV input: its one sheet (`whole`: read whole, see `CsvRecords`)."""

    path: Path = Path()
    encoding: str = "utf-8"
    whole: bool = False

    def blocks(self, start: int, size: int) -> Iterator[tuple[int, np.ndarray]]:
        records = CsvRecords(self.path, self.encoding, self.whole)
        try:
            yield from _rebatch(records.blocks(max(size, start)), start, size)
        finally:
            records.close()


def _csv_book(path: Path) -> StreamBook:
    encoding, lone_cr = scan_csv_bytes(path)
    records = CsvRecords(path, encoding, whole=lone_cr)
    try:
        head = records.take(HEAD_ROWS)
        head = standin_head(grid([]) if head is None else head, records.blocks(1 << 14))
        whole = records.read_whole
    finally:
        records.close()
    source = CsvSource(name=None, head=head, path=path, encoding=encoding, whole=whole)
    return StreamBook("csv", encoding, [source])


# -- workbooks -----------------------------------------------------------------------------------

@dataclass
class WorkbookSheetSource(SheetSource):
    """A worksheet of a workbook; its cells from A1, `width` columns (0 when empty)."""

    path: Path = Path()
    format: str = "xlsx"
    width: int = 0

    def blocks(self, start: int, size: int) -> Iterator[tuple[int, np.ndarray]]:
        with workbook_errors(self.path, self.format):
            sheet = open_workbook(self.path).get_sheet_by_name(self.name)
        yield from _rebatch(_sheet_blocks(sheet, self.width, size), start, size)


def _sheet_blocks(sheet, width: int, size: int) -> Iterator[np.ndarray]:
    """A calamine sheet's rows from row 1 as blocks, each row `width` cells from column A (as
    `to_python(skip_empty_area=False)` gives them). `iter_rows` yields the rows above the
    used range as blank rows but starts each row at the range's first column: those columns
    are padded with '' as `to_python` pads them."""
    pad = [""] * (sheet.start[1] if sheet.start else 0)
    rows = sheet.iter_rows()
    while batch := list(islice(rows, size)):
        cells = np.full((len(batch), width), None, dtype=object)
        for index, row in enumerate(batch):
            cells[index, :len(pad) + len(row)] = pad + row
        del batch
        yield cells
        del cells


def _workbook_book(path: Path, workbook_format: str) -> StreamBook:
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    sheets: list[SheetSource] = []
    with workbook_errors(path, workbook_format):
        workbook = open_workbook(path)
        for meta in workbook.sheets_metadata:
            visible = meta.visible == SheetVisibleEnum.Visible
            if meta.typ != SheetTypeEnum.WorkSheet:
                sheets.append(SheetSource(meta.name, visible=visible, worksheet=False))
                continue
            sheet = workbook.get_sheet_by_name(meta.name)
            width = sheet.end[1] + 1 if sheet.end else 0
            blocks = _sheet_blocks(sheet, width, HEAD_ROWS)
            head = next(blocks, None)
            head = standin_head(grid([]) if head is None else head, blocks)
            sheets.append(WorkbookSheetSource(meta.name, visible=visible,
                                              merges=sheet_merges(sheet), head=head, path=path,
                                              format=workbook_format, width=width))
            del sheet, blocks
    if not sheets:
        raise InputError("the workbook has no sheets.",
                         f"check that it is a complete .{workbook_format} file; open it in "
                         "Excel or WPS and save it again.", file=str(path))
    return StreamBook(workbook_format, None, sheets)


# -- Parquet -------------------------------------------------------------------------------------

@dataclass
class ParquetSource(SheetSource):
    """One Parquet file (a file input, or one file of a partitioned folder: a sheet named by
    its path there, `readers.parquet_sheet_name`): record 0 is the column names, record
    i + 1 the file's row i (as `readers._read_parquet`)."""

    base: Path = Path()
    dataset: object = None  # pyarrow.dataset.Dataset

    def blocks(self, start: int, size: int) -> Iterator[tuple[int, np.ndarray]]:
        import pyarrow as pa

        try:
            tables = _tables(self.dataset, size)
            yield from _rebatch((_table_cells(t) for t in tables), start, size, first=1)
        except (pa.ArrowException, *PARQUET_ERRORS) as error:
            raise parquet_error(self.base, error) from None


def _parquet_source(item: Path, base: Path) -> ParquetSource:
    """The sheet of the file `item` of the input `base` (that file, or its folder)."""
    import pyarrow as pa

    try:
        dataset = parquet_dataset([item], base)
        # No read-ahead: by default pyarrow reads 4 files × 16 batches ahead for a head, over
        # 1 GB of a large roster's folder for 15 rows.
        first = dataset.head(HEAD_ROWS - 1, batch_size=HEAD_ROWS, batch_readahead=0,
                             fragment_readahead=0)
    except (pa.ArrowException, *PARQUET_ERRORS) as error:
        raise parquet_error(base, error) from None
    names = np.empty((1, len(dataset.schema.names)), dtype=object)
    names[0, :] = dataset.schema.names
    return ParquetSource(parquet_sheet_name(item, base), header_row=0,
                         head=np.vstack([names, _table_cells(first)]), base=base,
                         dataset=dataset)


def _tables(dataset, size: int) -> Iterator:
    """The dataset's rows in order as tables of `size` rows (the last one fewer), from its
    record batches (which end at row groups and files)."""
    import pyarrow as pa

    pending: list = []
    rows = 0
    for batch in dataset.to_batches(batch_size=size, batch_readahead=2, fragment_readahead=1):
        pending.append(pa.Table.from_batches([batch]))
        rows += batch.num_rows
        while rows >= size:
            table = pa.concat_tables(pending)
            yield table.slice(0, size)
            pending, rows = [table.slice(size)], rows - size
    if rows:
        yield pa.concat_tables(pending)


def _table_cells(table) -> np.ndarray:
    """A pyarrow table's rows as cells (`readers._arrow_cells` per column)."""
    cells = np.empty((table.num_rows, table.num_columns), dtype=object)
    for position, column in enumerate(table.columns):
        cells[:, position] = _arrow_cells(column)
    return cells

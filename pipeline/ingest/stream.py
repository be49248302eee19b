"""Read the files of one source in chunks: `load_source` for inputs too large to hold at once.

    stream = iter_source_chunks(paths, Source.MEMBERS, chunk_rows=200_000)
    for chunk in stream:      # pandas DataFrames
        ...
    stream.files              # list[FileInfo], once the stream is exhausted

`pd.concat(list(stream))` equals `load_source(paths, source).frame`: the same columns in the
same order (fields and extra columns of every data sheet, `source_file`, `source_sheet`,
`source_row`, absent fields as None), dtypes (object; `source_row` int64), values, row order
and index (each chunk's RangeIndex continues the previous one), the same rows classified as
blank or non-data, merged cells filled down the same way (across chunk boundaries too);
`stream.files` equals its `files`. Every chunk holds at least one and at most `chunk_rows`
data rows: a chunk is the data rows of a block of `chunk_rows` records of one sheet (fewer when
records are blank or non-data, or at the end of a sheet); chunks never span two sheets or
files. (No paths: one empty frame, as `load_source([])`.)

Memory: the stream holds one block of records and the chunk made of it; a consumer that drops
each chunk before asking for the next (`for chunk in stream: ...; del chunk`) holds about one
chunk in all (else two). Per format (details in `stream_sources`): CSV and Parquet are read
a block at a time, except a CSV with bare-CR line ends or a cell over 131,072 characters,
read whole as `load` reads it; a workbook sheet is held whole in calamine's (Rust) memory
while its rows become Python cells a block at a time.

Errors: everything `load_source` refuses before reading rows is refused when
`iter_source_chunks` is called, before any chunk, with the same InputError: a missing or
mistyped file, a NUL byte or an unknown encoding in a CSV, a damaged workbook, a sheet that
looks like data but lacks a required column, a hidden sheet with the header, no header at
all. Only what needs the rows is raised while iterating: a CSV cell over the csv module's
field limit in a file pandas' parser refuses (raised on reaching it), an unreadable Parquet
row group, and, after the last row, "a header but no data rows". With faults in two files the
first raised may differ from `load_source`'s (which reads file after file).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputError
from pipeline.ingest.headers import Header, Merge
from pipeline.ingest.load import (
    FileInfo,
    SheetInfo,
    _file_info,
    _no_header_error,
    _sheet_header,
    _stack,
    frame_from_records,
)
from pipeline.ingest.readers import RawBook, RawSheet
from pipeline.ingest.stream_sources import SheetSource, StreamBook, open_stream_book
from pipeline.schema import FIELDS, SOURCE_FILE, SOURCE_LABELS, SOURCE_ROW, SOURCE_SHEET, Source

PROVENANCE = [SOURCE_FILE, SOURCE_SHEET, SOURCE_ROW]


def iter_source_chunks(paths: list[Path], source: Source, chunk_rows: int = 200_000
                       ) -> SourceStream:
    """The rows of a source's files as a stream of chunks (see the module docstring).

    Raises InputError at once for what `load_source` refuses before reading rows, ValueError
    for `chunk_rows` below 1."""
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
    return SourceStream([Path(p) for p in paths], source, chunk_rows)


@dataclass
class _DataSheet:
    """A sheet found to hold the source's data: its records and header."""

    source: SheetSource
    header: Header


@dataclass
class _FilePlan:
    """One input as planned: its book, and per sheet in order a skip (SheetInfo) or data."""

    path: Path
    book: StreamBook
    sheets: list[SheetInfo | _DataSheet] = field(default_factory=list)


class SourceStream:
    """An iterable of chunks (pandas DataFrames) of a source's rows; iterable once.

    `columns`: the columns every chunk has, in order. `files`: the inputs' FileInfos, once
    the iteration has ended (RuntimeError before)."""

    def __init__(self, paths: list[Path], source: Source, chunk_rows: int) -> None:
        self.source, self.chunk_rows, self.paths = source, chunk_rows, paths
        self._plans = [_plan_file(path, source) for path in paths]
        self.columns = _columns(self._plans, source)
        self._files: list[FileInfo] | None = None
        self._started = False

    @property
    def files(self) -> list[FileInfo]:
        if self._files is None:
            raise RuntimeError("the files' accounting is known once every chunk was read")
        return self._files

    def __iter__(self) -> Iterator[pd.DataFrame]:
        if self._started:
            raise RuntimeError("a SourceStream can be iterated once")
        self._started = True
        return self._chunks()

    def _chunks(self) -> Iterator[pd.DataFrame]:
        infos: list[FileInfo] = []
        position = 0
        for plan in self._plans:
            sheets: list[SheetInfo] = []
            for sheet in plan.sheets:
                if isinstance(sheet, SheetInfo):
                    sheets.append(sheet)
                    continue
                info = _read_info(sheet)
                for frame in _sheet_frames(sheet, self.source, plan.path, self.chunk_rows, info):
                    chunk = _conform(frame, self.columns, position)
                    position += len(chunk)
                    del frame  # hold no chunk while the next one is read (nor below)
                    yield chunk
                    del chunk
                sheets.append(info)
            infos.append(_file_info(plan.path, self.source,
                                    RawBook(plan.book.format, plan.book.encoding), sheets))
        if self.paths and sum(info.rows_data for info in infos) == 0:
            raise InputError(f"the {SOURCE_LABELS[self.source]} has a header but no data rows.",
                             "check that the export finished (a header-only file is a failed "
                             "export), then run again.",
                             file=", ".join(str(p) for p in self.paths))
        self._files = infos
        if not self.paths:
            empty = _stack([], self.columns)
            empty[SOURCE_ROW] = empty[SOURCE_ROW].astype("int64")
            yield empty


# -- planning: every file's sheets and headers, before any row is read ---------------------------

def _plan_file(path: Path, source: Source) -> _FilePlan:
    """What `load_file` decides before reading rows, with its InputErrors: which sheets hold
    data, under which header, and why the others are skipped."""
    fields = FIELDS[source]
    book = open_stream_book(path)
    stand_in = RawBook(book.format, book.encoding, [
        RawSheet(s.name, s.head, visible=s.visible, worksheet=s.worksheet, merges=s.merges,
                 header_row=s.header_row) for s in book.sheets])
    if not any(sheet.cells.size for sheet in stand_in.sheets) and book.format == "csv":
        raise InputError(f"the file is empty; expected the {SOURCE_LABELS[source]} with a "
                         "header row.", "check that the export finished, then run again.",
                         file=str(path))
    plan = _FilePlan(path, book)
    skipped: list[SheetInfo] = []
    for sheet, raw in zip(book.sheets, stand_in.sheets, strict=True):
        header = _sheet_header(raw, fields, source, path, stand_in)
        if isinstance(header, str):
            info = SheetInfo(name=raw.name, status="skipped", reason=header)
            plan.sheets.append(info)
            skipped.append(info)
        else:
            plan.sheets.append(_DataSheet(sheet, header))
    if not any(isinstance(s, _DataSheet) for s in plan.sheets):
        raise _no_header_error(path, source, stand_in, skipped)
    return plan


def _columns(plans: list[_FilePlan], source: Source) -> list[str]:
    """The columns of `load_source`'s frame: those of each data sheet's frame in order of
    first appearance (as `pd.concat` unites them), then the source's absent fields."""
    columns: dict[str, None] = {}
    for plan in plans:
        for sheet in plan.sheets:
            if isinstance(sheet, _DataSheet):
                header_map = sheet.header.header_map
                for name in [*header_map.field_columns, *header_map.extra_columns, *PROVENANCE]:
                    columns.setdefault(name, None)
    if not plans:
        return [*(f.name for f in FIELDS[source]), *PROVENANCE]
    for f in FIELDS[source]:
        columns.setdefault(f.name, None)
    return list(columns)


# -- reading: a data sheet's records, a block at a time ------------------------------------------

def _read_info(sheet: _DataSheet) -> SheetInfo:
    """The data sheet's SheetInfo with zero counts (`_sheet_frames` adds them up)."""
    header = sheet.header
    header_map = header.header_map
    return SheetInfo(
        name=sheet.source.name, status="read", header_rows=header.rows,
        headers={name: header.written(position)
                 for name, position in header_map.field_columns.items()},
        extra_columns=[c.removeprefix("extra:") for c in header_map.extra_columns],
        duplicate_columns=list(header_map.duplicate_fields))


def _sheet_frames(sheet: _DataSheet, source: Source, path: Path, chunk_rows: int,
                  info: SheetInfo) -> Iterator[pd.DataFrame]:
    """The data rows of a data sheet as frames of `frame_from_records`, one per block of
    `chunk_rows` records (empty ones left out); counts added to `info` as `load` counts."""
    header = sheet.header
    anchors: dict[int, np.ndarray] = {}
    non_data: dict[str, int] = {}
    for first, block in sheet.source.blocks(header.last_row + 1, chunk_rows):
        block = fill_down_block(block, first, sheet.source.merges, header.last_row, anchors)
        body, header_grid = _same_width(block, sheet.source.head)
        frame, blank, kinds = frame_from_records(body, first, header.header_map,
                                                 FIELDS[source], str(path), sheet.source.name,
                                                 header, header_grid)
        rows_non_data = sum(kinds.values())
        info.rows_read += len(frame) + rows_non_data
        info.rows_non_data += rows_non_data
        info.blank_rows_skipped += blank
        for kind, count in kinds.items():
            non_data[kind] = non_data.get(kind, 0) + count
        del block, body, header_grid
        if len(frame):
            yield frame
        del frame
    # in `load`'s order of kinds (footer, serial_only, repeated_header), zero counts left out
    info.non_data = {kind: count for kind, count in non_data.items() if count}


def _same_width(body: np.ndarray, head: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`body` and the head records padded with None to the wider of the two: in `load` the
    whole sheet is one grid, so the header rows and every record are as wide as the widest."""
    width = max(body.shape[1], head.shape[1])
    return _pad(body, width), _pad(head, width)


def _pad(cells: np.ndarray, width: int) -> np.ndarray:
    if cells.shape[1] >= width:
        return cells
    out = np.full((len(cells), width), None, dtype=object)
    out[:, :cells.shape[1]] = cells
    return out


def fill_down_block(cells: np.ndarray, first: int, merges: tuple[Merge, ...], below: int,
                    anchors: dict[int, np.ndarray]) -> np.ndarray:
    """`load.fill_down_merged` on a block of records (record 0 of `cells` is the sheet's
    record `first`; blocks come in order): every range merged down over data rows (below
    record `below`) gets its first row's cells in its other rows, in the order of `merges`.
    A range's first-row cells are kept in `anchors` (by its position in `merges`) for the
    blocks its later rows fall in, until its last row. Returns `cells` itself when no merged
    range reaches into the block."""
    end = first + len(cells)
    width = cells.shape[1]
    copied = False
    for number, (top, left, bottom, right) in enumerate(merges):
        if bottom <= top or top <= below or top >= end or bottom < first:
            continue
        if not copied:
            cells, copied = cells.copy(), True
        right = min(right, width - 1)
        if top >= first:
            anchors[number] = cells[top - first, left:right + 1].copy()
        low, high = max(top + 1, first), min(bottom, end - 1)
        if low <= high and left <= right:
            cells[low - first:high - first + 1, left:right + 1] = anchors[number]
        if bottom < end:
            anchors.pop(number, None)
    return cells


def _conform(frame: pd.DataFrame, columns: list[str], position: int) -> pd.DataFrame:
    """A sheet's frame with the source's columns (absent ones None, object dtype) in order,
    indexed from `position` on."""
    for name in columns:
        if name not in frame.columns:
            frame[name] = None
    frame = frame[columns]
    frame.index = pd.RangeIndex(position, position + len(frame))
    return frame


__all__ = ["SourceStream", "fill_down_block", "iter_source_chunks"]


def raw_chunks_with_offsets(chunks: Iterable[pd.DataFrame]
                            ) -> Iterator[tuple[pd.DataFrame, int]]:
    """Each non-empty chunk with the ordinal of its first row over the source (what
    `normalise_source(chunk, source, first_row=...)` needs for row keys unique over it)."""
    first = 0
    for chunk in chunks:
        if len(chunk):
            yield chunk, first
            first += len(chunk)

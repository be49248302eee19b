"""Read a Parquet source in pieces that any process can read by itself (a Dask worker).

`iter_source_chunks` (stream.py) reads a source's files in one process, chunk after chunk.
When every input of the source is Parquet (a file or a partitioned folder), the same chunks
can be read elsewhere: the file's footers say how many rows each row group holds, so the
driver cuts the data into `ParquetPiece`s (which row groups, which rows of them) without
reading a row, and a worker reads a piece with `read_piece`:

    plan = plan_parquet_pieces(paths, Source.MEMBERS, chunk_rows=200_000)  # None: not Parquet
    for piece in plan.pieces:                    # in row order
        read = read_piece(piece)                 # on a worker: read.frame, read.counts
        plan.add(read.counts)                    # in row order, on the driver
    plan.files                                   # == stream.files

The pieces are the stream's chunks exactly: piece k's frame equals chunk k of
`iter_source_chunks(paths, source, chunk_rows)` (values, columns, dtypes; its index starts at
0, where a chunk's continues the previous one), empty pieces included (the stream leaves out a
chunk without data rows; the caller does too). `plan.files` adds up the pieces' counts as the
stream does. InputErrors: what the stream refuses before reading rows is refused by
`plan_parquet_pieces` (it plans the files with the stream's own function); a piece that cannot
be read returns its error (`PieceRead.error`, raised by `plan.add` as the stream would raise
it), so that no exception object crosses the network; "a header but no data rows" is raised by
`plan.files`.

Why not `dask.dataframe.read_parquet`: its partitions are row groups, not the stream's
chunks, and its dtypes are not the cells `load` makes (dates, ID-like numbers); reading the
same records with the same functions is what keeps a night on Dask equal to a local one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputError
from pipeline.ingest.headers import Header
from pipeline.ingest.load import FileInfo, SheetInfo, _file_info, frame_from_records
from pipeline.ingest.readers import (
    PARQUET_ERRORS,
    RawBook,
    input_kind,
    parquet_error,
)
from pipeline.ingest.stream import (
    _columns,
    _conform,
    _DataSheet,
    _FilePlan,
    _plan_file,
    _read_info,
    _same_width,
)
from pipeline.ingest.stream_sources import ParquetSource, _table_cells
from pipeline.schema import FIELDS, SOURCE_LABELS, Source


@dataclass(frozen=True)
class PieceInput:
    """What every piece of one Parquet input needs: the input as given (file or folder), its
    dataset's schema (pyarrow), the header found on it and its first records, the source and
    the columns every chunk of the source has."""

    path: Path  # as given: what provenance and messages name
    schema: object  # pyarrow.Schema of the whole dataset (partition columns included)
    header: Header
    head: np.ndarray
    source: Source
    columns: tuple[str, ...]
    # `path` made absolute on the driver: what a worker reads (its working folder may be
    # another one; a path given relative to the driver's would not be found there)
    absolute: Path = Path()
    sheet: str | None = None  # a folder's file, as provenance names it (`parquet_sheet_name`)


@dataclass(frozen=True)
class ParquetPiece:
    """Records `first` .. `first + records - 1` of one sheet of a Parquet input (a file
    input, or one file of a folder: record i + 1 is the file's row i): the row groups that
    hold them and how many rows of those row groups come before the piece's first."""

    input: PieceInput
    input_index: int  # which of the source's paths
    sheet_index: int  # which of its sheets (a folder: one per file)
    files: tuple[Path, ...]
    row_groups: tuple[tuple[int, ...], ...]  # per file of `files`
    skip: int
    first: int
    records: int


@dataclass
class PieceCounts:
    """A piece's accounting, as the stream adds it to its sheet: records read (data and
    non-data), data rows, non-data rows by kind, blank records skipped."""

    rows_read: int = 0
    rows_data: int = 0
    non_data: dict[str, int] = field(default_factory=dict)
    blank: int = 0


@dataclass
class PieceRead:
    """A piece read: its frame (the stream's chunk, indexed from 0) and counts, or the
    InputError's message, fix and file when it could not be read (then `frame` is None)."""

    frame: pd.DataFrame | None
    counts: PieceCounts
    error: tuple[str, str, str] | None = None


def read_piece(piece: ParquetPiece) -> PieceRead:
    """Read one piece here (a pure function of the piece and the files), as the stream reads
    the same records: cells (`stream_sources._table_cells`), then `load.frame_from_records`
    against the input's header, then the source's columns. A Parquet error is returned, not
    raised (`PieceRead.error`)."""
    import pyarrow as pa

    spec = piece.input
    if not spec.absolute.exists():  # the driver saw it: this process does not
        return PieceRead(None, PieceCounts(), (
            f"the {SOURCE_LABELS[spec.source]} cannot be seen from a Dask worker at "
            f"{spec.absolute}, so the worker could not read its part of the Parquet data.",
            "mount the data at the same path on every worker machine (a shared or copied "
            "folder), or pass this input as CSV, which the driver streams to the workers.",
            str(spec.path)))
    try:
        table = _piece_table(piece)
    except (pa.ArrowException, *PARQUET_ERRORS) as error:
        refused = parquet_error(spec.absolute, error, list(piece.files))
        return PieceRead(None, PieceCounts(), (refused.what, refused.fix, str(spec.path)))
    body, header_grid = _same_width(_table_cells(table), spec.head)
    del table
    frame, blank, kinds = frame_from_records(
        body, piece.first, spec.header.header_map, FIELDS[spec.source], str(spec.path),
        spec.sheet, header_grid=header_grid, header=spec.header)
    rows_non_data = sum(kinds.values())
    counts = PieceCounts(rows_read=len(frame) + rows_non_data, rows_data=len(frame),
                         non_data=dict(kinds), blank=blank)
    return PieceRead(_conform(frame, list(spec.columns), 0), counts)


def _piece_table(piece: ParquetPiece):
    """The piece's rows as a pyarrow table: its row groups of its files (a dataset of those
    fragments, with the whole dataset's schema, so hive folders still give their columns),
    sliced to the piece."""
    import pyarrow.dataset as ds

    spec = piece.input
    if spec.absolute.is_dir():
        dataset = ds.dataset([str(f) for f in piece.files], schema=spec.schema,
                             format="parquet", partitioning=ds.partitioning(flavor="hive"),
                             partition_base_dir=str(spec.absolute))
    else:
        dataset = ds.dataset(str(spec.absolute), schema=spec.schema, format="parquet")
    fragments = list(dataset.get_fragments())
    chosen = [fragment.subset(row_group_ids=list(groups))
              for fragment, groups in zip(fragments, piece.row_groups, strict=True)]
    subset = ds.FileSystemDataset(chosen, spec.schema, dataset.format, dataset.filesystem)
    return subset.to_table().slice(piece.skip, piece.records)


class PiecePlan:
    """A Parquet source cut into pieces (`pieces`, in row order) and the accounting of the
    pieces read (`add` each one's counts in row order; then `files`)."""

    def __init__(self, paths: list[Path], source: Source, plans: list[_FilePlan],
                 pieces: list[ParquetPiece]) -> None:
        self.paths, self.source, self.pieces = paths, source, pieces
        self._plans = plans
        # per input, per sheet: the SheetInfo the pieces add up (a skipped sheet's as planned)
        self._infos: list[list[SheetInfo]] = []
        self._non_data: list[list[dict[str, int]]] = []
        for plan in plans:
            self._infos.append([_read_info(sheet) if isinstance(sheet, _DataSheet) else sheet
                                for sheet in plan.sheets])
            self._non_data.append([{} for _ in plan.sheets])
        self._added = 0

    def add(self, piece: ParquetPiece, counts: PieceCounts,
            error: tuple[str, str, str] | None = None) -> None:
        """Count a piece read (pieces in row order). Raises the piece's InputError, if any."""
        if error is not None:
            message, fix, file = error
            raise InputError(message, fix, file=file)
        info = self._infos[piece.input_index][piece.sheet_index]
        non_data = self._non_data[piece.input_index][piece.sheet_index]
        info.rows_read += counts.rows_read
        info.rows_non_data += counts.rows_read - counts.rows_data
        info.blank_rows_skipped += counts.blank
        for kind, count in counts.non_data.items():
            non_data[kind] = non_data.get(kind, 0) + count
        self._added += 1

    @property
    def files(self) -> list[FileInfo]:
        """The inputs' FileInfos, as the stream's, once every piece was added (RuntimeError
        before). Raises "a header but no data rows" as the stream does."""
        if self._added != len(self.pieces):
            raise RuntimeError("the files' accounting is known once every piece was added")
        infos = []
        for plan, sheets, non_data in zip(self._plans, self._infos, self._non_data, strict=True):
            for info, kinds in zip(sheets, non_data, strict=True):
                if info.status == "read":
                    info.non_data = {kind: count for kind, count in kinds.items() if count}
            infos.append(_file_info(plan.path, self.source,
                                    RawBook(plan.book.format, plan.book.encoding), sheets))
        if sum(info.rows_data for info in infos) == 0:
            raise InputError(f"the {SOURCE_LABELS[self.source]} has a header but no data rows.",
                             "check that the export finished (a header-only file is a failed "
                             "export), then run again.",
                             file=", ".join(str(p) for p in self.paths))
        return infos


def all_parquet(paths: Sequence[Path]) -> bool:
    """Whether there are inputs and every one is a Parquet file or folder."""
    return bool(paths) and all(input_kind(Path(p)) in ("parquet", "parquet-folder")
                               for p in paths)


def plan_parquet_pieces(paths: Sequence[Path], source: Source, chunk_rows: int
                        ) -> PiecePlan | None:
    """The pieces of a source whose inputs are all Parquet (None otherwise, or without
    inputs), cut where `iter_source_chunks(paths, source, chunk_rows)` cuts its chunks.
    Reads the header's records and the files' footers only. InputError as the stream, for
    what it refuses before reading rows."""
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
    paths = [Path(p) for p in paths]
    if not all_parquet(paths):
        return None
    plans = [_plan_file(path, source) for path in paths]
    columns = tuple(_columns(plans, source))
    pieces: list[ParquetPiece] = []
    for index, plan in enumerate(plans):
        for sheet_index, sheet in enumerate(plan.sheets):
            if not isinstance(sheet, _DataSheet):  # skipped (an empty file): no rows to cut
                continue
            assert isinstance(sheet.source, ParquetSource)
            spec = PieceInput(plan.path, sheet.source.dataset.schema, sheet.header,
                              sheet.source.head, source, columns, Path(plan.path).absolute(),
                              sheet.source.name)
            pieces += _cut(spec, index, sheet_index, sheet, chunk_rows)
    return PiecePlan(paths, source, plans, pieces)


def _cut(spec: PieceInput, index: int, sheet_index: int, sheet: _DataSheet, size: int
         ) -> list[ParquetPiece]:
    """The sheet's pieces (a file input, or one file of a folder): records from the header's
    next one to the last, cut where the stream cuts them (`stream_sources._rebatch` over
    tables of `size` rows from record 1: at records 1 + k·size, and where the data
    start)."""
    import pyarrow as pa

    try:
        fragments = list(sheet.source.dataset.get_fragments())
        groups = [[group.num_rows for group in fragment.row_groups] for fragment in fragments]
    except (pa.ArrowException, *PARQUET_ERRORS) as error:
        raise parquet_error(spec.path, error) from None
    files = [Path(fragment.path).absolute() for fragment in fragments]  # read by workers
    # every row group as (file, group, its first row over the dataset, rows)
    located, row = [], 0
    for f, sizes in enumerate(groups):
        for g, rows in enumerate(sizes):
            located.append((f, g, row, rows))
            row += rows
    total = row  # rows of the dataset: records 1 .. total
    start = sheet.header.last_row + 1
    cuts = sorted({start, *range(1 + size, total + 1, size)} - set(range(0, start)))
    pieces = []
    for first, stop in zip(cuts, [*cuts[1:], total + 1], strict=True):
        if stop <= first:
            continue
        low, high = first - 1, stop - 1  # dataset rows [low, high)
        taken = [(f, g, at) for f, g, at, rows in located if at < high and at + rows > low]
        by_file: dict[int, list[int]] = {}
        for f, g, _at in taken:
            by_file.setdefault(f, []).append(g)
        pieces.append(ParquetPiece(
            spec, index, sheet_index, tuple(files[f] for f in by_file),
            tuple(tuple(g) for g in by_file.values()), skip=low - taken[0][2], first=first,
            records=stop - first))
    return pieces


__all__ = ["ParquetPiece", "PieceCounts", "PieceInput", "PiecePlan", "PieceRead",
           "all_parquet", "plan_parquet_pieces", "read_piece"]

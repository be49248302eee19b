"""A source's raw chunks on the Dask workers, read there or sent from here.

Two ways, one result: `(future of a raw chunk, ordinal of its first row over the source)` in
row order, each chunk `iter_source_chunks` would give (`pipeline.ingest.stream`):

- `read_on_workers`: every input is Parquet; the driver plans the pieces from the files'
  footers (`pieces.plan_parquet_pieces`) and a worker reads each piece, keeps its frame and
  sends back only its counts;
- `sent_from_here`: the driver streams the files (CSV, workbooks) and scatters each chunk to a
  worker.

Either way no process holds the whole source. Used for the roster (`pipeline.roster.on_dask`)
and the civil-affairs side (`pipeline.civil.on_dask`). Task errors are reduced to their type
and place (`link.distributed._sanitised`)."""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterable
from itertools import islice
from typing import TYPE_CHECKING

import pandas as pd

from pipeline.ingest.pieces import ParquetPiece, PieceCounts, PiecePlan, PieceRead, read_piece
from pipeline.ingest.stream import raw_chunks_with_offsets
from pipeline.link.distributed import _sanitised

if TYPE_CHECKING:
    from distributed import Client, Future


def sent_from_here(client: Client, raw_chunks: Iterable[pd.DataFrame]
                   ) -> Generator[tuple[Future, int], None, None]:
    """Each raw chunk read here, scattered to a worker: (its future, the ordinal of its first
    row over the source). Empty chunks are left out."""
    for raw, first_row in raw_chunks_with_offsets(raw_chunks):
        future = client.scatter(raw, hash=False)
        del raw
        yield future, first_row


def _read(piece: ParquetPiece) -> PieceRead:
    return _sanitised(read_piece, piece)


def _piece_frame(read: PieceRead) -> pd.DataFrame | None:
    return read.frame


def _piece_counts(read: PieceRead) -> tuple[PieceCounts, tuple[str, str, str] | None]:
    return read.counts, read.error


def read_on_workers(client: Client, plan: PiecePlan, ahead: int
                    ) -> Generator[tuple[Future, int], None, None]:
    """A source's Parquet pieces read on the workers (`pieces.read_piece`), in two steps:
    a worker reads a piece and keeps its frame, only its counts come here; the ordinal of a
    piece's first data row over the source (which the row keys are made of) is known once
    the pieces before it are counted, so each piece's frame is yielded (a future) with that
    ordinal, in row order. At most `ahead` pieces are read ahead. Pieces without data rows are
    counted and left out, as the stream leaves out such chunks. Raises the InputError of a
    piece that cannot be read, in row order (`PiecePlan.add`)."""
    queue: deque[tuple[ParquetPiece, Future, Future]] = deque()
    pieces = iter(plan.pieces)

    def submit(count: int) -> None:
        for piece in islice(pieces, count):
            read = client.submit(_read, piece, pure=False)
            queue.append((piece, client.submit(_piece_frame, read, pure=False),
                          client.submit(_piece_counts, read, pure=False)))

    first_row = 0
    try:
        submit(ahead)
        while queue:
            piece, frame, counted = queue.popleft()
            submit(1)
            counts, error = counted.result()
            plan.add(piece, counts, error)
            if counts.rows_data:
                yield frame, first_row
                first_row += counts.rows_data
            del frame, counted
    finally:
        for _piece, frame, counted in queue:
            frame.release()
            counted.release()

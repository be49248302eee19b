"""The roster's two passes on a Dask cluster (`bidui run --engine dask`).

The same per-chunk functions as the local engine (`first_pass.first_pass_chunk`,
`second_pass.second_pass_chunk`) run as Dask tasks on the same chunks, so the night is the
same. What lives where:

- the driver streams the roster's files (`pipeline.ingest.stream`), one chunk at a time, and
  scatters each raw chunk to a worker; at most `2 × workers` chunks are in flight, so the
  driver never holds more than that many raw chunks;
- a worker normalises its chunk, builds the validation view and the features, and observes
  the chunk (counts, its sample candidates, which records could pair); the records that could
  pair **stay on the worker** (a future), and only the small parts travel back;
- the driver runs the roster suite on each chunk's view as it arrives (the GX project is the
  driver's), merges the counts and keeps the bottom-k training sample;
- the driver trains on the sample; the scoring context (model, the civil side's index and
  inputs) is scattered to every worker once, and each worker scores the chunks it holds; the
  driver gets back only the kept pairs (a few per civil person) and the member rows they name.

Task errors are reduced to their type and place (`distributed._sanitised`): a record never
reaches a log."""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pipeline.link.distributed import _sanitised
from pipeline.link.spec import ModelSpec
from pipeline.link.streamed import StreamedLinkage
from pipeline.roster.first_pass import (
    CHUNK_ROWS,
    ChunkPart,
    ChunkSource,
    Collected,
    RosterPass,
    context_for,
    first_pass_chunk,
    raw_chunks_with_offsets,
    roster_chunks,
)
from pipeline.roster.second_pass import ScoreContext, finish_roster, second_pass_chunk

if TYPE_CHECKING:
    from distributed import Client, Future


def _first(raw: pd.DataFrame, first_row: int, context: Any, bound: int | None) -> ChunkPart:
    return _sanitised(first_pass_chunk, raw, first_row, context, bound)


def _small(part: ChunkPart) -> ChunkPart:
    return part.small()


def _could_pair(part: ChunkPart) -> pd.DataFrame:
    return part.could_pair


def _rows(frame: pd.DataFrame) -> int:
    return len(frame)


def _score(context: ScoreContext, chunk: pd.DataFrame):
    return _sanitised(second_pass_chunk, context, chunk)


class WorkerChunks:
    """The records that could pair, one future per chunk, held on the workers."""

    def __init__(self, client: Client, futures: list[Future]) -> None:
        self.client = client
        self.futures = futures
        self.rows = sum(client.gather([client.submit(_rows, f, pure=False) for f in futures]))

    def __iter__(self) -> Iterator[pd.DataFrame]:
        """Each chunk brought to this process (for a caller that scores here)."""
        for future in self.futures:
            yield future.result()

    def close(self) -> None:
        for future in self.futures:
            future.release()
        self.futures = []


def workers_of(client: Client) -> int:
    return max(len(client.scheduler_info(n_workers=-1)["workers"]), 1)


def stream_roster_on_dask(client: Client, paths: list[Path], civil_features: pd.DataFrame,
                          spec: ModelSpec, as_of: dt.date, *, chunk_rows: int = CHUNK_ROWS,
                          validate: Callable[[pd.DataFrame], None] | None = None,
                          chunks: ChunkSource | None = None) -> RosterPass:
    """`first_pass.stream_roster` with each chunk's work on a worker (see the module)."""
    linkage = StreamedLinkage(spec, civil_features)
    context = client.scatter(context_for(linkage, as_of, validate is not None),
                             broadcast=True, hash=False)
    collected = Collected(linkage, validate)
    raw_chunks, files_of = chunks or roster_chunks(paths, chunk_rows)
    window = 2 * workers_of(client)
    pending: deque[Future] = deque()
    held: list[Future] = []
    try:
        for raw, first_row in raw_chunks_with_offsets(raw_chunks):
            raw_future = client.scatter(raw, hash=False)
            del raw
            part = client.submit(_first, raw_future, first_row, context,
                                 linkage.sample_bound(), pure=False)
            held.append(client.submit(_could_pair, part, pure=False))
            pending.append(client.submit(_small, part, pure=False))
            del part, raw_future
            while len(pending) >= window:
                collected.add(pending.popleft().result())
        while pending:
            collected.add(pending.popleft().result())
        return collected.result(WorkerChunks(client, held), files_of())
    except BaseException:
        for future in [*held, *pending]:
            future.release()
        raise


def link_roster_on_dask(client: Client, civil: pd.DataFrame, roster: RosterPass
                        ) -> tuple[pd.DataFrame, dict, list[dict]]:
    """`second_pass.link_roster` with each chunk scored on the worker that holds it."""
    linkage = roster.linkage
    if linkage.model is None:  # the roster stage trains it
        linkage.fit()
    context = client.scatter(ScoreContext.of(linkage), broadcast=True, hash=False)
    chunks = roster.could_pair
    if not isinstance(chunks, WorkerChunks):  # the first pass ran here: ship the chunks
        futures = [client.scatter(chunk, hash=False) for chunk in chunks]
    else:
        futures = chunks.futures
    scored = [client.submit(_score, context, chunk, pure=False) for chunk in futures]
    return finish_roster(civil, roster, (future.result() for future in scored))

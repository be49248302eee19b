"""The civil-affairs side read, normalised and validated in chunks on the Dask workers.

With `--engine dask` the night never holds the civil-affairs files whole in one process:

1. **ingest** (`read_on_dask`): the files are cut into the chunks `iter_source_chunks` gives
   (`linking.civil_chunk_rows` rows each). Parquet inputs are read by the workers; CSV and
   workbooks are streamed by the driver, one chunk at a time, each scattered to a worker
   (`pipeline.ingest.on_dask`). The raw chunks stay on the workers; the driver keeps the
   files' `FileInfo`s (counts, headers, hashes) as `load_source` gives them.
2. **normalise** (`CivilChunks.normalise`): each worker types its chunks
   (`sources.prepare_source`, row keys numbered over the whole side). An ID number shared by
   different people in one file (`shared_ids`) needs every row carrying it, wherever it is:
   the two rounds of `normalise.shared_numbers` run on the chunks (the hashes of their rows'
   (file, number) stay on the workers, which find the ones that repeat; the carriers of
   those come here and are decided by `shared_ids.shared_in`, the function the whole frame
   uses: `decide_on_dask`, as for the roster), and each chunk is finished with its rows
   marked (`sources.finish_source`). Each chunk's linking features are built there
   (`link.features.person_features`) and stay there (`link.remote.RemoteFrame`: the roll
   ↔ civil linkage runs on them chunk by chunk, `link.over_chunks`, and the roster
   linkage too, `roster.remote_left`: nothing joins them). The columns the later stages read
   besides them (`keep`: `stages.CIVIL_KEPT_BESIDE_FEATURES`) stay on the workers too,
   each chunk's where it was normalised (`link.remote.RemoteChunks`: the linkage fetches
   the rows of its pairs, and the night, after it, the linked rows only:
   `stages.linked_civil_rows`); the quarantined rows and the field issues come to the
   driver.
3. **validate** (`CivilChunks.validate_in_chunks`): each chunk's validation view is built
   and checked on its worker (`chunk_check.check_chunk`) and merged here
   (`chunked.ChunkedSuite`), so the Data Docs describe the whole side. Then the chunks are
   released on the workers.

The result equals the local engine's: `tests/test_civil_on_dask.py` compares the frames, the
quarantine, the field issues and the suite's stored result with chunks of a few rows and
numbers shared across chunks. Task errors are reduced to their type and place
(`link.distributed._sanitised`): a record never reaches a log.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.ingest.load import FileInfo, Loaded
from pipeline.ingest.on_dask import read_on_workers, sent_from_here
from pipeline.ingest.pieces import plan_parquet_pieces
from pipeline.link.distributed import _sanitised, workers_of
from pipeline.link.features import feature_inputs, person_features
from pipeline.link.remote import RemoteChunks, RemoteFrame
from pipeline.normalise.shared_numbers import ChunkNumbers, SharedNumbers, numbers_of
from pipeline.normalise.shared_numbers_on_dask import decide_on_dask, hash_count
from pipeline.normalise.sources import (
    NormalisedSource,
    Prepared,
    finish_source,
    prepare_source,
)
from pipeline.schema import Source

if TYPE_CHECKING:
    from distributed import Client, Future

    from pipeline.validate.runner import SuiteOutcome, ValidationRun

CIVIL = Source.CIVIL
CHUNK_ROWS = 100_000  # civil-affairs rows per chunk (config linking.civil_chunk_rows)


# -- worker tasks (each through _sanitised) ----------------------------------------------------

def _prepare(raw: pd.DataFrame, as_of: dt.date | None, first_row: int) -> Prepared:
    return _sanitised(prepare_source, raw, CIVIL, as_of, first_row)


def _numbered(prepared: Prepared) -> ChunkNumbers:
    """The chunk's hashes and carriers of its (file, number)s: kept on the worker."""
    return _sanitised(numbers_of, prepared.frame)


def _finish(prepared: Prepared, shared: SharedNumbers) -> NormalisedSource:
    def finish() -> NormalisedSource:
        # finish_source changes the frame in place: on a copy, so a task run twice is the same
        return finish_source(Prepared(prepared.source, prepared.raw, prepared.frame.copy(),
                                      prepared.issues), shared.rows(prepared.frame))

    return _sanitised(finish)


def _kept(normalised: NormalisedSource, keep: Sequence[str] | None) -> pd.DataFrame:
    """The chunk's frame with only its `keep` columns (None: all): what stays on the worker
    for the stages after validate."""
    def kept() -> pd.DataFrame:
        frame = normalised.frame
        if keep is not None:
            frame = frame[[c for c in keep if c in frame.columns]]
        return frame

    return _sanitised(kept)


def _rejects(normalised: NormalisedSource, kept: pd.DataFrame
             ) -> tuple[int, NormalisedSource]:
    """What comes to the driver of a chunk: its number of usable rows, and its quarantine
    and field issues beside the first zero rows of its `kept` frame (columns and dtypes);
    the rows themselves stay (`_kept`)."""
    def rejects() -> tuple[int, NormalisedSource]:
        return len(kept), NormalisedSource(normalised.source, kept.iloc[:0].copy(),
                                           normalised.quarantine, normalised.field_issues)

    return _sanitised(rejects)


def _features(normalised: NormalisedSource) -> pd.DataFrame:
    """The chunk's linking features (`person_features` reads a record's own fields only, so
    a chunk's are the whole frame's rows)."""
    return _sanitised(lambda: person_features(feature_inputs(normalised.frame)))


def _no_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[:0].copy()


def _empty(raw: pd.DataFrame) -> pd.DataFrame:
    return raw.iloc[:0].copy()


def _checked(raw: pd.DataFrame, normalised: NormalisedSource, checks: Any) -> Any:
    def check() -> Any:
        from pipeline.validate.chunk_check import check_chunk
        from pipeline.validate.stage import input_view

        return check_chunk(input_view(raw, normalised.frame, CIVIL), checks)

    return _sanitised(check)


# -- the driver's side ---------------------------------------------------------------------------

@dataclass
class CivilChunks(Loaded):
    """The civil-affairs side read on the workers (`read_on_dask`). `frame` is empty (the raw
    columns, no rows; `Loaded`'s contract for the stages after validate); `files` as
    `load_source` gives them; `raw`: one future per chunk, in row order, with `first_rows`
    (each chunk's first row's ordinal over the side); `normalised`: the chunks' futures after
    `normalise`, until `release`."""

    client: Any = None
    raw: list[Future] = field(default_factory=list)
    first_rows: list[int] = field(default_factory=list)
    normalised: list[Future] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """The data rows read (held on the workers, not in `frame`)."""
        return sum(info.rows_data for info in self.files)

    def normalise(self, as_of: dt.date | None, keep: Sequence[str] | None = None,
                  features: bool = False) -> NormalisedSource:
        """The side normalised on the workers, as `normalise_source` on the whole frame (see
        the module). Its frame, cut to the `keep` columns (None: all), stays on the workers,
        each chunk where it was normalised (`NormalisedSource.frame` is a
        `link.remote.RemoteChunks`; `.fetch()` equals the local engine's frame); the
        quarantine and the field issues come here. With `features`, its linking features
        too (`NormalisedSource.features`, a `RemoteFrame` equal to `person_features` of the
        whole frame), built on the workers chunk by chunk and kept there."""
        client = self.client
        prepared = [client.submit(_prepare, raw, as_of, first, pure=False)
                    for raw, first in zip(self.raw, self.first_rows, strict=True)]
        numbered = [client.submit(_numbered, p, pure=False) for p in prepared]
        try:
            hashes = sum(client.gather([client.submit(hash_count, n, pure=False)
                                        for n in numbered]))
            shared = decide_on_dask(client, numbered, hashes)
            self.normalised = [client.submit(_finish, p, shared, pure=False) for p in prepared]
        finally:
            for future in [*prepared, *numbered]:
                future.release()
        kept = [client.submit(_kept, n, keep, pure=False) for n in self.normalised]
        counted = client.gather([client.submit(_rejects, n, k, pure=False)
                                 for n, k in zip(self.normalised, kept, strict=True)])
        parts = [part for _, part in counted]
        joined = _joined(parts)
        joined.frame = RemoteChunks(client, kept, [rows for rows, _ in counted],
                                    parts[0].frame if parts else pd.DataFrame())
        if features and self.normalised:  # (no chunks: the linking stage builds them)
            joined.features = self._features_there(len(joined.frame))
        return joined

    def _features_there(self, rows: int) -> RemoteFrame:
        """The linking features of every chunk, each built and kept where the chunk was
        normalised: only their futures, row counts and columns come here (`RemoteFrame`:
        both linkages read them in these chunks)."""
        client = self.client
        built = [client.submit(_features, n, pure=False) for n in self.normalised]
        lengths = client.gather([client.submit(len, b, pure=False) for b in built])
        empty = client.submit(_no_rows, built[0], pure=False).result()
        return RemoteFrame(rows, empty, parts=built, lengths=[int(n) for n in lengths],
                           client=client)

    def validate_in_chunks(self, run: ValidationRun, suite: str, labels: dict,
                           spill_dir: Path | None = None) -> SuiteOutcome:
        """The input suite over every chunk, each checked on its worker and merged here
        (`chunked.ChunkedSuite` in `run`, its hashes in `spill_dir`: the night's scratch
        folder); then the chunks are released. Raises as `ChunkedSuite`."""
        from pipeline.validate.chunked import ChunkedSuite

        if not self.normalised:
            raise RuntimeError("validate_in_chunks() before normalise()")
        client = self.client
        window = 2 * workers_of(client)
        with ChunkedSuite(run, suite, labels, spill_dir=spill_dir) as chunked:
            checks = client.scatter(chunked.checks, broadcast=True, hash=False)
            pending: deque[Future] = deque()
            for raw, normalised in zip(self.raw, self.normalised, strict=True):
                pending.append(client.submit(_checked, raw, normalised, checks, pure=False))
                while len(pending) >= window:
                    chunked.add_checked(pending.popleft().result())
            while pending:
                chunked.add_checked(pending.popleft().result())
            outcome = chunked.finish()
        self.release()
        return outcome

    def release(self) -> None:
        """Free the chunks on the workers (idempotent)."""
        for future in [*self.raw, *self.normalised]:
            future.release()
        self.raw, self.normalised = [], []


def read_on_dask(client: Client, paths: Sequence[Path], chunk_rows: int = CHUNK_ROWS
                 ) -> CivilChunks:
    """The civil-affairs files cut into chunks on the workers (see the module). Raises the
    InputError `load_source` raises for the same files (a missing column, an unreadable
    file, no data rows), before or while reading."""
    from pipeline.ingest.stream import iter_source_chunks

    paths = [Path(p) for p in paths]
    plan = plan_parquet_pieces(paths, CIVIL, chunk_rows)
    chunks: list[tuple[Future, int]] = []
    try:
        if plan is not None:
            read = read_on_workers(client, plan, 2 * workers_of(client))
        else:
            stream = iter_source_chunks(paths, CIVIL, chunk_rows)
            read = sent_from_here(client, stream)
        chunks.extend(read)  # one at a time: those read so far are released on an error
        files: list[FileInfo] = list(plan.files if plan is not None else stream.files)
        empty = (client.submit(_empty, chunks[0][0], pure=False).result() if chunks
                 else pd.DataFrame())
    except BaseException:
        for future, _ in chunks:
            future.release()
        raise
    return CivilChunks(CIVIL, empty, files, client=client, raw=[f for f, _ in chunks],
                       first_rows=[first for _, first in chunks])


def _joined(parts: list[NormalisedSource]) -> NormalisedSource:
    """The chunks' parts as one `NormalisedSource`, as `normalise_source` gives it for the
    whole frame: rows in order, fresh indexes, the field issues in its order (by field, in
    the normalisation plan's order, then the shared ID numbers', each by row)."""
    from pipeline.normalise.field_issues import SHARED_NUMBER
    from pipeline.normalise.sources import PLANS

    frame = pd.concat([p.frame for p in parts], ignore_index=True)
    quarantine = pd.concat([p.quarantine for p in parts], ignore_index=True)
    issues = [p.field_issues for p in parts if p.field_issues is not None]
    field_issues = None
    if issues:
        joined = pd.concat(issues, ignore_index=True)
        rank = {name: k for k, name in enumerate(PLANS[CIVIL])}
        last = len(rank)  # `id_number`: numbers of no ID's shape, after the plan's fields,
        shared = joined["reason_code"].to_numpy(dtype=object) == SHARED_NUMBER[0]  # then these
        order = np.argsort(joined["field"].map(lambda f: rank.get(f, last))
                           .to_numpy(dtype=np.int64) + shared, kind="stable")
        field_issues = joined.iloc[order].reset_index(drop=True)
    return NormalisedSource(CIVIL, frame, quarantine, field_issues)


__all__ = ["CHUNK_ROWS", "CivilChunks", "read_on_dask"]

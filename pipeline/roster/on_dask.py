"""The roster's two passes on a Dask cluster (`bidui run --engine dask`).

The same per-chunk functions as the local engine (`first_pass.first_pass_chunk`,
`second_pass.second_pass_chunk`) run as Dask tasks on the same chunks, so the night is the
same. What lives where:

- when every roster input is Parquet, the workers read the chunks themselves
  (`read_on_workers`, `pipeline.ingest.pieces`): the driver reads only the header and the
  files' footers, cuts the data where the stream would cut its chunks, and learns each
  piece's counts (the row keys' ordinals follow from them); otherwise the driver streams
  the roster's files (`pipeline.ingest.stream`), one chunk at a time, and scatters each raw
  chunk to a worker (`sent_from_here`). Either way at most `2 × workers` chunks are in
  flight;
- the roster is read twice: first each chunk gives a worker the hashes of its ID numbers
  and its carriers of them, so the numbers shared by different people are known over the
  whole roster (`shared_numbers_on_dask`) before any chunk is finished;
- a worker normalises its chunk, builds the validation view and the features, and observes
  the chunk (counts, its sample candidates, which records could pair); the records that could
  pair **stay on the worker** (a future), and only the small parts travel back;
- the driver runs the roster suite on each chunk's view as it arrives (the GX project is the
  driver's), merges the counts and keeps the bottom-k training sample;
- the sample candidates' records stay on the workers too; the driver keeps their hashes
  (bottom-k) and a worker trains on the sample (`fit_roster_on_dask`; with the civil
  features in chunks, `over_left_chunks`): the model comes back;
- the civil side's features are on the workers already, in row chunks
  (`link.remote.RemoteFrame`, the night's case): its index, key parts, scoring context and
  left parts are made from the chunks (`remote_left`), and the workers fetch them from
  there; given here as a frame (tests), they are made here and sent;
- the civil side is joined either broadcast (its index for the first pass and its scoring
  context, the model and its comparison inputs, for the second go to every
  worker once, and each worker scores the chunks it holds) or partitioned by blocking key
  (`KeyParts` for the first pass, `partitioned_on_dask` for the second: each part of the
  civil side on one worker, each chunk's pieces sent to the parts), as `roster.join`
  decides once before the first pass; the scored chunks are combined on the workers in a
  tree and the result assigned there (`decided_on_workers`), so the driver gets back only
  the linked pairs over the whole roster and the member rows they name.

Task errors are reduced to their type and place (`distributed._sanitised`): a record never
reaches a log."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.ingest.load import FileInfo
from pipeline.ingest.on_dask import read_on_workers, sent_from_here
from pipeline.ingest.pieces import plan_parquet_pieces
from pipeline.link.distributed import _sanitised, scatter_frame, worker_addresses, workers_of
from pipeline.link.fellegi_sunter import Model
from pipeline.link.over_left_chunks import fit_sample_over_chunks
from pipeline.link.partitioned import (
    KeyCounts,
    KeyPart,
    chunk_key_pieces,
    could_pair_mask,
    count_keys,
    key_parts,
)
from pipeline.link.remote import is_remote
from pipeline.link.spec import ModelSpec
from pipeline.link.streamed import SAMPLE_HASH, StreamedLinkage, fit_on_sample, pick_sample
from pipeline.roster.first_pass import (
    CHUNK_ROWS,
    ChunkPart,
    ChunkSource,
    ChunkValidation,
    Collected,
    RosterPass,
    _linker,
    context_for,
    first_pass_chunk,
    roster_reads,
)
from pipeline.roster.join import choose_join, key_records
from pipeline.roster.remote_left import (
    first_pass_context,
    key_parts_placed,
    remote_linkage,
    score_context,
)
from pipeline.roster.second_pass import (
    ScoreContext,
    ScoredPart,
    combine_parts,
    decide_part,
    finish_roster,
    second_pass_chunk,
)
from pipeline.roster.shared_numbers_on_dask import find_shared_on_dask
from pipeline.schema import Source
from pipeline.validate.chunk_check import ChunkChecks, check_chunk

if TYPE_CHECKING:
    from distributed import Client, Future

REDUCE_FAN_IN = 4  # scored parts combined per task (`decided_on_workers`)


def _first_checked(raw: pd.DataFrame, first_row: int, context: Any, bound: int | None,
                   checks: ChunkChecks | None) -> ChunkPart:
    part = first_pass_chunk(raw, first_row, context, bound)
    if checks is not None and part.view is not None:
        begun = time.perf_counter()
        part.checked = check_chunk(part.view, checks)  # GX in the worker's own context
        part.view = None
        part.seconds["validate_on_worker"] = time.perf_counter() - begun
    return part


def _first(raw: pd.DataFrame, first_row: int, context: Any, bound: int | None,
           checks: ChunkChecks | None = None) -> ChunkPart:
    return _sanitised(_first_checked, raw, first_row, context, bound, checks)


def _small(part: ChunkPart) -> ChunkPart:
    """What travels to the driver: the counts, the view and the sample candidates' hashes
    only (their records stay on the worker: `_sample_candidates`)."""
    small = part.small()
    seen = small.observation
    small.observation = dataclasses.replace(seen, sample=seen.sample[[SAMPLE_HASH]])
    return small


def _sample_candidates(part: ChunkPart) -> pd.DataFrame:
    return part.observation.sample


def _fit_sample(spec: ModelSpec, left: pd.DataFrame, records: int, chosen: np.ndarray,
                candidates: list[pd.DataFrame]) -> Model:
    return fit_on_sample(spec, left, pick_sample(candidates, chosen), records)


def _fit(spec: ModelSpec, left: pd.DataFrame, records: int, chosen: np.ndarray,
         candidates: list[pd.DataFrame]) -> Model:
    return _sanitised(_fit_sample, spec, left, records, chosen, candidates)


def _could_pair(part: ChunkPart) -> pd.DataFrame:
    return part.could_pair


def _rows(frame: pd.DataFrame) -> int:
    return len(frame)


def _score(context: ScoreContext, chunk: pd.DataFrame):
    return _sanitised(second_pass_chunk, context, chunk)


class WorkerChunks:
    """The records that could pair, one future per chunk, held on the workers; and, until the
    model is trained (`fit_roster_on_dask`), each chunk's sample candidates."""

    def __init__(self, client: Client, futures: list[Future],
                 samples: list[Future] | None = None) -> None:
        self.client = client
        self.futures = futures
        self.samples = samples or []
        self.rows = sum(client.gather([client.submit(_rows, f, pure=False) for f in futures]))

    def __iter__(self) -> Iterator[pd.DataFrame]:
        """Each chunk brought to this process (for a caller that scores here)."""
        for future in self.futures:
            yield future.result()

    def release_samples(self) -> None:
        for future in self.samples:
            future.release()
        self.samples = []

    def close(self) -> None:
        self.release_samples()
        for future in self.futures:
            future.release()
        self.futures = []


def scatter_placed(client: Client, parts: Iterable[Any]
                   ) -> Iterator[tuple[Any, Future, str]]:
    """Each part scattered to one worker, part i on worker i mod W (`worker_addresses`), to
    stay there: (the part, its future, its worker), for tasks placed with it. One part at
    a time: a caller that keeps only the futures holds no part here."""
    workers = worker_addresses(client)
    for n, part in enumerate(parts):
        worker = workers[n % len(workers)]
        yield part, client.scatter(part, workers=[worker], hash=False), worker


def stream_roster_on_dask(client: Client, paths: list[Path], civil_features: pd.DataFrame,
                          spec: ModelSpec, as_of: dt.date, *, chunk_rows: int = CHUNK_ROWS,
                          validate: Callable[[pd.DataFrame], None] | None = None,
                          chunks: ChunkSource | None = None,
                          validation: ChunkValidation | None = None,
                          join: str = "broadcast", scratch: Path | None = None) -> RosterPass:
    """`first_pass.stream_roster` with each chunk's work on a worker (see the module).

    When every roster input is Parquet (and no `chunks` are given), the workers read the
    chunks themselves (`read_on_workers`); otherwise this process streams them
    (`sent_from_here`), twice: first for the numbers shared by different people over the
    whole roster (`shared_numbers_on_dask.find_shared_on_dask`), then for the first pass.
    `validation` (what the night gives): each chunk's view is checked on
    its worker (`chunk_check.check_chunk` with `validation.checks`) and only the result
    comes here (`validation.add_checked`); `validate(view)` instead brings each view here.
    Each chunk's quarantined rows and field issues come here too and go to disk
    (`rejects.RosterRejects`, in `scratch`: the night's scratch folder).

    `join` (config `linking.dask_join`, `roster.join.choose_join`): with the partitioned
    join the civil side's keys are cut into parts, one per worker and rule
    (`partitioned.key_parts`), instead of its index going to every worker: each chunk's
    keys go to the parts in pieces, which count them and say which members could pair
    (`KeyParts`). The choice is the returned pass's `join`; the second pass follows it."""
    window = 2 * workers_of(client)
    plan = None if chunks is not None else plan_parquet_pieces(paths, Source.MEMBERS,
                                                               chunk_rows)
    read = roster_reads(paths, chunk_rows, chunks)
    begun = time.perf_counter()
    if plan is not None:  # a plan of its own: `read_on_workers` adds each piece's counts to it
        first_read = read_on_workers(
            client, plan_parquet_pieces(paths, Source.MEMBERS, chunk_rows), window)
    else:
        first_read = sent_from_here(client, read()[0])
    shared = find_shared_on_dask(client, first_read, as_of, window)
    shared_seconds = time.perf_counter() - begun
    remote = is_remote(civil_features)
    linkage = remote_linkage(client, spec, civil_features) if remote else \
        StreamedLinkage(spec, civil_features)
    choice = choose_join(len(civil_features), key_records(linkage.index.rule_records),
                         workers_of(client), join)
    validating = validation is not None or validate is not None
    made = context_for(linkage, as_of, validating, choice.partitioned, shared)
    context = first_pass_context(client, made, civil_features) \
        if remote and not choice.partitioned else \
        client.scatter(made, broadcast=True, hash=False)
    keys = KeyParts(client, linkage, choice.partitions) if choice.partitioned else None
    checks = None if validation is None else client.scatter(validation.checks, broadcast=True,
                                                            hash=False)
    collected = Collected(linkage, validate,
                          None if validation is None else validation.add_checked, scratch)
    collected.seconds["shared_numbers"] = shared_seconds
    if plan is not None:
        raw = read_on_workers(client, plan, window)
        files_of: Callable[[], list[FileInfo]] = lambda: plan.files  # noqa: E731
    else:
        raw_chunks, files_of = read()
        raw = sent_from_here(client, raw_chunks)
    pending: deque[tuple[Future, list[Future]]] = deque()
    held: list[Future] = []
    samples: list[Future] = []

    def add(small: Future, counted: list[Future]) -> None:
        collected.add(small.result())
        for found in client.gather(counted):
            linkage.add_key_counts(found.kind, found.which, found.codes, found.counts)

    try:
        for raw_future, first_row in raw:
            part = client.submit(_first, raw_future, first_row, context,
                                 linkage.sample_bound(), checks, pure=False)
            features = client.submit(_could_pair, part, pure=False)
            counted: list[Future] = []
            if keys is not None:  # the parts count the keys and say who could pair
                features, counted = keys.look_up(features)
            held.append(features)
            samples.append(client.submit(_sample_candidates, part, pure=False))
            pending.append((client.submit(_small, part, pure=False), counted))
            del part, raw_future, features
            while len(pending) >= window:
                add(*pending.popleft())
        while pending:
            add(*pending.popleft())
        result = collected.result(WorkerChunks(client, held, samples), files_of())
        result.join = choice
        result.shared_numbers = len(shared)
        return result
    except BaseException:
        for future in [*held, *samples, *(f for small, counted in pending
                                            for f in (small, *counted))]:
            future.release()
        collected.close()
        raise
    finally:
        raw.close()  # a generator stopped early releases what it holds
        if keys is not None:
            keys.release()


def _key_pieces(spec: ModelSpec, tf_columns: list[str], partitions: int,
                features: pd.DataFrame) -> tuple[list[pd.Series], list[np.ndarray]]:
    return _sanitised(chunk_key_pieces, _linker(spec), tf_columns, features, partitions)


def _key_piece(keyed: tuple[list[pd.Series], list[np.ndarray]], n: int) -> pd.Series:
    return keyed[0][n]


def _count(part: KeyPart, piece: pd.Series) -> KeyCounts:
    return _sanitised(count_keys, part, piece)


def _counts_only(found: KeyCounts) -> KeyCounts:
    """What the driver needs of a part's answer: the codes and counts, not the keys."""
    return dataclasses.replace(found, found=found.found[:0])


def _keep_could_pair(features: pd.DataFrame,
                     keyed: tuple[list[pd.Series], list[np.ndarray]], *found: KeyCounts
                     ) -> pd.DataFrame:
    def keep() -> pd.DataFrame:
        return features[could_pair_mask(keyed[1], list(found))].reset_index(drop=True)

    return _sanitised(keep)


class KeyParts:
    """The civil side's blocking keys and term-frequency values in parts on the workers
    (`partitioned.key_parts`, part i on worker i mod W), for the partitioned first pass."""

    def __init__(self, client: Client, linkage: StreamedLinkage, partitions: int) -> None:
        self.client, self.spec, self.partitions = client, linkage.spec, partitions
        self.tf_columns = list(linkage.index.tf_sizes)
        if is_remote(linkage.left):  # made beside the civil side's features
            self.placed = key_parts_placed(client, linkage, partitions)
            return
        self.placed: list[tuple[Future, str, bool]] = [
            (future, worker, part.kind == "rule")
            for part, future, worker in scatter_placed(client, key_parts(linkage.index,
                                                                         partitions))]

    def look_up(self, features: Future) -> tuple[Future, list[Future]]:
        """A chunk's features (all its members) looked up in the parts: the features of the
        members who could pair, and per part the counts of the chunk's keys found there
        (`KeyCounts` without the keys)."""
        client = self.client
        keyed = client.submit(_key_pieces, self.spec, self.tf_columns, self.partitions,
                              features, pure=False)
        # on the part's worker only (a loose restriction lets work stealing copy the part)
        found = [client.submit(_count, part,
                               client.submit(_key_piece, keyed, n, pure=False),
                               workers=[worker], allow_other_workers=False, pure=False)
                 for n, (part, worker, _) in enumerate(self.placed)]
        could = client.submit(_keep_could_pair, features, keyed,
                              *(f for f, (_, _, rule) in zip(found, self.placed, strict=True)
                                if rule), pure=False)
        return could, [client.submit(_counts_only, f, pure=False) for f in found]

    def release(self) -> None:
        for part, _, _ in self.placed:
            part.release()
        self.placed = []


def fit_roster_on_dask(client: Client, roster: RosterPass) -> Model:
    """Train the member model on a worker: the chunks' sample candidates never leave the
    workers; the driver sends the sample's hashes (8 bytes a record) and gets back the
    model, the one the local engine trains on the same sample in the same order
    (`streamed.fit_on_sample`). Civil features held on the workers (`RemoteFrame`) stay in
    their chunks (`over_left_chunks.fit_sample_over_chunks`); features here are sent."""
    linkage, chunks = roster.linkage, roster.could_pair
    remote = is_remote(linkage.left)
    # Here when the sample is here, or empty and the civil features are here too; features
    # held on the workers (the first pass then ran on the workers) are trained on there.
    if not isinstance(chunks, WorkerChunks) or not (chunks.samples or remote):
        return linkage.fit()
    try:
        if remote:
            parts, lengths = linkage.left.chunks()
            model = client.submit(fit_sample_over_chunks, linkage.spec,
                                  [part.key for part in parts], lengths,
                                  linkage.left.iloc[:0].copy(), linkage.records,
                                  linkage.chosen_hashes(), chunks.samples,
                                  pure=False).result()
        else:
            left = scatter_frame(client, linkage.left)
            try:
                model = client.submit(_fit, linkage.spec, left, linkage.records,
                                      linkage.chosen_hashes(), chunks.samples,
                                      pure=False).result()
            finally:
                left.release()
    finally:
        chunks.release_samples()
    return linkage.trained(model)


def link_roster_on_dask(client: Client, civil: pd.DataFrame, roster: RosterPass
                        ) -> tuple[pd.DataFrame, dict, list[dict]]:
    """`second_pass.link_roster` with each chunk scored on the worker that holds it."""
    linkage = roster.linkage
    if linkage.model is None:  # the roster stage trains it
        fit_roster_on_dask(client, roster)
    if is_remote(linkage.left):
        context = score_context(client, linkage)
        linkage.left.release()  # the context holds what scoring reads of it
    else:
        context = client.scatter(ScoreContext.of(linkage), broadcast=True, hash=False)
    chunks = roster.could_pair
    if not isinstance(chunks, WorkerChunks):  # the first pass ran here: ship the chunks
        futures = [client.scatter(chunk, hash=False) for chunk in chunks]
    else:
        futures = chunks.futures
    scored = [client.submit(_score, context, chunk, pure=False) for chunk in futures]
    return finish_roster(civil, roster,
                         decided=decided_on_workers(client, linkage.spec, scored))


def _combine(spec: ModelSpec, *parts: ScoredPart) -> ScoredPart:
    return _sanitised(combine_parts, spec, list(parts))


def _decide(spec: ModelSpec, part: ScoredPart) -> ScoredPart:
    return _sanitised(decide_part, spec, part)


def decided_on_workers(client: Client, spec: ModelSpec, scored: list[Future],
                       fan_in: int = REDUCE_FAN_IN) -> ScoredPart | None:
    """The chunks' scored parts combined on the workers in a tree (`fan_in` parts a task,
    `second_pass.combine_parts`) and the result decided there (`second_pass.decide_part`:
    assigned one to one, only the linked pairs and the member rows they name kept): what
    `finish_roster(..., decided=...)` takes. None without chunks. The driver receives a few
    rows a link, not every civil person's best pairs and their member rows."""
    level = list(scored)
    while len(level) > 1:
        level = [client.submit(_combine, spec, *level[i:i + fan_in], pure=False)
                 for i in range(0, len(level), fan_in)]
    if not level:
        return None
    return client.submit(_decide, spec, level[0], pure=False).result()

"""The roster linkage's left side (the civil-affairs persons' features) held on the workers.

On `--engine dask` the civil side's features never come to the driver
(`civil.on_dask.CivilChunks.normalise` leaves them in row chunks on the workers, a
`link.remote.RemoteFrame`), and no worker joins them either. The roster linkage
(`streamed.StreamedLinkage`) keeps here only counts (`LeftCounts`: the civil persons per
distinct key and per term-frequency value), nothing per person: the usable blocks and the
term frequencies per value (`TfShares`) are computed from them here and sent to where the
persons' codes are. Whatever reads the persons' features
runs as tasks on their chunks, and what it makes goes from there to the workers that need
it (worker to worker, never through the driver):

- the `LeftIndex` (`remote_linkage`): each chunk's distinct keys, joined in row order on a
  worker (the order `pd.factorize` gives over the whole side), then each chunk's codes in
  them (`ChunkCodes`, kept beside the chunk as `RemoteFrame.codes`: what the plans and the
  term frequencies per person read). The first pass's context carries it to every worker
  with the broadcast join (`first_pass_context`); with the partitioned join it is cut into
  key parts placed on the workers (`key_parts_placed`);
- the broadcast second pass's `ScoreContext` (`score_context`): each chunk's comparison
  inputs, joined beside the index (every worker then fetches the context whole: a broadcast
  join);
- the partitioned second pass's plan and left parts (`remote_plan`, `left_parts_placed`):
  each chunk plans and cuts its own records; each part is joined from the chunks' pieces on
  the worker that keeps it (a shuffle through futures), so no worker holds the inputs whole;
- the member model, trained on a worker with the chunks on its left
  (`link.over_left_chunks`, called by `on_dask.fit_roster_on_dask`).

Once the second pass's context or parts are made, the features and the index are released
(`RemoteFrame.release`): the roll ↔ civil linkage ran before, and scoring reads only the
context or the parts.

The results are those of the same functions run on the driver: `tests/test_distributed.py`
runs the roster's passes with both joins and the civil side here, on a worker and in row
chunks, and checks that none of these is sent from the driver and that the chunks are never
joined; `tests/test_left_chunks.py` checks each piece made from chunks against the whole.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.link.distributed import _sanitised, worker_addresses
from pipeline.link.fellegi_sunter import Model
from pipeline.link.partitioned import (
    KeyPart,
    LeftPart,
    PartitionPlan,
    chunk_left_parts,
    joined_part,
    key_parts,
    plan_of,
    usable_keys_of,
)
from pipeline.link.remote import RemoteFrame
from pipeline.link.spec import ModelSpec
from pipeline.link.streamed import (
    ChunkCodes,
    ChunkKeys,
    LeftIndex,
    StreamedLinkage,
    TfShares,
    joined_inputs,
)
from pipeline.roster.first_pass import FirstPassContext, _linker, with_index
from pipeline.roster.second_pass import ScoreContext

if TYPE_CHECKING:
    from distributed import Client, Future


# -- tasks (each where its chunk or part is) -------------------------------------------------

def _chunk_keys(spec: ModelSpec, chunk: pd.DataFrame) -> tuple[ChunkKeys, ChunkCodes]:
    return _sanitised(ChunkKeys.of, _linker(spec), chunk)


def _keys_only(keyed: tuple[ChunkKeys, ChunkCodes]) -> ChunkKeys:
    return keyed[0]


def _joined_keys(*chunks: ChunkKeys) -> ChunkKeys:
    return _sanitised(ChunkKeys.joined, list(chunks))


def _chunk_codes(keys: ChunkKeys, keyed: tuple[ChunkKeys, ChunkCodes]) -> ChunkCodes:
    return _sanitised(lambda: keyed[1].in_whole(keyed[0], keys))


def _index(spec: ModelSpec, keys: ChunkKeys, *codes: ChunkCodes) -> LeftIndex:
    return _sanitised(LeftIndex.of_chunks, _linker(spec), keys, list(codes))


def _key_parts(index: LeftIndex, partitions: int) -> list[KeyPart]:
    return _sanitised(key_parts, index, partitions)


def _chunk_inputs(spec: ModelSpec, chunk: pd.DataFrame) -> dict[str, np.ndarray]:
    return _sanitised(lambda: _linker(spec).inputs(chunk))


def _score_context(spec: ModelSpec, index: LeftIndex, usable: list[np.ndarray], model: Model,
                   shares: TfShares, *inputs: dict[str, np.ndarray]) -> ScoreContext:
    def made() -> ScoreContext:
        return ScoreContext(spec, index, usable, model, shares.of_records(index.tf_codes),
                            joined_inputs(list(inputs)))

    return _sanitised(made)


def _chunk_plan(spec: ModelSpec, chunk: pd.DataFrame, codes: ChunkCodes,
                usable: list[np.ndarray], partitions: int) -> PartitionPlan:
    return _sanitised(lambda: plan_of(usable_keys_of(_linker(spec), chunk, codes.rules,
                                                     usable), partitions))


def _part_sizes(plan: PartitionPlan) -> np.ndarray:
    return plan.part_sizes()


def _chunk_parts(spec: ModelSpec, chunk: pd.DataFrame, shares: TfShares, codes: ChunkCodes,
                 plan: PartitionPlan, start: int) -> dict[tuple[int, int], LeftPart]:
    return _sanitised(lambda: chunk_left_parts(_linker(spec).inputs(chunk),
                                               shares.of_records(codes.tf), plan, start))


def _joined_part(*pieces: LeftPart) -> LeftPart:
    return _sanitised(joined_part, list(pieces))


def _same(part: Any) -> Any:
    """The part itself: run on another worker, a copy of it there."""
    return part


# -- the driver's side ----------------------------------------------------------------------

def remote_linkage(client: Client, spec: ModelSpec, left: RemoteFrame) -> StreamedLinkage:
    """The roster linkage of a civil side held on the workers: its `LeftIndex` built from
    its chunks (each chunk's distinct keys, joined in row order, then each chunk's codes in
    them, kept beside the chunk as `left.codes`) and kept on a worker as `left.index`; only
    its counts here (`LeftCounts`: per distinct key and value, nothing per person)."""
    parts, _ = left.chunks()
    keyed = [client.submit(_chunk_keys, spec, chunk, pure=False) for chunk in parts]
    keys = client.submit(_joined_keys, *(client.submit(_keys_only, k, pure=False)
                                         for k in keyed), pure=False)
    left.codes = [client.submit(_chunk_codes, keys, k, pure=False) for k in keyed]
    left.index = client.submit(_index, spec, keys, *left.codes, pure=False)
    counts = client.submit(LeftIndex.counts, left.index, pure=False).result()
    return StreamedLinkage(spec, left, index=counts)


def first_pass_context(client: Client, context: FirstPassContext, left: RemoteFrame) -> Future:
    """The first pass's context (made here without the index, `first_pass.context_for`)
    with the civil side's index added beside it: each worker fetches it from there once."""
    return client.submit(with_index, context, left.index, pure=False)


def placed_from(client: Client, parts: Future, count: int) -> Iterator[tuple[Future, str]]:
    """Each of the `count` items of the list `parts` (a future) moved to one worker, item i
    to worker i mod W (as `on_dask.scatter_placed`): (its future, its worker). Each item is
    taken out where the list is and copied to its worker: only the item travels."""
    workers = worker_addresses(client)
    for n in range(count):
        item = client.submit(operator.getitem, parts, n, pure=False)
        worker = workers[n % len(workers)]
        yield client.submit(_same, item, workers=[worker], allow_other_workers=False,
                            pure=False), worker
        del item  # the scheduler keeps it until the copy has run


def key_parts_placed(client: Client, linkage: StreamedLinkage, partitions: int
                     ) -> list[tuple[Future, str, bool]]:
    """`partitioned.key_parts` of a civil side held on a worker, made there and placed as
    `on_dask.KeyParts` places them: (future, worker, whether a rule's part)."""
    codes = linkage.index
    parts = client.submit(_key_parts, linkage.left.index, partitions, pure=False)
    rules = len(codes.rule_sizes) * partitions
    count = rules + len(codes.tf_sizes) * partitions
    try:
        return [(future, worker, n < rules)
                for n, (future, worker) in enumerate(placed_from(client, parts, count))]
    finally:
        parts.release()


def score_context(client: Client, linkage: StreamedLinkage) -> Future:
    """`ScoreContext.of(linkage)` made on the workers: each chunk's comparison inputs where
    it is, joined beside the index (the broadcast join's context, which every worker then
    fetches whole); the usable blocks and the term frequencies (computed here from the
    counts) go there, not the features here; the term frequencies per value
    (`TfShares`), made per person there."""
    usable, _ = linkage.usable_blocks()
    usable_f, tf_f = client.scatter([usable, linkage.tf_shares()], hash=False)
    parts, _ = linkage.left.chunks()
    return client.submit(_score_context, linkage.spec, linkage.left.index, usable_f,
                         linkage.model, tf_f,
                         *(client.submit(_chunk_inputs, linkage.spec, chunk, pure=False)
                           for chunk in parts), pure=False)


@dataclass
class RemotePlan:
    """A `PartitionPlan` made on the civil side's chunks (`remote_plan`): each chunk's plan
    (`futures`, beside its chunk), the number of partitions and each chunk's records per
    part (`chunk_sizes`: int64, rules × partitions)."""

    futures: list[Future]
    partitions: int
    chunk_sizes: list[np.ndarray]

    @property
    def sizes(self) -> np.ndarray:
        """Records per part over all chunks (int64, rules × partitions)."""
        return np.sum(self.chunk_sizes, axis=0, dtype=np.int64)

    @property
    def part_records(self) -> int:
        """As `PartitionPlan.part_records`."""
        return int(self.sizes.sum())

    def per_worker(self, workers: int) -> float:
        """As `PartitionPlan.per_worker`."""
        return self.part_records / max(workers, 1)

    def release(self) -> None:
        for future in self.futures:
            future.release()
        self.futures = []


def remote_plan(client: Client, linkage: StreamedLinkage, partitions: int) -> RemotePlan:
    """`partitioned.partition_plan(linkage, partitions)` for a civil side held on the
    workers, one plan per chunk made there from the chunk's codes beside it
    (`RemoteFrame.codes`) and the usable blocks (from here)."""
    [usable] = client.scatter([linkage.usable_blocks()[0]], broadcast=True, hash=False)
    parts, _ = linkage.left.chunks()
    plans = [client.submit(_chunk_plan, linkage.spec, chunk, chunk_codes, usable, partitions,
                           pure=False)
             for chunk, chunk_codes in zip(parts, linkage.left.codes, strict=True)]
    chunk_sizes = client.gather([client.submit(_part_sizes, plan, pure=False)
                                 for plan in plans])
    return RemotePlan(plans, partitions, chunk_sizes)


def left_parts_placed(client: Client, linkage: StreamedLinkage, plan: RemotePlan
                      ) -> list[tuple[int, Future, str]]:
    """`partitioned.left_parts` of a civil side held on the workers, placed as
    `partitioned_on_dask` places them: (the piece it scores: rule × partitions + partition,
    future, worker). Each chunk cuts its pieces where it is (`chunk_left_parts`); each part
    is joined from its pieces on the worker that keeps it (a shuffle through futures):
    no worker holds the civil side's inputs whole."""
    parts, _ = linkage.left.chunks()
    starts = linkage.left.chunk_starts()
    [shares] = client.scatter([linkage.tf_shares()], broadcast=True, hash=False)
    cut = [client.submit(_chunk_parts, linkage.spec, chunk, shares, codes, chunk_plan,
                         int(starts[k]), pure=False)
           for k, (chunk, codes, chunk_plan) in enumerate(zip(parts, linkage.left.codes,
                                                             plan.futures, strict=True))]
    workers = worker_addresses(client)
    placed = []
    sizes = plan.sizes
    rules, partitions = sizes.shape
    for at in range(rules * partitions):
        r, p = divmod(at, partitions)
        if not sizes[r, p]:
            continue  # parts without records are left out, as `left_parts` leaves them
        worker = workers[len(placed) % len(workers)]
        pieces = [client.submit(operator.getitem, cut[k], (r, p), pure=False)
                  for k, sizes in enumerate(plan.chunk_sizes) if sizes[r, p]]
        placed.append((at, client.submit(_joined_part, *pieces, workers=[worker],
                                         allow_other_workers=False, pure=False), worker))
    return placed

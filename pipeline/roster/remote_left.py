"""The roster linkage's left side (the civil-affairs persons' features) held on a worker.

On `--engine dask` the civil side's features never come to the driver
(`civil.on_dask.CivilChunks.normalise` leaves them in chunks on the workers, a
`link.remote.RemoteFrame`; its `future` joins them on one worker, for the roster linkage).
The roster linkage (`streamed.StreamedLinkage`) then keeps here only the `LeftCodes` (each
civil person's key and value codes, the number of distinct keys): the counts, the usable
blocks and the term frequencies are computed from them here, as before. Whatever reads the
persons' features or their distinct keys runs as a task beside them, and goes from there to
the workers that need it (worker to worker, never through the driver):

- the `LeftIndex` (`remote_linkage`), which the first pass's context carries to every worker
  with the broadcast join (`first_pass_context`), or cut into key parts placed on the workers
  with the partitioned join (`key_parts_placed`);
- the broadcast second pass's `ScoreContext` (`score_context`);
- the partitioned second pass's plan and left parts (`RemotePlan`, `left_parts_placed`).

Once the second pass's context or parts are made, the features and the index are released
on their worker (`RemoteFrame.release`): the roll ↔ civil linkage ran before, and scoring
reads only the context or the parts, so the worker does not hold both while it scores.

The results are those of the same functions run on the driver: `tests/test_distributed.py`
runs the roster's passes with both joins and the civil side held on a worker, and checks
that none of these is sent from the driver.
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
    key_parts,
    left_parts_of,
    plan_of,
    usable_keys_of,
)
from pipeline.link.remote import RemoteFrame
from pipeline.link.spec import ModelSpec
from pipeline.link.streamed import LeftIndex, StreamedLinkage, left_index
from pipeline.roster.first_pass import FirstPassContext, _linker, with_index
from pipeline.roster.second_pass import ScoreContext

if TYPE_CHECKING:
    from distributed import Client, Future


# -- tasks (beside the civil side's features) -----------------------------------------------

def _index(spec: ModelSpec, left: pd.DataFrame) -> LeftIndex:
    return _sanitised(left_index, spec, left)


def _key_parts(index: LeftIndex, partitions: int) -> list[KeyPart]:
    return _sanitised(key_parts, index, partitions)


def _score_context(spec: ModelSpec, index: LeftIndex, usable: list[np.ndarray], model: Model,
                   tf_left: list[np.ndarray | None], left: pd.DataFrame) -> ScoreContext:
    def made() -> ScoreContext:
        return ScoreContext(spec, index, usable, model, tf_left, _linker(spec).inputs(left))

    return _sanitised(made)


def _plan(spec: ModelSpec, left: pd.DataFrame, index: LeftIndex, usable: list[np.ndarray],
          partitions: int) -> PartitionPlan:
    return _sanitised(lambda: plan_of(usable_keys_of(_linker(spec), left, index.rule_codes,
                                                     usable), partitions))


def _part_records(plan: PartitionPlan) -> int:
    return plan.part_records


def _left_parts(spec: ModelSpec, left: pd.DataFrame, tf_left: list[np.ndarray | None],
                plan: PartitionPlan) -> list[LeftPart]:
    return _sanitised(lambda: list(left_parts_of(_linker(spec).inputs(left), tf_left, plan)))


def _part_places(parts: list[LeftPart]) -> list[tuple[int, int]]:
    return [(part.rule, part.partition) for part in parts]


def _same(part: Any) -> Any:
    """The part itself: run on another worker, a copy of it there."""
    return part


# -- the driver's side ----------------------------------------------------------------------

def remote_linkage(client: Client, spec: ModelSpec, left: RemoteFrame) -> StreamedLinkage:
    """The roster linkage of a civil side held on a worker: its `LeftIndex` built there
    (kept as `left.index`), only its `LeftCodes` here."""
    left.index = client.submit(_index, spec, left.future, pure=False)
    codes = client.submit(LeftIndex.codes, left.index, pure=False).result()
    return StreamedLinkage(spec, left, index=codes)


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
    """`ScoreContext.of(linkage)` made beside the civil side's features: the usable blocks
    and the term frequencies (computed here from the counts) go there, not the features
    here."""
    usable, _ = linkage.usable_blocks()
    usable_f, tf_f = client.scatter([usable, linkage.tf_left()], hash=False)
    return client.submit(_score_context, linkage.spec, linkage.left.index, usable_f,
                         linkage.model, tf_f, linkage.left.future, pure=False)


@dataclass
class RemotePlan:
    """A `PartitionPlan` made beside the civil side's features (`remote_plan`): its future,
    its number of partitions and its records over all parts."""

    future: Future
    partitions: int
    part_records: int

    def per_worker(self, workers: int) -> float:
        """As `PartitionPlan.per_worker`."""
        return self.part_records / max(workers, 1)


def remote_plan(client: Client, linkage: StreamedLinkage, partitions: int) -> RemotePlan:
    """`partitioned.partition_plan(linkage, partitions)` for a civil side held on a worker."""
    usable = client.scatter(linkage.usable_blocks()[0], hash=False)
    plan = client.submit(_plan, linkage.spec, linkage.left.future, linkage.left.index,
                         usable, partitions, pure=False)
    records = client.submit(_part_records, plan, pure=False).result()
    return RemotePlan(plan, partitions, records)


def left_parts_placed(client: Client, linkage: StreamedLinkage, plan: RemotePlan
                      ) -> list[tuple[int, Future, str]]:
    """`partitioned.left_parts` of a civil side held on a worker, made there and placed as
    `partitioned_on_dask` places them: (the piece it scores: rule × partitions + partition,
    future, worker)."""
    tf = client.scatter(linkage.tf_left(), hash=False)
    parts = client.submit(_left_parts, linkage.spec, linkage.left.future, tf, plan.future,
                          pure=False)
    try:
        places = client.submit(_part_places, parts, pure=False).result()
        return [(rule * plan.partitions + partition, future, worker)
                for (rule, partition), (future, worker)
                in zip(places, placed_from(client, parts, len(places)), strict=True)]
    finally:
        parts.release()

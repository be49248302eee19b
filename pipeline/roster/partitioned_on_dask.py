"""The roster's second pass on a Dask cluster as a join partitioned by blocking key.

`on_dask.link_roster_on_dask` broadcasts the civil side's index and comparison inputs to
every worker (a broadcast join): right while the civil side is small beside a worker's
memory. Here the civil side is cut into parts instead (`pipeline.link.partitioned`): part
(rule, partition) is scattered to one worker and stays there; each chunk of members who
could pair (already on a worker, `WorkerChunks`) is split there into its pieces, and piece
(r, p) is sent to the worker holding part (r, p) and scored there (Dask moves the piece:
the task is placed with the part). The scored pieces are combined on the workers in a tree
(`on_dask.reduce_on_workers`), so the driver gets back only the best pairs, as with the
broadcast join; the links are the same (`tests/test_partitioned_join.py`).

What a worker holds of the civil side is its parts: about the civil persons in usable blocks
summed over the blocking rules, divided by the workers, instead of the whole side: less once
there are more workers than rules with many usable blocks (`choose_join`). At most
`2 × workers` chunks are split at a time, and a chunk's pieces are freed once scored.

Task errors are reduced to their type and place (`distributed._sanitised`)."""

from __future__ import annotations

import operator
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import pandas as pd

from pipeline.link.distributed import _sanitised
from pipeline.link.fellegi_sunter import Model
from pipeline.link.partitioned import (
    LeftPart,
    PartitionPlan,
    left_parts,
    partition_plan,
    piece_columns,
    split_chunk,
)
from pipeline.link.spec import ModelSpec
from pipeline.roster.first_pass import RosterPass, _linker
from pipeline.roster.on_dask import WorkerChunks, fit_roster_on_dask, reduce_on_workers
from pipeline.roster.second_pass import MEMBER_COLUMNS, ScoredPart, finish_roster, second_pass_piece

if TYPE_CHECKING:
    from distributed import Client, Future

# `auto` partitions only when each worker then holds at most half the civil records a
# broadcast gives it: the pieces cost something too (each chunk's members copied once per
# rule while it is scored, and sent to the parts' workers). Measured on the 1 M-member
# province set with 2 workers (docs/scale.md): 0.72 of the side a worker, the same worker
# peak (3.78 vs 3.80 GiB) and 6 % more wall time than the broadcast: not worth it there.
PARTITIONED_GAIN = 2
Join = Literal["auto", "broadcast", "partitioned"]
JOINS: tuple[str, ...] = ("auto", "broadcast", "partitioned")


@dataclass(frozen=True)
class JoinChoice:
    """How the roster's second pass joins the civil side, and why: `join` ('broadcast' or
    'partitioned'), the civil persons (records) each worker would hold either way
    (`broadcast_records`: the whole side; `partitioned_records`: its parts over the
    workers), the workers and the partitions per rule."""

    join: str
    workers: int
    partitions: int
    broadcast_records: int
    partitioned_records: int

    def as_dict(self) -> dict:
        return dict(vars(self))


def choose_join(plan: PartitionPlan, workers: int, wanted: str = "auto") -> JoinChoice:
    """'auto': partitioned when each worker would hold less than 1 / `PARTITIONED_GAIN` of
    the civil records that way than the whole civil side a broadcast puts on it
    (`PartitionPlan.per_worker`), else broadcast; 'broadcast' or 'partitioned': that one.
    Raises ValueError for another `wanted`."""
    if wanted not in JOINS:
        raise ValueError(f"unknown join {wanted!r}: one of {', '.join(JOINS)}")
    per_worker = round(plan.per_worker(workers))
    join = wanted
    if wanted == "auto":
        join = "partitioned" if per_worker * PARTITIONED_GAIN < plan.left_records \
            else "broadcast"
    return JoinChoice(join, workers, plan.partitions, plan.left_records, per_worker)


def _split(spec: ModelSpec, partitions: int, columns: list[str], chunk: pd.DataFrame
           ) -> list[pd.DataFrame]:
    return _sanitised(split_chunk, _linker(spec), chunk, partitions, columns)


def _score(spec: ModelSpec, model: Model, part: LeftPart, piece: pd.DataFrame) -> ScoredPart:
    return _sanitised(second_pass_piece, spec, model, part, piece)


def worker_addresses(client: Client) -> list[str]:
    return sorted(client.scheduler_info(n_workers=-1)["workers"])


def link_roster_partitioned_on_dask(client: Client, civil: pd.DataFrame, roster: RosterPass,
                                    plan: PartitionPlan | None = None
                                    ) -> tuple[pd.DataFrame, dict, list[dict]]:
    """`second_pass.link_roster` as a partitioned join on the cluster (see the module):
    the same member links, model (dict) and statistics per blocking rule (dicts).
    `plan`: the civil side's partition plan (default: one partition per worker)."""
    linkage = roster.linkage
    if linkage.model is None:
        fit_roster_on_dask(client, roster)
    workers = worker_addresses(client)
    plan = plan or partition_plan(linkage, len(workers))
    partitions = plan.partitions
    spec, model = client.scatter([linkage.spec, linkage.model], broadcast=True, hash=False)
    placed: list[tuple[int, Future, str]] = []
    for n, part in enumerate(left_parts(linkage, plan)):
        worker = workers[n % len(workers)]
        placed.append((part.rule * partitions + part.partition,
                       client.scatter(part, workers=[worker], hash=False), worker))
    columns = piece_columns(linkage.linker.inputs(linkage.left.iloc[:0]), MEMBER_COLUMNS)
    chunks = roster.could_pair
    owned = isinstance(chunks, WorkerChunks)
    futures = chunks.futures if owned else (client.scatter(c, hash=False) for c in chunks)
    window = 2 * len(workers)
    in_flight: deque[list[Future]] = deque()
    scored: list[Future] = []
    try:
        for n, chunk in enumerate(futures):
            split = client.submit(_split, spec, partitions, columns, chunk, pure=False)
            if owned:
                chunks.futures[n] = None  # the split holds it until it runs, then it is freed
            del chunk
            parts_scored = []
            for piece_at, part, worker in placed:
                parts_scored.append(client.submit(
                    _score, spec, model, part,
                    client.submit(operator.getitem, split, piece_at, pure=False),
                    workers=[worker], allow_other_workers=True, pure=False))
            del split
            scored.extend(parts_scored)
            in_flight.append(parts_scored)
            while len(in_flight) > window:  # bound the pieces alive at once
                _wait(client, in_flight.popleft())
        result = reduce_on_workers(client, linkage.spec, scored)
    finally:
        for _, part, _ in placed:
            part.release()
        if owned:
            chunks.futures = [f for f in chunks.futures if f is not None]
    return finish_roster(civil, roster, result)


def _wait(client: Client, futures: list[Future]) -> None:
    """Until the futures are done (their results stay where they are)."""
    from distributed import wait

    with client.as_current():  # the night's client is not the process's default
        wait(futures)


def link_roster_dask(client: Client, civil: pd.DataFrame, roster: RosterPass,
                     wanted: str = "auto") -> tuple[pd.DataFrame, dict, list[dict], JoinChoice]:
    """The roster's second pass on the cluster with the join `choose_join` picks (`wanted`:
    config `linking.dask_join`): the member links, the model, the statistics per blocking
    rule and the choice (for the manifest)."""
    from pipeline.roster.on_dask import link_roster_on_dask

    linkage = roster.linkage
    if linkage.model is None:
        fit_roster_on_dask(client, roster)
    workers = len(worker_addresses(client))
    plan = partition_plan(linkage, workers)
    choice = choose_join(plan, workers, wanted)
    if choice.join == "partitioned":
        return (*link_roster_partitioned_on_dask(client, civil, roster, plan), choice)
    del plan
    return (*link_roster_on_dask(client, civil, roster), choice)

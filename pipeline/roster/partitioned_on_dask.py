"""The roster's second pass on a Dask cluster as a join partitioned by blocking key.

`on_dask.link_roster_on_dask` broadcasts the civil side's index and comparison inputs to
every worker (a broadcast join): right while the civil side is small beside a worker's
memory. Here the civil side is cut into parts instead (`pipeline.link.partitioned`): part
(rule, partition) is scattered to one worker and stays there; each chunk of members who
could pair (already on a worker, `WorkerChunks`) is split there into its pieces, and piece
(r, p) is sent to the worker holding part (r, p) and scored there (Dask moves the piece:
the task is placed with the part). The scored pieces are combined on the workers in a tree
and decided there (`on_dask.decided_on_workers`), so the driver gets back only the linked
pairs, as with the broadcast join; the links are the same (`tests/test_partitioned_join.py`).

What a worker holds of the civil side is its parts: about the civil persons in usable blocks
summed over the blocking rules, divided by the workers, instead of the whole side
(`roster/join.py` says when that is worth it; the first pass was partitioned alike,
`on_dask.KeyParts`). At most `2 × workers` chunks are split at a time, and a chunk's pieces
are freed once scored.

Task errors are reduced to their type and place (`distributed._sanitised`)."""

from __future__ import annotations

import dataclasses
import operator
from collections import deque
from typing import TYPE_CHECKING

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
from pipeline.link.remote import is_remote
from pipeline.link.spec import ModelSpec
from pipeline.roster.first_pass import RosterPass, _linker
from pipeline.roster.join import JoinChoice, choose_join, key_records
from pipeline.roster.on_dask import (
    WorkerChunks,
    decided_on_workers,
    fit_roster_on_dask,
    link_roster_on_dask,
    scatter_placed,
    worker_addresses,
    workers_of,
)
from pipeline.roster.remote_left import RemotePlan, left_parts_placed, remote_plan
from pipeline.roster.second_pass import MEMBER_COLUMNS, ScoredPart, finish_roster, second_pass_piece

if TYPE_CHECKING:
    from distributed import Client, Future


def _split(spec: ModelSpec, partitions: int, columns: list[str], chunk: pd.DataFrame
           ) -> list[pd.DataFrame]:
    return _sanitised(split_chunk, _linker(spec), chunk, partitions, columns)


def _score(spec: ModelSpec, model: Model, part: LeftPart, piece: pd.DataFrame) -> ScoredPart:
    return _sanitised(second_pass_piece, spec, model, part, piece)


def link_roster_partitioned_on_dask(client: Client, civil: pd.DataFrame, roster: RosterPass,
                                    plan: PartitionPlan | RemotePlan | None = None
                                    ) -> tuple[pd.DataFrame, dict, list[dict]]:
    """`second_pass.link_roster` as a partitioned join on the cluster (see the module):
    the same member links, model (dict) and statistics per blocking rule (dicts).
    `plan`: the civil side's partition plan (default: one partition per worker)."""
    linkage = roster.linkage
    if linkage.model is None:
        fit_roster_on_dask(client, roster)
    workers = worker_addresses(client)
    remote = is_remote(linkage.left)
    plan = plan or (remote_plan(client, linkage, len(workers)) if remote
                    else partition_plan(linkage, len(workers)))
    partitions = plan.partitions
    spec, model = client.scatter([linkage.spec, linkage.model], broadcast=True, hash=False)
    placed: list[tuple[int, Future, str]] = left_parts_placed(client, linkage, plan) \
        if remote else [
            (part.rule * partitions + part.partition, future, worker)
            for part, future, worker in scatter_placed(client, left_parts(linkage, plan))]
    if remote:  # the parts hold what scoring reads of the civil side: free the rest
        plan.release()
        linkage.left.release()
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
                # a hard restriction: a loose one lets Dask's work stealing run a piece on
                # another worker under load, copying the part there (seen in the tests)
                parts_scored.append(client.submit(
                    _score, spec, model, part,
                    client.submit(operator.getitem, split, piece_at, pure=False),
                    workers=[worker], allow_other_workers=False, pure=False))
            del split
            scored.extend(parts_scored)
            in_flight.append(parts_scored)
            while len(in_flight) > window:  # bound the pieces alive at once
                _wait(client, in_flight.popleft())
        result = decided_on_workers(client, linkage.spec, scored)
    finally:
        for _, part, _ in placed:
            part.release()
        if owned:
            chunks.futures = [f for f in chunks.futures if f is not None]
    return finish_roster(civil, roster, decided=result)


def _wait(client: Client, futures: list[Future]) -> None:
    """Until the futures are done (their results stay where they are)."""
    from distributed import wait

    with client.as_current():  # the night's client is not the process's default
        wait(futures)


def link_roster_dask(client: Client, civil: pd.DataFrame, roster: RosterPass
                     ) -> tuple[pd.DataFrame, dict, list[dict], JoinChoice]:
    """The roster's second pass on the cluster with the join its first pass used
    (`roster.join`; broadcast when it has none): the member links, the model, the statistics
    per blocking rule and the choice (for the manifest, with the civil records the scored
    parts hold a worker, `scored_records`)."""
    linkage = roster.linkage
    if linkage.model is None:
        fit_roster_on_dask(client, roster)
    choice: JoinChoice = roster.join or choose_join(
        len(linkage.left), key_records(linkage.index.rule_records), workers_of(client),
        "broadcast")
    if not choice.partitioned:
        return (*link_roster_on_dask(client, civil, roster), choice)
    plan = remote_plan(client, linkage, choice.partitions) if is_remote(linkage.left) else \
        partition_plan(linkage, choice.partitions)
    choice = dataclasses.replace(choice, scored_records=round(plan.per_worker(choice.workers)))
    return (*link_roster_partitioned_on_dask(client, civil, roster, plan), choice)

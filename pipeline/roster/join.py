"""Which join the roster's member linkage uses with the civil side on a Dask cluster.

*broadcast*: the civil side's blocking index (first pass) and comparison inputs (second pass)
on every worker; *partitioned*: both cut by blocking key (`pipeline.link.partitioned`), each
part on one worker, the roster's chunks sent to them in pieces. The links are the same;
what differs is what each worker holds and what crosses the network.

Decided once, before the first pass (`choose_join`), from config `linking.dask_join`
(`JOINS`) and, for `auto`, from what each worker would hold of the civil side: a broadcast
puts all of its records on every worker; the partitioned join puts each record in one part
per blocking rule in which it has a key (`key_records`, an upper bound: the second pass's
parts hold only the records in usable blocks), spread over the workers. `auto` partitions
only when each worker then holds at most 1 / `PARTITIONED_GAIN` of the side, because the
pieces cost something too (each chunk's members copied once per rule while it is counted
and scored, and sent to the parts' workers)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

JOINS: tuple[str, ...] = ("auto", "broadcast", "partitioned")
# Measured on the 1 M-member province set with 2 workers (docs/scale.md): the second pass
# partitioned held 0.72 of the civil side a worker, with the same worker peak (3.78 vs
# 3.80 GiB) and 6 % more wall time than the broadcast: not worth it there.
PARTITIONED_GAIN = 2


@dataclass(frozen=True)
class JoinChoice:
    """How the roster's passes join the civil side, and why: `join` ('broadcast' or
    'partitioned'), what was asked (`wanted`), the workers, the partitions per rule (one per
    worker), the civil records a broadcast puts on each worker (`broadcast_records`: the
    whole side) and those the partitioned join would at most (`partitioned_records`:
    `key_records` over the workers), the `reason` in a sentence; with the partitioned join,
    those its second pass's parts hold a worker (`scored_records`: the records in usable
    blocks only)."""

    join: str
    wanted: str
    workers: int
    partitions: int
    broadcast_records: int
    partitioned_records: int
    reason: str = ""  # why, in a sentence (for the manifest)
    scored_records: int | None = None  # set by the second pass: its parts a worker

    @property
    def partitioned(self) -> bool:
        return self.join == "partitioned"

    def as_dict(self) -> dict:
        return dict(vars(self))


def key_records(rule_records: list[np.ndarray]) -> int:
    """Civil records summed over the blocking rules in which they have a key (`rule_records`:
    per rule, the civil records per distinct key, int64: `LeftIndex.rule_records` or
    `LeftCounts.rule_records`)."""
    return int(sum(int(records.sum()) for records in rule_records))


def choose_join(left_records: int, part_records: int, workers: int,
                wanted: str = "auto") -> JoinChoice:
    """'auto': partitioned when `part_records` / `workers` × `PARTITIONED_GAIN` <
    `left_records`, else broadcast; 'broadcast' or 'partitioned': that one. One partition
    per worker. Raises ValueError for another `wanted`."""
    if wanted not in JOINS:
        raise ValueError(f"unknown join {wanted!r}: one of {', '.join(JOINS)}")
    workers = max(workers, 1)
    per_worker = round(part_records / workers)
    join, reason = wanted, f"{wanted}: as linking.dask_join asks"
    if wanted == "auto":
        half = per_worker * PARTITIONED_GAIN < left_records
        join = "partitioned" if half else "broadcast"
        reason = (f"auto: {join}, as partitioned over {workers} workers a worker would hold "
                  f"{per_worker:,} civil records (a person once per blocking rule), "
                  f"{'under' if half else 'not under'} 1/{PARTITIONED_GAIN} of the "
                  f"{left_records:,} a broadcast sends each")
    return JoinChoice(join, wanted, workers, workers, left_records, per_worker, reason)

"""The second round of `shared_numbers` on a Dask cluster, for any side held there in chunks.

Each chunk's `ChunkNumbers` stays on its worker (a future), its hashes too: nothing of it
per row comes to this process, so the driver's memory does not grow with the side (before,
every usable row's 8-byte hash came here: 40 MB for 5 M members, 2.4 GB for 300 M).

1. **The repeats, found among the workers** (`repeated_on_dask`): the chunks' hashes are one
   `dask.dataframe` (a partition per chunk, `from_delayed` over the futures); its
   `value_counts` is hash-partitioned into `split_out` parts (`repeat_partitions`: at least
   one per worker), a shuffle among the workers; each part keeps the hashes seen twice or
   more. Only those come here, sorted: what `shared_ids.repeated` gives over all the
   hashes.
2. **The decision, here** (`decide_on_dask`): the repeats are sent to every worker, each
   chunk's carriers of them (a few rows) come back and are decided here
   (`shared_numbers.decided_given`), as the local engine does.

Used by the roster's first read (`roster.shared_numbers_on_dask`) and the civil-affairs
side's normalising (`civil.on_dask`). Task errors are reduced to their type and place
(`distributed._sanitised`): a record never reaches a log. The shuffle is dask's task-based
one (`dataframe.shuffle.method: tasks`): the hashes stay in the workers' memory (unless
they spill), and its peer-to-peer extension's log lines do not reach the operator's console.

Source: Dask DataFrame `Series.value_counts(split_out=...)` and
`dask.dataframe.from_delayed` (which accepts futures), docs.dask.org, dask 2026.8.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipeline.link.distributed import _sanitised, workers_of
from pipeline.normalise.shared_numbers import (
    ChunkNumbers,
    SharedNumbers,
    carriers_of,
    decided_given,
)

if TYPE_CHECKING:
    from distributed import Client, Future

HASHES_PER_PART = 4_000_000  # value_counts' parts: one more per this many hashes (64 MB with
# their counts), so a part stays small however long the side
COLUMN = "number_hash"


def hash_count(part: ChunkNumbers) -> int:
    """The task that tells the driver how many hashes a chunk has (its usable rows)."""
    return len(part.hashes)


def _hash_frame(part: ChunkNumbers) -> pd.DataFrame:
    return _sanitised(lambda: pd.DataFrame({COLUMN: part.hashes}))


def _carriers(part: ChunkNumbers, again: np.ndarray) -> pd.DataFrame:
    return _sanitised(carriers_of, part.carriers, again)


def repeat_partitions(hashes: int, workers: int) -> int:
    """How many parts `value_counts` writes for `hashes` hashes on `workers` workers: one per
    worker at least, and one per `HASHES_PER_PART` hashes."""
    return max(1, workers, math.ceil(hashes / HASHES_PER_PART))


def repeated_on_dask(client: Client, parts: Sequence[Future], hashes: int) -> np.ndarray:
    """The hashes (sorted uint64) that occur twice or more over the chunks whose
    `ChunkNumbers` are the futures `parts` (`hashes`: how many they hold in all, from
    `hash_count`), found on the workers (see the module): `shared_ids.repeated` of every
    chunk's hashes, without them coming here. Raises what `Client.compute` raises for a
    task that failed."""
    import dask
    import dask.dataframe as dd

    if not parts:
        return np.empty(0, dtype=np.uint64)
    frames = [client.submit(_hash_frame, part, pure=False) for part in parts]
    try:
        meta = pd.DataFrame({COLUMN: np.empty(0, dtype=np.uint64)})
        with dask.config.set({"dataframe.shuffle.method": "tasks"}):
            column = dd.from_delayed(frames, meta=meta, verify_meta=False)[COLUMN]
            counts = column.value_counts(
                split_out=repeat_partitions(hashes, workers_of(client)))
            again = client.compute(counts[counts > 1], sync=True)
    finally:
        for frame in frames:
            frame.release()
    return np.sort(again.index.to_numpy(dtype=np.uint64))


def decide_on_dask(client: Client, parts: Sequence[Future], hashes: int) -> SharedNumbers:
    """The numbers shared by different people over the chunks whose `ChunkNumbers` are the
    futures `parts` (`hashes`: how many hashes they hold in all, from `hash_count`): the
    repeats found on the workers (`repeated_on_dask`), then their carriers gathered and
    decided here. No second round when no hash repeats. Raises `PartitionTaskError` for a
    task that failed."""
    def gathered(again: np.ndarray) -> list[pd.DataFrame]:
        sent = client.scatter(again, broadcast=True, hash=False)
        try:
            return client.gather([client.submit(_carriers, part, sent, pure=False)
                                  for part in parts])
        finally:
            sent.release()

    return decided_given(repeated_on_dask(client, parts, hashes), gathered)


__all__ = ["decide_on_dask", "hash_count", "repeat_partitions", "repeated_on_dask"]

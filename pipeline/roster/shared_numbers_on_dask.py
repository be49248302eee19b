"""The roster's shared numbers found on a Dask cluster (`shared_numbers.find_shared` there).

Each raw chunk (read by a worker, or sent from here: `pipeline.ingest.on_dask`) gives its
`ChunkNumbers` on its worker, where its hashes stay; only their count comes here (which also
paces the chunks sent from here). The second round is
`normalise.shared_numbers_on_dask.decide_on_dask`, as for the civil-affairs side: the
workers find the hashes that repeat, so the driver holds nothing per member (before, 8 bytes
a usable row: 40 MB for 5 M members, 2.4 GB for 300 M). The chunks' carriers are freed on
the workers on return; the raw chunks as soon as their numbers are taken. Task errors are
reduced to their type and place (`distributed._sanitised`)."""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from pipeline.link.distributed import _sanitised
from pipeline.normalise.shared_numbers import ChunkNumbers, SharedNumbers
from pipeline.normalise.shared_numbers_on_dask import decide_on_dask, hash_count
from pipeline.roster.shared_numbers import chunk_numbers

if TYPE_CHECKING:
    from distributed import Client, Future


def _numbers(raw: pd.DataFrame, as_of: dt.date | None) -> ChunkNumbers:
    return _sanitised(chunk_numbers, raw, as_of)


def find_shared_on_dask(client: Client, raw: Iterable[tuple[Future, int]],
                        as_of: dt.date | None, window: int) -> SharedNumbers:
    """The numbers shared by different people over the roster's raw chunks `raw` (futures
    with their first rows' ordinals, as `read_on_workers` / `sent_from_here` yield them; at
    most `window` chunks awaited at a time). Raises what reading the chunks raises
    (InputError) and `PartitionTaskError` for a task that failed."""
    parts: list[Future] = []
    pending: deque[Future] = deque()
    hashes = 0
    try:
        for future, _first_row in raw:
            part = client.submit(_numbers, future, as_of, pure=False)
            del future
            parts.append(part)
            pending.append(client.submit(hash_count, part, pure=False))
            while len(pending) >= window:
                hashes += pending.popleft().result()
        while pending:
            hashes += pending.popleft().result()
        return decide_on_dask(client, parts, hashes)
    finally:
        for future in [*parts, *pending]:
            future.release()
        close = getattr(raw, "close", None)
        if close is not None:
            close()  # a generator stopped early releases what it holds


__all__ = ["find_shared_on_dask"]

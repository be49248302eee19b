"""The second round of `shared_numbers` on a Dask cluster, for any side held there in chunks.

Each chunk's `ChunkNumbers` stays on its worker (a future); only its hashes (8 bytes a
usable row) have come to this process. `decide_on_dask` finds the hashes that repeat,
sends them to every worker, brings back each chunk's carriers of them (a few rows) and
decides here (`shared_numbers.decide`), as the local engine does. Used by the roster's
first read (`roster.shared_numbers_on_dask`) and the civil-affairs side's normalising
(`civil.on_dask`). Task errors are reduced to their type and place
(`distributed._sanitised`): a record never reaches a log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipeline.link.distributed import _sanitised
from pipeline.normalise.shared_numbers import (
    ChunkNumbers,
    SharedNumbers,
    carriers_of,
    decided_over,
)

if TYPE_CHECKING:
    from distributed import Client, Future


def hashes_of(part: ChunkNumbers) -> np.ndarray:
    """The task that brings a chunk's hashes to the driver (uint64, one per usable row)."""
    return part.hashes


def _carriers(part: ChunkNumbers, again: np.ndarray) -> pd.DataFrame:
    return _sanitised(carriers_of, part.carriers, again)


def decide_on_dask(client: Client, parts: Sequence[Future], hashes: list[np.ndarray]
                   ) -> SharedNumbers:
    """The numbers shared by different people over the chunks whose `ChunkNumbers` are the
    futures `parts`, given all their `hashes` (any order; emptied, `decided_over`). No
    second round when no hash repeats. Raises `PartitionTaskError` for a task that failed."""
    def gathered(again: np.ndarray) -> list[pd.DataFrame]:
        sent = client.scatter(again, broadcast=True, hash=False)
        try:
            return client.gather([client.submit(_carriers, part, sent, pure=False)
                                  for part in parts])
        finally:
            sent.release()

    return decided_over(hashes, gathered)


__all__ = ["decide_on_dask", "hashes_of"]

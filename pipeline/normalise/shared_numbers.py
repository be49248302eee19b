"""ID numbers shared by different people, decided over a file read in chunks.

Whether a number is shared by different people (`shared_ids`) depends on every row of its
file that carries it, in whichever chunk. A side read in chunks (the roster on either
engine, the civil-affairs side on a Dask cluster) decides in two rounds, here for both:

1. each chunk gives its `ChunkNumbers` (`numbers_of` its typed frame): an 8-byte hash of
   each usable row's (file, number) and those rows' carriers (file, number, name, stated
   birth date), which stay where the chunk is (a worker, or a private folder on disk);
2. the hashes that repeat over all chunks (`shared_ids.repeated` here, or a `value_counts`
   among the workers: `shared_numbers_on_dask.repeated_on_dask`) name the few carriers to
   bring together (`carriers_of`), and `decide` rules on them with `shared_ids.shared_in`,
   the function the whole frame uses. The result, `SharedNumbers`, marks a chunk's rows
   (`SharedNumbers.rows`) exactly as the file read whole would, whatever the chunk size.

The reading and the shipping are the callers' (`roster.shared_numbers` on this machine,
`shared_numbers_on_dask` on a cluster); this module does no I/O."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.normalise.shared_ids import (
    number_hashes,
    people,
    repeated,
    shared_in,
    usable_rows,
)
from pipeline.normalise.sources import NUMBER_FIELDS
from pipeline.schema import SOURCE_FILE

HASH = "number_hash"  # the carriers' 64-bit hash of (file, number), as int64
KEYS = [SOURCE_FILE, "id_norm"]


@dataclass
class ChunkNumbers:
    """One chunk's part of the first round: `hashes` (uint64, one per usable row, the
    `shared_ids.number_hashes` of its (file, number)) and `carriers` (those rows: `HASH`,
    `source_file`, `id_norm`, `name` and `birth_date` where the source states one)."""

    hashes: np.ndarray = field(repr=False)
    carriers: pd.DataFrame = field(repr=False)  # people's numbers and names: never printed


def numbers_of(frame: pd.DataFrame) -> ChunkNumbers:
    """`ChunkNumbers` of one chunk's typed frame (`sources.number_frame`, or a chunk's
    `Prepared.frame`: the columns `shared_ids.usable_rows` reads). A pure function: the same
    on a Dask worker."""
    positions, hashes = number_hashes(frame)
    kept = [c for c in (*KEYS, *NUMBER_FIELDS) if c in frame.columns]
    carriers = frame.iloc[positions][kept].reset_index(drop=True)
    carriers.insert(0, HASH, hashes.view(np.int64))
    return ChunkNumbers(hashes, carriers)


def carriers_of(carriers: pd.DataFrame, again: np.ndarray) -> pd.DataFrame:
    """The rows of `carriers` whose number repeats (`again`: sorted uint64 hashes)."""
    hashes = carriers[HASH].to_numpy(dtype=np.int64).view(np.uint64)
    return carriers[np.isin(hashes, again)].reset_index(drop=True)


@dataclass
class SharedNumbers:
    """The numbers shared by different people: `keys`, their (file, number) pairs. Empty:
    none (`rows` then costs nothing)."""

    keys: frozenset[tuple[str, str]] = field(default=frozenset(), repr=False)  # never printed

    def __len__(self) -> int:
        return len(self.keys)

    def rows(self, frame: pd.DataFrame) -> np.ndarray:
        """Which rows of `frame` (a chunk's `Prepared.frame`, or any frame with the columns
        `shared_ids.usable_rows` reads) carry one of the numbers in its file (n-long bool)."""
        out = np.zeros(len(frame), dtype=bool)
        if not self.keys:
            return out
        numbers = {number for _, number in self.keys}
        maybe = np.flatnonzero(usable_rows(frame) & frame["id_norm"].isin(numbers).to_numpy())
        if len(maybe):
            sub = frame.iloc[maybe][KEYS].astype(str)
            found = [key in self.keys for key in zip(sub[SOURCE_FILE], sub["id_norm"],
                                                     strict=True)]
            out[maybe[np.asarray(found, dtype=bool)]] = True
        return out


def decide(carriers: pd.DataFrame) -> SharedNumbers:
    """The numbers shared by different people among `carriers` (every row of the file
    carrying a number that repeats: `carriers_of` over all chunks), by `shared_in`."""
    if not len(carriers):
        return SharedNumbers()
    who = people(carriers, np.arange(len(carriers)))
    shared = carriers[shared_in(who)]
    return SharedNumbers(frozenset(zip(shared[SOURCE_FILE].astype(str),
                                       shared["id_norm"].astype(str), strict=True)))


def decided_over(hashes: list[np.ndarray],
                 carriers_of_repeated: Callable[[np.ndarray], Iterable[pd.DataFrame]]
                 ) -> SharedNumbers:
    """The second round, for chunks whose hashes are here: the hashes that repeat over every
    chunk's `hashes` (`shared_ids.repeated`), then `decided_given` them. `hashes` is emptied
    once the repeats are known (8 bytes a usable row, freed before the carriers come
    back)."""
    again = repeated(hashes)
    hashes.clear()
    return decided_given(again, carriers_of_repeated)


def decided_given(again: np.ndarray,
                  carriers_of_repeated: Callable[[np.ndarray], Iterable[pd.DataFrame]]
                  ) -> SharedNumbers:
    """The second round, wherever the chunks are, once the hashes that repeat over all of
    them are known (`again`: sorted uint64, `shared_ids.repeated` of every chunk's hashes,
    found here or on a cluster): `carriers_of_repeated(again)` (each chunk's `carriers_of`
    them: read back from disk, or gathered from the workers) decided by `decide`. No second
    round when no hash repeats."""
    if not len(again):
        return SharedNumbers()
    return decide(pd.concat(list(carriers_of_repeated(again)), ignore_index=True))


__all__ = ["HASH", "ChunkNumbers", "SharedNumbers", "carriers_of", "decide", "decided_given",
           "decided_over", "numbers_of"]

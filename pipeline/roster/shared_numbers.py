"""ID numbers shared by different people over the whole roster, found before its first pass.

The roster is read in chunks and each chunk is finished (normalised, linked, dropped) in one
pass, but whether a number is shared by different people (`normalise.shared_ids`) depends on
every row of the file carrying it, in whichever chunk. So the roster is read once before
(`find_shared`): each chunk types only what the decision reads (`sources.number_frame`:
the file, the name, the ID number) and gives an 8-byte hash of each usable row's (file,
number); its carriers (hash, file, number, name) go to a private folder on disk. The hashes
that repeat over the whole roster (`shared_ids.repeated`) name the few rows to read back;
`shared_ids.shared_in`, the function the whole frame uses, decides on them. The first pass
then marks exactly those numbers in each chunk (`SharedNumbers.rows`), so the night is the
one a roster read whole would give, whatever the chunk size.

Cost: a second read and a third of the normalising of each chunk (benchmarks: the roster
stage), 8 bytes a usable row in memory (the hashes; 40 MB for 5 M members) and the carriers
on disk (about 23 bytes a row as Parquet) until the decision. On Dask the same steps run
as tasks on the chunks the workers hold (`shared_numbers_on_dask.find_shared_on_dask`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.normalise.shared_ids import (
    number_hashes,
    people,
    repeated,
    shared_in,
    usable_rows,
)
from pipeline.normalise.sources import NUMBER_FIELDS, number_frame
from pipeline.roster.spill import Spill
from pipeline.schema import SOURCE_FILE, Source

MEMBERS = Source.MEMBERS
HASH = "number_hash"  # the carriers' 64-bit hash of (file, number), as int64
KEYS = [SOURCE_FILE, "id_norm"]


@dataclass
class ChunkNumbers:
    """One chunk's part of the first read: `hashes` (uint64, one per usable row, the
    `shared_ids.number_hashes` of its (file, number)) and `carriers` (those rows: `HASH`,
    `source_file`, `id_norm`, `name` and `birth_date` where the source states one)."""

    hashes: np.ndarray = field(repr=False)
    carriers: pd.DataFrame = field(repr=False)  # people's numbers and names: never printed


def chunk_numbers(raw: pd.DataFrame, as_of: dt.date | None,
                  source: Source = MEMBERS) -> ChunkNumbers:
    """`ChunkNumbers` of one raw chunk (a pure function: the same on a Dask worker)."""
    frame = number_frame(raw.reset_index(drop=True), source, as_of)
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
    """The roster's numbers shared by different people: `keys`, their (file, number) pairs.
    Empty: none (`rows` then costs nothing)."""

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
    """The numbers shared by different people among `carriers` (every row of the roster
    carrying a number that repeats: `carriers_of` over all chunks), by `shared_in`."""
    if not len(carriers):
        return SharedNumbers()
    who = people(carriers, np.arange(len(carriers)))
    shared = carriers[shared_in(who)]
    return SharedNumbers(frozenset(zip(shared[SOURCE_FILE].astype(str),
                                       shared["id_norm"].astype(str), strict=True)))


def find_shared(chunks: Iterable[pd.DataFrame], as_of: dt.date | None,
                spill_dir: Path | None = None) -> SharedNumbers:
    """Read the raw chunks once (see the module) and decide which numbers are shared. The
    carriers are written to a private folder (`Spill`, in `spill_dir`), removed on return."""
    spill = Spill(spill_dir)
    hashes: list[np.ndarray] = []
    try:
        for raw in chunks:
            part = chunk_numbers(raw, as_of)
            del raw
            hashes.append(part.hashes)
            spill.write(part.carriers)
        again = repeated(hashes)
        del hashes
        if not len(again):
            return SharedNumbers()
        found = [carriers_of(part, again) for part in spill]
        return decide(pd.concat(found, ignore_index=True))
    finally:
        spill.close()


__all__ = ["ChunkNumbers", "SharedNumbers", "carriers_of", "chunk_numbers", "decide",
           "find_shared"]

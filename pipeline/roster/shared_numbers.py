"""ID numbers shared by different people over the whole roster, found before its first pass.

The roster is read in chunks and each chunk is finished (normalised, linked, dropped) in one
pass, but whether a number is shared by different people (`normalise.shared_ids`) depends on
every row of the file carrying it, in whichever chunk. So the roster is read once before
(`find_shared`): each chunk types only what the decision reads (`sources.number_frame`:
the file, the name, the ID number) and gives an 8-byte hash of each usable row's (file,
number); its carriers (hash, file, number, name) go to a private folder on disk. The hashes
that repeat over the whole roster (`shared_ids.repeated`) name the few rows to read back;
`shared_ids.shared_in`, the function the whole frame uses, decides on them (the two rounds
are `normalise.shared_numbers`, shared with the civil-affairs side on Dask). The first pass
then marks exactly those numbers in each chunk (`SharedNumbers.rows`), so the night is the
one a roster read whole would give, whatever the chunk size.

Cost: a second read and a third of the normalising of each chunk (benchmarks: the roster
stage), 8 bytes a usable row in memory (the hashes; 40 MB for 5 M members) and the carriers
on disk (about 23 bytes a row as Parquet) until the decision. On Dask the same steps run
as tasks on the chunks the workers hold (`shared_numbers_on_dask.find_shared_on_dask`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.normalise.shared_numbers import (
    ChunkNumbers,
    SharedNumbers,
    carriers_of,
    decided_over,
    numbers_of,
)
from pipeline.normalise.sources import number_frame
from pipeline.roster.spill import Spill
from pipeline.schema import Source

MEMBERS = Source.MEMBERS


def chunk_numbers(raw: pd.DataFrame, as_of: dt.date | None,
                  source: Source = MEMBERS) -> ChunkNumbers:
    """`ChunkNumbers` of one raw chunk, typed by `sources.number_frame` (a pure function:
    the same on a Dask worker)."""
    return numbers_of(number_frame(raw.reset_index(drop=True), source, as_of))


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
        return decided_over(hashes, lambda again: [carriers_of(part, again) for part in spill])
    finally:
        spill.close()


__all__ = ["chunk_numbers", "find_shared"]

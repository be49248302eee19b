"""Comparing: each comparison's level code for candidate pairs, in chunks, on threads.

The hot path of a linkage. `Comparer.levels` takes the records' inputs (text arrays, '' for
missing) and pairs as positions, and returns an int8 level code per pair and comparison
(`NULL_LEVEL`, -1, for no evidence). Per-record codes (`comparisons/pairs.py`: value codes,
slices, lengths, code points) are derived once per pair of inputs and reused by every later
call on them (candidates, u sample, EM sessions, term frequencies). Memory is bounded by the
chunk: `chunk_pairs` pairs at a time, each chunk split over `threads` threads (the compiled
scorers, Arrow and numpy release the GIL).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from pipeline.link.comparisons import LevelComparison
from pipeline.link.comparisons.pairs import Encoded, Pairs

PAIRS_PER_THREAD = 50_000  # below this a chunk is compared on one thread
THREADS_ENV = "BIDUI_THREADS"

Inputs = dict[str, np.ndarray]  # column -> one value per record (object array of str)


def default_threads() -> int:
    """Threads for comparing pairs: $BIDUI_THREADS, else the cores this process may use."""
    configured = os.environ.get(THREADS_ENV, "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


class Comparer:
    """Level codes of pairs of records under a list of comparisons.

    `comparisons` are built `LevelComparison`s (`spec.comparisons[k].build()`); `chunk_pairs`
    bounds the pairs compared at once; `threads` defaults to `default_threads()`."""

    def __init__(self, comparisons: Sequence[LevelComparison], chunk_pairs: int,
                 threads: int | None = None) -> None:
        self.comparisons = list(comparisons)
        self.chunk_pairs = max(int(chunk_pairs), 1)
        self.threads = max(threads or default_threads(), 1)
        self._encoding: Encoded | None = None

    @classmethod
    def from_spec(cls, spec, threads: int | None = None) -> Comparer:
        """The comparisons of a `ModelSpec`, built afresh (a Dask task rebuilds them so)."""
        return cls([c.build() for c in spec.comparisons], spec.chunk_pairs, threads)

    def columns(self, also: Iterable[str] = ()) -> set[str]:
        """The feature columns the comparisons read, and `also` (e.g. deterministic rules')."""
        return {col for comp in self.comparisons for col in comp.inputs()} | set(also)

    def inputs(self, frame: pd.DataFrame, also: Iterable[str] = ()) -> Inputs:
        """The records' inputs: each column of `columns(also)` as an object array (n records)."""
        return {col: frame[col].to_numpy(dtype=object) for col in self.columns(also)}

    def encoded(self, left: Inputs, right: Inputs) -> Encoded:
        """The per-record codes of these inputs (`right is left` for dedupe), derived once
        and kept until other inputs come."""
        cached = self._encoding
        if cached is None or cached.left is not left or cached.right is not right:
            cached = self._encoding = Encoded(left, right)
        return cached

    def levels(self, left: Inputs, right: Inputs, li: np.ndarray, ri: np.ndarray
               ) -> np.ndarray:
        """Level codes of the pairs (li[k], ri[k]) (positions into left and right, int64):
        an (n_pairs × n_comparisons) int8 array, column-major (each comparison writes, and
        the model reads, one contiguous column)."""
        encoded = self.encoded(left, right)
        out = np.empty((len(li), len(self.comparisons)), dtype=np.int8, order="F")

        def compare(start: int, stop: int) -> None:
            pairs = Pairs(encoded, li[start:stop], ri[start:stop])
            for c, comparison in enumerate(self.comparisons):
                out[start:stop, c] = comparison.compare(pairs)

        step = self.chunk_pairs
        for start in range(0, len(li), step):
            stop = min(start + step, len(li))
            parts = min(self.threads, max((stop - start) // PAIRS_PER_THREAD, 1))
            if parts == 1:
                compare(start, stop)
                continue
            bounds = np.linspace(start, stop, parts + 1).astype(np.int64)
            with ThreadPoolExecutor(max_workers=parts) as pool:
                for done in [pool.submit(compare, int(a), int(b))
                             for a, b in itertools.pairwise(bounds)]:
                    done.result()
        return out

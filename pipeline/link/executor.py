"""Where the heavy, partitionable work of a linkage runs: per-record features, and candidate
pairs with their comparison levels.

`LocalExecutor` runs it in this process; `pipeline.link.distributed.DaskExecutor` on a Dask
cluster, partitioned by blocking keys. Both compute the blocking codes with the same function
(`blocking.pass_codes`) and the levels with the same `compare.Comparer`, and return exactly
the same `Candidates`, statistics included (returned, never kept in a shared object).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, Protocol

import numpy as np
import pandas as pd

from pipeline.link.blocking import PassStats, candidate_pairs
from pipeline.link.compare import Inputs

if TYPE_CHECKING:
    from pipeline.link.engine import Linker


class Candidates(NamedTuple):
    """The candidate pairs of a linkage, sorted by (left, right) and unique."""

    left: np.ndarray  # int64 positions into the left frame, one per pair
    right: np.ndarray  # int64 positions into the right frame (the left one for dedupe)
    levels: np.ndarray  # int8, n_pairs × n_comparisons (NULL_LEVEL -1: no evidence)
    stats: list[PassStats]  # one per blocking pass, in the spec's order


class PairExecutor(Protocol):
    """The seam between the linker and where its heavy work runs."""

    def features(self, build: Callable[[pd.DataFrame], pd.DataFrame], frame: pd.DataFrame
                 ) -> pd.DataFrame:
        """`build(frame)`, the same frame (index and dtypes) wherever it is computed."""
        ...

    def candidates_with_levels(self, linker: Linker, left: pd.DataFrame,
                               right: pd.DataFrame | None, lf: Inputs, rf: Inputs
                               ) -> Candidates:
        """The union of `linker.passes` over the feature frames (right None: dedupe), and
        the levels of every pair by `linker.comparer` on the inputs lf / rf
        (`linker.inputs`; `rf is lf` for dedupe)."""
        ...


class LocalExecutor:
    """Everything in this process (the default engine)."""

    def features(self, build: Callable[[pd.DataFrame], pd.DataFrame], frame: pd.DataFrame
                 ) -> pd.DataFrame:
        return build(frame)

    def candidates_with_levels(self, linker: Linker, left: pd.DataFrame,
                               right: pd.DataFrame | None, lf: Inputs, rf: Inputs
                               ) -> Candidates:
        li, ri, stats = candidate_pairs(left, right, linker.passes,
                                        linker.column_codes(left, right))
        return Candidates(li, ri, linker.comparer.levels(lf, rf, li, ri), stats)

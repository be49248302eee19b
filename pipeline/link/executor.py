"""Where the heavy work of a linkage runs: per-record features, candidate pairs with their
comparison levels, and training and inference on those candidates.

`LocalExecutor` runs it in this process; `pipeline.link.distributed.DaskExecutor` on a Dask
cluster, candidates partitioned by blocking keys, and training and inference on one worker
(the candidates' levels never travel to the driver). Both compute the blocking codes with the
same function (`blocking.pass_codes`), the levels with the same `compare.Comparer`, and train
and score with the same `Linker.train_and_predict`, so they return exactly the same
`Candidates` and `Scored`, statistics included (returned, never kept in a shared object).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, Protocol

import numpy as np
import pandas as pd

from pipeline.link.blocking import PassStats, candidate_pairs
from pipeline.link.compare import Inputs
from pipeline.link.fellegi_sunter import Model

if TYPE_CHECKING:
    from pipeline.link.engine import Linker
    from pipeline.link.training import Labels


class Candidates(NamedTuple):
    """The candidate pairs of a linkage, sorted by (left, right) and unique."""

    left: np.ndarray  # int64 positions into the left frame, one per pair
    right: np.ndarray  # int64 positions into the right frame (the left one for dedupe)
    levels: np.ndarray  # int8, n_pairs × n_comparisons (NULL_LEVEL -1: no evidence)
    stats: list[PassStats]  # one per blocking pass, in the spec's order


class Scored(NamedTuple):
    """A linkage's candidates trained on and scored, before the one-to-one assignment."""

    pairs: pd.DataFrame  # the pairs worth keeping (`inference.predict`), sorted by (left, right)
    model: Model  # the trained model, or the one given
    stats: list[PassStats]  # one per blocking pass, in the spec's order
    candidates: int  # how many candidate pairs were compared


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

    def train_and_predict(self, linker: Linker, left: pd.DataFrame,
                          right: pd.DataFrame | None, model: Model | None = None,
                          labels: Labels | None = None) -> Scored:
        """The candidates (as `candidates_with_levels`), the model trained on them unless
        `model` is given (`Linker.fit`, with analysts' `labels`), and the pairs worth keeping
        scored (`Linker.train_and_predict`)."""
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

    def train_and_predict(self, linker: Linker, left: pd.DataFrame,
                          right: pd.DataFrame | None, model: Model | None = None,
                          labels: Labels | None = None) -> Scored:
        return train_and_predict_here(self, linker, left, right, model, labels)


def train_and_predict_here(executor: PairExecutor, linker: Linker, left: pd.DataFrame,
                           right: pd.DataFrame | None, model: Model | None = None,
                           labels: Labels | None = None) -> Scored:
    """`PairExecutor.train_and_predict` in this process, the candidates from `executor`."""
    lf, rf = linker.side_inputs(left, right)
    candidates = executor.candidates_with_levels(linker, left, right, lf, rf)
    return linker.train_and_predict(left, right, lf, rf, candidates, model, labels)

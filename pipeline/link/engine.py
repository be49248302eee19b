"""The linker: a thin facade over the components of a linkage, as Splink's `Linker` is.

    candidates + levels   executor.py (LocalExecutor here, DaskExecutor on a cluster):
                          blocking.py passes, compare.py `Comparer`
    training              training.py: u by sampling, EM sessions, the prior -> `Model`
    inference             inference.py: weights, term frequencies, deterministic rules,
                          probabilities -> the scored pairs worth keeping
                          (the executor runs these three: on a cluster, on a worker)
    assignment            assign.py: one-to-one assignment or clusters -> `decision`

Generic over schemas: it sees only feature frames (text columns, '' for missing) and a
`ModelSpec`. Memory is bounded by the comparer's chunk for comparing; levels are int8, and
per-comparison weights (float64) are materialised for all candidates only while scoring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.link.assign import assign
from pipeline.link.blocking import BlockPass, ColumnCodes, PassStats, agreeing_pairs
from pipeline.link.compare import Comparer, Inputs, default_threads
from pipeline.link.comparisons import LevelComparison
from pipeline.link.executor import Candidates, LocalExecutor, PairExecutor, Scored
from pipeline.link.fellegi_sunter import Model
from pipeline.link.inference import predict
from pipeline.link.spec import ModelSpec
from pipeline.link.training import Labels, train

__all__ = ["Candidates", "LinkResult", "Linker", "LocalExecutor", "PairExecutor", "Scored",
           "default_threads"]


@dataclass
class LinkResult:
    """Scored pairs kept (positions into left/right, levels, weights, probability,
    `deterministic`, `decision`), the model, blocking statistics per pass, and the number of
    candidate pairs."""

    pairs: pd.DataFrame
    model: Model
    blocking: list[PassStats]
    candidates: int


class Linker:
    """`Linker(spec, executor).run(left, right)`: candidates, levels, training (unless a
    model is given), inference and assignment for one linkage (right None: dedupe)."""

    def __init__(self, spec: ModelSpec, executor: PairExecutor | None = None,
                 threads: int | None = None) -> None:
        self.spec = spec
        self.executor: PairExecutor = executor or LocalExecutor()
        self.comparer = Comparer.from_spec(spec, threads)
        self.passes = [BlockPass.from_rule(rule, spec.max_block_pairs) for rule in spec.blocking]
        self._column_codes: ColumnCodes | None = None

    @property
    def comparisons(self) -> list[LevelComparison]:
        return self.comparer.comparisons

    @property
    def threads(self) -> int:
        return self.comparer.threads

    @property
    def dedupe(self) -> bool:
        return self.spec.link_type == "dedupe"

    def inputs(self, frame: pd.DataFrame) -> Inputs:
        """What comparing and the deterministic rules read of each record (object arrays)."""
        return self.comparer.inputs(frame, (col for rule in self.spec.decisions.deterministic
                                            for col, _ in rule.both))

    def side_inputs(self, left: pd.DataFrame, right: pd.DataFrame | None
                    ) -> tuple[Inputs, Inputs]:
        """`inputs` of both sides (right None: dedupe, the left side's serve both)."""
        lf = self.inputs(left)
        return lf, lf if right is None else self.inputs(right)

    def compute_levels(self, left: Inputs, right: Inputs, li: np.ndarray, ri: np.ndarray
                       ) -> np.ndarray:
        """Level codes (int8, n_pairs × n_comparisons) of the pairs (li[k], ri[k])."""
        return self.comparer.levels(left, right, li, ri)

    def column_codes(self, left: pd.DataFrame, right: pd.DataFrame | None) -> ColumnCodes:
        """The blocking columns' codes for these frames, shared by the candidates' passes
        and the EM sessions' blocks (kept until the linker sees other frames)."""
        self._column_codes = ColumnCodes.reuse(self._column_codes, left, right)
        return self._column_codes

    def fit(self, left: pd.DataFrame, right: pd.DataFrame | None, levels: np.ndarray,
            lf: Inputs, rf: Inputs, li: np.ndarray | None = None,
            ri: np.ndarray | None = None, labels: Labels | None = None) -> Model:
        """Train on the candidate pairs' levels (`training.train`); lf/rf are the records'
        inputs (`inputs`). With the candidates' positions (li, ri, sorted), EM sessions look
        up the levels of pairs already compared instead of comparing them again. `labels`:
        analysts' labelled pairs (positions into left/right), which training blends into m."""
        max_block_pairs = self.spec.max_block_pairs

        def block(rule) -> np.ndarray:
            return BlockPass.from_rule(rule, max_block_pairs).positions(
                left, right, self.column_codes(left, right))

        def agreeing(columns) -> int:
            return agreeing_pairs(left, right, columns, self.column_codes(left, right))

        return train(self.spec.training, self.comparisons, levels,
                     lambda i, j: self.compute_levels(lf, rf, i, j), len(left),
                     None if right is None else len(right), block,
                     None if li is None or ri is None else (li, ri), labels=labels,
                     agreeing=agreeing).model

    def train_and_predict(self, left: pd.DataFrame, right: pd.DataFrame | None, lf: Inputs,
                          rf: Inputs, candidates: Candidates, model: Model | None = None,
                          labels: Labels | None = None) -> Scored:
        """Train on `candidates` (unless `model` is given) and score them: the pairs worth
        keeping (`inference.predict`), before assignment. Where the executor runs it (here,
        or on a Dask worker) changes nothing in the result."""
        li, ri, levels, stats = candidates
        model = model or self.fit(left, right, levels, lf, rf, li, ri, labels)
        pairs = predict(model, self.comparisons, self.spec.decisions,
                        self.comparer.encoded(lf, rf), li, ri, levels)
        return Scored(pairs, model, stats, len(li))

    def run(self, left: pd.DataFrame, right: pd.DataFrame | None = None,
            model: Model | None = None, left_cluster: np.ndarray | None = None,
            labels: Labels | None = None) -> LinkResult:
        """Candidates, levels, fit (unless a model is given), scores (`PairExecutor.
        train_and_predict`: where the executor runs them) and decisions (here).

        `left_cluster`: a cluster id per left record (the roll's dedupe): left records of one
        cluster may share a right record (`assign`). `labels`: analysts' labelled pairs
        (`training.Labels`, positions), used in training only (not with a given model)."""
        pairs, model, stats, candidates = self.executor.train_and_predict(
            self, left, right, model, labels)
        pairs["decision"] = assign(pairs, self.spec, dedupe=self.dedupe,
                                   left_cluster=left_cluster)
        return LinkResult(pairs, model, stats, candidates)

"""The linker: candidates → comparison levels (in chunks) → model fit → scores → decisions.

Generic over schemas: it sees only feature frames (text columns) and a `ModelSpec`. Memory is
bounded by the chunk: comparisons run on `chunk_pairs` candidate pairs at a time and keep
only int8 level codes; per-comparison weights are materialised only for the pairs kept
(those above the clerical band, plus each left record's best few for explanations).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from pipeline.link.assign import assign
from pipeline.link.blocking import BlockPass, ColumnCodes, PassStats, candidate_pairs
from pipeline.link.comparisons import NULL_LEVEL, LevelComparison
from pipeline.link.comparisons.pairs import Encoded, Pairs
from pipeline.link.estimate import (
    estimate_prior,
    estimate_u,
    expectation_maximisation,
    initial_m,
    pin,
    term_frequencies,
)
from pipeline.link.fellegi_sunter import ComparisonParams, Model
from pipeline.link.spec import ModelSpec

EXPLAIN_TOP = 3  # best candidates kept per left record, for `bidui explain`
PAIRS_PER_THREAD = 50_000  # below this a chunk is compared on one thread
THREADS_ENV = "BIDUI_THREADS"


def default_threads() -> int:
    """Threads for comparing pairs: $BIDUI_THREADS, else the cores this process may use."""
    configured = os.environ.get(THREADS_ENV, "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


@dataclass
class LinkResult:
    """Scored pairs kept (positions into left/right), the model, blocking statistics."""

    pairs: pd.DataFrame
    model: Model
    blocking: list[PassStats]
    candidates: int


class PairExecutor(Protocol):
    """Where the heavy, partitionable work runs: per-record features and candidate levels.

    `LocalExecutor` runs it in this process; `pipeline.link.distributed.DaskExecutor` runs it on
    a Dask cluster, partitioned by blocking keys. Both must return exactly the same arrays."""

    def features(self, build: Callable[[pd.DataFrame], pd.DataFrame], frame: pd.DataFrame
                 ) -> pd.DataFrame: ...

    def candidates_with_levels(self, linker: Linker, left: pd.DataFrame,
                               right: pd.DataFrame | None, lf: dict[str, np.ndarray],
                               rf: dict[str, np.ndarray]
                               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[PassStats]]:
        """(left positions, right positions, level codes, per-pass stats), pairs sorted by
        (left, right) and unique."""
        ...


class LocalExecutor:
    """Everything in this process (the default engine)."""

    def features(self, build: Callable[[pd.DataFrame], pd.DataFrame], frame: pd.DataFrame
                 ) -> pd.DataFrame:
        return build(frame)

    def candidates_with_levels(self, linker: Linker, left: pd.DataFrame,
                               right: pd.DataFrame | None, lf: dict[str, np.ndarray],
                               rf: dict[str, np.ndarray]
                               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[PassStats]]:
        li, ri, stats = candidate_pairs(left, right, linker.passes,
                                        linker.column_codes(left, right))
        return li, ri, linker.compute_levels(lf, rf, li, ri), stats


class Linker:
    def __init__(self, spec: ModelSpec, executor: PairExecutor | None = None,
                 threads: int | None = None) -> None:
        self.spec = spec
        self.threads = max(threads or default_threads(), 1)
        self.executor: PairExecutor = executor or LocalExecutor()
        self._encoding: Encoded | None = None
        self._column_codes: ColumnCodes | None = None
        self.comparisons: list[LevelComparison] = [c.build() for c in spec.comparisons]
        self.passes = [BlockPass(list(rule.columns), spec.max_block_pairs, name=rule.name)
                       for rule in spec.blocking]

    @property
    def dedupe(self) -> bool:
        return self.spec.link_type == "dedupe"

    # -- levels ---------------------------------------------------------------------------
    def _inputs(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        needed = {col for comp in self.comparisons for col in comp.inputs()}
        needed |= {col for rule in self.spec.decisions.deterministic for col, _ in rule.both}
        return {col: frame[col].to_numpy(dtype=object) for col in needed}

    def compute_levels(self, left: dict[str, np.ndarray], right: dict[str, np.ndarray],
                       li: np.ndarray, ri: np.ndarray) -> np.ndarray:
        """Level codes (n_pairs × n_comparisons, int8), computed chunk by chunk.

        Per-record codes (pairs.py) are derived once per (left, right) inputs and reused by
        every later call on the same inputs (candidates, u sample, EM sessions). Each chunk is
        split over `threads` threads: the string scorers, Arrow and numpy release the GIL."""
        encoded = self._encoded(left, right)
        # Column-major: each comparison writes, and the model reads, one contiguous column.
        out = np.empty((len(li), len(self.comparisons)), dtype=np.int8, order="F")

        def compare(start: int, stop: int) -> None:
            pairs = Pairs(encoded, li[start:stop], ri[start:stop])
            for c, comparison in enumerate(self.comparisons):
                out[start:stop, c] = comparison.compare(pairs)

        step = max(self.spec.chunk_pairs, 1)
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

    def column_codes(self, left: pd.DataFrame, right: pd.DataFrame | None) -> ColumnCodes:
        """The blocking columns' codes for these frames, shared by the candidates' passes
        and the EM sessions' blocks (kept until the linker sees other frames)."""
        self._column_codes = ColumnCodes.reuse(self._column_codes, left, right)
        return self._column_codes

    def _encoded(self, left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> Encoded:
        cached = self._encoding
        if cached is None or cached.left is not left or cached.right is not right:
            cached = self._encoding = Encoded(left, right)
        return cached

    # -- training -------------------------------------------------------------------------
    def fit(self, left: pd.DataFrame, right: pd.DataFrame | None, levels: np.ndarray,
            lf: dict[str, np.ndarray], rf: dict[str, np.ndarray],
            li: np.ndarray | None = None, ri: np.ndarray | None = None) -> Model:
        """Train on the candidate pairs' levels; lf/rf are the records' inputs (`_inputs`).

        With the candidates' positions (li, ri, sorted as `candidate_pairs` gives them), EM
        sessions take the levels of pairs already compared instead of comparing them again."""
        known = None if li is None or ri is None else (li, ri, levels)
        n_right = None if right is None else len(right)
        training = self.spec.training
        u = estimate_u(self.comparisons, lambda i, j: self.compute_levels(lf, rf, i, j),
                       len(left), n_right, training.u_sample_pairs, training.seed)
        m0 = [pin(initial_m(len(c.level_names)), c.fixed_m()) for c in self.comparisons]
        if training.em_sessions:
            m, iterations, sessions = self._em_sessions(left, right, lf, rf, u, m0, known)
            prior_candidates = estimate_prior(levels, u, m)
        else:
            m, prior_candidates, iterations = expectation_maximisation(
                levels, u, m0, max_iterations=training.em_max_iterations,
                tolerance=training.em_tolerance, fixed=[c.fixed_m() for c in self.comparisons])
            sessions = [self._session_record(None, len(levels), range(len(m)), m, iterations)]
        total_pairs = len(left) * (len(left) - 1) / 2 if right is None else len(left) * len(right)
        expected_matches = prior_candidates * len(levels)
        prior = float(np.clip(expected_matches / max(total_pairs, 1), 1e-12, 0.5))
        params = [ComparisonParams(c.name, c.level_names, m[k], u[k], c.tf_level())
                  for k, c in enumerate(self.comparisons)]
        return Model(params, prior, prior_candidates,
                     {"em_iterations": iterations, "candidate_pairs": len(levels),
                      "u_sample_pairs": int(min(training.u_sample_pairs, total_pairs)),
                      "em_sessions": sessions})

    def _levels_of(self, pairs: np.ndarray, lf: dict[str, np.ndarray],
                   rf: dict[str, np.ndarray],
                   known: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> np.ndarray:
        """Levels of `pairs`: looked up among the candidates' where compared already."""
        if known is None or not len(pairs):
            return self.compute_levels(lf, rf, pairs[:, 0], pairs[:, 1])
        li, ri, levels = known
        width = int(max(ri.max(initial=0), pairs[:, 1].max(initial=0))) + 1
        codes = li.astype(np.int64) * width + ri
        wanted = pairs[:, 0].astype(np.int64) * width + pairs[:, 1]
        at = np.minimum(np.searchsorted(codes, wanted), max(len(codes) - 1, 0))
        found = (codes[at] == wanted) if len(codes) else np.zeros(len(wanted), dtype=bool)
        out = np.empty((len(pairs), len(self.comparisons)), dtype=np.int8)
        out[found] = levels[at[found]]
        missing = ~found
        if missing.any():
            out[missing] = self.compute_levels(lf, rf, pairs[missing, 0], pairs[missing, 1])
        return out

    def _em_sessions(self, left, right, lf, rf, u, m0, known=None
                     ) -> tuple[list[np.ndarray], list[int], list[dict]]:
        """m per comparison: the mean of the sessions that estimated it; and each session's
        own record (`_session_record`), as Splink keeps its training sessions."""
        training = self.spec.training
        names = [c.name for c in self.comparisons]
        total = [np.zeros_like(x) for x in m0]
        count = [0] * len(m0)
        iterations = []
        sessions = []
        for session in training.em_sessions:
            pairs = BlockPass(list(session.block.columns), self.spec.max_block_pairs).positions(
                left, right, self.column_codes(left, right))
            active = [k for k, name in enumerate(names) if name not in session.estimate_without]
            if len(pairs) == 0 or not active:
                sessions.append(self._session_record(session.block, len(pairs), [], [], 0))
                continue
            levels = self._levels_of(pairs, lf, rf, known)[:, active]
            m, _prior, steps = expectation_maximisation(
                levels, [u[k] for k in active], [m0[k] for k in active],
                max_iterations=training.em_max_iterations, tolerance=training.em_tolerance,
                fixed=[self.comparisons[k].fixed_m() for k in active])
            iterations.append(steps)
            sessions.append(self._session_record(session.block, len(pairs), active, m, steps))
            for position, k in enumerate(active):
                total[k] += m[position]
                count[k] += 1
        return [t / n if n else m0[k] for k, (t, n) in enumerate(zip(total, count, strict=True))
                ], iterations, sessions

    def _session_record(self, block, pairs: int, active, m, iterations: int) -> dict:
        """One EM session for link_model.json: its blocking rule (None: all candidate pairs),
        pairs, the comparisons it estimated with their m per level, and its iterations."""
        comparisons = [self.comparisons[k] for k in active]
        return {"block": None if block is None else {"name": block.name,
                                                     "columns": list(block.columns)},
                "pairs": int(pairs), "estimated": [c.name for c in comparisons],
                "m": {c.name: {str(level): float(value) for level, value in
                               zip(c.level_names, m[position], strict=True)}
                      for position, c in enumerate(comparisons)},
                "iterations": int(iterations)}

    # -- scoring --------------------------------------------------------------------------
    def _tf_u(self, lf: dict[str, np.ndarray], rf: dict[str, np.ndarray], li: np.ndarray
              ) -> list[np.ndarray | None]:
        """Per pair, the frequency of the left record's value (term-frequency u), from the
        records' value codes (`rf is lf` for deduplication), then taken at the pairs."""
        encoded = self._encoded(lf, rf)
        n_records = len(next(iter(lf.values()), ())) + (
            0 if encoded.dedupe else len(next(iter(rf.values()), ())))
        floor = 1.0 / max(n_records, 1)
        out: list[np.ndarray | None] = []
        for comparison in self.comparisons:
            if comparison.tf_level() is None:
                out.append(None)
                continue
            left_codes, right_codes = encoded.codes(comparison.tf_value_column())
            per_record = term_frequencies(left_codes, None if encoded.dedupe else right_codes)
            out.append(np.maximum(per_record, floor)[li])
        return out

    def run(self, left: pd.DataFrame, right: pd.DataFrame | None = None,
            model: Model | None = None, left_cluster: np.ndarray | None = None) -> LinkResult:
        """Candidates, levels, fit (unless a model is given), scores and decisions."""
        lf = self._inputs(left)
        rf = lf if right is None else self._inputs(right)
        li, ri, levels, stats = self.executor.candidates_with_levels(self, left, right, lf, rf)
        model = model or self.fit(left, right, levels, lf, rf, li, ri)
        weights = model.weights(levels, self._tf_u(lf, rf, li))
        match_weight = weights.sum(axis=1)
        probability = model.probability(match_weight)
        forced = self._deterministic(levels, lf, rf, li, ri)
        keep = self._kept(li, match_weight, probability) | forced
        pairs = self._frame(li[keep], ri[keep], levels[keep], weights[keep],
                            match_weight[keep], probability[keep])
        pairs["deterministic"] = forced[keep]
        pairs["decision"] = assign(pairs, self.spec, dedupe=self.dedupe,
                                   left_cluster=left_cluster)
        return LinkResult(pairs, model, stats, len(li))

    def _deterministic(self, levels: np.ndarray, lf: dict[str, np.ndarray],
                       rf: dict[str, np.ndarray], li: np.ndarray, ri: np.ndarray) -> np.ndarray:
        """Pairs that a deterministic rule of the spec makes a match."""
        forced = np.zeros(len(li), dtype=bool)
        names = [c.name for c in self.comparisons]
        for rule in self.spec.decisions.deterministic:
            k = names.index(rule.comparison)
            hit = levels[:, k] == self.comparisons[k].level_names.index(rule.level)
            for column, value in rule.both:  # `_inputs` loads these features
                hit &= (lf[column][li] == value) & (rf[column][ri] == value)
            forced |= hit
        return forced

    def _kept(self, li: np.ndarray, match_weight: np.ndarray, probability: np.ndarray
              ) -> np.ndarray:
        keep = probability >= min(self.spec.decisions.possible_probability, 0.5)
        order = np.lexsort((-match_weight, li))
        rank = np.zeros(len(li), dtype=np.int64)
        if len(li):
            first = np.r_[True, li[order][1:] != li[order][:-1]]
            group_start = np.maximum.accumulate(np.where(first, np.arange(len(li)), 0))
            rank[order] = np.arange(len(li)) - group_start
        return keep | (rank < EXPLAIN_TOP)

    def _frame(self, li, ri, levels, weights, match_weight, probability) -> pd.DataFrame:
        data: dict[str, object] = {"left": li, "right": ri}
        for c, comparison in enumerate(self.comparisons):
            names = np.array([*comparison.level_names, "null"], dtype=object)
            codes = levels[:, c].astype(np.int64)
            data[f"{comparison.name}_level"] = names[np.where(codes == NULL_LEVEL,
                                                              len(names) - 1, codes)]
            data[f"{comparison.name}_weight"] = weights[:, c]
        data["match_weight"] = match_weight
        data["match_probability"] = probability
        return pd.DataFrame(data)

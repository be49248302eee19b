"""Fellegi–Sunter: per-level m and u probabilities, a prior, and the weights they give.

Weight of a comparison at level l: log2(m_l / u_l); at the null level: 0 (no evidence). With
term-frequency adjustment, the u of the exact level is replaced by the frequency of the value
itself, so 王伟 agreeing (common) weighs less than a rare name agreeing. The match weight of a
pair is the sum (log2 of its Bayes factor); the probability adds the prior odds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ComparisonParams:
    """One comparison's parameters: m and u (float64, one probability per level, each summing
    to 1), and the level whose u term frequencies replace (index into `levels`, or None)."""

    name: str
    levels: tuple[str, ...]
    m: np.ndarray
    u: np.ndarray
    tf_level: int | None = None

    def as_dict(self) -> dict:
        return {"name": self.name, "tf_level": self.tf_level,
                "levels": [{"level": lv, "m": float(m), "u": float(u),
                            "weight": float(np.log2(m / u))}
                           for lv, m, u in zip(self.levels, self.m, self.u, strict=True)]}


@dataclass
class Model:
    """A trained model (`training.train`): every comparison's m and u, the prior, and what
    training recorded (`training`: EM iterations, pair counts, the EM sessions)."""

    params: list[ComparisonParams]
    prior: float  # probability that a random pair of records (all pairs) is a match
    prior_candidates: float  # the same among candidate pairs (EM's lambda)
    training: dict = field(default_factory=dict)

    @property
    def prior_weight(self) -> float:
        """log2 prior odds (bits)."""
        return float(np.log2(self.prior / (1 - self.prior)))

    def weights(self, levels: np.ndarray, tf_u: list[np.ndarray | None]) -> np.ndarray:
        """Per-pair, per-comparison log2 Bayes factors (float64, n_pairs × n_comparisons,
        column-major) of int8 `levels` (n_pairs × n_comparisons, NULL_LEVEL -1 → 0);
        `tf_u[c]`: per pair, the term-frequency u of comparison c (float64), or None."""
        out = np.empty(levels.shape, dtype=np.float64, order="F")  # contiguous columns
        for c, params in enumerate(self.params):
            column = levels[:, c].astype(np.intp)
            # The null level (NULL_LEVEL, -1) reads the appended 0: no evidence.
            table = np.append(np.log2(params.m / params.u), 0.0)
            weight = table[column]
            if params.tf_level is not None and tf_u[c] is not None:
                at_tf = column == params.tf_level
                weight[at_tf] = np.log2(params.m[params.tf_level] / tf_u[c][at_tf])
            out[:, c] = weight
        return out

    def probability(self, match_weight: np.ndarray) -> np.ndarray:
        """Match probability (float64, 0–1) of each pair's match weight (bits), prior added."""
        total = match_weight + self.prior_weight
        return 1.0 / (1.0 + np.exp2(-np.clip(total, -1000, 1000)))

    def as_dict(self) -> dict:
        return {"prior": self.prior, "prior_candidates": self.prior_candidates,
                "prior_weight": self.prior_weight, "training": self.training,
                "comparisons": [p.as_dict() for p in self.params]}

"""A multi-level comparison: recordlinkage's comparison extension point, returning level codes.

Each comparison maps a pair of records to one level code: 0 is the strongest agreement, the
last level is "else", and `NULL_LEVEL` (-1) means "no evidence" (a value missing or unusable on
either side), which contributes a Bayes factor of 1. Because it subclasses
`recordlinkage.base.BaseCompareFeature`, a comparison can be added to `recordlinkage.Compare`
like any stock feature; the engine also calls `levels()` directly on aligned arrays, which
skips recordlinkage's per-feature frame indexing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rapidfuzz import process
from recordlinkage.base import BaseCompareFeature

NULL_LEVEL = -1


class LevelComparison(BaseCompareFeature):
    """Base class: subclasses define LEVELS, `inputs()` and `levels()`."""

    LEVELS: tuple[str, ...] = ()
    # Level names whose u-probability is replaced by the value's term frequency.
    TF_LEVELS: tuple[str, ...] = ("exact",)

    def __init__(self, name: str, column: str, *, tf: bool = False, **params: object) -> None:
        self.name = name
        self.column = column
        self.tf = tf
        self.params = params
        inputs = list(self.inputs())
        super().__init__(inputs, inputs, label=name)

    # What the comparison reads from each record: derived feature columns (see features.py).
    def inputs(self) -> Sequence[str]:
        return (self.column,)

    def levels(self, left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> np.ndarray:
        """Level codes (int8) for aligned left/right feature arrays."""
        raise NotImplementedError

    @property
    def level_names(self) -> tuple[str, ...]:
        return self.LEVELS

    def fixed_m(self) -> dict[int, float]:
        """m-probabilities pinned by the spec (`fixed_m: {level: m}`), by level index."""
        pinned = self.params.get("fixed_m") or {}
        names = self.level_names
        return {names.index(level): float(value) for level, value in pinned.items()}

    def tf_level(self) -> int | None:
        """The level index whose u is adjusted by term frequency, if tf is on."""
        if not self.tf:
            return None
        for name in self.TF_LEVELS:
            if name in self.level_names:
                return self.level_names.index(name)
        return None

    def tf_value_column(self) -> str:
        """The feature whose value frequencies drive the term-frequency adjustment."""
        return self.column

    # recordlinkage's Compare calls this with the left inputs then the right inputs.
    def _compute_vectorized(self, *columns):
        n = len(self.inputs())
        left = {c: np.asarray(v, dtype=object) for c, v in zip(self.inputs(), columns[:n],
                                                                 strict=True)}
        right = {c: np.asarray(v, dtype=object) for c, v in zip(self.inputs(), columns[n:],
                                                                  strict=True)}
        return self.levels(left, right)


def present(values: np.ndarray) -> np.ndarray:
    """True where a value is present: features are text with '' for missing (features.py)."""
    return np.asarray(values != "", dtype=bool)


def pairwise(scorer, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A rapidfuzz scorer applied element-wise to aligned arrays (C++, no Python per pair)."""
    if len(a) == 0:
        return np.zeros(0)
    return np.asarray(process.cpdist(list(a), list(b), scorer=scorer, workers=1))


def chars(values: np.ndarray, width: int) -> np.ndarray:
    """Values as an (n, width) array of single characters ('' pads), for vectorised slicing."""
    fixed = np.asarray(values, dtype=f"U{width}")
    return fixed.view("U1").reshape(len(fixed), width)


def same_slice(a: np.ndarray, b: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Row-wise equality of character slices [start:stop) of two `chars` arrays."""
    return (a[:, start:stop] == b[:, start:stop]).all(axis=1)


def first_true(conditions: list[np.ndarray], n: int, null: np.ndarray) -> np.ndarray:
    """Level = index of the first true condition, else the last level; null where `null`."""
    out = np.full(n, len(conditions), dtype=np.int8)
    decided = np.zeros(n, dtype=bool)
    for level, condition in enumerate(conditions):
        hit = condition & ~decided
        out[hit] = level
        decided |= hit
    out[null] = NULL_LEVEL
    return out

"""A multi-level comparison: an ordered tuple of levels, and `compare()` giving level codes.

Each comparison maps a pair of records to one level code: 0 is the strongest agreement, the
last level is "else", and `NULL_LEVEL` (-1) means "no evidence" (a value missing or unusable on
either side), which contributes a Bayes factor of 1. A level is one object (`ComparisonLevel`:
name, Chinese label, whether term-frequency adjustment applies, what its condition tests);
the conditions themselves are evaluated in `compare()`, vectorised over a chunk of candidate
`Pairs` in the order of the levels (`first_true`), because later levels reuse what earlier ones
computed and string scorers run only on the pairs still undecided. The engine calls
`compare()` on chunks of pairs that read per-record codes computed once (pairs.py).

To use a comparison inside `recordlinkage.Compare` (raw records in, higher = more similar
out), wrap it: `recordlinkage_feature.as_recordlinkage`, or `pipeline.link.comparison_library`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import distance, process

from pipeline.link.comparisons import kernels
from pipeline.link.comparisons.pairs import Pairs

NULL_LEVEL = -1


@dataclass(frozen=True)
class ComparisonLevel:
    """One level of a comparison.

    `name` is how specs (`fixed_m`, deterministic rules), outputs (`<comparison>_level`) and the
    model file name it; `label_zh` says it to an analyst; `tf` marks the level whose
    u-probability is replaced by the value's term frequency when the comparison is declared
    with `tf: true`; `description` states the condition, which the comparison's `compare()`
    evaluates (vectorised, in the order of its levels: a pair takes the first level whose
    condition holds; the last level takes every pair left)."""

    name: str
    label_zh: str
    tf: bool = False
    description: str = ""


# The level of a pair with no evidence (NULL_LEVEL): not one of a comparison's levels.
NULL = ComparisonLevel("null", "缺失，无证据", description="a value missing on either side")


# The last level of most comparisons.
ELSE = ComparisonLevel("else", "不一致", description="none of the levels above")


class LevelComparison:
    """Base class: subclasses define LEVELS (or `levels` when parameters make them),
    `inputs()` and `compare()`."""

    LEVELS: tuple[ComparisonLevel, ...] = ()

    def __init__(self, name: str, column: str, *, tf: bool = False, **params: object) -> None:
        self.name = name
        self.column = column
        self.tf = tf
        self.params = params

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} on {self.column!r}>"

    # What the comparison reads from each record: derived feature columns (see features.py).
    def inputs(self) -> Sequence[str]:
        return (self.column,)

    def compare(self, pairs: Pairs) -> np.ndarray:
        """Level codes (int8) for a chunk of candidate pairs: the index into `levels`, or
        NULL_LEVEL."""
        raise NotImplementedError

    def compare_aligned(self, left: dict[str, np.ndarray], right: dict[str, np.ndarray]
                        ) -> np.ndarray:
        """Level codes for aligned arrays: pair k is left[...][k] against right[...][k]."""
        return self.compare(Pairs.aligned(left, right))

    @property
    def levels(self) -> tuple[ComparisonLevel, ...]:
        """This comparison's levels, strongest agreement first, "else" last."""
        return self.LEVELS

    @property
    def level_names(self) -> tuple[str, ...]:
        return tuple(level.name for level in self.levels)

    def fixed_m(self) -> dict[int, float]:
        """m-probabilities pinned by the spec (`fixed_m: {level: m}`), by level index."""
        pinned = self.params.get("fixed_m") or {}
        names = self.level_names
        return {names.index(level): float(value) for level, value in pinned.items()}

    def tf_level(self) -> int | None:
        """The level index whose u is adjusted by term frequency, if tf is on."""
        if not self.tf:
            return None
        return next((k for k, level in enumerate(self.levels) if level.tf), None)

    def tf_value_column(self) -> str:
        """The feature whose value frequencies drive the term-frequency adjustment."""
        return self.column


SCORER_WORKERS = -1  # every core


def pairwise(scorer, a: np.ndarray, b: np.ndarray, cutoff: float | None = None) -> np.ndarray:
    """A rapidfuzz scorer applied element-wise to aligned arrays (C++, no Python per pair).
    With `cutoff`, scores beyond it are not computed exactly (similarities below it read 0,
    distances above it read cutoff + 1). `SCORER_WORKERS` threads score (rapidfuzz converts
    the Python strings on the calling thread, holding the GIL, then scores in parallel)."""
    if len(a) == 0:
        return np.zeros(0)
    return np.asarray(process.cpdist(a, b, scorer=scorer, workers=SCORER_WORKERS,
                                     score_cutoff=cutoff))


def similarity_cutoff(threshold: float | None) -> float | None:
    """A similarity cutoff a little below the threshold: with the cutoff, rapidfuzz drops
    scores that sit exactly on it by rounding (0.8 read as 0.7999…), without it they pass."""
    return None if threshold is None else max(threshold - 0.01, 0.0)


DISTINCT_SAMPLE = 20_000  # pairs looked at to decide whether value pairs repeat
REPEAT_SHARE = 0.5  # score once per distinct value pair below this share of distinct pairs


def scored(pairs: Pairs, column: str, scorer, rows: np.ndarray, fill: float,
           cutoff: float | None = None) -> np.ndarray:
    """`scorer` on the pairs where `rows` is true (elsewhere `fill`): string scorers run only
    where an earlier, cheaper level has not already decided. Where value pairs repeat (streets:
    30k distinct among 1M city candidates) each distinct pair is scored once. `cutoff` is the
    loosest threshold a level tests, so cut-off scores fail every level just as exact ones
    would (for similarities, pass `similarity_cutoff(threshold)`)."""
    where = np.flatnonzero(rows)
    if not len(where):
        return np.full(len(pairs), fill, dtype=np.float64)
    code_a, code_b = pairs.codes(column)
    key = code_a[where].astype(np.int64) * (int(code_b.max(initial=0)) + 2) + code_b[where]
    sample = key[:DISTINCT_SAMPLE]
    if len(key) > DISTINCT_SAMPLE and len(pd.unique(sample)) < REPEAT_SHARE * len(sample):
        inverse, distinct = pd.factorize(key)
        first = np.empty(len(distinct), dtype=np.int64)
        first[inverse[::-1]] = np.arange(len(key) - 1, -1, -1)  # first pair of each
        scores = score_rows(pairs, column, scorer, where[first], cutoff)[inverse]
    else:
        scores = score_rows(pairs, column, scorer, where, cutoff)
    # Keep the scorer's float32: thresholds (0.88) compare as they do on its own output.
    out = np.full(len(pairs), fill, dtype=np.result_type(scores.dtype, np.float32))
    out[where] = scores
    return out


def score_rows(pairs: Pairs, column: str, scorer, rows: np.ndarray,
               cutoff: float | None = None) -> np.ndarray:
    """`scorer` on the pairs at `rows` (indices into the chunk), as `pairwise` gives it: by
    its compiled kernel over the records' code points where it has one (kernels.py), else
    by rapidfuzz on the strings."""
    kernel = kernels.compiled(scorer)
    points = pairs.encoded.code_points(column) if kernel is not None else None
    if points is None:
        a, b = pairs.strings(column, rows)
        return pairwise(scorer, a, b, cutoff)
    left, right = points
    return kernel(left, right, pairs.li[rows], pairs.ri[rows], cutoff)


def within_one_edit(pairs: Pairs, column: str, rows: np.ndarray, width: int) -> np.ndarray:
    """Optimal-string-alignment distance ≤ 1 on the pairs where `rows` is true (else False).

    For two values of exactly `width` characters (dates as YYYYMMDD, 18-character IDs) that is
    one substitution or one swap of neighbours, decided on code points in numpy; any other
    pair goes to rapidfuzz's OSA."""
    out = np.zeros(len(pairs), dtype=bool)
    where = np.flatnonzero(rows)
    if not len(where):
        return out
    if width == 8:  # one machine word per value: a handful of integer operations per pair
        a, b = pairs.packed(column, where)
        words = (a != 0) & (b != 0)
        out[where[words]] = _one_edit_words(a[words], b[words])
        where = where[~words]
        if not len(where):
            return out
    len_a, len_b = pairs.lengths(column)
    fixed = (len_a[where] == width) & (len_b[where] == width)
    a, b = pairs.characters(column, width, where[fixed])
    differ = a != b
    count = differ.sum(axis=1)
    swapped = (count == 2) & (differ[:, :-1] & differ[:, 1:] & (a[:, :-1] == b[:, 1:])
                              & (a[:, 1:] == b[:, :-1])).any(axis=1)
    out[where[fixed]] = (count <= 1) | swapped
    other = where[~fixed]
    if len(other):
        out[other] = score_rows(pairs, column, distance.OSA.distance, other, 1) <= 1
    return out


_LOW_BITS = np.uint64(0x0101010101010101)


def _one_edit_words(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`within_one_edit` for 8 one-byte characters packed into uint64 (byte k = character k):
    at most one differing byte, or two neighbouring bytes swapped."""
    x = a ^ b
    differ = x | (x >> np.uint64(4))
    differ |= differ >> np.uint64(2)
    differ |= differ >> np.uint64(1)
    differ &= _LOW_BITS  # 0x01 in each differing byte
    count = (differ * _LOW_BITS) >> np.uint64(56)
    low = differ & (differ >> np.uint64(8))  # 0x01 at byte k when bytes k and k+1 differ
    mask_k = low * np.uint64(0xFF)
    mask_k1 = mask_k << np.uint64(8)
    swapped = (count == 2) & (low != 0) & (((a >> np.uint64(8)) & mask_k) == (b & mask_k)) & (
        ((a << np.uint64(8)) & mask_k1) == (b & mask_k1))
    return (count <= 1) | swapped


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

"""Comparisons that any schema can use: exact, dates, Jaro–Winkler, similarity, edit distance."""

from __future__ import annotations

import numpy as np
from rapidfuzz import distance

from pipeline.link.comparisons.base import (
    LevelComparison,
    chars,
    first_true,
    pairwise,
    present,
    same_slice,
)


def _both(left: dict, right: dict, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b = left[column], right[column]
    return a, b, ~(present(a) & present(b))


class Exact(LevelComparison):
    """exact / else (sex, district, postcode …)."""

    LEVELS = ("exact", "else")

    def levels(self, left, right):
        a, b, null = _both(left, right, self.column)
        return first_true([a == b], len(a), null)


class DateYmd(LevelComparison):
    """Dates as YYYYMMDD text: exact / day–month swap or one field apart / same year / else.

    `null_when_both: {column: value}` makes the pair "no evidence" when both records have that
    value, e.g. birth dates both derived from ID numbers that another comparison already
    compares: counting the same digits twice would break the independence the model assumes.
    """

    LEVELS = ("exact", "near", "year", "else")

    def inputs(self):
        extra = list((self.params.get("null_when_both") or {}).keys())
        return (self.column, *extra)

    def levels(self, left, right):
        a, b, null = _both(left, right, self.column)
        for column, value in (self.params.get("null_when_both") or {}).items():
            null = null | ((left[column] == value) & (right[column] == value))
        n = len(a)
        osa = pairwise(distance.OSA.distance, a, b)
        ca, cb = chars(a, 8), chars(b, 8)
        year, month, day = (same_slice(ca, cb, 0, 4), same_slice(ca, cb, 4, 6),
                            same_slice(ca, cb, 6, 8))
        swapped = year & (ca[:, 4:6] == cb[:, 6:8]).all(axis=1) & (
            ca[:, 6:8] == cb[:, 4:6]).all(axis=1)
        one_field_apart = (year.astype(int) + month + day) == 2
        return first_true([a == b, swapped | (osa <= 1) | one_field_apart, year], n, null)


class _Thresholds(LevelComparison):
    """exact / score ≥ each threshold (descending) / else."""

    SCORER = staticmethod(distance.JaroWinkler.normalized_similarity)

    @property
    def thresholds(self) -> list[float]:
        return [float(t) for t in self.params.get("thresholds", [0.92, 0.8])]

    @property
    def level_names(self) -> tuple[str, ...]:
        return ("exact", *[f">={t}" for t in self.thresholds], "else")

    def levels(self, left, right):
        a, b, null = _both(left, right, self.column)
        n = len(a)
        score = pairwise(self.SCORER, a, b)
        return first_true([a == b, *[score >= t for t in self.thresholds]], n, null)


class JaroWinkler(_Thresholds):
    """Latin-script names and words (FEBRL)."""


class Similarity(_Thresholds):
    """Character similarity (Indel ratio): Chinese streets, addresses, employers."""

    SCORER = staticmethod(distance.Indel.normalized_similarity)


class EditDistance(LevelComparison):
    """exact / at most d edits (each listed distance) / else: numbers typed by hand."""

    @property
    def distances(self) -> list[int]:
        return [int(d) for d in self.params.get("distances", [1, 2])]

    @property
    def level_names(self) -> tuple[str, ...]:
        return ("exact", *[f"<={d}" for d in self.distances], "else")

    def levels(self, left, right):
        a, b, null = _both(left, right, self.column)
        n = len(a)
        dist = pairwise(distance.OSA.distance, a, b)
        return first_true([a == b, *[dist <= d for d in self.distances]], n, null)


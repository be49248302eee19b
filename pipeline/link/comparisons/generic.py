"""Comparisons that any schema can use: exact, dates, Jaro–Winkler, similarity, edit distance."""

from __future__ import annotations

import numpy as np
from rapidfuzz import distance

from pipeline.link.comparisons.base import (
    ELSE,
    ComparisonLevel,
    LevelComparison,
    first_true,
    scored,
    similarity_cutoff,
    within_one_edit,
)
from pipeline.link.comparisons.pairs import Pairs

NOT_SCORED = np.inf  # distance where no scorer ran (the level was decided without it)
EXACT = ComparisonLevel("exact", "完全一致", tf=True, description="equal values")


class Exact(LevelComparison):
    """exact / else (sex, district, postcode …)."""

    LEVELS = (EXACT, ELSE)

    def compare(self, pairs: Pairs) -> np.ndarray:
        return first_true([pairs.same(self.column)], len(pairs),
                          ~pairs.both_present(self.column))


class DateYmd(LevelComparison):
    """Dates as YYYYMMDD text: exact / day–month swap or one field apart / same year / else.

    `null_when_both: {column: value}` makes the pair "no evidence" when both records have that
    value, e.g. birth dates both derived from ID numbers that another comparison already
    compares: counting the same digits twice would break the independence the model assumes.
    """

    LEVELS = (
        ComparisonLevel("exact", "完全一致", tf=True, description="same date"),
        ComparisonLevel("near", "日月互换或相差一处",
                        description="day and month swapped, or one of year, month, day "
                                    "different, or one digit or one swap of neighbours apart"),
        ComparisonLevel("year", "同年", description="same year"),
        ELSE,
    )

    def inputs(self):
        extra = list((self.params.get("null_when_both") or {}).keys())
        return (self.column, *extra)

    def compare(self, pairs: Pairs) -> np.ndarray:
        c = self.column
        null = ~pairs.both_present(c)
        for column, value in (self.params.get("null_when_both") or {}).items():
            a, b = pairs.is_value(column, str(value))
            null = null | (a & b)
        exact = pairs.same(c)
        (ya, yb), (ma, mb), (da, db) = pairs.slice_codes(c, ((0, 4), (4, 6), (6, 8)))
        year, month, day = ya == yb, ma == mb, da == db
        swapped = year & (ma == db) & (da == mb)
        one_field_apart = (year.astype(np.int8) + month + day) == 2
        undecided = ~null & ~exact & ~swapped & ~one_field_apart
        near = swapped | one_field_apart | within_one_edit(pairs, c, undecided, width=8)
        return first_true([exact, near, year], len(pairs), null)


class _Thresholds(LevelComparison):
    """exact / score ≥ each threshold (descending) / else."""

    SCORER = staticmethod(distance.JaroWinkler.normalized_similarity)
    SCORE_NAME = "Jaro–Winkler similarity"

    @property
    def thresholds(self) -> list[float]:
        return [float(t) for t in self.params.get("thresholds", [0.92, 0.8])]

    @property
    def levels(self) -> tuple[ComparisonLevel, ...]:
        return (EXACT, *[ComparisonLevel(f">={t}", f"相似度≥{t}",
                                         description=f"{self.SCORE_NAME} at least {t}")
                         for t in self.thresholds], ELSE)

    def compare(self, pairs: Pairs) -> np.ndarray:
        c = self.column
        null = ~pairs.both_present(c)
        exact = pairs.same(c)
        score = scored(pairs, c, self.SCORER, ~null & ~exact, -np.inf,
                       cutoff=similarity_cutoff(min(self.thresholds, default=None)))
        return first_true([exact, *[score >= t for t in self.thresholds]], len(pairs), null)


class JaroWinkler(_Thresholds):
    """Latin-script names and words (FEBRL)."""


class Similarity(_Thresholds):
    """Character similarity (Indel ratio): Chinese streets, addresses, employers."""

    SCORER = staticmethod(distance.Indel.normalized_similarity)
    SCORE_NAME = "character similarity (Indel)"


class EditDistance(LevelComparison):
    """exact / at most d edits (each listed distance) / else: numbers typed by hand."""

    @property
    def distances(self) -> list[int]:
        return [int(d) for d in self.params.get("distances", [1, 2])]

    @property
    def levels(self) -> tuple[ComparisonLevel, ...]:
        return (EXACT, *[ComparisonLevel(f"<={d}", f"相差不超过{d}个字符",
                                         description=f"at most {d} edits (optimal string "
                                                     "alignment: swaps of neighbours count "
                                                     "one)")
                         for d in self.distances], ELSE)

    def compare(self, pairs: Pairs) -> np.ndarray:
        c = self.column
        null = ~pairs.both_present(c)
        exact = pairs.same(c)
        dist = scored(pairs, c, distance.OSA.distance, ~null & ~exact, NOT_SCORED,
                      cutoff=max(self.distances, default=None))
        return first_true([exact, *[dist <= d for d in self.distances]], len(pairs), null)

"""Chinese personal names: exact / same pinyin with tones / same pinyin / one character edit /
Jaro–Winkler on pinyin / else.

Inputs are features computed once per record (features.py): the normalised name without the
minority-name separator (so 买买提·艾力 and 买买提艾力 agree exactly), its pinyin with tone
numbers (张伟/章伟 differ only there: zhang1 vs zhang1 — homophones agree) and without tones
(王/汪 differ only by tone). One character edit catches 张伟/张玮 typed by a different clerk.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rapidfuzz import distance

from pipeline.link.comparisons.base import LevelComparison, first_true, pairwise, present


class ChineseName(LevelComparison):
    LEVELS = ("exact", "pinyin_tone", "pinyin", "one_edit", "jaro_winkler", "else")

    def inputs(self) -> Sequence[str]:
        c = self.column
        return (f"{c}_nosep", f"{c}_py_tone", f"{c}_py")

    def tf_value_column(self) -> str:
        return f"{self.column}_nosep"

    def levels(self, left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> np.ndarray:
        c = self.column
        a, b = left[f"{c}_nosep"], right[f"{c}_nosep"]
        n = len(a)
        null = ~(present(a) & present(b))
        threshold = float(self.params.get("jaro_winkler", 0.88))
        edits = pairwise(distance.Levenshtein.distance, a, b)
        jw = pairwise(distance.JaroWinkler.normalized_similarity, left[f"{c}_py"],
                      right[f"{c}_py"])
        long_enough = np.fromiter((len(x) >= 2 for x in a), dtype=bool, count=n)
        return first_true([
            a == b,
            (left[f"{c}_py_tone"] == right[f"{c}_py_tone"]) & present(left[f"{c}_py_tone"]),
            (left[f"{c}_py"] == right[f"{c}_py"]) & present(left[f"{c}_py"]),
            (np.asarray(edits) <= 1) & long_enough,
            np.asarray(jw) >= threshold,
        ], n, null)

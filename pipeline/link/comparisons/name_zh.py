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

from pipeline.link.comparisons.base import (
    LevelComparison,
    first_true,
    scored,
    similarity_cutoff,
)
from pipeline.link.comparisons.pairs import Pairs


class ChineseName(LevelComparison):
    LEVELS = ("exact", "pinyin_tone", "pinyin", "one_edit", "jaro_winkler", "else")

    def inputs(self) -> Sequence[str]:
        c = self.column
        return (f"{c}_nosep", f"{c}_py_tone", f"{c}_py")

    def tf_value_column(self) -> str:
        return f"{self.column}_nosep"

    def compare(self, pairs: Pairs) -> np.ndarray:
        c = self.column
        name, tone, plain = f"{c}_nosep", f"{c}_py_tone", f"{c}_py"
        null = ~pairs.both_present(name)
        exact = pairs.same(name)
        same_tone = pairs.same(tone) & (pairs.codes(tone)[0] >= 0)
        same_plain = pairs.same(plain) & (pairs.codes(plain)[0] >= 0)
        undecided = ~null & ~exact & ~same_tone & ~same_plain
        long_enough = pairs.lengths(name)[0] >= 2
        edits = scored(pairs, name, distance.Levenshtein.distance, undecided & long_enough,
                       np.inf, cutoff=1)
        one_edit = (edits <= 1) & long_enough
        threshold = float(self.params.get("jaro_winkler", 0.88))
        jw = scored(pairs, plain, distance.JaroWinkler.normalized_similarity,
                    undecided & ~one_edit, -np.inf, cutoff=similarity_cutoff(threshold))
        return first_true([exact, same_tone, same_plain, one_edit, jw >= threshold],
                          len(pairs), null)

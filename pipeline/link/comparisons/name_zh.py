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
    ELSE,
    ComparisonLevel,
    LevelComparison,
    first_true,
    scored,
    similarity_cutoff,
)
from pipeline.link.comparisons.pairs import Pairs


class ChineseName(LevelComparison):
    """Names; `jaro_winkler` (default 0.88) is the threshold of the Jaro–Winkler level.
    With `tf: true`, agreeing exactly on a common name (王伟) weighs less than on a rare one."""

    LEVELS = (
        ComparisonLevel("exact", "完全一致", tf=True,
                        description="same name after normalisation, minority separator removed"),
        ComparisonLevel("pinyin_tone", "读音相同（声调相同）",
                        description="same pinyin with tone numbers (homophones: 张伟 / 章伟)"),
        ComparisonLevel("pinyin", "拼音相同（声调不同）",
                        description="same pinyin without tones (王芳 / 汪芳)"),
        ComparisonLevel("one_edit", "相差一个字",
                        description="one character substituted, added or removed, names of "
                                    "two or more characters (张伟 / 张玮)"),
        ComparisonLevel("jaro_winkler", "拼音相近",
                        description="Jaro–Winkler similarity of the toneless pinyin at least "
                                    "the `jaro_winkler` threshold"),
        ELSE,
    )

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

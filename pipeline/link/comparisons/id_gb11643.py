"""Resident ID numbers: exact / one digit or one transposition apart / same first 15 digits /
same birth-date part / differ (at least one side unverified) / differ (both valid).

A valid ID that disagrees with another valid ID is strong evidence against a match (the last
level); a damaged or missing one is not. Missing and unreadable IDs (`1.10108E+17`) are the
null level: no evidence either way, so the pair is judged on its other fields.
Features (features.py): `id` is the 18-character form when it has one, `id_valid` is '1' for a
valid number, `id_x000` is '1' for Excel's 15-significant-digit damage.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.link.comparisons.base import (
    ComparisonLevel,
    LevelComparison,
    first_true,
    within_one_edit,
)
from pipeline.link.comparisons.pairs import Pairs


class ResidentId(LevelComparison):
    """GB 11643 resident ID numbers. No level is term-frequency adjusted (an ID is unique);
    `fixed_m: {differs_valid: …}` pins how rarely two valid, different numbers are one person."""

    LEVELS = (
        ComparisonLevel("exact", "完全一致", description="same number (18-character form)"),
        ComparisonLevel("one_edit", "相差一位或相邻两位互换",
                        description="one digit or one swap of neighbouring digits apart, at "
                                    "least one side not a valid number (unverified)"),
        ComparisonLevel("first15", "前15位相同（Excel损坏）",
                        description="same first 15 digits, one side damaged by Excel (…000), "
                                    "at least one side unverified"),
        ComparisonLevel("birth_part", "出生日期码相同",
                        description="same birth-date digits (7–14), at least one side "
                                    "unverified"),
        ComparisonLevel("differs_unverified", "不同（至少一方未通过校验）",
                        description="different numbers, at least one side unverified"),
        ComparisonLevel("differs_valid", "不同（双方均有效）",
                        description="two valid, different numbers: strong evidence against"),
    )

    def inputs(self) -> Sequence[str]:
        c = self.column
        return (c, f"{c}_valid", f"{c}_x000")

    def compare(self, pairs: Pairs) -> np.ndarray:
        c = self.column
        null = ~pairs.both_present(c)
        exact = pairs.same(c)
        valid_a, valid_b = pairs.is_value(f"{c}_valid", "1")
        unverified = ~(valid_a & valid_b)  # two valid numbers that differ are two people
        x000_a, x000_b = pairs.is_value(f"{c}_x000", "1")
        damaged = x000_a | x000_b
        (fa, fb), (ba, bb) = pairs.slice_codes(c, ((0, 15), (6, 14)))
        one_edit = within_one_edit(pairs, c, ~null & ~exact & unverified, width=18)
        return first_true([
            exact,
            unverified & one_edit,
            unverified & damaged & (fa == fb),
            unverified & (ba == bb),
            unverified,
        ], len(pairs), null)

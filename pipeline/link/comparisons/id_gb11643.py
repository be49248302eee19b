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
from rapidfuzz import distance

from pipeline.link.comparisons.base import (
    LevelComparison,
    chars,
    first_true,
    pairwise,
    present,
    same_slice,
)


class ResidentId(LevelComparison):
    LEVELS = ("exact", "one_edit", "first15", "birth_part", "differs_unverified",
              "differs_valid")
    TF_LEVELS = ()

    def inputs(self) -> Sequence[str]:
        c = self.column
        return (c, f"{c}_valid", f"{c}_x000")

    def levels(self, left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> np.ndarray:
        c = self.column
        a, b = left[c], right[c]
        n = len(a)
        null = ~(present(a) & present(b))
        osa = pairwise(distance.OSA.distance, a, b)
        both_valid = (left[f"{c}_valid"] == "1") & (right[f"{c}_valid"] == "1")
        unverified = ~both_valid  # two valid numbers that differ are two people
        damaged = (left[f"{c}_x000"] == "1") | (right[f"{c}_x000"] == "1")
        ca, cb = chars(a, 18), chars(b, 18)
        return first_true([
            a == b,
            unverified & (osa == 1),
            unverified & damaged & same_slice(ca, cb, 0, 15),
            unverified & same_slice(ca, cb, 6, 14),
            unverified,
        ], n, null)

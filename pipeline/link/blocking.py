"""Candidate pairs: several blocking passes, unioned.

Each pass pairs records whose key columns all agree and are all present (a missing key never
pairs everything with everything, unlike a plain merge where NaN meets NaN). A pass is a
`recordlinkage` index algorithm (`BaseIndexAlgorithm`), so it can also be used inside
`recordlinkage.Index`; the engine calls it directly and gets positional pairs. Blocks larger
than `max_block_pairs` are skipped and counted: a pass on a too-common key (王伟 in a big
district) would otherwise dominate memory without adding recall the other passes lack.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from recordlinkage.base import BaseIndexAlgorithm

from pipeline.textops import joint_codes


@dataclass
class PassStats:
    name: str
    pairs: int
    new_pairs: int
    skipped_blocks: int


def _keys(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Joined key per record; '' where any key column is missing (for display and tests)."""
    parts = [frame[c].astype(object) for c in columns]
    key = parts[0].astype(str)
    missing = parts[0].eq("")
    for part in parts[1:]:
        key = key + "\x1f" + part.astype(str)
        missing |= part.eq("")
    return key.mask(missing, "")


class ColumnCodes:
    """Each key column's codes over both frames (left then right; -1 where missing),
    factorised once and shared by every pass and EM session that blocks on the column."""

    def __init__(self, left: pd.DataFrame, right: pd.DataFrame | None) -> None:
        self.left, self.right = left, right
        self._codes: dict[str, np.ndarray] = {}

    def __call__(self, column: str) -> np.ndarray:
        if column not in self._codes:
            sides = [self.left[column].to_numpy(dtype=object)]
            if self.right is not None:
                sides.append(self.right[column].to_numpy(dtype=object))
            self._codes[column] = np.concatenate(joint_codes(sides)).astype(np.int64)
        return self._codes[column]

    @classmethod
    def reuse(cls, cached: ColumnCodes | None, left: pd.DataFrame,
              right: pd.DataFrame | None) -> ColumnCodes:
        """`cached` when it holds exactly these frames' codes, else a new, empty one."""
        if cached is not None and cached.left is left and cached.right is right:
            return cached
        return cls(left, right)


def key_codes(left: pd.DataFrame, right: pd.DataFrame | None, columns: list[str],
              column_codes: ColumnCodes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Integer block codes for both sides, shared (equal keys ⇔ equal codes); -1 where any key
    column is missing. Integers, not joined strings: hashing 10^6 strings once per column is
    the only string work, and everything after is bincount and argsort on int64."""
    n_left = len(left)
    column_codes = ColumnCodes.reuse(column_codes, left, right)
    combined: np.ndarray | None = None
    for column in columns:
        codes = column_codes(column)
        if combined is None:
            combined = codes
        else:  # re-factorise the pair so the code space stays within the record count
            pair = combined * (int(codes.max(initial=0)) + 1) + codes
            combined = np.where((combined < 0) | (codes < 0), -1,
                                pd.factorize(pair)[0]).astype(np.int64)
    assert combined is not None
    return combined[:n_left], (combined if right is None else combined[n_left:])


def block_pairs(codes_left: np.ndarray, codes_right: np.ndarray, dedupe: bool,
                max_block_pairs: int) -> tuple[np.ndarray, int]:
    """All (i, j) with equal codes ≥ 0, skipping blocks of more than `max_block_pairs` pairs
    (dedupe: only i < j). Returns the (n, 2) pairs and the number of blocks skipped."""
    n_codes = int(max(codes_left.max(initial=-1), codes_right.max(initial=-1))) + 1
    size_left = np.bincount(codes_left[codes_left >= 0], minlength=n_codes)
    size_right = np.bincount(codes_right[codes_right >= 0], minlength=n_codes)
    pairs_in_block = size_left * (size_left - 1) // 2 if dedupe else size_left * size_right
    too_big = pairs_in_block > max_block_pairs
    usable = np.r_[~too_big, False]  # code -1 indexes the trailing False
    i = np.flatnonzero(usable[codes_left])
    j = np.flatnonzero(usable[codes_right])
    j = j[np.argsort(codes_right[j], kind="stable")]
    starts = np.r_[0, np.cumsum(np.bincount(codes_right[j], minlength=n_codes))]
    per_left = size_right[codes_left[i]]
    left_positions = np.repeat(i, per_left)
    block_start = np.repeat(starts[codes_left[i]], per_left)
    first_of_left = np.repeat(np.cumsum(per_left) - per_left, per_left)
    right_positions = j[block_start + np.arange(len(left_positions)) - first_of_left]
    pairs = np.column_stack([left_positions, right_positions]).astype(np.int64)
    if dedupe:
        pairs = pairs[pairs[:, 0] < pairs[:, 1]]
    return pairs, int(too_big.sum())


class BlockPass(BaseIndexAlgorithm):
    """Pairs whose `columns` all agree (and are present)."""

    def __init__(self, columns: list[str], max_block_pairs: int = 5000,
                 name: str | None = None) -> None:
        super().__init__()
        self.columns = list(columns)
        self.max_block_pairs = max_block_pairs
        self.skipped_blocks = 0
        self.name = name or "+".join(self.columns)  # the spec's rule name, in the statistics

    def positions(self, left: pd.DataFrame, right: pd.DataFrame | None,
                  column_codes: ColumnCodes | None = None) -> np.ndarray:
        """Pairs as an (n, 2) array of row positions (dedupe when right is None: i < j)."""
        codes_left, codes_right = key_codes(left, right, self.columns, column_codes)
        pairs, self.skipped_blocks = block_pairs(codes_left, codes_right, right is None,
                                                 self.max_block_pairs)
        return pairs

    # recordlinkage's extension points: labelled pairs for Index().add(BlockPass(...)).
    def _link_index(self, df_a, df_b):
        pairs = self.positions(df_a, df_b)
        return pd.MultiIndex.from_arrays([df_a.index[pairs[:, 0]], df_b.index[pairs[:, 1]]])

    def _dedup_index(self, df_a):
        pairs = self.positions(df_a, None)
        return pd.MultiIndex.from_arrays([df_a.index[pairs[:, 0]], df_a.index[pairs[:, 1]]])


def candidate_pairs(left: pd.DataFrame, right: pd.DataFrame | None, passes: list[BlockPass],
                    column_codes: ColumnCodes | None = None
                    ) -> tuple[np.ndarray, np.ndarray, list[PassStats]]:
    """Union of all passes as sorted, unique (left position, right position) arrays."""
    width = max(len(left) if right is None else len(right), 1)
    column_codes = ColumnCodes.reuse(column_codes, left, right)
    per_pass = [block_pass.positions(left, right, column_codes) for block_pass in passes]
    codes, stats = union_of_passes([p[:, 0] * width + p[:, 1] for p in per_pass],
                                   [(b.name, b.skipped_blocks) for b in passes])
    return codes // width, codes % width, stats


def union_of_passes(pass_codes: list[np.ndarray], names: list[tuple[str, int]]
                    ) -> tuple[np.ndarray, list[PassStats]]:
    """Sorted unique pair codes of all passes, and each pass's own and new (first seen) pairs.

    One sort of (code, pass) instead of a set union per pass."""
    n_passes = max(len(pass_codes), 1)
    tagged = np.concatenate([c * n_passes + p for p, c in enumerate(pass_codes)]) \
        if pass_codes else np.zeros(0, dtype=np.int64)
    tagged.sort()
    code, pass_of = tagged // n_passes, tagged % n_passes
    first = np.r_[True, code[1:] != code[:-1]] if len(code) else np.zeros(0, dtype=bool)
    new = np.bincount(pass_of[first], minlength=n_passes)
    stats = [PassStats(name, len(c), int(new[p]), skipped)
             for p, (c, (name, skipped)) in enumerate(zip(pass_codes, names, strict=True))]
    return code[first], stats

"""Candidate pairs: several blocking passes, unioned.

Each pass pairs records whose key columns all agree and are all present (a missing key never
pairs everything with everything, unlike a plain merge where NaN meets NaN). Blocks larger
than `max_block_pairs` are skipped and counted: a pass on a too-common key (王伟 in a big
district) would otherwise dominate memory without adding recall the other passes lack.

One code path for both engines: `pass_codes` gives every record its block code for a pass
(equal keys ⇔ equal codes; -1 where the record cannot pair: key missing, block too big, no
partner). The local engine pairs them here (`block_pairs`, `candidate_pairs`); the Dask engine
(`distributed.py`) splits the same codes into buckets and pairs each bucket with the same
`block_pairs`. Statistics (`PassStats`) are returned by whoever generates the pairs and
summed by the caller (`merge_stats`); nothing holds or mutates them.

A pass is also a `recordlinkage` index algorithm (`BlockPass` in `recordlinkage.Index().add`),
giving labelled pairs as recordlinkage's own `Block` does (dedupe: lower triangle).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from recordlinkage.base import BaseIndexAlgorithm

from pipeline.textops import joint_codes


@dataclass(frozen=True)
class PassStats:
    """One blocking pass (rule) of one linkage: `pairs` it generates, `new_pairs` no earlier
    pass generates (each candidate is counted once, by its first pass), `skipped_blocks` above
    `max_block_pairs`. Counts of pairs and blocks; partial counts add up (`merge_stats`)."""

    name: str
    pairs: int = 0
    new_pairs: int = 0
    skipped_blocks: int = 0

    def __add__(self, other: PassStats) -> PassStats:
        if other.name != self.name:
            raise ValueError(f"cannot add the statistics of passes {self.name} and "
                             f"{other.name}")
        return PassStats(self.name, self.pairs + other.pairs,
                         self.new_pairs + other.new_pairs,
                         self.skipped_blocks + other.skipped_blocks)


def merge_stats(names: Sequence[str], parts: Iterable[PassStats]) -> list[PassStats]:
    """One `PassStats` per pass name, in the order of `names`, summing the parts of each
    (partial counts from buckets, chunks or workers). A pass without parts counts zero."""
    total = {name: PassStats(name) for name in names}
    for part in parts:
        total[part.name] = total[part.name] + part
    return list(total.values())


class ColumnCodes:
    """Each key column's codes over both frames (left then right; int64, -1 where missing:
    '' or NaN), factorised once and shared by every pass and EM session that blocks on the
    column."""

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


def key_codes(left: pd.DataFrame, right: pd.DataFrame | None, columns: Sequence[str],
              column_codes: ColumnCodes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Integer block keys of both sides (int64, len(left) and len(right) — for dedupe, right
    is left), in one code space: equal keys ⇔ equal codes; -1 where any key column is
    missing. Integers, not joined strings: hashing the strings once per column is the only
    string work, and everything after is bincount and argsort on int64."""
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


def agreeing_pairs(left: pd.DataFrame, right: pd.DataFrame | None, columns: Sequence[str],
                   column_codes: ColumnCodes | None = None) -> int:
    """How many record pairs agree on every one of `columns` (all present), over the whole
    of left × right (dedupe, right None: unordered pairs i < j), counted from the block
    sizes without making a pair and without `max_block_pairs`: the numerator of P(agree)
    for `estimate.u_within_block`."""
    codes_left, codes_right = key_codes(left, right, columns, column_codes)
    return int(pairs_per_block(codes_left, codes_right, right is None).sum())


def pairs_per_block(codes_left: np.ndarray, codes_right: np.ndarray,
                    dedupe: bool) -> np.ndarray:
    """Per block code (int64, one per code 0 … max), the pairs its records make: link,
    size_left × size_right; dedupe, n(n−1)/2. Records with code -1 are in no block."""
    n_codes = int(max(codes_left.max(initial=-1), codes_right.max(initial=-1))) + 1
    size_left = np.bincount(codes_left[codes_left >= 0], minlength=n_codes)
    if dedupe:
        return size_left * (size_left - 1) // 2
    return size_left * np.bincount(codes_right[codes_right >= 0], minlength=n_codes)


@dataclass(frozen=True)
class PassCodes:
    """One pass's block code per record (int64; equal codes ⇔ one block, -1: cannot pair in
    this pass) on each side (`right is left` for dedupe), and the number of blocks skipped
    as too big."""

    left: np.ndarray
    right: np.ndarray
    skipped_blocks: int

    @property
    def dedupe(self) -> bool:
        return self.right is self.left


def pass_codes(left: pd.DataFrame, right: pd.DataFrame | None, columns: Sequence[str],
               max_block_pairs: int | None,
               column_codes: ColumnCodes | None = None) -> PassCodes:
    """Block codes of one pass, for both engines: `key_codes`, then -1 for every record whose
    block holds more than `max_block_pairs` pairs (link: size_left × size_right; dedupe:
    n(n−1)/2) or no pair at all (no partner on the other side). None: no limit."""
    codes_left, codes_right = key_codes(left, right, columns, column_codes)
    dedupe = right is None
    pairs_in_block = pairs_per_block(codes_left, codes_right, dedupe)
    n_codes = len(pairs_in_block)
    too_big = (np.zeros(n_codes, dtype=bool) if max_block_pairs is None
               else pairs_in_block > max_block_pairs)
    usable = np.r_[(pairs_in_block > 0) & ~too_big, False]  # code -1 reads the trailing False
    left_out = np.where(usable[codes_left], codes_left, -1)
    right_out = left_out if dedupe else np.where(usable[codes_right], codes_right, -1)
    return PassCodes(left_out, right_out, int(too_big.sum()))


def block_pairs(codes_left: np.ndarray, codes_right: np.ndarray, dedupe: bool) -> np.ndarray:
    """All (i, j) with codes_left[i] == codes_right[j] ≥ 0 (dedupe: only i < j), as an
    (n, 2) int64 array of positions, sorted by i then by j. Block sizes are not checked:
    `pass_codes` has already set the codes of too-big blocks to -1."""
    left, right = block_pair_positions(codes_left, codes_right, dedupe)
    pairs = np.empty((len(left), 2), dtype=np.int64)
    pairs[:, 0], pairs[:, 1] = left, right
    return pairs


def block_pair_positions(codes_left: np.ndarray, codes_right: np.ndarray, dedupe: bool
                         ) -> tuple[np.ndarray, np.ndarray]:
    """`block_pairs` as two int64 arrays (left positions, right positions), made with one
    pair-long array alive at a time besides them, not stacked (`candidate_pairs` makes each
    pair's code in the left array, in place)."""
    n_codes = int(max(codes_left.max(initial=-1), codes_right.max(initial=-1))) + 1
    i = np.flatnonzero(codes_left >= 0)
    j = np.flatnonzero(codes_right >= 0)
    j = j[np.argsort(codes_right[j], kind="stable")]
    size_right = np.bincount(codes_right[j], minlength=n_codes)
    starts = np.r_[0, np.cumsum(size_right)]
    per_left = size_right[codes_left[i]]
    # Pair k of left record i (0 ≤ k < its block's size) is right record
    # j[start of its block + k]: the offset is made in one array, in place.
    offset = np.arange(int(per_left.sum()), dtype=np.int64)
    offset -= np.repeat(np.cumsum(per_left) - per_left, per_left)
    offset += np.repeat(starts[codes_left[i]], per_left)
    right = j[offset]
    del offset
    left = np.repeat(i.astype(np.int64), per_left)
    if dedupe:
        keep = left < right
        left, right = left[keep], right[keep]
    return left, right.astype(np.int64, copy=False)


class BlockPass(BaseIndexAlgorithm):
    """One blocking rule: pairs whose `columns` all agree (and are present), blocks of more
    than `max_block_pairs` pairs skipped. Holds no result: what it finds is returned.

    Also a recordlinkage index algorithm: `recordlinkage.Index().add(BlockPass([...]))`."""

    def __init__(self, columns: Sequence[str], max_block_pairs: int | None = 5000,
                 name: str | None = None) -> None:
        super().__init__()
        self.columns = tuple(columns)
        self.max_block_pairs = max_block_pairs
        self.name = name or "+".join(self.columns)  # the spec's rule name, in the statistics

    @classmethod
    def from_rule(cls, rule, max_block_pairs: int | None) -> BlockPass:
        """The pass of a spec's blocking rule (`spec.BlockingRule`: `.name`, `.columns`)."""
        return cls(rule.columns, max_block_pairs, name=rule.name)

    def __repr__(self) -> str:
        return f"<BlockPass {self.name!r} on {list(self.columns)}>"

    def codes(self, left: pd.DataFrame, right: pd.DataFrame | None,
              column_codes: ColumnCodes | None = None) -> PassCodes:
        """Each record's block code for this pass (`pass_codes`)."""
        return pass_codes(left, right, self.columns, self.max_block_pairs, column_codes)

    def positions(self, left: pd.DataFrame, right: pd.DataFrame | None,
                  column_codes: ColumnCodes | None = None) -> np.ndarray:
        """Pairs as an (n, 2) int64 array of row positions (dedupe when right is None: i < j)."""
        codes = self.codes(left, right, column_codes)
        return block_pairs(codes.left, codes.right, codes.dedupe)

    # recordlinkage's extension points: labelled pairs for Index().add(BlockPass(...)).
    def _link_index(self, df_a: pd.DataFrame, df_b: pd.DataFrame) -> pd.MultiIndex:
        pairs = self.positions(df_a, df_b)
        return pd.MultiIndex.from_arrays([df_a.index[pairs[:, 0]], df_b.index[pairs[:, 1]]])

    def _dedup_index(self, df_a: pd.DataFrame) -> pd.MultiIndex:
        """recordlinkage's convention for deduplication: the lower triangle, the later
        record first."""
        pairs = self.positions(df_a, None)
        return pd.MultiIndex.from_arrays([df_a.index[pairs[:, 1]], df_a.index[pairs[:, 0]]])


def candidate_pairs(left: pd.DataFrame, right: pd.DataFrame | None, passes: list[BlockPass],
                    column_codes: ColumnCodes | None = None
                    ) -> tuple[np.ndarray, np.ndarray, list[PassStats]]:
    """Union of all passes: left and right positions (int64, sorted by left then right,
    unique) and each pass's statistics."""
    width = max(len(left) if right is None else len(right), 1)
    column_codes = ColumnCodes.reuse(column_codes, left, right)
    pass_pairs, skipped = [], []
    for block_pass in passes:
        codes = block_pass.codes(left, right, column_codes)
        pair_left, pair_right = block_pair_positions(codes.left, codes.right, codes.dedupe)
        pair_left *= width
        pair_left += pair_right  # the pair's code, in the left positions' array
        del pair_right
        pass_pairs.append(pair_left)
        skipped.append(codes.skipped_blocks)
    codes, stats = union_of_passes(pass_pairs, [b.name for b in passes], skipped)
    return codes // width, codes % width, stats


def union_of_passes(pass_codes: list[np.ndarray], names: Sequence[str],
                    skipped_blocks: Sequence[int] | None = None
                    ) -> tuple[np.ndarray, list[PassStats]]:
    """Sorted unique pair codes (int64, left × width + right) of all passes, and each pass's
    own and new (first seen) pairs.

    One sort of (code, pass) instead of a set union per pass. `pass_codes` is emptied as it
    is read (each pass's codes are freed once copied), and the sort and the codes are made
    in one pair-long int64 array, in place. With `block_pair_positions`, pairs made and
    united take half the memory they took at the peak (26.7 M pairs of 5 passes: 524
    against 1,042 MiB, tracemalloc, 2026-12-01)."""
    n_passes = max(len(pass_codes), 1)
    found = [len(c) for c in pass_codes]
    tagged = np.empty(sum(found), dtype=np.int64)
    at = 0
    for p in range(len(pass_codes)):
        codes = pass_codes[p]
        pass_codes[p] = None  # type: ignore[call-overload]  # freed once copied
        part = tagged[at:at + len(codes)]
        np.multiply(codes, n_passes, out=part)
        part += p
        at += len(codes)
        del codes, part
    pass_codes.clear()
    tagged.sort()
    pass_of = (tagged % n_passes).astype(np.int8 if n_passes < 128 else np.int64)
    tagged //= n_passes  # the codes, in place
    first = np.r_[True, tagged[1:] != tagged[:-1]] if len(tagged) else np.zeros(0, dtype=bool)
    new = np.bincount(pass_of[first], minlength=n_passes)
    skipped_blocks = skipped_blocks or [0] * len(found)
    stats = [PassStats(name, count, int(new[p]), int(skipped))
             for p, (count, name, skipped) in enumerate(zip(found, names, skipped_blocks,
                                                            strict=True))]
    return tagged[first], stats

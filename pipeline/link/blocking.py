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


@dataclass
class PassStats:
    name: str
    pairs: int
    new_pairs: int
    skipped_blocks: int


def _keys(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Joined key per record; '' where any key column is missing."""
    parts = [frame[c].astype(object) for c in columns]
    key = parts[0].astype(str)
    missing = parts[0].eq("")
    for part in parts[1:]:
        key = key + "\x1f" + part.astype(str)
        missing |= part.eq("")
    return key.mask(missing, "")


class BlockPass(BaseIndexAlgorithm):
    """Pairs whose `columns` all agree (and are present)."""

    def __init__(self, columns: list[str], max_block_pairs: int = 5000) -> None:
        super().__init__()
        self.columns = list(columns)
        self.max_block_pairs = max_block_pairs
        self.skipped_blocks = 0
        self.name = "+".join(self.columns)

    def positions(self, left: pd.DataFrame, right: pd.DataFrame | None) -> np.ndarray:
        """Pairs as an (n, 2) array of row positions (dedupe when right is None: i < j)."""
        left_keys = _keys(left, self.columns)
        right_keys = left_keys if right is None else _keys(right, self.columns)
        a = pd.DataFrame({"k": left_keys.to_numpy(), "i": np.arange(len(left))})
        b = pd.DataFrame({"k": right_keys.to_numpy(), "j": np.arange(len(right_keys))})
        a, b = a[a["k"] != ""], b[b["k"] != ""]
        size_a, size_b = a["k"].value_counts(), b["k"].value_counts()
        block_pairs = size_a.mul(size_b, fill_value=0)
        if right is None:
            block_pairs = size_a * (size_a - 1) // 2
        too_big = block_pairs[block_pairs > self.max_block_pairs].index
        self.skipped_blocks = len(too_big)
        if len(too_big):
            a, b = a[~a["k"].isin(too_big)], b[~b["k"].isin(too_big)]
        merged = a.merge(b, on="k")
        pairs = merged[["i", "j"]].to_numpy(dtype=np.int64)
        if right is None:
            pairs = pairs[pairs[:, 0] < pairs[:, 1]]
        return pairs

    # recordlinkage's extension points: labelled pairs for Index().add(BlockPass(...)).
    def _link_index(self, df_a, df_b):
        pairs = self.positions(df_a, df_b)
        return pd.MultiIndex.from_arrays([df_a.index[pairs[:, 0]], df_b.index[pairs[:, 1]]])

    def _dedup_index(self, df_a):
        pairs = self.positions(df_a, None)
        return pd.MultiIndex.from_arrays([df_a.index[pairs[:, 0]], df_a.index[pairs[:, 1]]])


def candidate_pairs(left: pd.DataFrame, right: pd.DataFrame | None, passes: list[BlockPass]
                    ) -> tuple[np.ndarray, np.ndarray, list[PassStats]]:
    """Union of all passes as sorted, unique (left position, right position) arrays."""
    width = len(left) if right is None else len(right)
    seen = np.zeros(0, dtype=np.int64)
    stats = []
    for block_pass in passes:
        pairs = block_pass.positions(left, right)
        codes = np.unique(pairs[:, 0] * width + pairs[:, 1])
        new = np.setdiff1d(codes, seen, assume_unique=True)
        seen = np.union1d(seen, new)
        stats.append(PassStats(block_pass.name, len(codes), len(new), block_pass.skipped_blocks))
    return seen // max(width, 1), seen % max(width, 1), stats

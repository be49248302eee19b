"""Decisions: match / possible (clerical band) / none, and the assignment rule of SPEC §3.

Pairs that a deterministic rule of the spec matches (equal, valid ID numbers) are matches
whatever their probability, and are assigned first. Link mode (one-to-one): pairs are then
taken in order of decreasing weight; a left record (a roll
row) gets at most one match, and a right record (a civil person) is matched by a second left
record only when both left records belong to one cluster: the same worker filed twice. A pair
in the clerical band is `possible` only for a left record that has no match. Dedupe mode
(clusters): every pair above the match threshold is a match; clusters are their components.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.link.spec import ModelSpec

MATCH, POSSIBLE, NONE = "match", "possible", "none"


def assign(pairs: pd.DataFrame, spec: ModelSpec, *, dedupe: bool,
           left_cluster: np.ndarray | None = None) -> pd.Series:
    """The decision of each scored pair (`inference.predict`: left, right, match_probability,
    match_weight, deterministic): "match", "possible" or "none", as an object Series on the
    pairs' index. `left_cluster`: a cluster id per left record (int64), or None."""
    match_p = spec.decisions.match_probability
    possible_p = spec.decisions.possible_probability
    p = pairs["match_probability"].to_numpy()
    forced = pairs["deterministic"].to_numpy(dtype=bool) if "deterministic" in pairs.columns \
        else np.zeros(len(pairs), dtype=bool)
    if dedupe or spec.assignment == "clusters":
        decision = np.where((p >= match_p) | forced, MATCH,
                            np.where(p >= possible_p, POSSIBLE, NONE))
        return pd.Series(decision, index=pairs.index, dtype=object)

    # Deterministic matches first, then by decreasing weight; ties by position (stable).
    order = np.lexsort((pairs["right"].to_numpy(), pairs["left"].to_numpy(),
                        -pairs["match_weight"].to_numpy(), ~forced))
    left, right = pairs["left"].to_numpy(), pairs["right"].to_numpy()
    decision = np.full(len(pairs), NONE, dtype=object)
    matched_left: set[int] = set()
    taker: dict[int, int] = {}
    for k in order:
        if p[k] < possible_p and not forced[k]:
            break  # forced pairs come first, then by weight: the rest are below the band
        a, b = int(left[k]), int(right[k])
        if a in matched_left:
            continue
        holder = taker.get(b)
        free = holder is None or (left_cluster is not None
                                  and left_cluster[holder] == left_cluster[a])
        if (p[k] >= match_p or forced[k]) and free:
            decision[k] = MATCH
            matched_left.add(a)
            taker.setdefault(b, a)
        else:
            decision[k] = POSSIBLE
    has_match = np.isin(left, np.fromiter(matched_left, dtype=np.int64, count=len(matched_left)))
    decision[(decision == POSSIBLE) & has_match] = NONE
    return pd.Series(decision, index=pairs.index, dtype=object)


def clusters(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected components (union–find) of n records joined by the given pairs (positions):
    per record, the lowest position in its component (int64)."""
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(x) for x in range(n)], dtype=np.int64)

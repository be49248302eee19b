"""Pair-level precision / recall / F1, shared by every peer and by bidui's own engine."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

PairLike = pd.MultiIndex | set[tuple] | frozenset[tuple] | Iterable[tuple]


def as_pair_set(pairs: PairLike) -> set[tuple]:
    """Normalise a MultiIndex (or any iterable of 2-tuples) to a set of ``(left, right)`` tuples.

    Duplicates collapse: a pair predicted twice counts once.
    """
    if isinstance(pairs, pd.MultiIndex):
        if pairs.nlevels != 2:
            raise ValueError(f"expected a 2-level MultiIndex of pairs, got {pairs.nlevels} levels")
        return set(zip(pairs.get_level_values(0), pairs.get_level_values(1), strict=True))
    out: set[tuple] = set()
    for pair in pairs:
        pair = tuple(pair)
        if len(pair) != 2:
            raise ValueError(f"expected (left, right) pairs, got {pair!r}")
        out.add(pair)
    return out


def score_pairs(predicted: PairLike, true: PairLike) -> dict:
    """Score predicted links against the true links, pair by pair (no one-to-one constraint).

    Returns ``precision``, ``recall``, ``f1`` (floats; 0.0 where undefined) and the integer
    counts ``predicted``, ``actual`` and ``true_positive``. Pairs are ordered: ``(a, b)`` is not
    ``(b, a)``.
    """
    pred = as_pair_set(predicted)
    actual = as_pair_set(true)
    tp = len(pred & actual)
    precision = tp / len(pred) if pred else 0.0
    recall = tp / len(actual) if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "predicted": len(pred),
        "actual": len(actual),
        "true_positive": tp,
    }

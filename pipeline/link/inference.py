"""Inference, as Splink's `linker.inference.predict`: from candidate pairs' levels and a
trained model to scored pairs.

Per pair and comparison the weight is log2(m/u) of its level (0 at the null level); at a
term-frequency level the u is the frequency of the left record's value among both sides'
records, so a common value agreeing (王伟) is weaker evidence than a rare one. The match weight
is the sum (log2 Bayes factor, without the prior); the probability adds the prior odds. A
deterministic rule of the spec marks a pair as a match whatever its probability (equal, valid
ID numbers: SPEC §3); the decision itself is the assignment's (`assign.py`).

Only the pairs worth keeping are returned: those at or above the clerical band (at most 0.5),
the deterministic ones, and each left record's best `EXPLAIN_TOP` (for `bidui explain`).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import pandas as pd

from pipeline.link.compare import Inputs
from pipeline.link.comparisons import NULL_LEVEL, LevelComparison
from pipeline.link.comparisons.pairs import Encoded
from pipeline.link.estimate import term_frequencies
from pipeline.link.fellegi_sunter import Model
from pipeline.link.spec import DecisionSpec, DeterministicRule

EXPLAIN_TOP = 3  # best candidates kept per left record, for `bidui explain`
SCORE_SLICE_PAIRS = 1_000_000  # candidates scored at once by `predict` (whole left records)


def tf_u(comparisons: Sequence[LevelComparison], encoded: Encoded, li: np.ndarray
         ) -> list[np.ndarray | None]:
    """Per comparison with term frequencies (else None): per pair, the share of the left
    record's value among the non-empty values of both sides' records (float64, at least
    1 / records), from the records' value codes; `encoded.dedupe`: one side."""
    return tf_at(tf_records(comparisons, encoded), li)


def tf_at(tf: list[np.ndarray | None], li: np.ndarray) -> list[np.ndarray | None]:
    """Per-record term-frequency u (`tf_records`) at the pairs' left records `li`."""
    return [None if t is None else t[li] for t in tf]


def tf_records(comparisons: Sequence[LevelComparison], encoded: Encoded
               ) -> list[np.ndarray | None]:
    """`tf_u` per left record instead of per pair (float64, one per left record)."""
    n_records = len(next(iter(encoded.left.values()), ())) + (
        0 if encoded.dedupe else len(next(iter(encoded.right.values()), ())))
    floor = 1.0 / max(n_records, 1)
    out: list[np.ndarray | None] = []
    for comparison in comparisons:
        if comparison.tf_level() is None:
            out.append(None)
            continue
        left_codes, right_codes = encoded.codes(comparison.tf_value_column())
        per_record = term_frequencies(left_codes, None if encoded.dedupe else right_codes)
        out.append(np.maximum(per_record, floor))
    return out


def left_slices(li: np.ndarray, pairs: int | None = None) -> list[slice]:
    """Cuts of the candidates into runs of about `pairs` pairs (default
    `SCORE_SLICE_PAIRS`) that never split a left record's pairs (li must be ascending;
    otherwise, or when short, one run of all)."""
    pairs = pairs or SCORE_SLICE_PAIRS
    n = len(li)
    if n <= pairs or not bool(np.all(li[1:] >= li[:-1])):
        return [slice(0, n)]
    cuts = [0]
    while cuts[-1] + pairs < n:
        # the end of the left record at the target, so its pairs stay together
        cuts.append(int(np.searchsorted(li, li[cuts[-1] + pairs], side="right")))
    if cuts[-1] < n:
        cuts.append(n)
    return [slice(a, b) for a, b in pairwise(cuts)]


def deterministic(rules: Sequence[DeterministicRule], comparisons: Sequence[LevelComparison],
                  levels: np.ndarray, lf: Inputs, rf: Inputs, li: np.ndarray, ri: np.ndarray
                  ) -> np.ndarray:
    """Per pair (bool): does a deterministic rule (`spec.decisions.deterministic`: a
    comparison at a level, and `both` records holding given values) make it a match?"""
    forced = np.zeros(len(li), dtype=bool)
    names = [c.name for c in comparisons]
    for rule in rules:
        k = names.index(rule.comparison)
        hit = levels[:, k] == comparisons[k].level_names.index(rule.level)
        for column, value in rule.both:  # the linker's inputs include these columns
            hit &= (lf[column][li] == value) & (rf[column][ri] == value)
        forced |= hit
    return forced


def worth_keeping(li: np.ndarray, match_weight: np.ndarray, probability: np.ndarray,
                  threshold: float, top: int = EXPLAIN_TOP) -> np.ndarray:
    """Per pair (bool): probability ≥ threshold, or among its left record's `top` pairs by
    match weight (ties: the earlier pair)."""
    keep = probability >= threshold
    order = np.lexsort((-match_weight, li))
    rank = np.zeros(len(li), dtype=np.int64)
    if len(li):
        first = np.r_[True, li[order][1:] != li[order][:-1]]
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(li)), 0))
        rank[order] = np.arange(len(li)) - group_start
    return keep | (rank < top)


def scored_frame(comparisons: Sequence[LevelComparison], li: np.ndarray, ri: np.ndarray,
                 levels: np.ndarray, weights: np.ndarray, match_weight: np.ndarray,
                 probability: np.ndarray) -> pd.DataFrame:
    """One row per pair: left, right (positions), `<comparison>_level` (level name, "null"
    for no evidence), `<comparison>_weight` (log2 Bayes factor), match_weight, and
    match_probability."""
    data: dict[str, object] = {"left": li, "right": ri}
    for c, comparison in enumerate(comparisons):
        names = np.array([*comparison.level_names, "null"], dtype=object)
        codes = levels[:, c].astype(np.int64)
        data[f"{comparison.name}_level"] = names[np.where(codes == NULL_LEVEL,
                                                          len(names) - 1, codes)]
        data[f"{comparison.name}_weight"] = weights[:, c]
    data["match_weight"] = match_weight
    data["match_probability"] = probability
    return pd.DataFrame(data)


def predict(model: Model, comparisons: Sequence[LevelComparison], decisions: DecisionSpec,
            encoded: Encoded, li: np.ndarray, ri: np.ndarray, levels: np.ndarray
            ) -> pd.DataFrame:
    """The kept candidate pairs, scored (`scored_frame`), with `deterministic` (bool).

    `decisions`: the spec's decision settings; `encoded`: the records' inputs and codes
    (`Comparer.encoded(lf, rf)`); li, ri, levels: the candidates (int64, int64, int8).

    Candidates sorted by their left record are scored in runs of about
    `SCORE_SLICE_PAIRS` pairs, each holding whole left records (`left_slices`): every
    cell depends on its pair alone, and which pairs are kept on its left record's pairs
    alone, so the frame is the one scoring them all at once gives, while the float64
    weights (8 bytes a pair and comparison) exist for one run at a time (0.42 GB for the
    province's 7.6 M roll ↔ civil candidates of 7 comparisons)."""
    tf = tf_records(comparisons, encoded)
    parts = [score_pairs(model, comparisons, decisions, encoded.left, encoded.right,
                         li[run], ri[run], levels[run], tf_at(tf, li[run]))
             for run in left_slices(li)]
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def score_pairs(model: Model, comparisons: Sequence[LevelComparison], decisions: DecisionSpec,
                lf: Inputs, rf: Inputs, li: np.ndarray, ri: np.ndarray, levels: np.ndarray,
                tf: list[np.ndarray | None]) -> pd.DataFrame:
    """`predict` with the term frequencies given: `tf`, per comparison, the u of each pair's
    value at its term-frequency level (float64 per pair) or None (`tf_u`; a streamed linkage
    counts them over every chunk, `streamed.py`). lf, rf: the records' inputs."""
    weights = model.weights(levels, tf)
    match_weight = weights.sum(axis=1)
    probability = model.probability(match_weight)
    forced = deterministic(decisions.deterministic, comparisons, levels, lf, rf, li, ri)
    keep = worth_keeping(li, match_weight, probability,
                         min(decisions.possible_probability, 0.5)) | forced
    pairs = scored_frame(comparisons, li[keep], ri[keep], levels[keep], weights[keep],
                         match_weight[keep], probability[keep])
    pairs["deterministic"] = forced[keep]
    return pairs

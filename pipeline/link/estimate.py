"""Estimating the model: u by random sampling, m and the prior by EM, term frequencies.

u_l: the share of random record pairs (almost all non-matches) at level l. m_l and the prior
by expectation–maximisation over the candidate pairs' level vectors, with u held fixed (as
Splink does), which keeps EM from drifting into a "same household" class; or the prior from
the candidates at one level that only matches reach (`matches_from_level`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pipeline.link.comparisons import NULL_LEVEL, LevelComparison

SMOOTHING = 0.5  # add-half per level, so a level never seen in the sample keeps a tiny u


def random_pairs(n_left: int, n_right: int | None, count: int,
                 seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` uniformly random pairs as two int64 position arrays (dedupe when n_right is
    None: i != j; ordered, so (i, j) and (j, i) may both occur)."""
    rng = np.random.default_rng(seed)
    if n_right is None:
        i = rng.integers(0, n_left, count)
        j = rng.integers(0, n_left - 1, count)
        j = j + (j >= i)
        return i, j
    return rng.integers(0, n_left, count), rng.integers(0, n_right, count)


def level_shares(levels: np.ndarray, n_levels: int, weights: np.ndarray | None = None,
                 rows: np.ndarray | None = None) -> np.ndarray:
    """Smoothed share of each level among non-null values (optionally weighted): float64,
    `n_levels` probabilities summing to 1, of `levels` (int8, one per entry).

    `rows`: how many pairs each entry stands for (level patterns, see `patterns`); `weights`
    are then per pair, and the weight of an entry is weights × rows."""
    known = levels != NULL_LEVEL
    rows = np.ones(len(levels)) if rows is None else rows
    w = rows if weights is None else weights * rows
    total = float(w[known].sum())
    if total <= 0:
        return np.full(n_levels, 1.0 / n_levels)
    counts = np.bincount(levels[known].astype(np.int64), weights=w[known], minlength=n_levels)
    pseudo = SMOOTHING * total / max(float(rows[known].sum()), 1)  # half a typical record
    return (counts + pseudo) / (total + pseudo * n_levels)


def estimate_u(comparisons: list[LevelComparison],
               compute: Callable[[np.ndarray, np.ndarray], np.ndarray],
               n_left: int, n_right: int | None, count: int, seed: int) -> list[np.ndarray]:
    """u per comparison (float64 per level): the level shares among `count` random pairs
    (at most all pairs), compared by `compute(i, j)` -> int8 levels (n × n_comparisons)."""
    total = n_left * (n_left - 1) // 2 if n_right is None else n_left * n_right
    i, j = random_pairs(n_left, n_right, int(min(count, max(total, 1))), seed)
    levels = compute(i, j)
    return [level_shares(levels[:, c], len(comp.level_names))
            for c, comp in enumerate(comparisons)]


def initial_m(n_levels: int) -> np.ndarray:
    """Start EM believing matches mostly agree: level 0 likely, each worse level 8× less."""
    m = 8.0 ** -np.arange(n_levels, dtype=np.float64)
    return m / m.sum()


def pin(m: np.ndarray, fixed: dict[int, float] | None) -> np.ndarray:
    """Set the pinned levels' m and rescale the others to fill the rest of the mass."""
    if not fixed:
        return m
    out = m.copy()
    free = np.ones(len(m), dtype=bool)
    for level, value in fixed.items():
        out[level] = value
        free[level] = False
    rest = out[free].sum()
    if rest > 0:
        out[free] *= (1.0 - sum(fixed.values())) / rest
    return out


def patterns(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct level vectors among the pairs and how many pairs have each.

    EM only ever needs these: millions of candidate pairs fall into a few hundred patterns,
    so each iteration costs microseconds instead of a pass over every pair."""
    if levels.shape[1] > 15 or not len(levels) or int(levels.max()) > 14:
        unique, counts = np.unique(levels, axis=0, return_counts=True)
        return unique, counts.astype(np.float64)
    # One 4-bit field per comparison (levels are -1..14), added column by column: one array
    # of keys and one column's at a time (int32 up to 7 comparisons), not three
    # n_pairs × n_comparisons int64 copies (tracemalloc, 15 M pairs of 5 comparisons: 1,157
    # against 172 MiB; the member model's training, the local night's peak, called it).
    key_type = np.int32 if levels.shape[1] <= 7 else np.int64
    shifts = (4 * np.arange(levels.shape[1])).astype(key_type)
    keys = np.zeros(len(levels), dtype=key_type)
    for c, shift in enumerate(shifts):
        column = levels[:, c].astype(key_type)
        column += 1
        column <<= shift
        keys += column
    del column
    unique, counts = np.unique(keys, return_counts=True)
    decoded = ((unique[:, None] >> shifts) & 15) - 1
    return decoded.astype(levels.dtype), counts.astype(np.float64)


def log_bayes_factors(levels: np.ndarray, u: list[np.ndarray], m: list[np.ndarray]
                      ) -> np.ndarray:
    """Per pair (float64), the sum over its comparisons of ln(m / u) at its level (0 at the
    null level): the match weight in nats; `levels`: int8, n_pairs × n_comparisons."""
    llr = np.zeros(len(levels))
    for c in range(levels.shape[1]):
        column = levels[:, c]
        known = column != NULL_LEVEL
        llr[known] += np.log(m[c])[column[known]] - np.log(u[c])[column[known]]
    return llr


def match_probability(prior: float, llr: np.ndarray) -> np.ndarray:
    """P(match | levels) (float64, 0–1) from the share of matches `prior` (0–1) and the pairs'
    `log_bayes_factors`."""
    logit = np.log(prior / (1 - prior)) + llr
    return 1.0 / (1.0 + np.exp(-np.clip(logit, -700, 700)))


def expectation_maximisation(levels: np.ndarray, u: list[np.ndarray], m: list[np.ndarray],
                             prior: float = 0.1, max_iterations: int = 200,
                             tolerance: float = 1e-6,
                             fixed: list[dict[int, float] | None] | None = None,
                             ) -> tuple[list[np.ndarray], float, int]:
    """EM for m and the prior among candidate pairs; u fixed, pinned m levels held.

    `levels`: int8, n_pairs × n_comparisons; u, m: float64 per level, per comparison; `fixed`:
    per comparison, {level index: m} held. Returns (m, prior among the pairs, iterations)."""
    levels, rows = patterns(levels)
    fixed = fixed or [None] * len(m)
    m = [pin(x, f) for x, f in zip(m, fixed, strict=True)]
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        posterior = match_probability(prior, log_bayes_factors(levels, u, m))
        new_m = [pin(level_shares(levels[:, c], len(m[c]), posterior, rows), fixed[c])
                 for c in range(len(m))]
        new_prior = float(np.clip((posterior * rows).sum() / max(rows.sum(), 1), 1e-9,
                                  1 - 1e-9))
        change = max(max(float(np.abs(a - b).max()) for a, b in zip(new_m, m, strict=True)),
                     abs(new_prior - prior))
        m, prior = new_m, new_prior
        if change < tolerance:
            break
    return m, prior, iterations


def estimate_prior(levels: np.ndarray, u: list[np.ndarray], m: list[np.ndarray],
                   prior: float = 0.1, max_iterations: int = 200,
                   tolerance: float = 1e-9) -> float:
    """The share of matches among candidate pairs (0–1), by EM on the prior alone (m, u
    fixed); `levels`: int8, n_pairs × n_comparisons."""
    levels, rows = patterns(levels)
    llr = log_bayes_factors(levels, u, m)
    for _ in range(max_iterations):
        posterior = match_probability(prior, llr)
        new = float(np.clip((posterior * rows).sum() / max(rows.sum(), 1), 1e-12, 1 - 1e-9))
        if abs(new - prior) < tolerance:
            return new
        prior = new
    return prior


def u_within_block(levels: np.ndarray, k: int, rare: list[int], u: list[np.ndarray],
                   m: list[np.ndarray], agreeing: int, total_pairs: float,
                   sample_pairs: float) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """u of comparison `k` with its `rare` levels (indices) estimated from a block's pairs
    instead of random ones, and the numbers behind it.

    A random sample of n pairs cannot tell a u of 1e-10 from one of 1e-7: a level it never
    sees gets the add-half floor, about 0.5 / n (5e-7 for a million pairs), thousands of
    times too high for two ID numbers one digit apart, so a true match with a mistyped ID
    number scores too low. Such a level (nearly) implies that the records agree on some
    columns (the birth date), so

        u_l = P(agree) × P(level l | agree, non-match),

    P(agree) = `agreeing` / `total_pairs` (all record pairs), counted exactly
    (`blocking.agreeing_pairs`), and
    the second factor among the pairs of a block that agrees on those columns (`levels`,
    int8, n_pairs × n_comparisons): each pair weighed by its probability of being a
    non-match, 1 − p, where p comes from the *other* comparisons only (their m and u, and
    the block's share of matches by EM with them fixed, `estimate_prior`), so the level
    being estimated does not decide which pairs count. Shares are smoothed as
    `level_shares` (half a pair), and no u goes below half a pair of all pairs
    (0.5 / `total_pairs`: what counting the whole of them could still miss). The levels not
    listed keep their u, scaled to fill the rest. Pairs at a rare level that do not agree on
    the columns (the mistyped digit in the birth date) are not counted: a lower bound, by at
    most the share of such digits.

    The block is used only when it holds more non-matches (summed 1 − p) than the random
    sample (`sample_pairs` pairs) has pairs that agree, `agree_share` × `sample_pairs`: only
    then does it see more of the strangers that agree than the sample does, and its
    smoothing floor lies below the sample's. Otherwise (no pair has this comparison, or a
    small night, where the block is nearly all matches) it says nothing: u_k is kept as it
    is (the record says why) and no conditional u is returned.

    Returns (u_k, float64 per level summing to 1; the shares of every level among the
    block's non-matches, P(level | agree, non-match), float64 summing to 1, the u an EM
    session on pairs that agree on those columns must use, or None; the record for
    link_model.json)."""
    agree_share = agreeing / max(total_pairs, 1.0)
    known_k = levels[:, k] != NULL_LEVEL

    def kept(why: str, **numbers: float) -> tuple[np.ndarray, None, dict]:
        return u[k].astype(np.float64).copy(), None, {
            "block_pairs": len(levels), "agree_share": float(agree_share), **numbers,
            "kept": f"the random sample's u: {why}", "within_block": {}}

    if not known_k.any():
        return kept("no pair of the block has this comparison")
    others = [c for c in range(levels.shape[1]) if c != k]
    n_levels = len(u[k])
    u_others, m_others = [u[c] for c in others], [m[c] for c in others]
    block_prior = estimate_prior(levels[:, others], u_others, m_others) if others else 0.0
    llr = log_bayes_factors(levels[:, others], u_others, m_others)
    # No other comparison: nothing tells the pairs apart, each is as likely one as the other.
    non_match = (1.0 - match_probability(block_prior, llr) if others
                 else np.full(len(levels), 0.5))
    non_match_pairs = float(non_match[known_k].sum())
    sample_agreeing = agree_share * sample_pairs
    if non_match_pairs <= sample_agreeing:
        return kept(f"the block's non-matches ({non_match_pairs:,.1f}) are no more than the "
                    f"random sample's pairs that agree ({sample_agreeing:,.1f})",
                    block_prior=float(block_prior), non_match_pairs=non_match_pairs)
    within = level_shares(levels[:, k], n_levels, weights=non_match)
    new = u[k].astype(np.float64).copy()
    new[rare] = np.maximum(agree_share * within[rare], SMOOTHING / max(total_pairs, 1.0))
    rest = np.setdiff1d(np.arange(n_levels), rare)
    new[rest] = u[k][rest] * (1.0 - new[rare].sum()) / max(float(u[k][rest].sum()), 1e-300)
    record = {"block_pairs": len(levels), "block_prior": float(block_prior),
              "non_match_pairs": non_match_pairs,
              "agree_share": float(agree_share),
              "within_block": {int(r): float(within[r]) for r in rare}}
    return new, within, record


def matches_from_level(pairs_at_level: int, m_level: float) -> float | None:
    """The number of matches among candidate pairs, from one level whose pairs are (almost)
    all matches: the candidates at that level divided by its m, the share of all matches
    that reach it (so 20,909 pairs with the same ID number and m = 0.973 stand for 21,489
    matches). Splink estimates its prior the same way, from the pairs a deterministic rule
    links and that rule's recall (`estimate_probability_two_random_records_match`).

    `pairs_at_level`: how many candidate pairs are at the level; `m_level`: its m (0–1].
    None when no candidate is at the level (nothing to count from) or m is 0. Only exact
    when every pair at the level is a candidate (a blocking rule on the level's columns)
    and a non-match is (almost) never at it."""
    if pairs_at_level == 0 or m_level <= 0:
        return None
    return pairs_at_level / m_level


def term_frequencies(left_codes: np.ndarray, right_codes: np.ndarray | None) -> np.ndarray:
    """Per left record (float64, 0–1), the share of its value among the non-empty values of
    both sides' records (0 where missing), from the records' value codes (int, dense, -1 for
    missing; right None: dedupe, one side)."""
    codes = left_codes if right_codes is None else np.concatenate([left_codes, right_codes])
    present = codes[codes >= 0]
    if not len(present):
        return np.zeros(len(left_codes))
    share = np.bincount(present) / len(present)
    return np.where(left_codes >= 0, share[np.maximum(left_codes, 0)], 0.0)


def labelled_m(levels: np.ndarray, n_levels: int) -> tuple[np.ndarray, int]:
    """m from labelled matches (as Splink's `estimate_m_from_pairwise_labels`): each level's
    share among the confirmed pairs' non-null `levels` (int8, one per pair), with the
    add-half pseudo-count of `level_shares` so a level no label showed keeps a little m.
    Returns (m, the number of labels with a non-null level)."""
    return level_shares(levels, n_levels), int((levels != NULL_LEVEL).sum())


def blend_m(m_em: np.ndarray, m_labels: np.ndarray, em_weight: float, n_labels: int,
            fixed: dict[int, float] | None = None) -> np.ndarray:
    """EM's m and the labels' m, weighted by what each stands for: `em_weight` pairs for EM's
    estimate and `n_labels` for the labels', (em_weight·m_em + n_labels·m_labels) /
    (em_weight + n_labels); pinned (`fixed`) levels stay pinned. No labels: m_em itself."""
    if n_labels <= 0:
        return m_em
    blended = (em_weight * m_em + n_labels * m_labels) / (em_weight + n_labels)
    return pin(blended, fixed)

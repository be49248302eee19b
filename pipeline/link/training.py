"""Training a Fellegi–Sunter model, as Splink's `linker.training` does.

1. u by random sampling: `u_sample_pairs` uniformly random record pairs (almost all
   non-matches), compared; u_l is each level's smoothed share.
1b. u of rare levels within a block (`training.u_within_block`): a level random pairs almost
   never reach (two ID numbers one digit apart) gets the sample's add-half floor, thousands of
   times its true u; instead u = P(agree on what the level implies) × the level's share among
   a block's non-matches (`estimate.u_within_block`), with the other comparisons' m from a
   first round of the sessions, which then run again with the new u; a session whose block
   agrees on the entry's columns uses the comparison's u *given* that agreement (its levels'
   shares among the block's non-matches), since within such a block strangers reach levels
   that random pairs almost never do (born the same day, their ID numbers share the birth
   digits).
2. m by EM, in sessions (`training.em_sessions`): each session takes the pairs of one
   blocking rule and estimates every comparison except those the rule fixes
   (`estimate_without`); a comparison's m is the mean over the sessions that estimated it.
   Without sessions, one EM over all candidate pairs. u is held fixed throughout, and
   `fixed_m` levels are pinned.
3. Labels (analysts' confirmed / dismissed pairs, `Labels`): confirmed pairs are true
   matches, so their levels give m directly (`estimate.labelled_m`, as Splink's
   `estimate_m_from_pairwise_labels`); per comparison it is blended with EM's m in
   proportion to weight (`estimate.blend_m`): EM's estimate counts as `LABEL_WEIGHT` pairs,
   the labels as the confirmed pairs with a non-null level there, so a handful of labels
   nudges m rather than overrides it. `fixed_m` levels stay pinned. Dismissed pairs are
   non-matches: u comes from random pairs, which they do not bias, so they change nothing
   here (they are counted; `people.apply_labels` keeps them from ever being linked).
4. The prior: EM on the candidates' share of matches with m and u fixed, then scaled to all
   record pairs; or, with `training.prior_from: {comparison, level}`, the candidates at that
   level (the same ID number) divided by its m (`prior_from_level`), as Splink estimates
   its prior from a deterministic rule and its recall.

Training reads levels only through functions it is given: `compare(i, j)` (levels of any
pairs), `block(rule)` (the pairs of a blocking rule) and `agreeing(columns)` (how many of all
record pairs agree on those columns), so it knows nothing of frames, blocking codes or where
comparing runs. Pairs already compared as candidates are looked up
(`known_levels`), not compared again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.link.comparisons import LevelComparison
from pipeline.link.estimate import (
    blend_m,
    estimate_prior,
    estimate_u,
    expectation_maximisation,
    initial_m,
    labelled_m,
    matches_from_level,
    pin,
    u_within_block,
)
from pipeline.link.fellegi_sunter import ComparisonParams, Model
from pipeline.link.spec import BlockingRule, PriorLevel, TrainingSpec, UWithinBlock

# Levels of pairs: compare(left positions, right positions) -> int8 (n_pairs × n_comparisons).
Compare = Callable[[np.ndarray, np.ndarray], np.ndarray]
# The pairs of a blocking rule, as an (n, 2) int64 array of positions.
Block = Callable[[BlockingRule], np.ndarray]
# How many of all record pairs agree on every one of these columns.
Agreeing = Callable[[Sequence[str]], int]


# How many labelled pairs EM's m is worth when blended with the labels' m (a fixed prior
# weight, not EM's expected match count: that grows with the data, and on a large set would
# drown any number of analysts' decisions; 50 lets ten confirmed pairs move m by a sixth).
LABEL_WEIGHT = 50.0
# `training.u_within_block`: a listed level the random sample saw this many times is measured
# there (its u known to about a third), not rare: it keeps the sample's u.
MEASURED_PAIRS = 10


@dataclass(frozen=True)
class Labels:
    """Analysts' decisions as labelled pairs, as (n, 2) int64 (left, right) positions:
    `confirmed` (true matches) and `dismissed` (non-matches)."""

    confirmed: np.ndarray
    dismissed: np.ndarray

    @classmethod
    def empty(cls) -> Labels:
        none = np.empty((0, 2), dtype=np.int64)
        return cls(none, none)

    def __bool__(self) -> bool:
        return bool(len(self.confirmed) or len(self.dismissed))


def label_m(comparisons: Sequence[LevelComparison], m_em: list[np.ndarray],
            confirmed_levels: np.ndarray, em_weight: float = LABEL_WEIGHT
            ) -> tuple[list[np.ndarray], dict[str, dict]]:
    """m per comparison blended with the confirmed pairs' m (`confirmed_levels`: int8,
    n_confirmed × n_comparisons), and per comparison what link_model.json records of it:
    the labels' count, m_em, m_labels and the blended m (level name -> probability)."""
    out, record = [], {}
    for k, c in enumerate(comparisons):
        fixed = c.fixed_m()
        m_lab, n = labelled_m(confirmed_levels[:, k], len(c.level_names))
        m_lab = pin(m_lab, fixed)
        blended = blend_m(m_em[k], m_lab, em_weight, n, fixed)
        out.append(blended)

        def named(values: np.ndarray, c: LevelComparison = c) -> dict[str, float]:
            return {str(lv): float(x) for lv, x in zip(c.level_names, values, strict=True)}

        record[c.name] = {"labels": n, "m_em": named(m_em[k]),
                          "m_labels": named(m_lab) if n else None, "m": named(blended)}
    return out, record


@dataclass(frozen=True)
class SessionResult:
    """One EM session: its blocking rule (None: all candidate pairs), the pairs it saw, the
    comparisons it estimated with their m per level, its iterations (0: not run, no pairs),
    and whether it stopped at `training.em_max_iterations` rather than because its estimates
    stopped changing (`em_tolerance`): its m may not have settled."""

    block: BlockingRule | None
    pairs: int
    estimated: tuple[str, ...]
    m: dict[str, dict[str, float]]  # comparison -> level name -> m (probability)
    iterations: int
    stopped_at_cap: bool = False

    @classmethod
    def of(cls, block: BlockingRule | None, pairs: int, comparisons: Sequence[LevelComparison],
           m: Sequence[np.ndarray], iterations: int, cap: int | None = None
           ) -> SessionResult:
        return cls(block, int(pairs), tuple(c.name for c in comparisons),
                   {c.name: {str(level): float(value) for level, value in
                             zip(c.level_names, m_c, strict=True)}
                    for c, m_c in zip(comparisons, m, strict=True)},
                   int(iterations), cap is not None and iterations >= cap)

    def as_dict(self) -> dict:
        """As link_model.json records it (as Splink keeps its training sessions)."""
        block = None if self.block is None else {"name": self.block.name,
                                                 "columns": list(self.block.columns)}
        return {"block": block, "pairs": self.pairs, "estimated": list(self.estimated),
                "m": self.m, "iterations": self.iterations,
                "stopped_at_iteration_cap": self.stopped_at_cap}


@dataclass(frozen=True)
class Trained:
    """A trained model and the record of each EM session that made it."""

    model: Model
    sessions: tuple[SessionResult, ...]


def known_levels(pairs: np.ndarray, compare: Compare,
                 known: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Levels of `pairs` ((n, 2) int64 positions): taken from `known` (candidate left and
    right positions, sorted by (left, right), and their levels) where a pair is among them,
    compared otherwise. int8, n × n_comparisons."""
    if known is None or not len(pairs):
        return compare(pairs[:, 0], pairs[:, 1])
    li, ri, levels = known
    width = int(max(ri.max(initial=0), pairs[:, 1].max(initial=0))) + 1
    codes = li.astype(np.int64) * width + ri
    wanted = pairs[:, 0].astype(np.int64) * width + pairs[:, 1]
    at = np.minimum(np.searchsorted(codes, wanted), max(len(codes) - 1, 0))
    found = (codes[at] == wanted) if len(codes) else np.zeros(len(wanted), dtype=bool)
    out = np.empty((len(pairs), levels.shape[1]), dtype=np.int8)
    out[found] = levels[at[found]]
    missing = ~found
    if missing.any():
        out[missing] = compare(pairs[missing, 0], pairs[missing, 1])
    return out


@dataclass(frozen=True)
class ConditionalU:
    """u of comparison `k` among non-matches that agree on `agree_on` (float64 per level):
    what an EM session whose block agrees on those columns must use for it, since there
    the comparison's levels are not those of random pairs (two strangers born the same day
    have the same ID birth digits)."""

    k: int
    agree_on: frozenset[str]
    u: np.ndarray


def session_u(u: list[np.ndarray], block: BlockingRule,
              conditional: Sequence[ConditionalU] = ()) -> list[np.ndarray]:
    """u for an EM session on `block`: `u`, with each conditional u whose columns the block
    agrees on in place of its comparison's."""
    u = list(u)
    for given in conditional:
        if given.agree_on <= set(block.columns):
            u[given.k] = given.u
    return u


def em_sessions(training: TrainingSpec, comparisons: Sequence[LevelComparison],
                u: list[np.ndarray], m0: list[np.ndarray],
                session_levels: Callable[[BlockingRule], np.ndarray],
                conditional: Sequence[ConditionalU] = ()
                ) -> tuple[list[np.ndarray], list[int], list[SessionResult]]:
    """m per comparison (float64 per level: the mean of the sessions that estimated it; m0
    where none did), the iterations of each session that ran, and every session's record.

    `session_levels(rule)`: the levels (int8, n_pairs × n_comparisons) of the pairs of a
    session's blocking rule; `conditional`: u given agreement, used by the sessions whose
    block agrees on its columns (`session_u`)."""
    names = [c.name for c in comparisons]
    total = [np.zeros_like(x) for x in m0]
    count = [0] * len(m0)
    iterations: list[int] = []
    sessions: list[SessionResult] = []
    for session in training.em_sessions:
        levels = session_levels(session.block)
        active = [k for k, name in enumerate(names) if name not in session.estimate_without]
        if len(levels) == 0 or not active:
            sessions.append(SessionResult.of(session.block, len(levels), [], [], 0))
            continue
        u_here = session_u(u, session.block, conditional)
        m, _prior, steps = expectation_maximisation(
            levels[:, active], [u_here[k] for k in active], [m0[k] for k in active],
            max_iterations=training.em_max_iterations, tolerance=training.em_tolerance,
            fixed=[comparisons[k].fixed_m() for k in active])
        iterations.append(steps)
        sessions.append(SessionResult.of(session.block, len(levels),
                                         [comparisons[k] for k in active], m, steps,
                                         cap=training.em_max_iterations))
        for position, k in enumerate(active):
            total[k] += m[position]
            count[k] += 1
    mean = [t / n if n else m0[k] for k, (t, n) in enumerate(zip(total, count, strict=True))]
    return mean, iterations, sessions


def prior_from_level(anchor: PriorLevel, comparisons: Sequence[LevelComparison],
                     levels: np.ndarray, m: list[np.ndarray], em_prior_candidates: float
                     ) -> tuple[float, dict]:
    """The share of matches among the candidates (0–1) and the training record's
    `prior_from` entry, from the candidates at `anchor`'s level (`estimate.
    matches_from_level`, with the trained m). Without a candidate at that level (a small
    night where no two ID numbers agree), EM's share `em_prior_candidates` is kept and the
    record says so (`used: "em"`)."""
    k = [c.name for c in comparisons].index(anchor.comparison)
    level = list(comparisons[k].level_names).index(anchor.level)
    m_level = float(m[k][level])
    at = int(np.count_nonzero(levels[:, k] == level))
    counted = matches_from_level(at, m_level)
    record = {"comparison": anchor.comparison, "level": anchor.level, "pairs_at_level": at,
              "m": m_level, "em_prior_candidates": em_prior_candidates}
    if counted is None:
        return em_prior_candidates, {**record, "used": "em"}
    return float(np.clip(counted / len(levels), 1e-12, 1 - 1e-9)), {**record, "used": "level"}


def rare_u(entries: Sequence[UWithinBlock], comparisons: Sequence[LevelComparison],
           u: list[np.ndarray], m: list[np.ndarray], block_levels: Callable[[BlockingRule],
                                                                         np.ndarray],
           agreeing: Agreeing, total_pairs: float, sample_pairs: float
           ) -> tuple[list[np.ndarray], list[ConditionalU], list]:
    """u with each entry's rare levels estimated within its block (`estimate.
    u_within_block`), each comparison's u given agreement on the entry's columns (for the
    sessions on such blocks), and the training record's `u_within_block` list (levels by
    name). A listed level that the random sample (`sample_pairs` pairs) saw at least
    `MEASURED_PAIRS` times is not rare: it keeps the sample's u (recorded as `kept`)."""
    names = [c.name for c in comparisons]
    u = list(u)
    conditional: list[ConditionalU] = []
    records = []
    for entry in entries:
        k = names.index(entry.comparison)
        level_names = list(comparisons[k].level_names)
        listed = [level_names.index(level) for level in entry.levels]
        before = u[k]
        rare = [r for r in listed if before[r] * sample_pairs < MEASURED_PAIRS]
        u[k], within, numbers = u_within_block(block_levels(entry.block), k, rare, u, m,
                                               agreeing(entry.agree_on), total_pairs,
                                               sample_pairs)
        record = {"comparison": entry.comparison, "agree_on": list(entry.agree_on),
                  "block": entry.block.name, **{key: numbers[key] for key in (
                      "block_pairs", "block_prior", "non_match_pairs", "agree_share", "kept")
                      if key in numbers},
                  "levels": {level_names[r]: {"u": float(u[k][r]),
                                              "u_random_sample": float(before[r]),
                                              "within_block": numbers["within_block"].get(r)}
                             if r in rare else {
                                 "u": float(u[k][r]), "u_random_sample": float(before[r]),
                                 "kept": f"measured by the random sample (at least "
                                         f"{MEASURED_PAIRS} pairs): not a rare level"}
                             for r in listed}}
        if within is not None:
            conditional.append(ConditionalU(k, frozenset(entry.agree_on), within))
            record["u_given_agreement"] = {
                name: float(value) for name, value in zip(level_names, within, strict=True)}
        records.append(record)
    return u, conditional, records


def train(training: TrainingSpec, comparisons: Sequence[LevelComparison], levels: np.ndarray,
          compare: Compare, n_left: int, n_right: int | None, block: Block | None = None,
          candidates: tuple[np.ndarray, np.ndarray] | None = None,
          labels: Labels | None = None, label_weight: float = LABEL_WEIGHT,
          agreeing: Agreeing | None = None) -> Trained:
    """Train on the candidate pairs' `levels` (int8, n_pairs × n_comparisons).

    `training`: the spec's training settings; `compare(i, j)`: levels of any pairs (the u sample,
    session pairs that are not candidates); n_left, n_right: record counts (n_right None:
    dedupe, pairs i < j); `block(rule)`: a session rule's pairs (needed with sessions);
    `candidates`: the candidates' (left, right) positions, sorted, so that sessions look
    their levels up instead of comparing them again; `labels`: analysts' labelled pairs
    (confirmed ones blend into m, see the module's step 3; none: trained as without);
    `agreeing(columns)`: needed with `training.u_within_block` (step 1b).

    ValueError when sessions or `u_within_block` are asked for without `block` (or
    `agreeing`)."""
    u = estimate_u(comparisons, compare, n_left, n_right, training.u_sample_pairs,
                   training.seed)
    m0 = [pin(initial_m(len(c.level_names)), c.fixed_m()) for c in comparisons]
    total_pairs = n_left * (n_left - 1) / 2 if n_right is None else n_left * n_right
    rare_record = None
    known = None if candidates is None else (*candidates, levels)
    blocked: dict[tuple[str, ...], np.ndarray] = {}  # a rule's pairs' levels, made once

    def block_levels(rule: BlockingRule) -> np.ndarray:
        if block is None:
            raise ValueError("EM sessions and u_within_block need the pairs of their "
                             "blocking rules (block)")
        if rule.columns not in blocked:
            blocked[rule.columns] = known_levels(block(rule), compare, known)
        return blocked[rule.columns]

    def fit_m(u: list[np.ndarray], conditional: Sequence[ConditionalU] = ()
              ) -> tuple[list[np.ndarray], float, object, list]:
        """m (sessions, or one EM), the candidates' share of matches, iterations, sessions."""
        if training.em_sessions:
            m, iterations, sessions = em_sessions(training, comparisons, u, m0, block_levels,
                                                  conditional)
            return m, estimate_prior(levels, u, m), iterations, sessions
        m, prior_candidates, steps = expectation_maximisation(
            levels, u, m0, max_iterations=training.em_max_iterations,
            tolerance=training.em_tolerance, fixed=[c.fixed_m() for c in comparisons])
        # link_model.json: one number of iterations when there are no sessions
        return m, prior_candidates, steps, [SessionResult.of(
            None, len(levels), comparisons, m, steps, cap=training.em_max_iterations)]

    m, prior_candidates, iterations, sessions = fit_m(u)
    if training.u_within_block:
        if agreeing is None:
            raise ValueError("u_within_block needs the count of agreeing pairs (agreeing)")
        u, conditional, rare_record = rare_u(
            training.u_within_block, comparisons, u, m, block_levels, agreeing, total_pairs,
            min(training.u_sample_pairs, total_pairs))
        # m again, under the new u (and, in sessions on blocks that agree on an entry's
        # columns, under the u given that agreement)
        m, prior_candidates, iterations, sessions = fit_m(u, conditional)
    label_record = None
    if labels:
        label_record = {"confirmed": len(labels.confirmed), "dismissed": len(labels.dismissed),
                        "em_weight": label_weight, "comparisons": {}}
        if len(labels.confirmed):
            known = None if candidates is None else (*candidates, levels)
            confirmed_levels = known_levels(np.asarray(labels.confirmed, dtype=np.int64),
                                            compare, known)
            m, label_record["comparisons"] = label_m(comparisons, m, confirmed_levels,
                                                     label_weight)
            prior_candidates = estimate_prior(levels, u, m)  # the share under the new m
    prior_record = None
    if training.prior_from is not None:
        prior_candidates, prior_record = prior_from_level(training.prior_from, comparisons,
                                                          levels, m, prior_candidates)
    expected_matches = prior_candidates * len(levels)
    prior = float(np.clip(expected_matches / max(total_pairs, 1), 1e-12, 0.5))
    params = [ComparisonParams(c.name, c.level_names, m[k], u[k], c.tf_level())
              for k, c in enumerate(comparisons)]
    record = {"em_iterations": iterations, "candidate_pairs": len(levels),
              "u_sample_pairs": int(min(training.u_sample_pairs, total_pairs)),
              "em_sessions": [s.as_dict() for s in sessions]}
    if label_record is not None:
        record["labels"] = label_record
    if prior_record is not None:
        record["prior_from"] = prior_record
    if rare_record is not None:
        record["u_within_block"] = rare_record
    model = Model(params, prior, prior_candidates, record)
    return Trained(model, tuple(sessions))

"""Training: u by sampling, m by EM (one run or sessions), the prior — on synthetic level
patterns with known m and u, through the same `train` the linker calls."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.link.comparisons.generic import DateYmd, Exact
from pipeline.link.estimate import matches_from_level
from pipeline.link.spec import PriorLevel, TrainingSpec
from pipeline.link.training import known_levels, train

M = [np.array([0.95, 0.05]), np.array([0.8, 0.1, 0.06, 0.04]), np.array([0.9, 0.1])]
U = [np.array([0.05, 0.95]), np.array([0.01, 0.03, 0.06, 0.9]), np.array([0.3, 0.7])]
COMPARISONS = [Exact("a", "a"), DateYmd("d", "d"), Exact("c", "c")]


def draw(n: int, probabilities: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    return np.column_stack([rng.choice(len(p), n, p=p) for p in probabilities]).astype(np.int8)


def mixture(n: int, prior: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    match = rng.random(n) < prior
    return np.where(match[:, None], draw(n, M, rng), draw(n, U, rng)).astype(np.int8)


class RandomPairs:
    """`compare` for the u sample: random pairs are non-matches, so their levels follow u."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng(11)
        self.asked = 0

    def __call__(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        self.asked += len(i)
        return draw(len(i), U, self.rng)


def test_training_recovers_known_m_u_and_the_prior() -> None:
    levels = mixture(150_000, 0.3, seed=2)
    compare = RandomPairs()
    training = TrainingSpec(u_sample_pairs=300_000, seed=1)
    trained = train(training, COMPARISONS, levels, compare, n_left=1_000, n_right=2_000)
    model = trained.model
    assert compare.asked == 300_000  # the u sample, and nothing else
    for params, m, u in zip(model.params, M, U, strict=True):
        assert np.abs(params.u - u).max() < 0.005
        assert np.abs(params.m - m).max() < 0.02
    assert model.prior_candidates == pytest.approx(0.3, abs=0.01)
    # The prior is over all record pairs: expected matches / (1,000 × 2,000).
    assert model.prior == pytest.approx(model.prior_candidates * len(levels) / 2e6)
    (session,) = trained.sessions
    assert session.block is None and session.pairs == len(levels)
    assert session.estimated == ("a", "d", "c") and session.iterations > 1
    assert model.training["em_sessions"] == [session.as_dict()]
    assert model.training["em_iterations"] == session.iterations
    assert model.training["u_sample_pairs"] == 300_000


def test_dedupe_counts_each_unordered_pair_once() -> None:
    levels = mixture(20_000, 0.2, seed=3)
    model = train(TrainingSpec(u_sample_pairs=50_000), COMPARISONS, levels, RandomPairs(),
                  n_left=300, n_right=None).model
    assert model.prior == pytest.approx(model.prior_candidates * len(levels) / (300 * 299 / 2))
    assert model.training["u_sample_pairs"] == 300 * 299 // 2  # all pairs: fewer than asked


def test_pinned_m_stays_pinned() -> None:
    pinned = Exact("c", "c", fixed_m={"else": 0.001})
    levels = mixture(20_000, 0.3, seed=4)
    model = train(TrainingSpec(u_sample_pairs=20_000), [*COMPARISONS[:2], pinned], levels,
                  RandomPairs(), 500, 500).model
    assert model.params[2].m[1] == 0.001 and model.params[2].m.sum() == pytest.approx(1)


def test_known_levels_are_looked_up_and_only_the_others_compared() -> None:
    li, ri = np.array([0, 0, 2, 5]), np.array([1, 3, 2, 0])
    known = (li, ri, np.zeros((4, 3), dtype=np.int8))
    asked: list[tuple[int, int]] = []

    def compare(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        asked.extend(zip(i.tolist(), j.tolist(), strict=True))
        return np.ones((len(i), 3), dtype=np.int8)

    pairs = np.array([[2, 2], [1, 1], [0, 3], [5, 1]])
    got = known_levels(pairs, compare, known)
    assert got[:, 0].tolist() == [0, 1, 0, 1]
    assert asked == [(1, 1), (5, 1)]
    assert known_levels(pairs, compare, None).tolist() == [[1, 1, 1]] * 4


def test_sessions_skip_what_their_rule_fixes_and_average_the_rest() -> None:
    n_left = n_right = 400
    # Candidates: every pair (i, j) with i % 20 == j % 20 — sorted, with mixture levels.
    li, ri = np.nonzero(np.arange(n_left)[:, None] % 20 == np.arange(n_right)[None, :] % 20)
    levels = mixture(len(li), 0.05, seed=5)
    training = TrainingSpec.model_validate({
        "u_sample_pairs": 30_000,
        "em_sessions": [{"block": ["a"], "estimate_without": ["a"]},
                        {"block": {"name": "same_c", "columns": ["c"]},
                         "estimate_without": ["c"]},
                        {"block": ["nothing"], "estimate_without": ["d"]}]})
    rule_pairs = {  # a session's pairs: candidates, plus some pairs that are not
        "a": np.column_stack([li[::3], ri[::3]]),
        "same_c": np.vstack([np.column_stack([li[1::4], ri[1::4]]), [[0, 1], [3, 7]]]),
        "nothing": np.zeros((0, 2), dtype=np.int64)}
    compare = RandomPairs()
    trained = train(training, COMPARISONS, levels, compare, n_left, n_right,
                    block=lambda rule: rule_pairs[rule.name], candidates=(li, ri))
    first, second, empty = trained.sessions
    assert compare.asked == 30_000 + 2  # the u sample and the two non-candidates only
    assert (first.block.name, first.pairs, first.estimated) == ("a", len(li[::3]), ("d", "c"))
    assert (second.block.name, second.estimated) == ("same_c", ("a", "d"))
    assert second.pairs == len(li[1::4]) + 2
    assert (empty.pairs, empty.estimated, empty.iterations, empty.m) == (0, (), 0, {})
    m = {p.name: p.m for p in trained.model.params}
    assert np.allclose(m["a"], list(second.m["a"].values()))  # only session 2 estimated a
    assert np.allclose(m["c"], list(first.m["c"].values()))
    mean_d = np.mean([list(first.m["d"].values()), list(second.m["d"].values())], axis=0)
    assert np.allclose(m["d"], mean_d)  # d: the mean of both sessions
    assert trained.model.training["em_iterations"] == [first.iterations, second.iterations]
    assert [s["block"] for s in trained.model.training["em_sessions"]] == [
        {"name": "a", "columns": ["a"]}, {"name": "same_c", "columns": ["c"]},
        {"name": "nothing", "columns": ["nothing"]}]


def test_sessions_need_their_blocks() -> None:
    training = TrainingSpec.model_validate({"em_sessions": [{"block": ["a"]}]})
    with pytest.raises(ValueError, match="block"):
        train(training, COMPARISONS, mixture(100, 0.3, 1), RandomPairs(), 10, 10)


def blocked_candidates(matches: int, non_matches: int, seed: int) -> tuple[np.ndarray, int]:
    """Candidates as blocking makes them: the matches follow M, but the non-matches agree
    on `d` and `c` far more often than random pairs (U) do, as strangers of one name and
    birth year do, and never on `a` (an ID number only a match shares). Returns the levels
    (shuffled) and the number of matches at `a`'s level 0."""
    rng = np.random.default_rng(seed)
    matched = draw(matches, M, rng)
    blocked = [np.array([0.0, 1.0]), np.array([0.5, 0.3, 0.1, 0.1]), np.array([0.8, 0.2])]
    levels = np.concatenate([matched, draw(non_matches, blocked, rng)])
    return levels[rng.permutation(len(levels))], int((matched[:, 0] == 0).sum())


def test_the_prior_from_a_level_is_its_pairs_over_its_m() -> None:
    """EM over candidates that blocking made alike overstates the prior (it reads their
    agreement as matches); counting the pairs at a level only matches reach, divided by that
    level's m, gives the matches back. The model records both and which one it used."""
    levels, at_level = blocked_candidates(2_000, 60_000, seed=3)
    truth = 2_000 / len(levels)
    # a's m as the sessions estimate it where the block does not fix it (pinned here).
    comparisons = [Exact("a", "a", fixed_m={"exact": 0.95, "else": 0.05}), *COMPARISONS[1:]]
    plain = train(TrainingSpec(u_sample_pairs=200_000), comparisons, levels, RandomPairs(),
                  n_left=1_000, n_right=2_000).model
    assert plain.prior_candidates > 2 * truth  # the bias this setting exists for
    assert "prior_from" not in plain.training
    anchored = train(TrainingSpec(u_sample_pairs=200_000,
                                  prior_from=PriorLevel(comparison="a", level="exact")),
                     comparisons, levels, RandomPairs(), n_left=1_000, n_right=2_000).model
    record = anchored.training["prior_from"]
    assert record["used"] == "level" and record["pairs_at_level"] == at_level
    assert anchored.prior_candidates == pytest.approx(at_level / record["m"] / len(levels))
    assert anchored.prior_candidates == pytest.approx(truth, rel=0.05)
    assert record["em_prior_candidates"] == pytest.approx(plain.prior_candidates)
    assert anchored.prior == pytest.approx(anchored.prior_candidates * len(levels) / 2e6)
    # m and u do not depend on where the prior comes from.
    for a, b in zip(plain.params, anchored.params, strict=True):
        assert np.array_equal(a.m, b.m) and np.array_equal(a.u, b.u)


def test_without_a_pair_at_the_level_the_prior_stays_em_s() -> None:
    """No candidate at the level (a small night where no two ID numbers agree): nothing to
    count from, so EM's prior is kept and the record says so."""
    levels = mixture(20_000, 0.3, seed=4)
    levels[:, 0] = 1  # no pair agrees on `a`
    spec = TrainingSpec(u_sample_pairs=50_000,
                        prior_from=PriorLevel(comparison="a", level="exact"))
    model = train(spec, COMPARISONS, levels, RandomPairs(), n_left=1_000, n_right=2_000).model
    assert model.training["prior_from"]["used"] == "em"
    assert model.training["prior_from"]["pairs_at_level"] == 0
    assert model.prior_candidates == model.training["prior_from"]["em_prior_candidates"]
    assert matches_from_level(int((levels[:, 0] == 0).sum()), 0.9) is None
    assert matches_from_level(int((np.array([0, 0, 1, 0]) == 0).sum()), 0.75) == 4.0


def test_a_session_stopped_by_the_iteration_cap_says_so() -> None:
    """EM that has not settled when `em_max_iterations` stops it is recorded as such in
    link_model.json (`stopped_at_iteration_cap`), so a steward can tell a settled m from one
    cut short; the same data with room to settle is not flagged."""
    levels = mixture(20_000, 0.3, seed=5)
    cut = train(TrainingSpec(u_sample_pairs=50_000, em_max_iterations=2), COMPARISONS, levels,
                RandomPairs(), n_left=1_000, n_right=2_000)
    (session,) = cut.sessions
    assert session.iterations == 2 and session.stopped_at_cap
    assert cut.model.training["em_sessions"][0]["stopped_at_iteration_cap"] is True
    settled = train(TrainingSpec(u_sample_pairs=50_000), COMPARISONS, levels, RandomPairs(),
                    n_left=1_000, n_right=2_000)
    (session,) = settled.sessions
    assert 2 < session.iterations < 200 and not session.stopped_at_cap
    assert settled.model.training["em_sessions"][0]["stopped_at_iteration_cap"] is False


TARGET_M = np.array([0.90, 0.05, 0.03, 0.02])
TARGET_U = np.array([1e-7, 1e-8, 1e-3, 1 - 1e-7 - 1e-8 - 1e-3])
AGREE_SHARE = 1e-4  # of all pairs, those that agree on what the target's `near` implies
RECORDS = 100_000  # a side: 1e10 pairs, 1e6 of them agree


def rare_level_world(seed: int = 8):
    """Comparisons a, d (the target: `near` is the rare level, u 1e-8) and c; candidates;
    `compare` (random pairs are non-matches; the pairs `block` returns are a block of
    1,000,000 pairs that agree on what `near` implies: 5 % matches, and non-matches at
    d's levels as u / AGREE_SHARE, with `year` at 50 %, as strangers born the same day share
    an ID number's birth digits)."""
    from pipeline.link.spec import BlockingRule

    m = [np.array([0.999, 0.001]), TARGET_M, np.array([0.9, 0.1])]
    u = [np.array([0.0005, 0.9995]), TARGET_U, np.array([0.3, 0.7])]
    rng = np.random.default_rng(seed)
    within = np.array([1e-3, TARGET_U[1] / AGREE_SHARE, 0.5, 0.0])
    within[3] = 1 - within.sum()
    block_size, block_matches = 1_000_000, 50_000
    block_levels = np.concatenate([
        draw(block_matches, m, rng),
        draw(block_size - block_matches, [u[0], within, u[2]], rng)])
    candidates = np.where((rng.random(100_000) < 0.3)[:, None], draw(100_000, m, rng),
                          draw(100_000, u, rng)).astype(np.int8)

    def compare(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if len(j) and j[0] < 0:  # the block's pairs (below): their levels
            return block_levels[i]
        return draw(len(i), u, rng)  # random pairs: non-matches

    def block(rule: BlockingRule) -> np.ndarray:
        return np.column_stack([np.arange(block_size), np.full(block_size, -1)])

    comparisons = [Exact("a", "a"), DateYmd("d", "d"), Exact("c", "c")]
    return comparisons, candidates, compare, block, BlockingRule(name="same_d", columns=("d",))


def agreeing(columns) -> int:
    return int(AGREE_SHARE * RECORDS * RECORDS)


def test_u_of_a_rare_level_is_estimated_within_its_block() -> None:
    """A level random pairs almost never reach (u = 1e-8, like two ID numbers one digit
    apart) gets the random sample's floor, hundreds of times too high; estimated within a
    block that agrees on what the level implies (P(agree) × its share among the block's
    non-matches, `training.u_within_block`) it comes back near the truth, the block's own
    matches (at that level 5,000 times as often) weighed out by the other comparisons."""
    from pipeline.link.spec import UWithinBlock

    comparisons, candidates, compare, block, same_d = rare_level_world()
    n = RECORDS
    rare = UWithinBlock(comparison="d", levels=("near",), agree_on=("d",), block=same_d)
    plain = train(TrainingSpec(u_sample_pairs=200_000), comparisons, candidates, compare,
                  n_left=n, n_right=n).model
    trained = train(TrainingSpec(u_sample_pairs=200_000, u_within_block=(rare,)), comparisons,
                    candidates, compare, n_left=n, n_right=n, block=block,
                    agreeing=agreeing).model
    assert plain.params[1].u[1] > 100 * TARGET_U[1]  # the sample's floor
    assert trained.params[1].u[1] == pytest.approx(TARGET_U[1], rel=0.35)
    assert trained.params[1].u.sum() == pytest.approx(1.0)
    (record,) = trained.training["u_within_block"]
    assert record["agree_share"] == pytest.approx(AGREE_SHARE) and record["block"] == "same_d"
    assert record["block_pairs"] == 1_000_000
    assert record["block_prior"] == pytest.approx(0.05, abs=0.01)
    assert record["levels"]["near"]["u_random_sample"] == plain.params[1].u[1]
    assert record["levels"]["near"]["u"] == trained.params[1].u[1]
    assert record["u_given_agreement"]["year"] == pytest.approx(0.5, abs=0.01)
    # A true match at the rare level, all else unknown, now outweighs the prior's doubt.
    weight = np.log2(trained.params[1].m[1] / trained.params[1].u[1])
    assert weight - np.log2(plain.params[1].m[1] / plain.params[1].u[1]) > 6
    with pytest.raises(ValueError, match="agreeing"):
        train(TrainingSpec(u_sample_pairs=1_000, u_within_block=(rare,)), comparisons,
              candidates, compare, n_left=n, n_right=n, block=block)


def test_a_session_on_a_block_that_agrees_uses_u_given_the_agreement() -> None:
    """In an EM session on pairs born the same day, half the strangers share the ID number's
    birth digits (`year` here): against the random pairs' u (1e-3) that level looks like a
    match, and EM puts most matches there (m 0.89); with the level shares among the
    block's non-matches as u (`u_within_block`), m comes back near the truth (0.03)."""
    from pipeline.link.spec import EmSession, UWithinBlock

    comparisons, candidates, compare, block, same_d = rare_level_world(seed=9)
    n = RECORDS
    session = EmSession(block=same_d, estimate_without=())
    rare = UWithinBlock(comparison="d", levels=("near",), agree_on=("d",), block=same_d)
    plain = train(TrainingSpec(u_sample_pairs=200_000, em_sessions=(session,)), comparisons,
                  candidates, compare, n_left=n, n_right=n, block=block).model
    trained = train(TrainingSpec(u_sample_pairs=200_000, em_sessions=(session,),
                                 u_within_block=(rare,)), comparisons, candidates, compare,
                    n_left=n, n_right=n, block=block, agreeing=agreeing).model
    assert plain.params[1].m[2] > 10 * TARGET_M[2]
    assert trained.params[1].m[2] == pytest.approx(TARGET_M[2], rel=0.25)
    assert np.abs(trained.params[1].m - TARGET_M).max() < 0.02


def test_a_block_without_pairs_keeps_the_sample_s_u_and_u_never_goes_below_half_a_pair() -> None:
    """A small night whose block has no pair says nothing about the rare levels: their u
    stays the random sample's (the record says so) and no session gets a conditional u. And
    however few pairs agree, no u goes below half a pair of all pairs (0.5 / n², the least
    counting all of them could tell), so no weight is infinite."""
    from pipeline.link.spec import EmSession, UWithinBlock

    n = RECORDS

    def no_pairs(rule) -> np.ndarray:
        return np.zeros((0, 2), dtype=np.int64)

    def trained_with(rare: tuple, block, agreeing=None):
        comparisons, candidates, compare, _, same_d = rare_level_world(seed=10)
        spec = TrainingSpec(u_sample_pairs=50_000, em_sessions=(EmSession(block=same_d),),
                            u_within_block=rare)
        return train(spec, comparisons, candidates, compare, n_left=n, n_right=n, block=block,
                     agreeing=agreeing).model

    same_d = rare_level_world()[4]
    rare = UWithinBlock(comparison="d", levels=("near",), agree_on=("d",), block=same_d)
    plain = trained_with((), no_pairs)
    kept = trained_with((rare,), no_pairs, agreeing=lambda columns: 0)
    assert np.array_equal(kept.params[1].u, plain.params[1].u)
    (record,) = kept.training["u_within_block"]
    assert record["kept"].startswith("the random sample's u")
    assert "u_given_agreement" not in record and record["block_pairs"] == 0

    _, _, _, block, _ = rare_level_world(seed=10)
    floored = trained_with((rare,), block, agreeing=lambda columns: 1)
    assert floored.params[1].u[1] == pytest.approx(0.5 / n**2)
    assert np.isfinite(np.log2(floored.params[1].m / floored.params[1].u)).all()


def test_a_block_of_matches_or_a_measured_level_keeps_the_sample_s_u() -> None:
    """A small night's block is nearly all matches: with no more non-matches than the
    random sample has pairs that agree (1e-4 × 50,000 = 5 here), it sees no more of those
    strangers than the sample, so the sample's u is kept (and no session gets a conditional
    u). A listed level the random sample saw often (`else` here) is measured there, not
    rare: it keeps the sample's u and the record says so."""
    from pipeline.link.spec import EmSession, UWithinBlock

    n = RECORDS

    def matches_only(rule) -> np.ndarray:  # the world's block starts with its 50,000 matches
        return np.column_stack([np.arange(500), np.full(500, -1)])

    def trained_with(levels: tuple, block):
        comparisons, candidates, compare, _, same_d = rare_level_world(seed=11)
        rare = UWithinBlock(comparison="d", levels=levels, agree_on=("d",), block=same_d)
        spec = TrainingSpec(u_sample_pairs=50_000, em_sessions=(EmSession(block=same_d),),
                            u_within_block=(rare,))
        return train(spec, comparisons, candidates, compare, n_left=n, n_right=n,
                     block=block, agreeing=agreeing).model

    tiny = trained_with(("near",), matches_only)
    (record,) = tiny.training["u_within_block"]
    assert record["non_match_pairs"] <= AGREE_SHARE * 50_000
    assert record["kept"].startswith("the random sample's u: the block's non-matches")
    assert "u_given_agreement" not in record
    assert record["levels"]["near"]["u"] == record["levels"]["near"]["u_random_sample"]

    block = rare_level_world(seed=11)[3]
    mixed = trained_with(("near", "else"), block)
    (record,) = mixed.training["u_within_block"]
    assert record["levels"]["else"]["kept"].startswith("measured by the random sample")
    assert record["levels"]["else"]["u"] == pytest.approx(  # rescaled by the rare ones' change
        record["levels"]["else"]["u_random_sample"], rel=1e-4)
    assert record["levels"]["near"]["u"] < record["levels"]["near"]["u_random_sample"] / 10


@pytest.mark.parametrize("comparisons", [1, 5, 7, 8, 15, 16])
def test_patterns_are_the_distinct_level_vectors_and_their_counts(comparisons: int) -> None:
    """`estimate.patterns` (4-bit fields added column by column, int32 keys up to 7
    comparisons) gives every distinct level vector once with its count of pairs, every level
    from the null level -1 to 14 in every column, ordered by the key with comparison c in bits
    4c to 4c + 3 (the order EM sums in; `np.unique` on the rows for 16 comparisons)."""
    from collections import Counter

    from pipeline.link.estimate import patterns

    rng = np.random.default_rng(comparisons)
    levels = rng.integers(-1, 4, size=(5_000, comparisons), dtype=np.int8)
    levels[:16] = np.arange(-1, 15, dtype=np.int8)[:, None]  # each extreme in each column
    levels[16] = 14
    counted = Counter(map(tuple, levels.tolist()))
    if comparisons <= 15:
        order = sorted(counted, key=lambda row: sum((v + 1) << (4 * c)
                                                    for c, v in enumerate(row)))
    else:
        order = sorted(counted)
    found, rows = patterns(levels)
    assert found.dtype == levels.dtype and rows.dtype == np.float64
    np.testing.assert_array_equal(found, np.array(order, dtype=np.int8))
    np.testing.assert_array_equal(rows, [float(counted[row]) for row in order])

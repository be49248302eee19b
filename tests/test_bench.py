"""The head-to-head benchmarks (benchmarks/febrl.py, benchmarks/generated.py, benchmarks/cli.py).

Fast versions only: FEBRL4 on its first 1,000 true links, the generated bench on 150
households. Splink is benchmark-only (benchmarks/requirements-bench.txt); where it is not
installed its entry must be the "skipped" marker, and the Splink checks skip.
"""

from __future__ import annotations

import json
import os

import pytest

from benchmarks import cli, febrl, generated
from benchmarks.febrl import SPLINK_SKIPPED, run_febrl4_bench, splink_available
from benchmarks.generated import birth_from_id, run_generated_bench

ENGINES = {"bidui", "splink", "recordlinkage"}
LEAF = {"precision", "recall", "f1", "seconds"}
FEBRL_LIMIT = 1_000
HOUSEHOLDS = 150


def _check_leaf(leaf: dict) -> None:
    assert leaf.keys() >= LEAF
    for key in ("precision", "recall", "f1"):
        assert 0.0 <= leaf[key] <= 1.0
    assert leaf["seconds"] > 0


def _check_splink(entry: dict, modes: set[str]) -> None:
    if splink_available():
        assert modes <= entry.keys()
    else:
        assert entry == SPLINK_SKIPPED


@pytest.fixture(scope="module")
def febrl_result() -> dict:
    return run_febrl4_bench(limit=FEBRL_LIMIT, u_max_pairs=2e5)


@pytest.fixture(scope="module")
def generated_result(tmp_path_factory) -> dict:
    return run_generated_bench(households=HOUSEHOLDS, seed=7,
                               workdir=tmp_path_factory.mktemp("bench"),
                               splink_u_max_pairs=2e5)


# --- FEBRL4 ----------------------------------------------------------------------------------


def test_febrl_shape_on_subset(febrl_result: dict) -> None:
    assert set(febrl_result) == ENGINES
    for engine in ("bidui", "recordlinkage"):
        assert set(febrl_result[engine]) == {"with_id", "without_id"}
        for leaf in febrl_result[engine].values():
            _check_leaf(leaf)
            assert leaf["actual"] == FEBRL_LIMIT
    _check_splink(febrl_result["splink"], {"with_id", "without_id"})
    assert febrl_result["bidui"]["with_id"]["f1"] > 0.98
    assert febrl_result["bidui"]["without_id"]["f1"] > 0.95


def test_febrl_splink_on_subset(febrl_result: dict) -> None:
    pytest.importorskip("splink")
    pytest.importorskip("duckdb")
    for leaf in febrl_result["splink"].values():
        _check_leaf(leaf)
        assert leaf["f1"] > 0.9


def test_splink_missing_gives_the_skipped_marker(monkeypatch) -> None:
    monkeypatch.setattr(febrl, "splink_available", lambda: False)
    result = run_febrl4_bench(limit=200, u_max_pairs=2e4)
    assert result["splink"] == {
        "skipped": "splink not installed: pip install -r benchmarks/requirements-bench.txt"}
    assert set(result["bidui"]) == set(result["recordlinkage"]) == {"with_id", "without_id"}


# --- generated data --------------------------------------------------------------------------


def test_generated_shape(generated_result: dict) -> None:
    assert set(generated_result) == ENGINES
    for engine in ("bidui", "recordlinkage"):
        entry = generated_result[engine]
        assert set(entry) == {"all", "recall_by_id_kind"}
        _check_leaf(entry["all"])
        assert "valid" in entry["recall_by_id_kind"]
        assert all(0.0 <= r <= 1.0 for r in entry["recall_by_id_kind"].values())
    _check_splink(generated_result["splink"], {"all", "recall_by_id_kind"})
    assert json.loads(json.dumps(generated_result)) == generated_result  # plain JSON types


def test_bidui_at_least_as_good_as_recordlinkage(generated_result: dict) -> None:
    bidui = generated_result["bidui"]["all"]
    baseline = generated_result["recordlinkage"]["all"]
    assert bidui["f1"] >= baseline["f1"]
    assert bidui["f1"] >= 0.98


def test_generated_splink(generated_result: dict) -> None:
    pytest.importorskip("splink")
    entry = generated_result["splink"]
    _check_leaf(entry["all"])
    assert entry["all"]["f1"] > 0.8


def test_birth_from_id_needs_a_valid_18_digit_id() -> None:
    assert birth_from_id("11010519491231002X") == "1949-12-31"
    assert birth_from_id("110105194912310021") is None  # wrong check character
    assert birth_from_id("110105491231002") is None  # legacy 15 digits: not upgraded
    assert birth_from_id(None) is None


# --- command line ----------------------------------------------------------------------------


def test_cli_prints_one_json_object_and_nothing_else(monkeypatch, capfd) -> None:
    def noisy_run(args) -> dict:
        print("chatter from an engine")
        os.write(1, b"C-level chatter\n")
        return {"bench": args.bench, "households": args.households}

    monkeypatch.setattr(cli, "run", noisy_run)
    assert cli.main(["generated", "--json", "--households", "12"]) == 0
    out, err = capfd.readouterr()
    assert json.loads(out) == {"bench": "generated", "households": 12}
    assert out.count("\n") == 1
    assert "chatter from an engine" in err and "C-level chatter" in err


def test_cli_table_without_json(monkeypatch, capfd) -> None:
    monkeypatch.setattr(cli, "run", lambda args: {
        "bidui": {"all": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "seconds": 1.0},
                  "recall_by_id_kind": {"valid": 1.0}},
        "splink": dict(SPLINK_SKIPPED),
        "recordlinkage": {"all": {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "seconds": 0.5},
                          "recall_by_id_kind": {"valid": 0.5}}})
    assert cli.main(["generated"]) == 0
    out = capfd.readouterr().out
    assert "skipped" in out and "valid" in out and "0.6667" in out


def test_generated_module_reuses_the_febrl_marker() -> None:
    assert generated.SPLINK_SKIPPED is SPLINK_SKIPPED

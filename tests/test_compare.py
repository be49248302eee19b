"""Comparing: level codes of pairs in bounded chunks on threads, the same whatever the chunk
and thread count; per-record encodings derived once per pair of inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.link import compare as compare_module
from pipeline.link.compare import Comparer, default_threads
from pipeline.link.comparisons import NULL_LEVEL
from pipeline.link.spec import load_spec

SPEC = load_spec("febrl4")


@pytest.fixture(scope="module")
def records() -> tuple[dict, dict, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(8)
    columns = {c.column for c in SPEC.comparisons}

    def side(n: int) -> pd.DataFrame:
        data = {c: rng.choice(["", "anna", "anne", "bob", "robert", "19800101", "19800110",
                               "2600", "2601", "smith", "smyth"], n) for c in columns}
        return pd.DataFrame(data, dtype=object)

    left, right = side(300), side(400)
    li = np.sort(rng.integers(0, len(left), 5_000))
    ri = rng.integers(0, len(right), 5_000)
    comparer = Comparer.from_spec(SPEC)
    return comparer.inputs(left), comparer.inputs(right), li, ri


def test_levels_do_not_depend_on_chunks_or_threads(records, monkeypatch) -> None:
    lf, rf, li, ri = records
    one = Comparer.from_spec(SPEC, threads=1)
    expected = one.levels(lf, rf, li, ri)
    assert expected.dtype == np.int8 and expected.shape == (len(li), len(SPEC.comparisons))
    assert expected.flags.f_contiguous  # one contiguous column per comparison
    assert (expected == NULL_LEVEL).any() and (expected == 0).any()
    monkeypatch.setattr(compare_module, "PAIRS_PER_THREAD", 100)  # split chunks over threads
    for chunk_pairs, threads in ((700, 1), (5_000, 4), (333, 3)):
        comparer = Comparer([c.build() for c in SPEC.comparisons], chunk_pairs, threads)
        assert np.array_equal(comparer.levels(lf, rf, li, ri), expected)


def test_levels_are_each_comparisons_own(records) -> None:
    lf, rf, li, ri = records
    comparer = Comparer.from_spec(SPEC, threads=1)
    levels = comparer.levels(lf, rf, li, ri)
    for c, comparison in enumerate(comparer.comparisons):
        aligned = comparison.compare_aligned({k: v[li] for k, v in lf.items()},
                                             {k: v[ri] for k, v in rf.items()})
        assert np.array_equal(levels[:, c], aligned), comparison.name


def test_encodings_are_derived_once_per_pair_of_inputs(records) -> None:
    lf, rf, li, ri = records
    comparer = Comparer.from_spec(SPEC, threads=1)
    encoded = comparer.encoded(lf, rf)
    comparer.levels(lf, rf, li, ri)
    assert comparer.encoded(lf, rf) is encoded  # the candidates, u sample, sessions share it
    assert comparer.encoded(dict(lf), rf) is not encoded  # other inputs: encoded afresh


def test_inputs_are_what_the_comparisons_read_and_more_on_request() -> None:
    frame = pd.DataFrame({c: ["x"] for c in ["given_name", "surname", "date_of_birth",
                                             "soc_sec_id", "street_number", "address_1",
                                             "address_2", "suburb", "postcode", "state",
                                             "unused"]}, dtype=object)
    comparer = Comparer.from_spec(SPEC)
    assert set(comparer.inputs(frame)) == {c.column for c in SPEC.comparisons}
    assert "unused" in comparer.inputs(frame, ["unused"])
    assert comparer.inputs(frame)["surname"].dtype == object


def test_threads_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(compare_module.THREADS_ENV, "3")
    assert default_threads() == 3 and Comparer.from_spec(SPEC).threads == 3
    monkeypatch.setenv(compare_module.THREADS_ENV, "zero")
    assert default_threads() >= 1

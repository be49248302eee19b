"""The roll ↔ civil linkage over the civil side's chunks on the workers (`link.over_chunks`)
gives exactly what the local engine gives on the whole frames: the scored pairs, the model
(u, the EM sessions, u within blocks, the prior from a level, the labels' m) and the
statistics per blocking rule, whatever the chunking, with blocks skipped as too big; and
what training asks of the chunks equals what it asks of the whole frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline import stages
from pipeline.generate import generate
from pipeline.generate.constants import REFERENCE_DATE
from pipeline.link.blocking import BlockPass, agreeing_pairs
from pipeline.link.distributed import open_dask_executor
from pipeline.link.engine import Linker
from pipeline.link.features import person_features
from pipeline.link.over_chunks import ChunkedRight, train_and_predict_over_chunks
from pipeline.link.remote import RemoteFrame
from pipeline.link.spec import load_spec
from pipeline.link.training import Labels
from pipeline.schema import Source

pytestmark = pytest.mark.slow  # a local Dask cluster of two worker processes


@pytest.fixture(scope="module")
def client():
    with open_dask_executor(None, workers=2) as executor:
        yield executor.client


@pytest.fixture(scope="module")
def sides(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The roll's and the civil side's features of a generated city of 200 households."""
    folder = tmp_path_factory.mktemp("generated")
    generate(folder, households=200, seed=29)
    loaded = stages.ingest(stages.Inputs([folder / "union_roll.xlsx"],
                                         [folder / "civil_exchange.csv"], []))
    normalised = stages.normalise(loaded, REFERENCE_DATE)
    return (person_features(normalised[Source.UNION].frame),
            person_features(normalised[Source.CIVIL].frame.reset_index(drop=True)))


def in_chunks(client, frame: pd.DataFrame, chunks: int) -> RemoteFrame:
    """`frame` in `chunks` row chunks on the workers (the night's civil features)."""
    bounds = np.linspace(0, len(frame), chunks + 1).astype(int)
    parts = [frame.iloc[bounds[k]:bounds[k + 1]].reset_index(drop=True)
             for k in range(chunks)]
    return RemoteFrame(len(frame), frame.iloc[:0].copy(),
                       parts=client.scatter(parts, hash=False),
                       lengths=[len(p) for p in parts], client=client)


def local(spec, left, right, labels=None, model=None):
    linker = Linker(spec)
    lf, rf = linker.side_inputs(left, right)
    candidates = linker.executor.candidates_with_levels(linker, left, right, lf, rf)
    return linker.train_and_predict(left, right, lf, rf, candidates, model, labels)


def assert_same(got, expected) -> None:
    pd.testing.assert_frame_equal(got.pairs, expected.pairs)
    assert got.model.as_dict() == expected.model.as_dict()
    assert got.stats == expected.stats
    assert got.candidates == expected.candidates


def some_labels(expected) -> Labels:
    """One confirmed pair that is not a match, one dismissed that is: pairs the training
    must compare on the chunks (`ChunkedRight.compare`)."""
    pairs = expected.pairs
    weak = pairs[pairs["match_probability"] < 0.5].iloc[:3]
    strong = pairs[pairs["match_probability"] >= 0.9].iloc[:1]
    return Labels(weak[["left", "right"]].to_numpy(dtype=np.int64),
                  strong[["left", "right"]].to_numpy(dtype=np.int64))


@pytest.mark.parametrize("spec_name", ["union_civil", "civil_members"])
@pytest.mark.parametrize("chunks", [1, 3, 17])
def test_the_linkage_over_chunks_is_the_local_engines(client, sides, spec_name, chunks,
                                                      monkeypatch):
    """civil_members trains with u within a block (`agreeing`) and its prior from a level;
    both have EM sessions on a rule that is no blocking pass (`block`), term frequencies
    and a deterministic rule. The training runs on a worker: here it would fail."""
    import pipeline.link.over_chunks as over_chunks

    left, right = sides
    spec = load_spec(spec_name)
    expected = local(spec, left, right)

    def not_here(*_args, **_kwargs):
        raise AssertionError("the candidates' levels came to the driver")

    monkeypatch.setattr(over_chunks, "fit_over_chunks", not_here)
    held = in_chunks(client, right, chunks)
    got, metrics = train_and_predict_over_chunks(client, Linker(spec), left, held)
    assert expected.candidates >= len(expected.pairs) > 50
    assert_same(got, expected)
    assert {m["chunk"] for m in metrics} == set(range(chunks))
    assert sum(m["new_pairs"] for m in metrics) == expected.candidates
    held.release()


def test_blocks_too_big_over_the_whole_side_are_skipped_in_every_chunk(client, sides):
    """A block is too big by its size over the whole civil side, which no chunk sees: with
    a small `max_block_pairs` the same blocks are skipped and the same pairs made."""
    left, right = sides
    spec = load_spec("union_civil").model_copy(update={"max_block_pairs": 6})
    expected = local(spec, left, right)
    assert sum(s.skipped_blocks for s in expected.stats) > 0
    held = in_chunks(client, right, 5)
    assert_same(train_and_predict_over_chunks(client, Linker(spec), left, held)[0], expected)
    held.release()


def test_labels_and_a_given_model_are_used_as_the_local_engine_uses_them(client, sides):
    left, right = sides
    spec = load_spec("union_civil")
    labels = some_labels(local(spec, left, right))
    expected = local(spec, left, right, labels=labels)
    assert expected.model.training["labels"]["confirmed"] == 3
    held = in_chunks(client, right, 4)
    assert_same(train_and_predict_over_chunks(client, Linker(spec), left, held,
                                              labels=labels)[0], expected)
    given = local(spec, left, right, model=expected.model)
    assert_same(train_and_predict_over_chunks(client, Linker(spec), left, held,
                                              model=expected.model)[0], given)
    held.release()


def test_what_training_asks_of_the_chunks_equals_the_whole_frames(client, sides):
    """`compare` on pairs in any order and across chunks, `block` on a session rule and
    `agreeing` on columns, against the linker's own on the whole frames."""
    left, right = sides
    spec = load_spec("union_civil")
    linker = Linker(spec)
    lf, rf = linker.side_inputs(left, right)
    held = in_chunks(client, right, 6)
    inputs = client.scatter([linker.inputs(left)], broadcast=True, hash=False)[0]
    asked = ChunkedRight(client, spec, left, inputs, held)
    rng = np.random.default_rng(3)
    li = rng.integers(0, len(left), 500)
    ri = rng.integers(0, len(right), 500)
    np.testing.assert_array_equal(asked.compare(li, ri), linker.compute_levels(lf, rf, li, ri))
    assert asked.compare(li[:0], ri[:0]).shape == (0, len(spec.comparisons))
    for session in spec.training.em_sessions:
        np.testing.assert_array_equal(
            asked.block(session.block),
            BlockPass.from_rule(session.block, spec.max_block_pairs).positions(left, right))
    for columns in [("birth",), ("birth", "surname_py"), ("id",)]:
        assert asked.agreeing(columns) == agreeing_pairs(left, right, columns) > 0
    inputs.release()
    held.release()

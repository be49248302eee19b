"""The roster linkage's left side (the civil persons' features) read in row chunks, as the
Dask workers hold it, gives what it gives read whole: its index (`LeftIndex.of_chunks`), its
comparison inputs (`joined_inputs`), its partitioned join's parts (`chunk_left_parts`,
`joined_part`) and the member model trained with it on the left
(`over_left_chunks.fit_left_over_chunks`, `over_chunks.ChunkedLeft`), whatever the
chunking, empty chunks and blocks skipped as too big included; and what the driver keeps
of it, counts only (`LeftCounts`), gives the same usable blocks and, sent to the chunks'
codes, the same term frequencies per record (`TfShares.of_records`)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from pipeline import stages
from pipeline.generate import generate
from pipeline.generate.constants import REFERENCE_DATE
from pipeline.ingest.load import load_source
from pipeline.link.blocking import BlockPass, agreeing_pairs
from pipeline.link.engine import Linker
from pipeline.link.features import person_features
from pipeline.link.partitioned import (
    chunk_left_parts,
    joined_part,
    left_parts_of,
    plan_of,
    usable_keys_of,
)
from pipeline.link.spec import load_spec
from pipeline.link.streamed import (
    ChunkKeys,
    LeftCounts,
    LeftIndex,
    fit_on_sample,
    joined_inputs,
    tf_columns_of,
    tf_left,
    tf_shares,
    usable_blocks,
)
from pipeline.normalise.sources import normalise_source
from pipeline.schema import Source


@pytest.fixture(scope="module")
def sides(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The civil persons' features of a generated city of 200 households, and those of some
    of its union members (a training sample, in roster order): all who carry a civil
    person's ID number (most of the candidates: about a hundred) and 300 others."""
    folder = tmp_path_factory.mktemp("generated")
    generate(folder, households=200, seed=31)
    loaded = stages.ingest(stages.Inputs([folder / "union_roll.xlsx"],
                                         [folder / "civil_exchange.csv"], []))
    civil = stages.normalise(loaded, REFERENCE_DATE)[Source.CIVIL].frame
    members = load_source([folder / "members.csv"], Source.MEMBERS).frame
    members = normalise_source(members, Source.MEMBERS, REFERENCE_DATE).frame
    civil_f = person_features(civil.reset_index(drop=True))
    members_f = person_features(members)
    known = members_f["id"].isin(set(civil_f["id"]) - {""}).to_numpy()
    rng = np.random.default_rng(5)
    chosen = np.sort(np.concatenate([np.flatnonzero(known),
                                     rng.choice(np.flatnonzero(~known), 300, replace=False)]))
    return civil_f, members_f.iloc[chosen].reset_index(drop=True)


def cut(frame: pd.DataFrame, bounds: list[int]) -> list[pd.DataFrame]:
    """`frame`'s rows cut at `bounds` (first 0, last len(frame)), each chunk renumbered."""
    return [frame.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(bounds)]


def even(frame: pd.DataFrame, chunks: int) -> list[int]:
    return list(np.linspace(0, len(frame), chunks + 1).astype(int))


def _chunk_codes(linker: Linker, chunks: list[pd.DataFrame]) -> tuple[LeftIndex, list]:
    """The index of the chunks and each chunk's codes in it (`ChunkCodes`), as
    `remote_left.remote_linkage` keeps them: the index on a worker, the codes beside their
    chunks."""
    keyed = [ChunkKeys.of(linker, chunk) for chunk in chunks]
    keys = ChunkKeys.joined([own for own, _ in keyed])
    codes = [c.in_whole(own, keys) for own, c in keyed]
    return LeftIndex.of_chunks(linker, keys, codes), codes


CHUNKINGS = {"one": lambda n: [0, n], "three": lambda n: list(np.linspace(0, n, 4).astype(int)),
             "seventeen": lambda n: list(np.linspace(0, n, 18).astype(int)),
             "with-empty-chunks": lambda n: [0, 0, 7, 7, n // 2, n, n]}


@pytest.mark.parametrize("chunking", list(CHUNKINGS))
def test_the_index_made_from_chunks_is_the_whole_sides(sides, chunking) -> None:
    """Each chunk's distinct keys, joined in row order, then each chunk's codes in them:
    the same distinct keys in the same order and the same codes as `LeftIndex.of`."""
    left, _ = sides
    linker = Linker(load_spec("civil_members"))
    chunks = cut(left, CHUNKINGS[chunking](len(left)))
    got, _ = _chunk_codes(linker, chunks)
    expected = LeftIndex.of(linker, left)
    assert len(expected.rule_index) == len(linker.passes) and expected.tf_index
    for mine, theirs in zip([*got.rule_index, *got.tf_index.values()],
                            [*expected.rule_index, *expected.tf_index.values()], strict=True):
        assert mine.equals(theirs) and len(theirs) > 1
    for mine, theirs in zip([*got.rule_codes, *got.tf_codes.values()],
                            [*expected.rule_codes, *expected.tf_codes.values()], strict=True):
        np.testing.assert_array_equal(mine, theirs)
        assert mine.dtype == np.int64 and (theirs == -1).any() != (theirs >= 0).all()
    assert got.tf_columns == expected.tf_columns and list(got.tf_index) == list(expected.tf_index)


@pytest.mark.parametrize("chunking", list(CHUNKINGS))
def test_counts_alone_give_the_usable_blocks_and_per_chunk_term_frequencies(sides, chunking
                                                                            ) -> None:
    """The driver keeps counts per key and value (`LeftCounts`), nothing per person: the
    usable blocks and skipped blocks it decides from them, and the term frequencies per
    person made from its shares per value (`TfShares`) and each chunk's codes, equal those
    made from the whole index (`usable_blocks`, `tf_left`), with right-side counts that
    make some blocks too big and some values frequent, and persons without a value."""
    left, _ = sides
    spec = load_spec("civil_members")
    linker = Linker(spec)
    left = left.copy()
    for column in {c for c in tf_columns_of(linker) if c}:
        left.loc[left.index[::40], column] = ""  # no value: the floor
    bounds = CHUNKINGS[chunking](len(left))
    index, codes = _chunk_codes(linker, cut(left, bounds))
    whole = LeftIndex.of(linker, left)
    counts = whole.counts()
    assert isinstance(counts, LeftCounts) and not hasattr(counts, "rule_codes")
    for records, keys, rule_codes in zip(counts.rule_records, whole.rule_index,
                                         whole.rule_codes, strict=True):
        assert len(records) == len(keys) < len(left)  # per key, not per person
        assert records.sum() == (rule_codes >= 0).sum()
    rng = np.random.default_rng(11)
    rule_counts = [rng.integers(0, 40, len(k)).astype(np.int64) for k in whole.rule_index]
    tf_counts = {c: rng.integers(0, 9, len(v)).astype(np.int64)
                 for c, v in whole.tf_index.items()}
    tf_present = {c: int(v.sum()) + 17 for c, v in tf_counts.items()}
    limit = int(np.median([(r * c).max() for r, c in zip(counts.rule_records, rule_counts,
                                                         strict=True)]))
    got, expected = usable_blocks(counts, rule_counts, limit), usable_blocks(whole,
                                                                            rule_counts, limit)
    assert got[1] == expected[1] and sum(got[1]) > 0
    for mine, theirs in zip(got[0], expected[0], strict=True):
        np.testing.assert_array_equal(mine, theirs)
    shares = tf_shares(counts, tf_counts, tf_present, len(left), 5_000)
    per_chunk = [shares.of_records(c.tf) for c in codes]
    expected_tf = tf_left(index, tf_counts, tf_present, len(left), 5_000)
    assert any(t is not None for t in expected_tf) and any(t is None for t in expected_tf)
    for n, theirs in enumerate(expected_tf):
        if theirs is None:
            assert all(chunk[n] is None for chunk in per_chunk)
            continue
        mine = np.concatenate([np.zeros(0), *(chunk[n] for chunk in per_chunk)])
        np.testing.assert_array_equal(mine, theirs)
        assert (theirs == shares.floor).any() and (theirs > shares.floor).any()
        column = whole.tf_columns[n]
        c = whole.tf_codes[column]
        by_definition = np.where(  # a record's value's share of both sides' values
            c >= 0, (counts.tf_records[column] + tf_counts[column])[np.maximum(c, 0)]
            / ((c >= 0).sum() + tf_present[column]), 0.0)
        np.testing.assert_array_equal(mine, np.maximum(by_definition, shares.floor))


def test_a_key_first_seen_in_a_later_chunk_keeps_the_whole_sides_order() -> None:
    """Keys numbered by first appearance over the whole side, not chunk by chunk."""
    spec = load_spec("civil_members")
    linker = Linker(spec)
    column = spec.blocking[0].columns[0]
    frame = pd.DataFrame({c: [""] * 6 for c in {col for rule in spec.blocking
                                                 for col in rule.columns}}, dtype=object)
    frame[column] = ["b", "", "a", "a", "c", "b"]
    index, _ = _chunk_codes(linker, cut(frame, [0, 2, 4, 6]))
    rule = next(r for r, p in enumerate(linker.passes) if p.columns == (column,))
    assert list(index.rule_index[rule]) == ["b", "a", "c"]
    np.testing.assert_array_equal(index.rule_codes[rule], [0, -1, 1, 1, 2, 0])


@pytest.mark.parametrize("chunking", list(CHUNKINGS))
def test_the_inputs_and_the_partitioned_parts_made_from_chunks_are_the_whole_sides(
        sides, chunking) -> None:
    """The comparison inputs joined from the chunks' (the broadcast join's context) and every
    part of the partitioned join joined from the chunks' pieces of it: the arrays of the
    whole side's."""
    left, _ = sides
    linker = Linker(load_spec("civil_members"))
    bounds = CHUNKINGS[chunking](len(left))
    chunks = cut(left, bounds)
    whole_inputs = linker.inputs(left)
    got_inputs = joined_inputs([linker.inputs(chunk) for chunk in chunks])
    assert list(got_inputs) == list(whole_inputs)
    for column, values in whole_inputs.items():
        np.testing.assert_array_equal(got_inputs[column], values)
    index, codes = _chunk_codes(linker, chunks)
    rng = np.random.default_rng(7)
    usable = [rng.random(len(i)) < 0.8 for i in index.rule_index]  # some blocks not usable
    shares = tf_shares(index.counts(), {c: rng.integers(0, 9, len(v)).astype(np.int64)
                                        for c, v in index.tf_index.items()},
                       {c: 50 for c in index.tf_index}, len(left), 200)
    tf = shares.of_records(index.tf_codes)
    whole = {(p.rule, p.partition): p for p in left_parts_of(
        whole_inputs, tf, plan_of(usable_keys_of(linker, left, index.rule_codes, usable), 3))}
    pieces: dict[tuple[int, int], list] = {}
    for k, chunk in enumerate(chunks):
        a = bounds[k]  # each chunk's plan and term frequencies from its own codes
        plan = plan_of(usable_keys_of(linker, chunk, codes[k].rules, usable), 3)
        chunk_tf = shares.of_records(codes[k].tf)
        for at, piece in chunk_left_parts(linker.inputs(chunk), chunk_tf, plan, a).items():
            pieces.setdefault(at, []).append(piece)
    assert set(pieces) == set(whole) and len(whole) > len(linker.passes)
    for at, expected in whole.items():
        got = joined_part(pieces[at])
        np.testing.assert_array_equal(got.rows, expected.rows)
        for mine, theirs in zip([*got.keys, *got.inputs.values()],
                                [*expected.keys, *expected.inputs.values()], strict=True):
            np.testing.assert_array_equal(mine, theirs)
        for mine, theirs in zip(got.tf, expected.tf, strict=True):
            assert (mine is None) == (theirs is None)
            if theirs is not None:
                np.testing.assert_array_equal(mine, theirs)


# -- the member model trained over the chunks on a local cluster ------------------------------

@pytest.fixture(scope="module")
def client():
    from pipeline.link.distributed import open_dask_executor

    with open_dask_executor(None, workers=2) as executor:
        yield executor.client


def in_chunks(client, frame: pd.DataFrame, bounds: list[int]):
    from pipeline.link.remote import RemoteFrame

    parts = cut(frame, bounds)
    return RemoteFrame(len(frame), frame.iloc[:0].copy(),
                       parts=client.scatter(parts, hash=False),
                       lengths=[len(p) for p in parts], client=client)


@pytest.mark.slow
@pytest.mark.parametrize("chunking", list(CHUNKINGS))
@pytest.mark.parametrize("max_block_pairs", [None, 1], ids=["default", "small-blocks"])
def test_the_member_model_trained_over_the_chunks_is_the_local_engines(
        client, sides, chunking, max_block_pairs) -> None:
    """`fit_left_over_chunks` (civil persons in chunks on the left, the roster's sample on
    the right): the model `streamed.fit_on_sample` trains on the whole frames (u, the EM
    sessions, u within a block, the prior), with blocks skipped as too big over the whole
    civil side that no chunk sees whole."""
    from pipeline.link.over_left_chunks import fit_left_over_chunks

    left, right = sides
    spec = load_spec("civil_members")
    if max_block_pairs is not None:
        spec = spec.model_copy(update={"max_block_pairs": max_block_pairs})
    expected = fit_on_sample(spec, left, right, len(right))
    held = in_chunks(client, left, CHUNKINGS[chunking](len(left)))
    try:
        got = fit_left_over_chunks(client, spec, held, right)
    finally:
        held.release()
    training = {k: v for k, v in expected.training.items()
                if k not in ("right_records", "right_sample_records")}
    assert got.as_dict() == {**expected.as_dict(), "training": training}
    linker = Linker(spec)
    lf, rf = linker.side_inputs(left, right)
    candidates = linker.executor.candidates_with_levels(linker, left, right, lf, rf)
    skipped = sum(s.skipped_blocks for s in candidates.stats)
    assert (skipped > 0) == (max_block_pairs is not None) and len(candidates.left) > 50


@pytest.mark.slow
def test_what_training_asks_of_the_left_chunks_equals_the_whole_frames(client, sides) -> None:
    """`ChunkedLeft`: `compare` (li in the chunked left side) on pairs in any order across
    chunks, `block` on a session rule (sorted by left, then right) and `agreeing`, against
    the linker's own on the whole frames."""
    from pipeline.link.over_chunks import ChunkedLeft

    left, right = sides
    spec = load_spec("civil_members")
    linker = Linker(spec)
    lf, rf = linker.side_inputs(left, right)
    held = in_chunks(client, left, even(left, 6))
    inputs = client.scatter([linker.inputs(right)], broadcast=True, hash=False)[0]
    asked = ChunkedLeft(client, spec, right, inputs, held)
    try:
        rng = np.random.default_rng(3)
        li = rng.integers(0, len(left), 500)
        ri = rng.integers(0, len(right), 500)
        np.testing.assert_array_equal(asked.compare(li, ri),
                                      linker.compute_levels(lf, rf, li, ri))
        assert asked.compare(li[:0], ri[:0]).shape == (0, len(spec.comparisons))
        for rule in [*spec.blocking, *(s.block for s in spec.training.em_sessions)]:
            expected = BlockPass.from_rule(rule, spec.max_block_pairs).positions(left, right)
            assert len(expected) > 0
            np.testing.assert_array_equal(asked.block(rule), expected)
        for columns in [("birth",), ("birth", "surname_py"), ("id",)]:
            assert asked.agreeing(columns) == agreeing_pairs(left, right, columns) > 0
    finally:
        inputs.release()
        held.release()

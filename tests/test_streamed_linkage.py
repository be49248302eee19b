"""The roster streamed in chunks links exactly as the roster held whole (while it fits the
training sample), whatever the chunk size; with a smaller sample it still finds the true
member links; and the first pass keeps only records that could pair."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipeline.link.spec import load_spec
from pipeline.link.spec import person_features as person_feature_names
from pipeline.link.streamed import POSITION, StreamedLinkage, rule_keys, sample_hashes
from pipeline.roster.first_pass import stream_roster
from pipeline.roster.second_pass import link_roster

AS_OF = dt.date(2026, 11, 1)
KEY = ["civil_case_id", "civil_member_no", "member_id"]
COMPARED = [*KEY, "member_row_key", "civil_row_key", "decision", "method",
            "match_probability", "match_weight"]


def streamed(civil, civil_f, loaded, chunk: int, spec=None):
    raw = loaded.frame
    chunks = [raw.iloc[i:i + chunk] for i in range(0, len(raw), chunk)]
    roster = stream_roster([], civil_f, spec or load_spec("civil_members"), AS_OF,
                           chunks=(chunks, lambda: loaded.files))
    try:
        return roster, link_roster(civil, roster)
    finally:
        roster.close()


def ordered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[COMPARED].sort_values(KEY, kind="mergesort").reset_index(drop=True)


@pytest.mark.parametrize("chunk", [997, 5_000, 100_000])
def test_streamed_roster_links_exactly_as_the_whole_roster(sample_sides, chunk):
    civil, civil_f, loaded, (whole_links, whole_model, whole_stats) = sample_sides
    roster, (links, model, stats) = streamed(civil, civil_f, loaded, chunk)
    pd.testing.assert_frame_equal(ordered(links), ordered(whole_links))
    assert stats == whole_stats  # candidate pairs per blocking rule, skipped blocks
    for key in ("prior", "prior_candidates", "comparisons"):
        assert model[key] == whole_model[key]
    assert model["training"]["right_sample_records"] == len(loaded.frame)
    assert roster.chunks == -(-len(loaded.frame) // chunk)


def test_row_keys_stay_unique_and_in_file_order_across_chunks(sample_sides):
    civil, civil_f, loaded, (whole_links, _, _) = sample_sides
    _, (links, _, _) = streamed(civil, civil_f, loaded, 1_000)
    assert set(links["member_row_key"]) == set(whole_links["member_row_key"])


def test_only_records_that_could_pair_are_spilled(sample_sides):
    _, civil_f, loaded, _ = sample_sides
    chunks = [loaded.frame]
    roster = stream_roster([], civil_f, load_spec("civil_members"), AS_OF,
                           chunks=(chunks, lambda: loaded.files))
    try:
        spilled = pd.concat(list(roster.could_pair))
        linkage = roster.linkage
        could = np.zeros(len(spilled), dtype=bool)
        for block_pass in linkage.linker.passes:
            left = set(rule_keys(civil_f, block_pass.columns)) - {""}
            could |= np.isin(rule_keys(spilled, block_pass.columns), list(left))
        assert could.all()
        assert 0 < roster.could_pair.rows < roster.rows_usable / 2
    finally:
        roster.close()
    assert not roster.could_pair.root.exists()  # the private folder is removed


def test_a_smaller_training_sample_still_finds_the_true_member_links(sample_sides):
    civil, civil_f, loaded, (whole_links, _, _) = sample_sides
    spec = load_spec("civil_members")
    small = spec.model_copy(update={"training": spec.training.model_copy(
        update={"right_sample_records": 5_000})})
    _, (links, model, _) = streamed(civil, civil_f, loaded, 3_000, small)
    assert model["training"]["right_sample_records"] == 5_000
    assert model["training"]["right_records"] == len(loaded.frame)
    truth = set(map(tuple, whole_links[KEY].astype(str).to_numpy()))
    found = set(map(tuple, links[KEY].astype(str).to_numpy()))
    assert len(truth & found) / len(truth) >= 0.99
    assert len(truth & found) / len(found) >= 0.99


def test_bottom_k_sample_is_the_same_whatever_the_chunking():
    keys = pd.Series([f"M{i}" for i in range(3_000)])
    features = pd.DataFrame({"row_key": keys.to_numpy(dtype=object)})
    smallest = set(keys[np.argsort(sample_hashes(keys))[:200]])
    spec = load_spec("civil_members")
    spec = spec.model_copy(update={"training": spec.training.model_copy(
        update={"right_sample_records": 200})})
    left = pd.DataFrame({c: pd.Series([""], dtype=object) for c in person_feature_names()})
    for chunk in (7, 333, 3_000):
        linkage = StreamedLinkage(spec, left)
        for start in range(0, len(features), chunk):
            part = features.iloc[start:start + chunk].copy()
            for column in left.columns:
                part[column] = ""
            part[POSITION] = np.arange(start, start + len(part))
            linkage.observe(part)
        assert set(linkage.training_sample()["row_key"]) == smallest


def test_a_dedupe_spec_is_refused():
    spec = load_spec("roll_dedupe")
    with pytest.raises(ValueError, match="link_type"):
        StreamedLinkage(spec, pd.DataFrame())


def test_the_spec_key_is_validated():
    from pydantic import ValidationError

    spec = load_spec("civil_members")
    assert spec.training.right_sample_records == 1_000_000
    with pytest.raises(ValidationError):
        type(spec.training).model_validate({"right_sample_records": 0})


def test_pruning_the_kept_pairs_between_chunks_changes_nothing(sample_sides, monkeypatch):
    """Kept pairs are cut to the best so far whenever they double (bounded memory over many
    chunks); with a tiny threshold, pruning after every chunk, the links are the same."""
    import pipeline.link.streamed as streamed_module

    civil, civil_f, loaded, (whole_links, _, whole_stats) = sample_sides
    monkeypatch.setattr(streamed_module, "PRUNE_ROWS", 50)
    roster, (links, _, stats) = streamed(civil, civil_f, loaded, 997)
    pd.testing.assert_frame_equal(ordered(links), ordered(whole_links))
    assert stats == whole_stats
    assert roster.linkage.pruned_rows > 0


def test_once_linked_the_civil_side_is_freed_and_the_counts_stay(sample_sides):
    """`release_chunks` after the second pass: the linkage no longer holds the civil
    features (about 0.5 KB a civil person on the driver through detection and the report),
    its index or its scored parts; what the report reads (files, counts, rejects) stays."""
    import gc
    import weakref

    civil, civil_f, loaded, _ = sample_sides
    features = civil_f.copy()  # the fixture's frame is shared with other tests
    roster = stream_roster([], features, load_spec("civil_members"), AS_OF,
                           chunks=([loaded.frame], lambda: loaded.files))
    try:
        link_roster(civil, roster)
        held = weakref.ref(features)
        records, usable, model = roster.linkage.records, roster.rows_usable, roster.linkage.model
        del features
        gc.collect()
        assert held() is not None  # the linkage holds them until released
        roster.release_chunks()
        gc.collect()
        assert held() is None
        assert len(roster.linkage.left) == 0 and not roster.linkage.kept
        assert roster.linkage.index.rule_codes and all(
            len(codes) == 0 for codes in roster.linkage.index.rule_codes)
        assert (roster.linkage.records, roster.rows_usable) == (records, usable) and records
        assert roster.linkage.model is model is not None
        assert roster.files == loaded.files and roster.rejects.quarantine is not None
    finally:
        roster.close()

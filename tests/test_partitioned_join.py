"""The roster's second pass as a join partitioned by blocking key (`link/partitioned.py`)
gives the member links, model and statistics of scoring each chunk against the whole civil
side, whatever the partitions, the chunks, the blocks skipped as too big or ties in match
weight; each usable civil record is in one part per rule; a key's partition is the same in
every process; and the engine chooses the join by what each worker would hold."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from pipeline.link.partitioned import (
    chunk_key_pieces,
    could_pair_mask,
    count_keys,
    key_parts,
    left_parts,
    partition_of,
    partition_plan,
)
from pipeline.link.spec import load_spec
from pipeline.link.streamed import StreamedLinkage
from pipeline.roster.first_pass import context_for, first_pass_chunk, stream_roster
from pipeline.roster.join import JOINS, PARTITIONED_GAIN, choose_join, key_records
from pipeline.roster.second_pass import link_roster, link_roster_partitioned
from tests.test_streamed_linkage import AS_OF


def _roster(civil_f, raw: pd.DataFrame, files, chunk: int, spec):
    chunks = [raw.iloc[i:i + chunk] for i in range(0, len(raw), chunk)]
    return stream_roster([], civil_f, spec, AS_OF, chunks=(chunks, lambda: files))


def _both(sample_sides, chunk: int, partitions: int, spec=None, raw=None):
    civil, civil_f, loaded, _ = sample_sides
    spec = spec or load_spec("civil_members")
    raw = loaded.frame if raw is None else raw
    out = []
    for link in (link_roster,
                 lambda c, r: link_roster_partitioned(c, r, partitions)):
        roster = _roster(civil_f, raw, loaded.files, chunk, spec)
        try:
            out.append(link(civil, roster))
        finally:
            roster.close()
    return out


@pytest.mark.parametrize(("chunk", "partitions"), [(997, 1), (997, 3), (6_000, 7)])
def test_the_partitioned_join_links_as_the_broadcast_one(sample_sides, chunk, partitions):
    (links, model, stats), (p_links, p_model, p_stats) = _both(sample_sides, chunk, partitions)
    assert len(links) > 100
    pd.testing.assert_frame_equal(p_links, links)
    assert p_stats == stats and p_model == model
    # every rule found pairs, and later rules found some an earlier one had (left to it)
    assert all(s["pairs"] > 0 for s in stats)
    assert any(s["new_pairs"] < s["pairs"] for s in stats[1:])


def test_blocks_skipped_as_too_big_are_skipped_in_every_part(sample_sides):
    spec = load_spec("civil_members")
    spec = spec.model_copy(update={"max_block_pairs": 3})
    (links, _, stats), (p_links, _, p_stats) = _both(sample_sides, 2_000, 4, spec)
    assert sum(s["skipped_blocks"] for s in stats) > 0
    pd.testing.assert_frame_equal(p_links, links)
    assert p_stats == stats


def test_ties_in_match_weight_fall_as_in_the_broadcast_join(sample_sides):
    """Every member twice (the copies score alike against each civil person): which of the
    tied pairs a civil person keeps among its best must not depend on the partitions."""
    raw = sample_sides[2].frame
    twice = pd.concat([raw, raw], ignore_index=True)
    (links, _, stats), (p_links, _, p_stats) = _both(sample_sides, 3_000, 3, raw=twice)
    pd.testing.assert_frame_equal(p_links, links)
    assert p_stats == stats


def test_each_usable_civil_record_is_in_one_part_per_rule(sample_sides):
    _, civil_f, loaded, _ = sample_sides
    roster = _roster(civil_f, loaded.frame, loaded.files, 5_000, load_spec("civil_members"))
    try:
        linkage = roster.linkage
        linkage.fit()
        plan = partition_plan(linkage, 3)
        parts = list(left_parts(linkage, plan))
        usable, _ = linkage.usable_blocks()
        for r, codes in enumerate(linkage.index.rule_codes):
            in_usable = np.flatnonzero((codes >= 0) & usable[r][np.maximum(codes, 0)])
            rows = np.concatenate([p.rows for p in parts if p.rule == r])
            assert len(in_usable) > 0
            np.testing.assert_array_equal(np.sort(rows), in_usable)  # each once
            for p in (p for p in parts if p.rule == r):
                assert (plan.partition[r][p.rows] == p.partition).all()
                assert (p.keys[r] != "").all() and len(p.keys) == r + 1
        assert sum(len(p) for p in parts) == plan.part_records
    finally:
        roster.close()


def test_a_keys_partition_is_the_same_in_another_process():
    keys = np.array(["110105198001011234", "1980-01-01\x1fwang", "张伟\x1f1980", "x"],
                    dtype=object)
    here = partition_of(keys, 7).tolist()
    assert [partition_of(keys[i:i + 1], 7)[0] for i in range(len(keys))] == here
    code = ("import numpy as np; from pipeline.link.partitioned import partition_of; "
            f"print(partition_of(np.array({keys.tolist()!r}, dtype=object), 7).tolist())")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": "12345"}, check=True)
    assert there.stdout.strip() == str(here)


def test_the_join_is_chosen_by_what_each_worker_would_hold():
    # 8 civil records in 12 parts' rows (a record in one part per rule where it has a key)
    assert key_records([np.array([2, 2]), np.array([4, 4])]) == 12
    assert PARTITIONED_GAIN == 2
    assert choose_join(8, 12, 1).join == "broadcast"  # 12 records on the one worker ≥ 8
    assert choose_join(8, 12, 2).join == "broadcast"  # 6 a worker: not half of 8
    reason = choose_join(8, 12, 2).reason
    assert reason == ("auto: broadcast, as partitioned over 2 workers a worker would hold 6 "
                      "civil records (a person once per blocking rule), not under 1/2 of the "
                      "8 a broadcast sends each")
    chosen = choose_join(8, 12, 4)
    assert chosen.partitioned and chosen.wanted == "auto"  # 3 a worker, under half of 8
    assert chosen.reason.startswith("auto: partitioned, as partitioned over 4 workers a "
                                    "worker would hold 3 civil records")
    assert choose_join(8, 12, 4, "broadcast").reason == "broadcast: as linking.dask_join asks"
    assert (chosen.broadcast_records, chosen.partitioned_records, chosen.workers,
            chosen.partitions) == (8, 3, 4, 4)
    assert choose_join(8, 12, 4, "broadcast").join == "broadcast"
    assert choose_join(8, 12, 1, "partitioned").partitioned
    with pytest.raises(ValueError, match="unknown join"):
        choose_join(8, 12, 2, "shuffle")


@pytest.mark.parametrize("partitions", [1, 4])
def test_keys_counted_in_parts_are_the_whole_indexs_counts(sample_sides, partitions):
    """The partitioned first pass: a chunk's keys looked up in the parts of the civil side's
    keys give the counts per civil key and value, and the members who could pair, that the
    whole index gives (`streamed.observe_chunk`)."""
    _, civil_f, loaded, _ = sample_sides
    spec = load_spec("civil_members")
    raw = loaded.frame.iloc[:9_000]
    linkage = StreamedLinkage(spec, civil_f)
    whole = first_pass_chunk(raw, 0, context_for(linkage, AS_OF, False))
    keyless = first_pass_chunk(raw, 0, context_for(linkage, AS_OF, False, partitioned=True))
    features = keyless.could_pair
    assert len(features) == len(raw) - len(keyless.quarantine) > len(whole.could_pair) > 0
    parts = key_parts(linkage.index, partitions)
    pieces, keys = chunk_key_pieces(linkage.linker, list(linkage.index.tf_index), features,
                                    partitions)
    assert len(parts) == len(pieces) == partitions * (len(linkage.linker.passes)
                                                      + len(linkage.index.tf_index))
    found = [count_keys(part, piece) for part, piece in zip(parts, pieces, strict=True)]
    could = could_pair_mask(keys, found)
    pd.testing.assert_frame_equal(features[could].reset_index(drop=True), whole.could_pair)
    counted, reference = StreamedLinkage(spec, civil_f), StreamedLinkage(spec, civil_f)
    reference.merge(whole.observation)
    counted.merge(keyless.observation)
    for kc in found:
        counted.add_key_counts(kc.kind, kc.which, kc.codes, kc.counts)
    for mine, theirs in zip(counted.rule_counts, reference.rule_counts, strict=True):
        np.testing.assert_array_equal(mine, theirs)
        assert theirs.sum() > 0
    assert counted.tf_counts.keys() == reference.tf_counts.keys()
    for column, counts in reference.tf_counts.items():
        np.testing.assert_array_equal(counted.tf_counts[column], counts)
    assert counted.tf_present == reference.tf_present and counted.records == len(features)
    np.testing.assert_array_equal(counted.sample["row_key"], reference.sample["row_key"])


def test_the_config_names_exactly_the_joins_the_engine_knows(tmp_path):
    from typing import get_args

    from pipeline.config import load_config
    from pipeline.config.model import Linking
    from pipeline.errors import InputError

    assert get_args(Linking.model_fields["dask_join"].annotation) == JOINS
    assert load_config()["linking"]["dask_join"] == "auto"
    wrong = tmp_path / "night.yaml"
    wrong.write_text("linking:\n  dask_join: shuffle\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_config(wrong)
    text = caught.value.paragraph()
    assert str(wrong) in text and "dask_join" in text and "partitioned" in text

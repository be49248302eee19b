"""The shared numbers' repeats are found among the Dask workers (`repeated_on_dask`): the same
hashes as `shared_ids.repeated` over all the chunks' hashes, whatever the number of parts
`value_counts` writes, and the driver never brings the hashes together itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pipeline.normalise.shared_ids as shared_ids
import pipeline.normalise.shared_numbers as shared_numbers
import pipeline.normalise.shared_numbers_on_dask as on_dask
from pipeline.normalise.shared_ids import repeated, shared_id_rows
from pipeline.normalise.shared_numbers import ChunkNumbers, numbers_of

from .test_shared_numbers import _frame


@pytest.fixture(scope="module")
def client():
    from pipeline.link.distributed import open_dask_executor

    with open_dask_executor(None, workers=2) as executor:
        yield executor.client


def _parts(client, arrays: list[np.ndarray]) -> list:
    empty = pd.DataFrame()
    return client.scatter([ChunkNumbers(a, empty) for a in arrays], hash=False)


def _planted(seed: int) -> list[np.ndarray]:
    """Random hashes in 7 chunks (one empty) with repeats planted within a chunk, across two
    chunks, three times over, and at the two ends of uint64."""
    rng = np.random.default_rng(seed)
    arrays = [rng.integers(1, 2**63, size, dtype=np.uint64) * np.uint64(2)
              for size in (500, 0, 300, 1_000, 10, 700, 1)]
    arrays[0][:2] = [0, 2**64 - 1]
    arrays[5][-2:] = [0, 2**64 - 1]  # both ends, across chunks
    arrays[0][10] = arrays[0][11]  # within one chunk
    arrays[2][:3] = arrays[3][:3]  # across two chunks
    arrays[6][0] = arrays[4][0] = arrays[3][500]  # three chunks
    return arrays


@pytest.mark.parametrize("per_part", [on_dask.HASHES_PER_PART, 200])
@pytest.mark.parametrize("seed", range(3))
def test_the_workers_find_the_repeats_repeated_finds(client, monkeypatch, seed, per_part):
    monkeypatch.setattr(on_dask, "HASHES_PER_PART", per_part)
    arrays = _planted(seed)
    expected = repeated([a.copy() for a in arrays])
    assert len(expected) == 7
    found = on_dask.repeated_on_dask(client, _parts(client, arrays),
                                     sum(len(a) for a in arrays))
    assert found.dtype == np.uint64
    np.testing.assert_array_equal(found, expected)


def test_no_repeats_and_no_chunks_find_none(client):
    rng = np.random.default_rng(9)
    once = np.unique(rng.integers(0, 2**63, 1_000, dtype=np.uint64))
    halves = [once[: len(once) // 2], once[len(once) // 2:]]
    assert not len(on_dask.repeated_on_dask(client, _parts(client, halves), len(once)))
    none = on_dask.repeated_on_dask(client, [], 0)
    assert none.dtype == np.uint64 and not len(none)


def test_parts_grow_with_the_hashes_not_below_the_workers():
    assert on_dask.repeat_partitions(0, 2) == 2
    assert on_dask.repeat_partitions(on_dask.HASHES_PER_PART * 5 + 1, 2) == 6
    assert on_dask.repeat_partitions(10, 0) == 1


def test_chunks_on_the_workers_mark_what_the_whole_file_marks(client, monkeypatch):
    """The two rounds on the workers (`decide_on_dask`) over any cut of a file decide as the
    file held whole, and this process never runs `repeated` over the hashes."""
    def not_here(hashes):
        raise AssertionError("the hashes were brought together on the driver")

    monkeypatch.setattr(shared_ids, "repeated", not_here)
    monkeypatch.setattr(shared_numbers, "repeated", not_here)
    frame = _frame().sample(frac=1, random_state=3).reset_index(drop=True)
    whole = shared_id_rows(frame)
    assert whole.sum() == 5
    for cuts in ([], [7], [3, 9, 20, 33], list(range(1, len(frame)))):
        chunks = [frame.iloc[a:b].reset_index(drop=True)
                  for a, b in zip([0, *cuts], [*cuts, len(frame)], strict=True)]
        parts = client.scatter([numbers_of(chunk) for chunk in chunks], hash=False)
        counts = client.gather([client.submit(on_dask.hash_count, p, pure=False)
                                for p in parts])
        shared = on_dask.decide_on_dask(client, parts, sum(counts))
        marked = np.concatenate([shared.rows(chunk) for chunk in chunks])
        np.testing.assert_array_equal(marked, whole)

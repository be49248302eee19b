"""A frame held on the Dask workers in chunks (`link.remote.RemoteChunks`): what the driver
asks of it (rows by position, rows by key, counts) equals what it would get of the whole
frame, and only the rows asked for come back."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from pipeline.link.people import label_positions
from pipeline.link.remote import RemoteChunks, rows_at, rows_matching, rows_of

pytestmark = pytest.mark.slow  # a local Dask cluster of two worker processes

CHUNK_LENGTHS = [4, 0, 7, 5]  # an empty chunk among them, as a chunk all quarantined


@pytest.fixture(scope="module")
def client():
    from pipeline.link.distributed import open_dask_executor

    with open_dask_executor(None, workers=2) as executor:
        yield executor.client


def _frame() -> pd.DataFrame:
    n = sum(CHUNK_LENGTHS)
    return pd.DataFrame({
        "row_key": pd.array([f"C{k}" for k in range(n)], dtype="string"),
        "case_id": pd.array([f"K{k // 3}" for k in range(n)], dtype="string"),
        "member_no": pd.array([str(k % 3 + 1) for k in range(n)], dtype="string"),
        "source_file": [f"/in/civil_{k % 2}.csv" for k in range(n)],
        "income": np.arange(n, dtype="float64") * 100.5,
    })


def _held(client, frame: pd.DataFrame) -> RemoteChunks:
    """`frame` cut into CHUNK_LENGTHS chunks, each sent to a worker in turn."""
    workers = sorted(client.nthreads())
    bounds = np.cumsum([0, *CHUNK_LENGTHS])
    futures = [client.scatter(frame.iloc[bounds[k]:bounds[k + 1]].reset_index(drop=True),
                              workers=[workers[k % len(workers)]], hash=False)
               for k in range(len(CHUNK_LENGTHS))]
    return RemoteChunks(client, futures, list(CHUNK_LENGTHS), frame.iloc[:0].copy())


def test_rows_by_position_are_the_whole_frames_in_the_order_asked(client) -> None:
    frame = _frame()
    held = _held(client, frame)
    assert len(held) == len(frame) and list(held.columns) == list(frame.columns)
    assert len({w for ws in client.who_has(held.futures).values() for w in ws}) == 2
    positions = np.array([15, 0, 4, 4, 10, 3, 15], dtype=np.int64)  # across chunks, repeats
    pd.testing.assert_frame_equal(held.take(positions), frame.iloc[positions],
                                  check_index_type=False)
    assert list(held.take(positions).index) == list(positions)
    pd.testing.assert_frame_equal(rows_at(held, positions), rows_at(frame, positions),
                                  check_index_type=False)
    nothing = held.take(np.zeros(0, dtype=np.int64))
    assert nothing.empty and list(nothing.columns) == list(frame.columns)
    with pytest.raises(IndexError):
        held.take([len(frame)])
    pd.testing.assert_frame_equal(held.fetch(), frame)


def test_rows_by_key_and_counts_are_the_whole_frames(client) -> None:
    frame = _frame()
    held = _held(client, frame)
    keys = pd.DataFrame({"case_id": ["K1", "K4", "K4", "K99"], "member_no": ["2", "1", "1", "1"]})
    local = rows_matching(frame, keys)
    assert list(local.index) == [4, 12]  # K1 #2 and K4 #1, in row order, by position
    pd.testing.assert_frame_equal(held.matching(keys), local, check_index_type=False)
    pd.testing.assert_frame_equal(rows_of(held, keys), rows_of(frame, keys),
                                  check_index_type=False)
    assert held.matching(keys.iloc[:0]).empty
    by_key = held.matching(pd.DataFrame({"row_key": ["C3", "C11", "C0"]}))
    assert list(by_key["row_key"]) == ["C0", "C3", "C11"]
    assert held.value_counts("source_file") == \
        frame["source_file"].value_counts().to_dict() == {"/in/civil_0.csv": 8,
                                                          "/in/civil_1.csv": 8}


def test_labels_name_the_same_positions_whether_the_civil_side_is_here_or_held(client
                                                                                ) -> None:
    """The analysts' labels find their civil persons on the workers (only their rows come
    here), at the positions the whole frame gives them."""
    frame = _frame()
    held = _held(client, frame)
    union = pd.DataFrame({"roll_id": ["R1", "R2", "R1"]})
    labels = pd.DataFrame({"union_roll_id": ["R1", "R2", "R3"],
                           "civil_case_id": ["K2", "K5", "K0"],
                           "civil_member_no": ["3", "1", "1"],
                           "label": ["match", "non_match", "match"]})
    here, there = label_positions(union, frame, labels), label_positions(union, held, labels)
    assert here is not None and there is not None
    assert here.confirmed.tolist() == there.confirmed.tolist() == [[0, 8], [2, 8]]
    assert here.dismissed.tolist() == there.dismissed.tolist() == [[1, 15]]


def test_released_chunks_are_freed_on_the_workers(client) -> None:
    """`release` frees every chunk on its worker (the night calls it once the linked rows
    are here: `stages.linked_civil_rows`)."""
    held = _held(client, _frame())
    keys = {future.key for future in held.futures}
    assert _held_keys(client, keys) == keys
    held.release()
    assert held.futures == [] and len(held) == 0
    deadline = time.monotonic() + 20  # workers drop released data a moment later
    while _held_keys(client, keys) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _held_keys(client, keys)


def _held_keys(client, keys: set) -> set:
    """Which of `keys` some worker holds data for."""
    def held(dask_worker) -> list:
        return [key for key in keys if key in dask_worker.data]

    return {key for found in client.run(held).values() for key in found}

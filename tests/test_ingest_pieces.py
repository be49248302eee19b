"""Parquet pieces (`pipeline.ingest.pieces`) are the stream's chunks, read anywhere.

A Dask worker reads a roster piece by itself; the night stays equal to a local one only if
piece k is chunk k of `iter_source_chunks` and the pieces' counts add up to the stream's
`files`. Checked here on Parquet files of several row groups, partitioned folders, two inputs,
chunk sizes that cut row groups anywhere; and the errors: a
source that is not all Parquet, a header without rows, a file damaged or gone after planning.
Every ID number here is invented."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.errors import InputError
from pipeline.ingest.pieces import plan_parquet_pieces, read_piece
from pipeline.ingest.stream import iter_source_chunks
from pipeline.schema import Source
from tests.test_ingest_stream import partitioned_folder, roll_table


def assert_pieces_are_the_chunks(paths: list[Path], chunk_rows: int) -> list[pd.DataFrame]:
    """Every piece read on its own: the frames with data rows equal the stream's chunks in
    order, and the plan's files equal the stream's."""
    plan = plan_parquet_pieces(paths, Source.UNION, chunk_rows)
    assert plan is not None
    stream = iter_source_chunks(paths, Source.UNION, chunk_rows)
    chunks = list(stream)
    frames = []
    for piece in plan.pieces:
        assert 0 < piece.records <= chunk_rows
        read = read_piece(piece)
        assert read.error is None
        plan.add(piece, read.counts, read.error)
        assert read.counts.rows_data == len(read.frame)
        if len(read.frame):
            frames.append(read.frame)
    assert len(frames) == len(chunks) > 0
    for frame, chunk in zip(frames, chunks, strict=True):
        pd.testing.assert_frame_equal(frame, chunk.reset_index(drop=True))
    assert plan.files == stream.files
    return frames


@pytest.mark.parametrize("chunk_rows", [1, 4, 7, 1000])
def test_a_file_of_several_row_groups(tmp_path: Path, chunk_rows: int) -> None:
    path = tmp_path / "roll.parquet"
    pq.write_table(roll_table(60), path, row_group_size=9)
    frames = assert_pieces_are_the_chunks([path], chunk_rows)
    assert sum(len(f) for f in frames) < 60  # blank and footer records were not data


@pytest.mark.parametrize("chunk_rows", [1, 6, 1000])
def test_a_partitioned_folder_and_a_file(tmp_path: Path, chunk_rows: int) -> None:
    folder = partitioned_folder(tmp_path / "roll")
    path = tmp_path / "more.parquet"
    pq.write_table(roll_table(23, start=500), path, row_group_size=4)
    frames = assert_pieces_are_the_chunks([folder, path], chunk_rows)
    districts = set(pd.concat(frames)["district"].dropna())
    assert districts == {"朝阳区", "海淀区", "西城区"}  # the folders' column, on the workers too


def test_only_all_parquet_sources_are_cut(tmp_path: Path) -> None:
    path = tmp_path / "roll.parquet"
    pq.write_table(roll_table(5), path)
    csv = tmp_path / "roll.csv"
    roll_table(5).to_pandas().to_csv(csv, index=False)
    assert plan_parquet_pieces([path, csv], Source.UNION, 10) is None
    assert plan_parquet_pieces([], Source.UNION, 10) is None
    with pytest.raises(ValueError):
        plan_parquet_pieces([path], Source.UNION, 0)


def test_a_header_without_rows_is_refused_as_the_stream_refuses_it(tmp_path: Path) -> None:
    path = tmp_path / "roll.parquet"
    pq.write_table(roll_table(0), path)
    plan = plan_parquet_pieces([path], Source.UNION, 10)
    assert plan.pieces == []
    with pytest.raises(InputError) as pieces:
        _ = plan.files
    with pytest.raises(InputError) as streamed:
        list(iter_source_chunks([path], Source.UNION, 10))
    assert str(pieces.value) == str(streamed.value)


def test_a_piece_that_cannot_be_read_is_an_input_error_not_a_traceback(tmp_path: Path) -> None:
    """The worker returns the error (no exception crosses the network); `add` raises it with
    the file's name and a fix."""
    folder = partitioned_folder(tmp_path / "roll")
    plan = plan_parquet_pieces([folder], Source.UNION, 4)
    damaged = plan.pieces[-1].files[-1]
    damaged.write_bytes(b"PAR1 cut short")
    read = read_piece(plan.pieces[-1])
    assert read.frame is None and read.error is not None
    with pytest.raises(InputError) as refused:
        plan.add(plan.pieces[-1], read.counts, read.error)
    assert "Parquet" in str(refused.value) and str(folder) in str(refused.value)
    assert str(damaged.relative_to(folder)) in str(refused.value)  # which of the files

    shutil.rmtree(folder)  # a worker that does not see the driver's path
    read = read_piece(plan.pieces[0])
    with pytest.raises(InputError) as unseen:
        plan.add(plan.pieces[0], read.counts, read.error)
    assert "cannot be seen from a Dask worker" in str(unseen.value)
    assert "same path on every worker" in str(unseen.value)

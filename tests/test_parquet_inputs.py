"""Parquet exports shaped wrong: each is refused (exit 2, the file, the columns, the fix) before
any work, or read as what it means, on every reader (the whole read, the stream, the pieces a
Dask worker reads). Every ID number here is invented."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.cli import check_input_paths
from pipeline.errors import InputError
from pipeline.ingest import load_file, load_source
from pipeline.ingest.pieces import plan_parquet_pieces, read_piece
from pipeline.ingest.stream import iter_source_chunks
from pipeline.schema import Source

ID_A, ID_B, ID_C = "110105199001011237", "11010519900101123X", "110108198505052341"


def members(ids: list[str | None], **columns) -> pa.Table:
    n = len(ids)
    return pa.table({"会员编号": [f"M{k}" for k in range(n)], "姓名": ["张伟"] * n,
                     "身份证号": ids, **columns})


def every_reader_refuses(path: Path, source: Source = Source.MEMBERS) -> list[str]:
    """The messages of every way in: the command line's check, the whole read, the stream
    and the pieces' plan. Each must be an InputError."""
    said = []
    for read in (lambda: check_input_paths([path]),
                 lambda: load_source([path], source),
                 lambda: list(iter_source_chunks([path], source, 2)),
                 lambda: plan_parquet_pieces([path], source, 2)):
        with pytest.raises(InputError) as refused:
            read()
        said.append(str(refused.value))
    return said


@pytest.mark.parametrize("second", ["renamed", "missing", "extra"])
def test_a_folder_whose_files_differ_in_columns_is_refused_naming_the_file(
        tmp_path: Path, second: str) -> None:
    """pyarrow takes the first file's columns: another file's renamed or missing column
    would be read as empty cells (its members then link on nothing)."""
    folder = tmp_path / "members"
    folder.mkdir()
    pq.write_table(members([ID_A, ID_B]), folder / "part-0.parquet")
    other = members([ID_C])
    if second == "renamed":  # an accepted alias, but not the first file's name
        other = other.rename_columns(["会员编号", "姓名", "公民身份号码"])
    elif second == "missing":
        other = other.drop(["身份证号"])
    else:
        other = other.append_column("备注", pa.array(["x"]))
    pq.write_table(other, folder / "part-1.parquet")
    for message in every_reader_refuses(folder):
        assert "part-1.parquet" in message and "part-0.parquet" in message
        assert "same column" in message
        assert ("公民身份号码" in message) == (second == "renamed")
        assert ("备注" in message) == (second == "extra")


def test_a_damaged_file_of_a_folder_is_named_before_any_work(tmp_path: Path) -> None:
    folder = tmp_path / "members"
    folder.mkdir()
    pq.write_table(members([ID_A]), folder / "part-0.parquet")
    whole = (folder / "part-0.parquet").read_bytes()
    (folder / "part-1.parquet").write_bytes(whole[: len(whole) // 2])  # an unfinished export
    for message in every_reader_refuses(folder):
        assert "part-1.parquet" in message and "export it again" in message
    single = tmp_path / "single.parquet"
    single.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError) as refused:
        check_input_paths([single])
    assert "folder" not in str(refused.value)  # a single file: no talk of a folder's files


def test_an_id_number_column_of_floats_is_refused_other_number_columns_are_read(
        tmp_path: Path) -> None:
    """A double holds 15–17 digits: 18-digit numbers in it are already damaged."""
    path = tmp_path / "members.parquet"
    pq.write_table(pa.table({"会员编号": ["M1"], "姓名": ["张伟"],
                             "公民身份号码(必填)": pa.array([1.1010519900101123e17])}), path)
    for message in every_reader_refuses(path):
        assert "公民身份号码(必填)" in message and "floating-point" in message
        assert "as text" in message and "110105" not in message
    fine = tmp_path / "roll.parquet"  # short ID-like numbers survive a float column
    pq.write_table(pa.table({"档案编号": ["A1"], "姓名": ["张伟"], "身份证号": [ID_A],
                             "档案状态": ["在档"], "手机号码": pa.array([13800138000.0])}), fine)
    frame, _ = load_file(fine, Source.UNION)
    assert frame.loc[0, "phone"] == "13800138000"


def test_text_stored_as_bytes_is_read_as_text_on_every_reader(tmp_path: Path) -> None:
    """pandas writes text held as Python bytes as Parquet `binary`: read it as UTF-8 text,
    never as "b'\\xe5…'"."""
    path = tmp_path / "members.parquet"
    table = pa.table({"会员编号": pa.array([b"M1", b"M2"], pa.binary()),
                      "姓名": pa.array(["张伟".encode(), "李娜".encode()], pa.binary()),
                      "身份证号": pa.array([ID_A.encode(), None], pa.large_binary())})
    pq.write_table(table, path)
    whole = load_source([path], Source.MEMBERS).frame
    assert list(whole["name"]) == ["张伟", "李娜"] and whole.loc[0, "id_number"] == ID_A
    streamed = pd.concat(list(iter_source_chunks([path], Source.MEMBERS, 1)))
    pd.testing.assert_frame_equal(streamed.reset_index(drop=True), whole)
    plan = plan_parquet_pieces([path], Source.MEMBERS, 1)
    pieces = [read_piece(piece).frame for piece in plan.pieces]
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), whole)
    (tmp_path / "gbk").mkdir()
    gbk = tmp_path / "gbk" / "members.parquet"
    pq.write_table(table.set_column(1, "姓名", pa.array(["张伟".encode("gb18030"), None],
                                                        pa.binary())), gbk)
    with pytest.raises(InputError, match="not UTF-8") as refused:
        load_source([gbk], Source.MEMBERS)
    assert "张" not in str(refused.value)


def test_columns_that_are_not_the_source_s_say_so_and_list_them(tmp_path: Path) -> None:
    path = tmp_path / "members.parquet"
    pq.write_table(pa.table({"member_id": ["M1"], "name": ["张伟"], "id_number": [ID_A]}), path)
    with pytest.raises(InputError) as refused:
        load_source([path], Source.MEMBERS)
    message = str(refused.value)
    assert "member_id、name、id_number" in message and "身份证号" in message
    assert "header row" not in message and "张伟" not in message


def test_a_relative_path_is_read_by_a_worker_whose_folder_is_another(
        tmp_path: Path, monkeypatch) -> None:
    """A Dask worker started elsewhere: the piece carries the path made absolute; the
    provenance keeps the path as given."""
    (tmp_path / "data").mkdir()
    pq.write_table(members([ID_A, ID_B, ID_C]), tmp_path / "data" / "members.parquet")
    monkeypatch.chdir(tmp_path)
    plan = plan_parquet_pieces([Path("data/members.parquet")], Source.MEMBERS, 2)
    elsewhere = tmp_path / "worker"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    frames = []
    for piece in plan.pieces:
        read = read_piece(piece)
        assert read.error is None
        frames.append(read.frame)
    frame = pd.concat(frames, ignore_index=True)
    assert list(frame["id_number"]) == [ID_A, ID_B, ID_C]
    assert set(frame["source_file"]) == {"data/members.parquet"}


def test_a_csv_that_cannot_be_parsed_names_the_line_where_the_record_starts(
        tmp_path: Path) -> None:
    """An unclosed quote runs on until the csv module gives up, thousands of lines below:
    the message names the line where the broken record starts."""
    path = tmp_path / "members.csv"
    body = "会员编号,姓名,身份证号\nM1,张伟," + ID_A + "\n"
    filler = "".join(f"M{k},王芳,{ID_C}\n" for k in range(3, 6000))
    path.write_text(body + 'M2,"李娜,' + ID_B + "\n" + filler, encoding="utf-8")
    for read in (lambda: load_source([path], Source.MEMBERS),
                 lambda: list(iter_source_chunks([path], Source.MEMBERS, 1))):
        with pytest.raises(InputError) as refused:
            read()
        message = str(refused.value)
        assert "the record that starts at line 3 " in message
        assert "quoting from that line on" in message and "李娜" not in message


def test_a_folder_s_rows_are_named_by_their_file_and_row_there_on_every_reader(
        tmp_path: Path) -> None:
    """A steward is pointed at the file of the folder and its row (as at a workbook's sheet),
    by the whole read, the stream and the pieces alike; the file's accounting is per file."""
    folder = tmp_path / "members"
    (folder / "区=朝阳区").mkdir(parents=True)
    ids = [ID_A, ID_B, ID_C, None, ID_A]
    pq.write_table(members(ids[:2]), folder / "区=朝阳区" / "part-0.parquet")
    pq.write_table(members(ids[2:]), folder / "part-1.parquet")
    whole = load_source([folder], Source.MEMBERS)
    wanted = [("part-1.parquet", 2), ("part-1.parquet", 3), ("part-1.parquet", 4),
              ("区=朝阳区/part-0.parquet", 2), ("区=朝阳区/part-0.parquet", 3)]
    assert list(zip(whole.frame["source_sheet"], whole.frame["source_row"],
                    strict=True)) == wanted
    assert set(whole.frame["source_file"]) == {str(folder)}
    assert [(s.name, s.rows_read) for s in whole.files[0].sheets] == [
        ("part-1.parquet", 3), ("区=朝阳区/part-0.parquet", 2)]
    stream = iter_source_chunks([folder], Source.MEMBERS, 2)
    streamed = pd.concat(list(stream))
    pd.testing.assert_frame_equal(streamed.reset_index(drop=True), whole.frame)
    assert stream.files == whole.files
    plan = plan_parquet_pieces([folder], Source.MEMBERS, 2)
    frames = []
    for piece in plan.pieces:
        read = read_piece(piece)
        plan.add(piece, read.counts, read.error)
        frames.append(read.frame)
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), whole.frame)
    assert plan.files == whole.files


@pytest.mark.parametrize("where", ["near_the_end", "two_quotes"])
def test_a_stray_quote_that_swallows_records_is_refused_naming_its_line(
        tmp_path: Path, where: str) -> None:
    """A `"` typed before a name and never closed: the csv module reads every line up to the
    next quote, or to the end, as one cell. Those rows must not be lost without a word."""
    rows = [f"M{k},王芳,{ID_C},单位{k}" for k in range(40)]
    rows[30] = rows[30].replace("王芳", '"王芳')
    if where == "two_quotes":
        rows[34] = rows[34].replace("王芳", '王芳"')
    path = tmp_path / "members.csv"
    path.write_text("会员编号,姓名,身份证号,工作单位\n" + "\n".join(rows) + "\n", encoding="utf-8")
    for read in (lambda: load_source([path], Source.MEMBERS),
                 lambda: list(iter_source_chunks([path], Source.MEMBERS, 7))):
        with pytest.raises(InputError) as refused:
            read()
        message = str(refused.value)
        assert "never closed" in message and "starts at line 32 " in message
        assert "王芳" not in message


def test_an_address_typed_over_two_lines_is_one_cell(tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text("会员编号,姓名,身份证号,工作单位\n"
                    f'M1,张伟,{ID_A},"北京市朝阳区\n建国路 1 号"\nM2,李娜,{ID_B},单位\n',
                    encoding="utf-8")
    frame = load_source([path], Source.MEMBERS).frame
    assert list(frame["employer"]) == ["北京市朝阳区\n建国路 1 号", "单位"]
    streamed = pd.concat(list(iter_source_chunks([path], Source.MEMBERS, 1)))
    assert list(streamed["employer"]) == list(frame["employer"])


def test_a_folder_whose_files_have_their_columns_in_another_order_is_read(
        tmp_path: Path) -> None:
    folder = tmp_path / "members"
    folder.mkdir()
    pq.write_table(members([ID_A, ID_B]), folder / "part-0.parquet")
    pq.write_table(members([ID_C]).select(["身份证号", "姓名", "会员编号"]),
                   folder / "part-1.parquet")
    whole = load_source([folder], Source.MEMBERS).frame
    assert list(whole["id_number"]) == [ID_A, ID_B, ID_C]
    assert list(whole["member_id"]) == ["M0", "M1", "M0"]
    streamed = pd.concat(list(iter_source_chunks([folder], Source.MEMBERS, 2)))
    pd.testing.assert_frame_equal(streamed.reset_index(drop=True), whole)
    plan = plan_parquet_pieces([folder], Source.MEMBERS, 2)
    pieces = [read_piece(piece).frame for piece in plan.pieces]
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), whole)


def test_each_footer_is_read_once_per_version_of_its_file(tmp_path: Path, monkeypatch) -> None:
    """`input_kind` runs whenever a stage asks what an input is: the footers of a folder are
    read once, and again only when a file changes (a file rewritten with other columns is
    refused on the next check)."""
    import os

    from pipeline.ingest import readers

    folder = tmp_path / "members"
    folder.mkdir()
    for k in range(3):
        pq.write_table(members([ID_A]), folder / f"part-{k}.parquet")
    calls: list[str] = []
    real = pq.read_schema
    monkeypatch.setattr(pq, "read_schema", lambda path: calls.append(path) or real(path))
    for _ in range(4):
        assert readers.input_kind(folder) == "parquet-folder"
    assert sorted(calls) == sorted(str(p) for p in folder.glob("*.parquet"))  # once each
    changed = folder / "part-2.parquet"
    pq.write_table(members([ID_B]).drop(["身份证号"]), changed)
    os.utime(changed, ns=(1, 1))  # another version even where mtimes are coarse
    with pytest.raises(InputError, match=r"part-2\.parquet"):
        readers.input_kind(folder)

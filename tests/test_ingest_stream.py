"""The streamed reader (`pipeline.ingest.stream`) gives what `load_source` gives, in chunks.

For every input here (the sample, the shared cases, generated CSV, XLSX, XLS, ODS, Parquet
files and folders) and for small chunk sizes (chunk boundaries inside merged ranges, between
footer rows, at sheet ends): the chunks put together equal `load_source(...).frame` and the
stream's `files` equal its `files`; the same InputErrors; and a large CSV is never held whole.
Every ID number here is invented."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tracemalloc
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import InputError
from pipeline.ingest.load import fill_down_merged, load_source
from pipeline.ingest.stream import fill_down_block, iter_source_chunks
from pipeline.ingest.stream_sources import CsvRecords, scan_csv_bytes
from pipeline.schema import Source
from tests.test_ingest_layout import layout_workbook, merged_header_sheet, roll_rows, write_ods

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "cases"
DATA = Path(__file__).resolve().parent / "data"
SAMPLE = ROOT / "data" / "sample"
CIVIL_HEADER = ["家庭编号", "成员序号", "姓名", "身份证号", "保障类别", "区划代码", "保障状态"]
IDS = ("110105199001011237", "11010519900101123X", "110108198505052341")


def source_of(path: Path) -> Source:
    name = path.name
    if name.startswith("union"):
        return Source.UNION
    return Source.MEMBERS if name.startswith("members") else Source.CIVIL


def assert_streams_as_loaded(paths: list[Path], source: Source, chunk_rows: int) -> list:
    """The stream's chunks, checked against `load_source`: frames and files equal, every
    chunk 1..chunk_rows rows, indexes continuing."""
    loaded = load_source(paths, source)
    stream = iter_source_chunks(paths, source, chunk_rows)
    chunks = list(stream)
    assert all(0 < len(chunk) <= chunk_rows for chunk in chunks)
    combined = pd.concat(chunks)
    pd.testing.assert_frame_equal(combined, loaded.frame)
    pd.testing.assert_frame_equal(combined.reset_index(drop=True),
                                  loaded.frame.reset_index(drop=True))
    assert stream.files == loaded.files
    return chunks


def same_error(paths: list[Path], source: Source, chunk_rows: int = 3) -> str:
    """Both readers refuse the input with the same message; the stream before any chunk."""
    with pytest.raises(InputError) as whole:
        load_source(paths, source)
    with pytest.raises(InputError) as streamed:
        iter_source_chunks(paths, source, chunk_rows)
    assert str(streamed.value) == str(whole.value)
    return str(whole.value)


# -- the sample and the shared cases -------------------------------------------------------------

INPUTS = sorted([*SAMPLE.glob("*.csv"), *SAMPLE.glob("*.xlsx"), *CASES.glob("*/*.csv"),
                 *CASES.glob("*/*.xlsx"), DATA / "union_roll_layout.xls"])


@pytest.mark.parametrize("chunk_rows", [7, 1000])
@pytest.mark.parametrize("path", INPUTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_sample_and_case_input_streams_as_loaded(path: Path, chunk_rows: int) -> None:
    if path.parent == SAMPLE and path.suffix == ".csv" and chunk_rows < 100:
        chunk_rows = 331  # thousands of rows: fewer, still uneven, chunks
    assert_streams_as_loaded([path], source_of(path), chunk_rows)


def test_several_files_of_several_formats_stack_as_loaded(tmp_path: Path) -> None:
    """Columns united in order of first appearance (each file's extras), absent ones None."""
    parquet = tmp_path / "roll.parquet"
    pq.write_table(pa.table({"档案编号": ["P1", "P2"], "姓名": ["张伟", "李娜"],
                             "身份证号": [IDS[0], IDS[1]], "档案状态": ["在档", "已脱困"],
                             "备注2": ["x", None]}), parquet)
    paths = [CASES / "02-apostrophe-protected-ids" / "union_roll.csv",
             layout_workbook(tmp_path / "roll.xlsx"), parquet,
             CASES / "04-roll-over-two-sheets" / "union_roll.xlsx"]
    for chunk_rows in (1, 4, 50):
        assert_streams_as_loaded(paths, Source.UNION, chunk_rows)


# -- CSV -----------------------------------------------------------------------------------------

def civil_rows(count: int, start: int = 1) -> list[list[str]]:
    return [[f"C{(i + 1) // 2}", str(i % 2 + 1), f"人{i}", IDS[i % 3], "低保", "110105", "在保"]
            for i in range(start, start + count)]


def write_csv(path: Path, records: list[list[str]], encoding: str = "utf-8",
              terminator: str = "\r\n") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=terminator).writerows(records)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def messy_records() -> list[list[str]]:
    """Title and note rows, a two-row header, blank rows, footers between pages, a repeated
    header, serial-only template rows, quoted cells with commas and line breaks."""
    group = ["", "", "人员信息", "", "", "", ""]
    lower = ["家庭编号", "成员序号", "姓名", "身份证号", "保障类别", "区划代码", "保障状态"]
    rows = [["2026年低保对象名册"], ["填报单位：民政局", "", "", "日期：2026-06-30"], [],
            group, lower]
    body = civil_rows(30)
    body[3][2] = "阿依古丽·买买提"
    body[4][6] = "在保,\n待复核"
    body[5][2] = '王"小"明'
    for index, row in enumerate(body):
        rows.append(row)
        if index == 9:
            rows += [["小计", "", "10人"], [], ["制表人：某某", "", "", "审核人：某某"], group,
                     lower]
        if index == 19:
            rows += [["", "", "", "", "", "", ""], ["21"], ["22"]]
    rows += [["合计", "30户"], ["注：本表由系统导出"]]
    return rows


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 7, 11, 1000])
def test_a_messy_csv_streams_as_loaded(tmp_path: Path, encoding: str, chunk_rows: int) -> None:
    path = write_csv(tmp_path / "civil.csv", messy_records(), encoding)
    chunks = assert_streams_as_loaded([path], Source.CIVIL, chunk_rows)
    # 30 people, and the repeated group row: `load` takes the lower header row alone for the
    # header (one row wins a tie), so 人员信息 below it is a name
    assert len(pd.concat(chunks)) == 31


def test_a_file_with_bare_cr_line_ends_is_read_whole(tmp_path: Path) -> None:
    """pandas and the csv module split such text differently: read as `load` reads it."""
    records = [CIVIL_HEADER, *civil_rows(40)]
    path = write_csv(tmp_path / "civil.csv", records, terminator="\r")
    assert scan_csv_bytes(path) == ("utf-8", True)
    assert CsvRecords(path, "utf-8", whole=True).read_whole
    for chunk_rows in (1, 7):
        same_or_same_error([path], Source.CIVIL, chunk_rows)
    crlf = write_csv(tmp_path / "crlf.csv", records)
    assert scan_csv_bytes(crlf) == ("utf-8", False)


HUGE = "张" * 200_000  # above the csv module's field limit (131,072 characters)


@pytest.mark.parametrize("chunk_rows", [1, 7, 100])
def test_a_cell_above_the_csv_field_limit_deep_in_the_file(tmp_path: Path,
                                                           chunk_rows: int) -> None:
    """pandas reads it (load's reader): the stream reads the file whole from there on."""
    records = [CIVIL_HEADER, *civil_rows(60)]
    records[45][2] = HUGE
    path = write_csv(tmp_path / "civil.csv", records)
    reader = CsvRecords(path, "utf-8")
    assert reader.take(40) is not None and not reader.read_whole
    assert len(reader.take(100)) == 21 and reader.read_whole
    reader.close()
    assert_streams_as_loaded([path], Source.CIVIL, chunk_rows)


@pytest.mark.parametrize("fault", ["ragged", "unclosed_quote"])
def test_a_huge_cell_in_text_pandas_refuses_is_the_same_error(tmp_path: Path,
                                                              fault: str) -> None:
    """pandas refuses the text (a long record; a quote never closed, which makes the rest of
    the file one cell): load's csv module refuses the long cell, and so does the stream."""
    records = [CIVIL_HEADER, *civil_rows(60)]
    if fault == "ragged":
        records[20][2] = HUGE
        records[50] = [*records[50], "多一格"]
        path = write_csv(tmp_path / "civil.csv", records)
    else:
        path = write_csv(tmp_path / "civil.csv", records)
        path.write_bytes(path.read_bytes() + ('C9,1,"张' + "伟" * 200_000 + "\n").encode())
    assert "field limit" in refused_alike(path, 7)


@pytest.mark.parametrize("at", [0, 60, 79, 80, 161, 251])
def test_a_stray_quote_is_found_in_whichever_block_it_falls(tmp_path: Path, at: int) -> None:
    """Only records over several lines can have swallowed others (the stream looks at those
    only, `swallowed_record(..., multiline)`): a stray quote anywhere, with addresses typed
    over two lines elsewhere, is the error `load` gives, naming the same line."""
    records = [CIVIL_HEADER, *civil_rows(300)]
    for k in (5, 41, 150, 298):
        records[k][3] = '"北京市\n朝阳区"'  # an address over two lines: not a swallowed record
    records[at + 1][2] = '"' + records[at + 1][2]  # a quote opened and never closed
    path = tmp_path / "civil.csv"
    path.write_text("\n".join(",".join(r) for r in records) + "\n", encoding="utf-8")
    assert "opened and never closed" in refused_alike(path, 40)


def refused_alike(path: Path, chunk_rows: int) -> str:
    """The InputError's text, the same when the civil file is loaded whole and streamed."""
    with pytest.raises(InputError) as whole:
        load_source([path], Source.CIVIL)
    with pytest.raises(InputError) as streamed:
        list(iter_source_chunks([path], Source.CIVIL, chunk_rows))
    assert str(streamed.value) == str(whole.value)
    return str(whole.value)


def test_swallowed_record_over_the_multiline_records_only_is_the_same() -> None:
    from pipeline.ingest.readers import swallowed_record

    rng = np.random.default_rng(4)
    pieces = ["a", "b,c,d,e", "x\ny", "p\nq,r,s,t", "", None]
    for _ in range(200):
        cells = np.array(rng.choice(np.array(pieces, dtype=object), size=(12, 4)), dtype=object)
        breaks = np.flatnonzero([any(isinstance(c, str) and "\n" in c for c in row)
                                 for row in cells])
        extra = rng.choice(12, size=3, replace=False)  # records over two lines without a break
        multiline = np.union1d(breaks, extra).astype(np.int64)
        assert swallowed_record(cells, multiline) == swallowed_record(cells)
    assert swallowed_record(np.array([["a\nb,c,d,e", "x", "y", "z"]], dtype=object),
                            np.zeros(0, dtype=np.int64)) is None  # none said to span lines


def same_or_same_error(paths: list[Path], source: Source, chunk_rows: int) -> None:
    """Equal frames and files, or the same InputError (raised by the stream at some point)."""
    try:
        loaded = load_source(paths, source)
    except InputError as error:
        with pytest.raises(InputError) as streamed:
            list(iter_source_chunks(paths, source, chunk_rows))
        assert str(streamed.value) == str(error)
        return
    stream = iter_source_chunks(paths, source, chunk_rows)
    chunks = list(stream)
    assert all(0 < len(chunk) <= chunk_rows for chunk in chunks)
    pd.testing.assert_frame_equal(pd.concat(chunks), loaded.frame)
    assert stream.files == loaded.files


CELL = st.lists(st.sampled_from(["a", "张", ",", '"', "\n", "\r", " ", "1", "合计"]),
                max_size=4).map("".join)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=st.lists(st.lists(CELL, max_size=3), max_size=3),
       body=st.lists(st.lists(st.one_of(CELL, st.sampled_from(IDS)), max_size=9), max_size=25),
       raw=st.sampled_from(["", "\n", "\r", "\r\n", '"', 'x"y\n', "\n\n"]),
       chunk_rows=st.integers(1, 6), terminator=st.sampled_from(["\n", "\r\n", "\r"]))
def test_any_csv_streams_as_loaded_or_is_refused_alike(tmp_path: Path, head, body, raw,
                                                       chunk_rows, terminator) -> None:
    """Titles, ragged and blank records, quotes, line breaks in cells, bare CRs, an unclosed
    quote: the same frame or the same error."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=terminator)
    writer.writerows(head)
    writer.writerow(CIVIL_HEADER)
    writer.writerows(body)
    path = tmp_path / "any.csv"
    path.write_bytes((buffer.getvalue() + raw).encode("utf-8"))
    same_or_same_error([path], Source.CIVIL, chunk_rows)


@pytest.mark.parametrize("name,data", [
    ("empty.csv", b""),
    ("blank_lines.csv", b"\n\n\n"),
    ("spaces.csv", b" \n \n"),
    ("title_only.csv", "2026年名单\n".encode()),
    ("nul.csv", b"\x00" * 100),
    ("late_nul.csv", (",".join(CIVIL_HEADER) + "\n" + "C1,1,张伟,x,低保,110105,在保\n" * 3000
                      ).encode() + b"C2,1,\x00,x,,,\n"),
    ("latin1.csv", (",".join(CIVIL_HEADER) + "\nC1,1,Zoë,x,低保,110105,在保\n").encode("utf-8")
     .replace("ë".encode(), b"\xeb\xff")),
    ("bad_bom.csv", b"\xef\xbb\xbf" + ",".join(CIVIL_HEADER).encode() + b"\n\xff\xfe,1\n"),
    ("missing_column.csv", "家庭编号,成员序号,姓名,身份证号,保障类别,区划代码\nC1,1,张伟,x,低保,1\n"
     .encode()),
    ("roll.xlsx", b"plain text, not a workbook\n"),
    ("roll.parquet", b"PAR1 but not really"),
    ("roll.pdf", b"%PDF-1.4"),
])
def test_inputs_refused_before_any_chunk_with_the_same_error(tmp_path: Path, name: str,
                                                             data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    if name == "bad_bom.csv":  # `load_source` lets the decoding error through: so does the stream
        with pytest.raises(UnicodeDecodeError):
            load_source([path], Source.CIVIL)
        with pytest.raises(UnicodeDecodeError):
            iter_source_chunks([path], Source.CIVIL)
        return
    assert name in same_error([path], Source.CIVIL)


def test_a_missing_file_and_a_header_without_rows(tmp_path: Path) -> None:
    same_error([tmp_path / "nowhere.csv"], Source.CIVIL)
    path = tmp_path / "header_only.csv"
    path.write_text(",".join(CIVIL_HEADER) + "\n合计,0\n", encoding="utf-8")
    with pytest.raises(InputError) as whole:
        load_source([path], Source.CIVIL)
    stream = iter_source_chunks([path], Source.CIVIL, 5)  # known only after the last row
    with pytest.raises(InputError) as streamed:
        next(iter(stream))
    assert str(streamed.value) == str(whole.value) and "no data rows" in str(whole.value)


def test_a_huge_cell_streams_as_loaded(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_bytes((",".join(CIVIL_HEADER) + "\nC1,1," + "张" * 300_000 +
                      ",11010519900101123X,低保,110105,在保\nC2,1,李娜,x,低保,110105,在保\n"
                      ).encode())
    assert_streams_as_loaded([path], Source.CIVIL, 1)


# -- workbooks -----------------------------------------------------------------------------------

def household_workbook(path: Path) -> Path:
    """Two district sheets of households whose 家庭编号, 家庭住址 and 保障状态 are merged down
    over their members (ranges of 1–5 rows), a merged header, footers merged across, a
    填表说明 sheet, a hidden sheet without the header, and an empty sheet."""
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "填表说明"
    notes.append(["填表说明"])
    for district, households in (("朝阳区", 9), ("海淀区", 6)):
        sheet = workbook.create_sheet(district)
        sheet.append([f"2026年{district}低保对象名册"])
        sheet.merge_cells("A1:H1")
        sheet.append(["家庭编号", "成员信息", None, None, "保障类别", "区划代码", "保障状态",
                      "家庭住址"])
        sheet.append([None, "成员序号", "姓名", "身份证号", None, None, None, None])
        for cells in ("A2:A3", "B2:D2", "E2:E3", "F2:F3", "G2:G3", "H2:H3"):
            sheet.merge_cells(cells)
        row = 4
        for household in range(1, households + 1):
            size = household % 5 + 1
            for member in range(1, size + 1):
                first = member == 1
                sheet.append([f"{district[:1]}{household}" if first else None, member,
                              f"人{household}-{member}", IDS[(household + member) % 3], "低保",
                              "110105" if first else None, "在保" if first else None,
                              f"{district}{household}号" if first else None])
            if size > 1:
                for column in "AFGH":
                    sheet.merge_cells(f"{column}{row}:{column}{row + size - 1}")
            row += size
            if household % 4 == 0:
                sheet.append(["小计", None, f"{household}户"])
                sheet.merge_cells(f"A{row}:B{row}")
                sheet.append([])
                row += 2
        sheet.append(["合计", None, None, f"{households}户"])
        sheet.merge_cells(f"A{row}:C{row}")
        sheet.append([None, "制表人：某某"])
    hidden = workbook.create_sheet("代码表")
    hidden.append(["代码", "含义"])
    hidden.sheet_state = "hidden"
    workbook.create_sheet("空表")
    workbook.save(path)
    return path


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 4, 5, 7, 1000])
def test_households_merged_down_across_chunk_boundaries(tmp_path: Path, chunk_rows: int) -> None:
    path = household_workbook(tmp_path / "civil.xlsx")
    chunks = assert_streams_as_loaded([path], Source.CIVIL, chunk_rows)
    frame = pd.concat(chunks)
    assert frame["case_id"].notna().all() and frame["address"].notna().all()
    assert list(frame["source_sheet"].unique()) == ["朝阳区", "海淀区"]


@pytest.mark.parametrize("chunk_rows", [1, 3, 7])
def test_layout_workbooks_stream_as_loaded(tmp_path: Path, chunk_rows: int) -> None:
    assert_streams_as_loaded([layout_workbook(tmp_path / "roll.xlsx")], Source.UNION, chunk_rows)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    merged_header_sheet(sheet, roll_rows("GH", 8))
    sheet.append(["档案号", "职工基本信息", None, None, "档案状态", "备注"])  # page 2
    sheet.append([None, "职工姓名", "公民身份号码(必填)", "出生日期", None, None])
    for row in roll_rows("HX", 5):
        sheet.append(row)
    sheet["C20"] = "x"  # a stray cell right of nothing, far below
    workbook.save(tmp_path / "pages.xlsx")
    assert_streams_as_loaded([tmp_path / "pages.xlsx"], Source.UNION, chunk_rows)


def test_a_sheet_starting_below_and_right_of_a1(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for offset, row in enumerate([["档案编号", "姓名", "身份证号", "出生日期", "档案状态"],
                                  *roll_rows("GH", 9)]):
        for column, value in enumerate(row):
            sheet.cell(row=4 + offset, column=3 + column, value=value)
    workbook.save(tmp_path / "roll.xlsx")
    chunks = assert_streams_as_loaded([tmp_path / "roll.xlsx"], Source.UNION, 4)
    assert list(pd.concat(chunks)["source_row"]) == list(range(5, 14))


def test_an_ods_workbook_streams_as_loaded(tmp_path: Path) -> None:
    rows = [["困难职工档案"], ["档案号", ("职工基本信息", 2), "档案状态"],
            [None, "职工姓名", "身份证号", None]]
    rows += [[f"A{i}", f"人{i}", IDS[i % 3], "在档"] for i in range(12)]
    rows += [[None, None, 2, None], ["合计", 12, None, None]]
    path = write_ods(tmp_path / "roll.ods", {"说明": [["填表说明"]], "名册": rows})
    for chunk_rows in (1, 5, 100):
        assert_streams_as_loaded([path], Source.UNION, chunk_rows)


def test_workbook_errors_are_the_same_and_come_first(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["档案编号", "姓名", "身份证号", "档案状态"])
    workbook.active.append(["A1", "张伟", IDS[0], "在档"])
    hidden = workbook.create_sheet("旧表")
    hidden.append(["档案编号", "姓名", "身份证号", "档案状态"])
    hidden.sheet_state = "hidden"
    workbook.save(tmp_path / "hidden.xlsx")
    assert "hidden" in same_error([SAMPLE / "union_roll.xlsx", tmp_path / "hidden.xlsx"],
                                  Source.UNION)
    workbook = openpyxl.Workbook()
    workbook.active.append(["档案编号", "姓名", "档案状态"])
    workbook.active.append(["A1", "张伟", "在档"])
    workbook.save(tmp_path / "lacking.xlsx")
    assert "身份证号" in same_error([tmp_path / "lacking.xlsx"], Source.UNION)
    workbook = openpyxl.Workbook()
    for index in range(20):
        workbook.active.append([f"第{index}行", "内容"])
    workbook.save(tmp_path / "none.xlsx")
    assert "rows 1–15" in same_error([tmp_path / "none.xlsx"], Source.UNION)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), rows=st.integers(1, 14), width=st.integers(1, 5),
       below=st.integers(-1, 4), size=st.integers(1, 6))
def test_fill_down_by_blocks_equals_the_whole_sheet(data, rows, width, below, size) -> None:
    """Any merged ranges (overlapping ones included, as a damaged file may hold), any block
    size: the blocks filled in order equal the whole grid filled at once."""
    cells = np.array([[f"{r}:{c}" if (r + c) % 3 else None for c in range(width)]
                      for r in range(rows)], dtype=object)
    merge = st.tuples(st.integers(0, rows + 1), st.integers(0, width + 1), st.integers(0, 4),
                      st.integers(0, 2)).map(lambda m: (m[0], m[1], m[0] + m[2], m[1] + m[3]))
    merges = tuple(data.draw(st.lists(merge, max_size=6)))
    merges = tuple(m for m in merges if m[0] < rows)  # `load` indexes a range's first row
    whole = fill_down_merged(cells.copy(), merges, below)
    anchors: dict = {}
    blocks = [fill_down_block(cells[first:first + size].copy(), first, merges, below, anchors)
              for first in range(0, rows, size)]
    assert np.array_equal(np.vstack(blocks), whole)


# -- Parquet -------------------------------------------------------------------------------------

def roll_table(count: int, start: int = 0) -> pa.Table:
    numbers = range(start, start + count)
    return pa.table({
        "档案编号": [f"A{i}" if i % 11 else None for i in numbers],
        "姓名": [f"人{i}" if i % 11 else None for i in numbers],
        "身份证号": pa.array([int(IDS[0][:17]) * 10 + i % 10 if i % 11 else None
                            for i in numbers], pa.int64()),
        "出生日期": [dt.date(1990, 1, 1 + i % 28) for i in numbers],
        "档案状态": ["在档" if i % 7 else "合计" for i in numbers],
        "家庭人口": pa.array([i % 5 for i in numbers], pa.int32()),
    })


@pytest.mark.parametrize("chunk_rows", [1, 7, 1000])
def test_a_parquet_file_of_several_row_groups(tmp_path: Path, chunk_rows: int) -> None:
    path = tmp_path / "roll.parquet"
    pq.write_table(roll_table(60), path, row_group_size=9)
    assert_streams_as_loaded([path], Source.UNION, chunk_rows)


def partitioned_folder(folder: Path) -> Path:
    """A hive-partitioned roll folder (所属区=…), two files of row groups of 5 in each, and a
    `_SUCCESS` marker the reader ignores."""
    for number, district in enumerate(("朝阳区", "海淀区", "西城区")):
        part = folder / f"所属区={district}"
        part.mkdir(parents=True)
        for piece in range(2):
            table = roll_table(13 + number, start=100 * number + 20 * piece)
            pq.write_table(table, part / f"part-{piece}.parquet", row_group_size=5)
    (folder / "_SUCCESS").write_bytes(b"")
    return folder


@pytest.mark.parametrize("chunk_rows", [1, 7, 1000])
def test_a_partitioned_parquet_folder(tmp_path: Path, chunk_rows: int) -> None:
    folder = partitioned_folder(tmp_path / "roll")
    chunks = assert_streams_as_loaded([folder], Source.UNION, chunk_rows)
    assert set(pd.concat(chunks)["district"]) == {"朝阳区", "海淀区", "西城区"}


def test_parquet_errors_are_the_same(tmp_path: Path) -> None:
    path = tmp_path / "roll.parquet"
    pq.write_table(pa.table({"档案编号": ["A1"], "姓名": ["张伟"], "档案状态": ["在档"]}), path)
    missing = same_error([path], Source.UNION)
    assert "身份证号" in missing and "row 1" not in missing  # column names are no row
    folder = tmp_path / "folder"
    folder.mkdir()
    pq.write_table(roll_table(3), folder / "part-0.parquet")
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    assert "not Parquet" in same_error([folder], Source.UNION)
    (folder / "notes.txt").unlink()
    pq.write_table(roll_table(5), folder / "part-1.parquet")
    damaged = folder / "part-1.parquet"
    damaged.write_bytes(damaged.read_bytes()[:len(damaged.read_bytes()) // 2])
    message = same_error([folder], Source.UNION)
    assert "cannot be read" in message and "part-1.parquet" in message  # the file named


# -- the stream itself ---------------------------------------------------------------------------

def test_files_are_known_after_the_last_chunk_and_a_stream_is_read_once() -> None:
    stream = iter_source_chunks([SAMPLE / "civil_exchange.csv"], Source.CIVIL, 1000)
    with pytest.raises(RuntimeError):
        _ = stream.files
    chunks = iter(stream)
    first = next(chunks)
    assert list(first.columns) == stream.columns and first.index[0] == 0
    with pytest.raises(RuntimeError):
        iter(stream)
    rest = list(chunks)
    assert rest[0].index[0] == len(first)
    assert stream.files[0].rows_data == len(first) + sum(len(c) for c in rest)
    with pytest.raises(ValueError):
        iter_source_chunks([SAMPLE / "civil_exchange.csv"], Source.CIVIL, 0)


def test_no_files_give_one_empty_frame_as_load_source() -> None:
    stream = iter_source_chunks([], Source.MEMBERS)
    pd.testing.assert_frame_equal(pd.concat(list(stream)), load_source([], Source.MEMBERS).frame)
    assert stream.files == []


def members_csv(path: Path, rows: int) -> Path:
    line = "HY{0:08d},姓名{1},11010519900101{1:04d},北京某某有限公司,朝阳区\n"
    with path.open("w", encoding="utf-8-sig") as handle:
        handle.write("会员编号,姓名,公民身份号码,工作单位,所属区\n")
        handle.writelines(line.format(i, i % 10000) for i in range(rows))
    return path


def traced_peaks(path: Path, rows: int, chunk_rows: int) -> tuple[int, int]:
    """Peak traced memory (bytes) of `load_source` and of reading the stream chunk by chunk
    (each chunk dropped before the next is read)."""

    def peak(read) -> int:
        tracemalloc.start()
        try:
            read()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    def streamed() -> None:
        count = 0
        for chunk in iter_source_chunks([path], Source.MEMBERS, chunk_rows):
            count += len(chunk)
            del chunk
        assert count == rows

    return peak(lambda: load_source([path], Source.MEMBERS)), peak(streamed)


def test_a_csv_is_never_held_whole(tmp_path: Path) -> None:
    whole, streamed = traced_peaks(members_csv(tmp_path / "members.csv", 60_000), 60_000, 5_000)
    assert streamed < 0.5 * whole, (streamed, whole)


@pytest.mark.slow  # about 8 s, most of it tracemalloc's
def test_a_large_csv_is_never_held_whole(tmp_path: Path) -> None:
    """~120,000 rows read 10,000 at a time: traced peak memory far below reading it whole
    (measured: about a tenth at 300,000 rows read 20,000 at a time)."""
    path = members_csv(tmp_path / "members.csv", 120_000)
    whole, streamed = traced_peaks(path, 120_000, 10_000)
    assert streamed < 0.5 * whole, (streamed, whole)

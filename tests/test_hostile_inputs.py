"""A corpus of nasty files: each gives a clear InputError or loads cleanly; never a crash."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import InputError
from pipeline.ingest import load_source
from pipeline.normalise.sources import MAX_CELL_CHARS, normalise_source
from pipeline.schema import Source

HEADER = "家庭编号,成员序号,姓名,身份证号,保障类别,区划代码,保障状态\n"
ROW = "C1,1,张伟,11010519900101123X,低保,110105,在保\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


CORPUS = {
    "empty.csv": (b"", "empty"),
    "header_only.csv": (HEADER.encode(), "no data rows"),
    "random.csv": (bytes(range(256)) * 40, None),
    "nul.csv": (b"\x00" * 100, "NUL"),
    # A NUL deep in the file (past 64 KB), inside a cell: refused with its line.
    "late_nul.csv": ((HEADER + ROW * 2000).encode() + ROW.replace("张伟", "张\x00伟").encode(),
                     "the first on line 2002"),
    "utf16.csv": ((HEADER + ROW).encode("utf-16"), "ok"),
    "duplicate_headers.csv": ((HEADER.strip() + ",姓名\n" + ROW.strip() + ",李娜\n").encode(),
                              "ok"),
    "ragged.csv": ((HEADER + "C1,1,张伟\nC2,1,李娜,1,低保,110105,在保,extra,more\n").encode(),
                   "ok"),
    "title_only.csv": ("2026年名单\n".encode(), None),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_nasty_csv_files(tmp_path: Path, name: str) -> None:
    data, expected = CORPUS[name]
    path = write(tmp_path, name, data)
    if expected == "ok":
        loaded = load_source([path], Source.CIVIL)
        assert len(loaded.frame) == loaded.files[0].rows_read >= 1
        return
    with pytest.raises(InputError) as caught:
        load_source([path], Source.CIVIL)
    message = str(caught.value)
    assert name in message and "To fix" in message
    if expected:
        assert expected in message


def test_truncated_and_fake_xlsx(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    for name, data in (("fake.xlsx", buffer.getvalue()), ("text.xlsx", b"hello"),
                       ("half.xlsx", b"PK\x03\x04" + b"\x00" * 50)):
        with pytest.raises(InputError, match=r"cannot be read|workbook"):
            load_source([write(tmp_path, name, data)], Source.UNION)


def test_formula_cells_and_formula_text_are_data_not_code(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["档案编号", "姓名", "身份证号", "档案状态"])
    sheet.append(["A1", '=HYPERLINK("http://evil.example","点我")', "11010519900101123X", "在档"])
    sheet.append(["A2", "@SUM(1+1)", "11010519900101123X", "在档"])
    path = tmp_path / "roll.xlsx"
    workbook.save(path)
    loaded = load_source([path], Source.UNION)
    assert len(loaded.frame) == 2  # read as data; nothing is evaluated


def test_a_huge_cell_is_quarantined_not_carried(tmp_path: Path) -> None:
    path = write(tmp_path, "long.csv", (HEADER + "C1,1," + "张" * 4_000_000 +  # a 12 MB line
                                        ",11010519900101123X,低保,110105,在保\n" + ROW).encode())
    loaded = load_source([path], Source.CIVIL)
    result = normalise_source(loaded.frame, Source.CIVIL, dt.date(2026, 6, 30))
    assert list(result.quarantine["reason_code"]) == ["value_too_long"]
    assert len(result.quarantine.loc[0, "raw_name"]) < MAX_CELL_CHARS + 20
    assert len(result.frame) == 1


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.lists(st.text(max_size=12), min_size=7, max_size=7), max_size=8),
       header=st.permutations(HEADER.strip().split(",")))
def test_any_csv_content_is_accounted_for_or_refused(tmp_path: Path, cells, header) -> None:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(cells)
    path = write(tmp_path, "any.csv", buffer.getvalue().encode("utf-8"))
    try:
        loaded = load_source([path], Source.CIVIL)
    except InputError as error:
        assert "any.csv" in str(error)
        return
    result = normalise_source(loaded.frame, Source.CIVIL, dt.date(2026, 6, 30))
    # footers and serial-only template rows are counted apart (non-data), never normalised
    assert len(result.frame) + len(result.quarantine) == loaded.files[0].rows_data


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.lists(st.one_of(st.text(max_size=10), st.integers(), st.floats(),
                                         st.none()), min_size=4, max_size=4), max_size=6),
       extra_header=st.text(max_size=6))
def test_any_xlsx_content_is_accounted_for_or_refused(tmp_path: Path, cells, extra_header):
    def printable(value):  # openpyxl, like Excel, cannot store control characters
        return "".join(ch for ch in value if ch.isprintable()) if isinstance(value, str) \
            else value

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["档案编号", "姓名", "身份证号", "档案状态", printable(extra_header)])
    for row in cells:
        sheet.append([printable(c) for c in row])
    path = tmp_path / "roll.xlsx"
    workbook.save(path)
    try:
        loaded = load_source([path], Source.UNION)
    except InputError as error:
        assert "roll.xlsx" in str(error)
        return
    result = normalise_source(loaded.frame, Source.UNION, dt.date(2026, 6, 30))
    # footers and serial-only template rows are counted apart (non-data), never normalised
    assert len(result.frame) + len(result.quarantine) == loaded.files[0].rows_data

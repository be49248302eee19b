"""Ingest on the traps real exchange files carry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from pipeline.errors import InputError
from pipeline.ingest import load_file, load_source
from pipeline.ingest.encoding import detect_encoding
from pipeline.ingest.headers import fold_header, map_headers
from pipeline.ingest.readers import cell_to_id_text
from pipeline.schema import CIVIL_FIELDS, UNION_FIELDS, Source

CIVIL_HEADER = "家庭编号,成员序号,姓名,身份证号,保障类别,区划代码,保障状态"


def write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_gb18030_file_keeps_the_name_separator(tmp_path: Path) -> None:
    text = f"{CIVIL_HEADER}\nC1,1,买买提·艾力,110105199001011234,低保,110105,在保\n"
    path = write(tmp_path / "civil.csv", text, "gb18030")
    assert detect_encoding(path.read_bytes()) == "gb18030"
    frame, info = load_file(path, Source.CIVIL)
    assert frame.loc[0, "name"] == "买买提·艾力"  # gb2312 would have produced ・
    assert info.encoding == "gb18030"


@pytest.mark.parametrize("encoding,expected", [("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8")])
def test_utf8_with_and_without_bom(tmp_path: Path, encoding: str, expected: str) -> None:
    path = write(tmp_path / "c.csv", f"{CIVIL_HEADER}\nC1,1,张伟,X,低保,110105,在保\n", encoding)
    frame, info = load_file(path, Source.CIVIL)
    assert info.encoding == expected
    assert list(frame["case_id"]) == ["C1"]  # the BOM is not part of the first header


def test_blank_in_all_digit_id_column_keeps_every_digit(tmp_path: Path) -> None:
    """One blank turns an all-digit column into float64 in a naive reader."""
    text = (f"{CIVIL_HEADER}\nC1,1,张伟,110105199001011237,低保,110105,在保\n"
            "C1,2,李娜,,低保,110105,在保\nC2,1,王芳,110108198505052341,低保,110108,在保\n")
    frame, _ = load_file(write(tmp_path / "c.csv", text, "utf-8"), Source.CIVIL)
    assert list(frame["id_number"]) == ["110105199001011237", None, "110108198505052341"]
    assert list(frame["member_no"]) == ["1", "2", "1"]


def test_alias_headers_with_required_marks_spaces_and_fullwidth_parentheses() -> None:
    headers = [" 档案号 ", "职工姓名", "公民身份号码(必填)", "街道（乡镇）", "档案状态", "备注"]
    header_map = map_headers(headers, UNION_FIELDS)
    assert header_map.field_columns == {"roll_id": 0, "name": 1, "id_number": 2, "street": 3,
                                        "roll_status": 4}
    assert header_map.missing_required == ()
    assert list(header_map.extra_columns) == ["extra:备注"]
    assert fold_header("身份证号码（必填）") == "身份证号码"


def test_missing_required_column_names_the_file_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "家庭编号,成员序号,姓名,保障类别,区划代码,保障状态\n"
                 "C1,1,张伟,低保,110105,在保\n", "utf-8")
    with pytest.raises(InputError) as caught:
        load_file(path, Source.CIVIL)
    message = str(caught.value)
    assert "c.csv" in message and "身份证号" in message and "To fix" in message


def test_title_row_above_header_and_blank_rows_are_skipped_not_lost(tmp_path: Path) -> None:
    text = ("2026年6月民政救助对象名单,,,,,,\n" + CIVIL_HEADER + "\n"
            "C1,1,张伟,110105199001011237,低保,110105,在保\n,,,,,,\n"
            "C2,1,李娜,110108198505052341,低保,110108,在保\n")
    frame, info = load_file(write(tmp_path / "c.csv", text, "utf-8"), Source.CIVIL)
    assert info.header_row == 2
    assert list(frame["source_row"]) == [3, 5]  # rows as numbered in the file
    assert info.rows_read == 2 and info.blank_rows_skipped == 1


def test_xlsx_numeric_id_cell_is_excel_damage_and_date_cells_survive(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["档案编号", "姓名", "身份证号", "出生日期", "档案状态"])
    sheet.append(["A1", "张伟", 110105199001011237, dt.date(1990, 1, 1), "在档"])
    sheet.append(["A2", "李娜", "11010519900101123x", 43525, "在档"])
    path = tmp_path / "roll.xlsx"
    workbook.save(path)
    frame, info = load_file(path, Source.UNION)
    assert info.sheet == "Sheet"
    # Excel keeps 15 significant digits: the last three become 000.
    assert frame.loc[0, "id_number"] == "110105199001011000"
    assert frame.loc[1, "id_number"] == "11010519900101123x"
    assert frame.loc[0, "birth_date"] == dt.date(1990, 1, 1)
    assert frame.loc[1, "birth_date"] == 43525


def test_cell_to_id_text_keeps_whole_legacy_numbers() -> None:
    assert cell_to_id_text(110105900101123.0) == "110105900101123"
    assert cell_to_id_text(1.10105199001011e17) == "110105199001011000"
    assert cell_to_id_text(None) is None
    assert cell_to_id_text("  ") is None


def test_several_files_of_one_source_are_stacked_with_provenance(tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", f"{CIVIL_HEADER}\nC1,1,张伟,X,低保,110105,在保\n", "utf-8")
    b = write(tmp_path / "b.csv", f"{CIVIL_HEADER}\nC2,1,李娜,Y,低保,110105,在保\n", "gb18030")
    loaded = load_source([a, b], Source.CIVIL)
    assert list(loaded.frame["source_file"]) == [str(a), str(b)]
    assert [f.rows_read for f in loaded.files] == [1, 1]
    assert {f.name for f in CIVIL_FIELDS} <= set(loaded.frame.columns)


@pytest.mark.parametrize("content,needle", [
    (b"", "empty"),
    (b"\x00\x01\x02binary", "NUL"),
])
def test_unreadable_files_give_clear_errors(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=needle):
        load_file(path, Source.CIVIL)


def test_truncated_xlsx_is_a_clear_error(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["档案编号"])
    good = tmp_path / "good.xlsx"
    workbook.save(good)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(good.read_bytes()[:200])
    with pytest.raises(InputError, match="cannot be read"):
        load_file(bad, Source.UNION)


def test_missing_file_and_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_file(tmp_path / "nope.csv", Source.UNION)
    odd = tmp_path / "roll.pdf"
    odd.write_bytes(b"%PDF")
    with pytest.raises(InputError, match="unknown file type"):
        load_file(odd, Source.UNION)


@pytest.mark.parametrize(("given", "meant"), [(Source.UNION, Source.CIVIL),
                                              (Source.MEMBERS, Source.CIVIL)])
def test_a_file_passed_with_the_wrong_option_says_which_option_it_belongs_to(
        tmp_path: Path, given: Source, meant: Source) -> None:
    """The civil-affairs file passed as --union: its header has every required column of
    the civil side, so the message says the files look swapped and which option to use."""
    path = tmp_path / "civil.csv"
    path.write_text(CIVIL_HEADER + "\nC1,1,张伟,110105198001011234,低保,110105,在保\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as refused:
        load_source([path], given)
    text = str(refused.value)
    assert f"required column of the 民政救助交换文件 (--{meant.value})" in text
    assert f"pass this file with --{meant.value}" in text and "look swapped" in text


def test_a_file_that_is_no_input_gets_no_swap_hint(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("姓名,身份证号,备注\n张伟,110105198001011234,x\n", encoding="utf-8")
    with pytest.raises(InputError) as refused:
        load_source([path], Source.UNION)
    assert "swapped" not in str(refused.value)

"""Ingest on the layouts real workbooks have (SPEC §1.4): title and note rows, two-row merged
headers, data over several sheets, instruction and hidden sheets, footers and serial-only
template rows; XLS, ODS and Parquet inputs; files whose content is not what their name says.
Every ID number here is invented."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.errors import InputError
from pipeline.ingest import load_file, load_source
from pipeline.ingest.headers import combine_rows, fill_merged, find_header
from pipeline.ingest.readers import sniff
from pipeline.report.manifest import account_rows, totals_by_source
from pipeline.schema import SOURCE_SHEET, UNION_FIELDS, Source

DATA = Path(__file__).parent / "data"
CASES = Path(__file__).resolve().parent / "cases"  # copied from shared/cases
HEADER = ["档案编号", "姓名", "身份证号", "出生日期", "档案状态"]
ID_A, ID_B, ID_C = "110105199001011237", "11010519900101123X", "110108198505052341"


def roll_rows(prefix: str, count: int) -> list[list[object]]:
    ids = (ID_A, ID_B, ID_C)
    return [[f"{prefix}{i}", f"人{i}", ids[i % 3], dt.date(1990, 1, 1), "在档"]
            for i in range(1, count + 1)]


def merged_header_sheet(sheet, rows: list[list[object]], *, merges: bool = True) -> None:
    """Title row, note row, blank row, then a two-row header (档案号 / 档案状态 merged down,
    职工基本信息 merged across 职工姓名 公民身份号码 出生日期), then `rows` from row 6."""
    sheet.append(["2025年朝阳区困难职工档案花名册"])
    sheet.append(["填报单位：朝阳区总工会（盖章）    填报日期：2025年6月30日"])
    sheet.append([])
    sheet.append(["档案号", "职工基本信息", None, None, "档案状态", "备注"])
    sheet.append([None, "职工姓名", "公民身份号码(必填)", "出生日期", None, None])
    if merges:
        for cells in ("A1:F1", "A2:F2", "A4:A5", "B4:D4", "E4:E5", "F4:F5"):
            sheet.merge_cells(cells)
    for row in rows:
        sheet.append([row[0], row[1], row[2], row[3], row[4]])


# -- header row ----------------------------------------------------------------------------------

@pytest.mark.parametrize("merges", [True, False], ids=["merged", "merges-lost"])
def test_title_rows_and_two_row_merged_header(tmp_path: Path, merges: bool) -> None:
    workbook = openpyxl.Workbook()
    merged_header_sheet(workbook.active, roll_rows("GH", 3), merges=merges)
    path = tmp_path / "roll.xlsx"
    workbook.save(path)
    frame, info = load_file(path, Source.UNION)
    assert list(frame["roll_id"]) == ["GH1", "GH2", "GH3"]
    assert list(frame["id_number"]) == [ID_B, ID_C, ID_A]
    assert list(frame["roll_status"]) == ["在档"] * 3
    assert list(frame["source_row"]) == [6, 7, 8]  # as Excel numbers them
    assert info.header_row == 4 and info.sheets[0].header_rows == [4, 5]
    assert info.headers["id_number"] == "公民身份号码(必填)"
    assert info.headers["roll_id"] == "档案号" and info.headers["roll_status"] == "档案状态"
    assert info.extra_columns == ["备注"]  # the group label is no column
    assert info.rows_read == 3 and info.blank_rows_skipped == 0


def test_merged_cells_are_filled_from_their_anchor_and_rows_combined() -> None:
    rows = [["档案号", "职工基本信息", "", "档案状态"], ["", "职工姓名", "身份证号", ""]]
    filled = fill_merged(rows, [(0, 0, 1, 0), (0, 1, 0, 2), (0, 3, 1, 3), (5, 5, 9, 9)])
    assert filled[1] == ["档案号", "职工姓名", "身份证号", "档案状态"]
    assert filled[0][2] == "职工基本信息"
    assert combine_rows(rows) == ["档案号", "职工姓名", "身份证号", "档案状态"]
    header = find_header([["标题"], *rows, ["A1", "张伟", ID_A, "在档"]], UNION_FIELDS)
    assert (header.first_row, header.last_row) == (1, 2)
    assert header.header_map.missing_required == ()


def test_single_header_below_a_title_is_one_row_not_two(tmp_path: Path) -> None:
    path = tmp_path / "roll.csv"
    path.write_text("困难职工档案 2025,,,,,\n" + ",".join(HEADER) + "\n"
                    f"A1,张伟,{ID_A},1990-01-01,在档\n", encoding="utf-8")
    frame, info = load_file(path, Source.UNION)
    assert info.sheets[0].header_rows == [2] and info.header_row == 2
    assert list(frame["source_row"]) == [3]
    assert info.extra_columns == []  # the title is not taken for a header cell
    assert frame[SOURCE_SHEET].isna().all()


def test_no_header_error_names_the_file_sheet_rows_and_fix(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "名单"
    for index in range(20):
        workbook.active.append([f"第{index}行", "内容"])
    workbook.active.append(HEADER)  # below the rows searched
    path = tmp_path / "roll.xlsx"
    workbook.save(path)
    with pytest.raises(InputError) as caught:
        load_file(path, Source.UNION)
    message = str(caught.value)
    assert "roll.xlsx" in message and "sheet '名单'" in message
    assert "rows 1–15" in message and "To fix" in message and "档案编号" in message
    assert "第1行" not in message  # no cell values


# -- every sheet ---------------------------------------------------------------------------------

def layout_workbook(path: Path) -> Path:
    """填表说明, then 朝阳区 (3 rows, a serial-only row, a 合计 and a 制表人 footer), an empty
    sheet, then 海淀区 (merged header, 2 rows, two pre-numbered template rows)."""
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "填表说明"
    notes.append(["填表说明"])
    notes.append(["一、每户一行，以职工本人为户主填写。"])
    notes.append(["二、请勿修改表头。"])
    first = workbook.create_sheet("朝阳区")
    first.append(["序号", *HEADER])
    for number, row in enumerate(roll_rows("CY", 3), start=1):
        first.append([number, *row])
    first.append([4])
    first.append(["合计", None, None, None, None, None])
    first.append([None, "制表人：某某", None, "审核人：某某"])
    workbook.create_sheet("空表")
    second = workbook.create_sheet("海淀区")
    merged_header_sheet(second, roll_rows("HD", 2))
    second.append([3])
    second.append(["4"])
    workbook.save(path)
    return path


def test_every_data_sheet_is_read_in_order_with_its_name(tmp_path: Path) -> None:
    path = layout_workbook(tmp_path / "roll.xlsx")
    loaded = load_source([path], Source.UNION)
    frame = loaded.frame
    assert list(frame["roll_id"]) == ["CY1", "CY2", "CY3", "HD1", "HD2"]
    assert list(frame[SOURCE_SHEET]) == ["朝阳区"] * 3 + ["海淀区"] * 2
    assert list(frame["source_row"]) == [2, 3, 4, 6, 7]
    info = loaded.files[0]
    assert info.sheet == "朝阳区" and info.header_row == 1
    assert info.rows_read == 5 + 5 and info.rows_non_data == 5 and info.rows_data == 5
    assert info.non_data == {"serial_only": 3, "footer": 2}
    sheets = {s.name: s.manifest() for s in info.sheets}
    assert [s.name for s in info.sheets] == ["填表说明", "朝阳区", "空表", "海淀区"]
    assert sheets["填表说明"]["status"] == "skipped" and "表头" in sheets["填表说明"]["reason"]
    assert sheets["空表"] == {"name": "空表", "status": "skipped", "reason": "空工作表"}
    assert sheets["朝阳区"] == {
        "name": "朝阳区", "status": "read", "header_rows": [1], "rows_read": 6,
        "rows_non_data": 3, "non_data": {"footer": 2, "serial_only": 1},
        "blank_rows_skipped": 0, "headers": {"roll_id": "档案编号", "name": "姓名",
                                             "id_number": "身份证号", "birth_date": "出生日期",
                                             "roll_status": "档案状态"}}
    assert sheets["海淀区"]["header_rows"] == [4, 5]
    assert sheets["海淀区"]["non_data"] == {"serial_only": 2}


def test_a_name_without_an_id_or_a_remark_is_still_data(tmp_path: Path) -> None:
    """Only footers and serial-only rows leave the data: other incomplete rows are data, for
    normalisation to quarantine."""
    path = tmp_path / "roll.csv"
    path.write_text(",".join([*HEADER, "备注"]) + "\n"
                    f"A1,张伟,{ID_A},,在档,说明：已核实\n"  # a remark, but a name and an ID
                    "A2,李娜,,,在档,\n"                      # a name, no ID
                    "A3,,,,,\n"                              # a roll ID only (text)
                    "7,,,,,\n"                               # a serial number only
                    "合计：2户,,,,,\n"
                    "合计,3户,,,,\n"                         # a count is no name
                    ",,,,,注：本表由区总工会填报\n", encoding="utf-8")
    frame, info = load_file(path, Source.UNION)
    assert list(frame["roll_id"]) == ["A1", "A2", "A3"]
    assert info.non_data == {"serial_only": 1, "footer": 3}
    assert info.rows_read == 7 and info.rows_data == 3


def test_a_sheet_that_looks_like_data_but_lacks_a_required_column_is_an_error(
        tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "朝阳区"
    workbook.active.append(HEADER)
    workbook.active.append(roll_rows("A", 1)[0])
    other = workbook.create_sheet("海淀区")
    other.append(["档案编号", "姓名", "证件号", "档案状态"])  # 证件号 is no alias of 身份证号
    other.append(["B1", "李娜", ID_B, "在档"])
    path = tmp_path / "roll.xlsx"
    workbook.save(path)
    with pytest.raises(InputError) as caught:
        load_file(path, Source.UNION)
    message = str(caught.value)
    assert "roll.xlsx" in message and "sheet '海淀区'" in message and "row 1" in message
    assert "'身份证号'" in message and "To fix" in message and "delete it" in message
    assert ID_B not in message and "李娜" not in message


def test_a_summary_sheet_naming_no_field_is_skipped_but_one_naming_two_is_refused(
        tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(roll_rows("A", 1)[0])
    summary = workbook.create_sheet("汇总")
    summary.append(["区", "户数"])
    summary.append(["朝阳区", 3])
    path = tmp_path / "roll.xlsx"
    workbook.save(path)
    _, info = load_file(path, Source.UNION)
    assert [s.status for s in info.sheets] == ["read", "skipped"]
    summary["C1"] = "家庭人口"
    summary["D1"] = "所属区"  # now two fields of the roll: it may be roll data
    workbook.save(path)
    with pytest.raises(InputError, match="sheet '汇总'"):
        load_file(path, Source.UNION)


def test_an_instruction_sheet_listing_the_columns_is_skipped(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(roll_rows("A", 1)[0])
    notes = workbook.create_sheet("字段说明")
    notes.append(["字段", "填写要求"])
    for name in ("档案编号", "姓名", "身份证号", "档案状态"):
        notes.append([name, "必填"])
    path = tmp_path / "roll.xlsx"
    workbook.save(path)
    _, info = load_file(path, Source.UNION)
    assert info.sheets[1].status == "skipped" and "字段说明" in info.sheets[1].reason


def test_a_hidden_sheet_with_the_header_is_an_error_other_hidden_sheets_are_skipped(
        tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "2025"
    workbook.active.append(HEADER)
    workbook.active.append(roll_rows("A", 1)[0])
    lookup = workbook.create_sheet("代码表")
    lookup.append(["代码", "名称"])
    lookup.sheet_state = "hidden"
    path = tmp_path / "roll.xlsx"
    workbook.save(path)
    _, info = load_file(path, Source.UNION)
    assert info.sheets[1].manifest()["status"] == "skipped"
    assert "隐藏" in info.sheets[1].reason
    old = workbook.create_sheet("2024")
    old.append(HEADER)
    old.append(roll_rows("B", 1)[0])
    old.sheet_state = "veryHidden"
    workbook.save(path)
    with pytest.raises(InputError) as caught:
        load_file(path, Source.UNION)
    message = str(caught.value)
    assert "sheet '2024'" in message and "hidden" in message
    assert "unhide" in message and "delete it" in message


def test_the_shared_cases_read_all_42_rows_with_their_sheet() -> None:
    merged = CASES / "03-title-rows-merged-header" / "union_roll.xlsx"
    two = CASES / "04-roll-over-two-sheets" / "union_roll.xlsx"
    if not merged.exists() or not two.exists():
        pytest.skip("shared/cases not beside the repository")
    loaded = load_source([merged], Source.UNION)
    assert len(loaded.frame) == 42 and loaded.frame["roll_id"].notna().all()
    assert set(loaded.frame[SOURCE_SHEET]) == {"困难职工档案"}
    assert loaded.files[0].sheets[0].header_rows == [3, 4]
    assert loaded.frame["source_row"].min() == 5
    loaded = load_source([two], Source.UNION)
    assert len(loaded.frame) == 42
    assert loaded.frame[SOURCE_SHEET].value_counts().to_dict() == {"朝阳区": 21, "海淀区": 21}
    assert list(loaded.frame[SOURCE_SHEET].drop_duplicates()) == ["朝阳区", "海淀区"]


# -- formats -------------------------------------------------------------------------------------

def test_xls_workbook_with_merged_header_several_sheets_and_a_hidden_one() -> None:
    """tests/data/union_roll_layout.xls: BIFF8 written by xlwt 1.3.0 (填表说明; 朝阳区 with a
    title, a note, a merged two-row header, 3 rows, a serial-only row and a 合计 footer;
    海淀区 with 2 rows; 旧表 hidden)."""
    path = DATA / "union_roll_layout.xls"
    assert sniff(path) == "ole2"
    loaded = load_source([path], Source.UNION)
    frame = loaded.frame
    assert list(frame["roll_id"]) == ["GH-X1", "GH-X2", "GH-X3", "GH-Y1", "GH-Y2"]
    assert list(frame[SOURCE_SHEET]) == ["朝阳区"] * 3 + ["海淀区"] * 2
    assert list(frame["source_row"]) == [5, 6, 7, 2, 3]
    assert frame.loc[2, "id_number"] == "110105199001011000"  # a number cell: Excel damage
    info = loaded.files[0]
    assert info.format == "xls" and info.non_data == {"serial_only": 1, "footer": 1}
    assert [(s.name, s.status) for s in info.sheets] == [
        ("填表说明", "skipped"), ("朝阳区", "read"), ("海淀区", "read"), ("旧表", "skipped")]
    assert info.sheets[1].header_rows == [3, 4]


def write_ods(path: Path, tables: dict[str, list[list[object]]]) -> Path:
    """A minimal OpenDocument spreadsheet; a cell given as ("text", n) spans n columns (the
    covered cells follow), which calamine reports as no merge at all."""
    def cell(value: object) -> str:
        if value is None:
            return "<table:table-cell/>"
        if isinstance(value, tuple):
            text, span = value
            return (f'<table:table-cell table:number-columns-spanned="{span}" '
                    f'office:value-type="string"><text:p>{text}</text:p></table:table-cell>'
                    + "<table:covered-table-cell/>" * (span - 1))
        if isinstance(value, int | float):
            return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                    f"<text:p>{value}</text:p></table:table-cell>")
        return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p>' \
               "</table:table-cell>"

    body = "".join(
        f'<table:table table:name="{name}">'
        + "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>"
                  for row in rows) + "</table:table>"
        for name, rows in tables.items())
    mime = "application/vnd.oasis.opendocument.spreadsheet"
    namespaces = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                  'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
                  'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {namespaces} '
               f'office:version="1.2"><office:body><office:spreadsheet>{body}'
               "</office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
                '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mime}"/>'
                '<manifest:file-entry manifest:full-path="content.xml" '
                'manifest:media-type="text/xml"/></manifest:manifest>')
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mime)  # first and stored, as ODF says
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


def test_ods_with_a_spanned_two_row_header(tmp_path: Path) -> None:
    path = write_ods(tmp_path / "roll.ods", {
        "说明": [["填表说明"]],
        "名册": [["困难职工档案"],
               ["档案号", ("职工基本信息", 2), "档案状态"],
               [None, "职工姓名", "身份证号", None],
               ["A1", "张伟", ID_A, "在档"],
               [None, None, 2, None],
               ["合计", 1, None, None]]})
    assert sniff(path) == "ods"
    frame, info = load_file(path, Source.UNION)
    assert list(frame["roll_id"]) == ["A1"] and list(frame["id_number"]) == [ID_A]
    assert list(frame["source_row"]) == [4] and list(frame[SOURCE_SHEET]) == ["名册"]
    assert info.format == "ods" and info.sheets[1].header_rows == [2, 3]
    assert info.non_data == {"serial_only": 1, "footer": 1}


def test_parquet_file_with_alias_headers_keeps_ids_exact(tmp_path: Path) -> None:
    path = tmp_path / "roll.parquet"
    pq.write_table(pa.table({
        "档案号": ["A1", "A2", None],
        "职工姓名": ["张伟", "李娜", None],
        "公民身份号码": pa.array([110105199001011237, None, None], pa.int64()),
        "档案状态": ["在档", "在档", None],
        "家庭人口": pa.array([3, None, None], pa.int64()),
    }), path)
    frame, info = load_file(path, Source.UNION)
    assert list(frame["roll_id"]) == ["A1", "A2"]
    assert frame.loc[0, "id_number"] == ID_A and frame.loc[1, "id_number"] is None
    assert frame.loc[0, "household_size"] == 3
    assert list(frame["source_row"]) == [2, 3] and frame[SOURCE_SHEET].isna().all()
    assert info.format == "parquet" and info.blank_rows_skipped == 1 and info.sheet is None
    assert info.headers["id_number"] == "公民身份号码"


def test_parquet_folder_is_one_input_in_path_order(tmp_path: Path) -> None:
    folder = tmp_path / "roll"
    (folder / "所属区=朝阳区").mkdir(parents=True)
    (folder / "所属区=海淀区").mkdir()
    table = pa.table({"档案编号": ["A1", "A2"], "姓名": ["张伟", "李娜"],
                      "身份证号": [ID_A, ID_B], "档案状态": ["在档", "在档"]})
    pq.write_table(table.slice(0, 1), folder / "所属区=朝阳区" / "part-0.parquet")
    pq.write_table(table.slice(1, 1), folder / "所属区=海淀区" / "part-0.parquet")
    (folder / "_SUCCESS").write_bytes(b"")
    loaded = load_source([folder], Source.UNION)
    assert list(loaded.frame["roll_id"]) == ["A1", "A2"]
    assert list(loaded.frame["district"]) == ["朝阳区", "海淀区"]  # the partition column
    # each file of the folder is a sheet named by its path there, rows counted within it:
    # a steward opens that file (the folder's row 3 is no row of any file)
    assert list(loaded.frame["source_row"]) == [2, 2]
    assert list(loaded.frame[SOURCE_SHEET]) == ["所属区=朝阳区/part-0.parquet",
                                                "所属区=海淀区/part-0.parquet"]
    info = loaded.files[0]
    assert [sheet.name for sheet in info.sheets] == list(loaded.frame[SOURCE_SHEET])
    assert info.path == str(folder) and len(info.sha256) == 64 and info.size_bytes > 0
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="not Parquet"):
        load_source([folder], Source.UNION)


def test_parquet_missing_a_required_column_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "roll.parquet"
    pq.write_table(pa.table({"档案编号": ["A1"], "姓名": ["张伟"], "档案状态": ["在档"]}), path)
    with pytest.raises(InputError, match="身份证号") as caught:
        load_file(path, Source.UNION)
    assert "roll.parquet" in str(caught.value)


# -- content sniffing ----------------------------------------------------------------------------

def xlsx_bytes(tmp_path: Path) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    workbook.save(tmp_path / "real.xlsx")
    return (tmp_path / "real.xlsx").read_bytes()


@pytest.mark.parametrize("name,content,needles", [
    ("roll.xlsx", ",".join(HEADER).encode("gb18030") + b"\nA1,x,y,,z\n",
     ("really plain text (CSV)", "rename it to .csv")),
    ("roll.xls", b"<html><head><meta charset='utf-8'></head><body><table><tr><td>1</td></tr>"
                 b"</table></body></html>",
     ("really an HTML page", "save it as .xlsx")),
    ("roll.xls", b"\xef\xbb\xbf\r\n<!DOCTYPE html PUBLIC>\n<table></table>",
     ("really an HTML page", "save it as .xlsx")),
    ("roll.xls", b'<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><Workbook '
                 b'xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>',
     ("Excel 2003 XML spreadsheet", "save it as .xlsx")),
    ("roll.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
     ("old-style Office file", "rename it to .xls", "password")),
    ("roll.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", ("really a PDF document", "export")),
    ("roll.csv", b"PAR1\x15\x04" + b"\x00" * 40, ("really a Parquet file", ".parquet")),
    ("roll.parquet", b"a,b\n1,2\n", ("really plain text (CSV)", "rename it to .csv")),
])
def test_content_not_matching_the_extension_says_what_it_is(
        tmp_path: Path, name: str, content: bytes, needles: tuple[str, ...]) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        load_file(path, Source.UNION)
    message = str(caught.value)
    assert name in message and "To fix" in message
    for needle in needles:
        assert needle in message


def test_workbooks_renamed_to_another_workbook_type(tmp_path: Path) -> None:
    real = xlsx_bytes(tmp_path)
    (tmp_path / "roll.xls").write_bytes(real)
    with pytest.raises(InputError, match=r"really an Excel \.xlsx workbook.*rename it to \.xlsx"):
        load_file(tmp_path / "roll.xls", Source.UNION)
    ods = write_ods(tmp_path / "real.ods", {"s": [HEADER]}).read_bytes()
    (tmp_path / "ods.xlsx").write_bytes(ods)
    with pytest.raises(InputError, match=r"OpenDocument.*rename it to \.ods"):
        load_file(tmp_path / "ods.xlsx", Source.UNION)
    (tmp_path / "xls.ods").write_bytes((DATA / "union_roll_layout.xls").read_bytes())
    with pytest.raises(InputError, match=r"rename it to \.xls"):
        load_file(tmp_path / "xls.ods", Source.UNION)


def test_sniff_kinds(tmp_path: Path) -> None:
    cases = {"a.bin": (xlsx_bytes(tmp_path), "xlsx"), "b.bin": (b"", "empty"),
             "c.bin": ("姓名,身份证号\n张伟,1\n".encode("gb18030"), "text"),
             "d.bin": ("姓名\n".encode("utf-16"), "text"),
             "e.bin": (b"PK\x03\x04" + b"\x00" * 50, "damaged-zip"),
             "f.bin": (b"\x00\x01\x02\x03", "binary")}
    for name, (content, kind) in cases.items():
        (tmp_path / name).write_bytes(content)
        assert sniff(tmp_path / name) == kind, name


# -- manifest and validation ---------------------------------------------------------------------

def test_manifest_lists_sheets_and_balances_with_non_data_rows(tmp_path: Path) -> None:
    path = layout_workbook(tmp_path / "roll.xlsx")
    loaded = load_source([path], Source.UNION)
    usable = pd.DataFrame({"source_file": [str(path)] * 4,
                           "row_key": ["k1", "k2", "k3", "k4"]})
    quarantined = pd.DataFrame({"source_file": [str(path)]})
    [entry] = account_rows(loaded.files, usable, quarantined, {"k1", "k3"})
    assert entry["rows_read"] == 10 and entry["rows_non_data"] == 5
    assert (entry["rows_linked"], entry["rows_unlinked"], entry["rows_quarantined"]) == (2, 2, 1)
    assert entry["balanced"] is True
    assert entry["non_data"] == {"serial_only": 3, "footer": 2}
    assert entry["sheet"] == "朝阳区" and entry["header_row"] == 1 and entry["format"] == "xlsx"
    assert [(s["name"], s["status"]) for s in entry["sheets"]] == [
        ("填表说明", "skipped"), ("朝阳区", "read"), ("空表", "skipped"), ("海淀区", "read")]
    totals = totals_by_source([entry, {**entry, "rows_read": 11}])
    assert totals["union"]["rows_non_data"] == 10
    assert totals["union"]["non_data"] == {"serial_only": 6, "footer": 4}
    assert totals["union"]["balanced"] is False  # one row read too many is unbalanced
    assert totals_by_source([entry])["union"]["balanced"] is True


def test_validation_view_tells_apart_rows_of_two_sheets_with_the_same_number(
        tmp_path: Path) -> None:
    from pipeline.normalise.sources import normalise_source
    from pipeline.validate.stage import input_view

    path = layout_workbook(tmp_path / "roll.xlsx")
    loaded = load_source([path], Source.UNION)
    # 朝阳区 row 6 is a footer; make both sheets hold a data row numbered 6.
    assert (loaded.frame["source_row"] == 6).sum() == 1
    raw = pd.concat([loaded.frame, loaded.frame.iloc[[0]].assign(source_row=6)],
                    ignore_index=True)
    raw.loc[len(raw) - 1, "birth_date"] = dt.date(1980, 5, 5)
    normalised = normalise_source(raw, Source.UNION, dt.date(2026, 6, 30))
    view = input_view(raw, normalised.frame, Source.UNION)
    assert len(view) == len(raw)
    assert view["birth_date"].iloc[-1] == pd.Timestamp("1980-05-05")
    assert view["birth_date"].iloc[3] == pd.Timestamp("1990-01-01")


# -- merged cells in the data, headers repeated on every page ------------------------------------

def test_a_household_key_merged_down_belongs_to_every_member(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["家庭编号", "成员序号", "姓名", "身份证号", "保障类别", "区划代码", "保障状态"])
    for member, (name, number) in enumerate((("张伟", ID_A), ("李娜", ID_B), ("张小", ID_C)), 1):
        sheet.append(["BJ001" if member == 1 else None, member, name, number, "低保", "110105",
                      "在保" if member == 1 else None])
    sheet.append(["BJ002", 1, "王芳", "110101198001011234", "低保", "110101", "在保"])
    sheet.merge_cells("A2:A4")
    sheet.merge_cells("G2:G4")
    sheet.append(["合计", None, None, None, None, None, None])
    sheet.merge_cells("A6:C6")  # across one row: not copied sideways
    path = tmp_path / "civil.xlsx"
    workbook.save(path)
    frame, info = load_file(path, Source.CIVIL)
    assert list(frame["case_id"]) == ["BJ001", "BJ001", "BJ001", "BJ002"]
    assert list(frame["case_status"]) == ["在保"] * 4
    assert list(frame["name"]) == ["张伟", "李娜", "张小", "王芳"]
    assert info.non_data == {"footer": 1}


def test_a_header_repeated_on_every_page_is_a_non_data_row(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    rows = roll_rows("GH", 4)
    sheet.append(rows[0])
    sheet.append(rows[1])
    sheet.append(HEADER)  # page 2
    sheet.append(rows[2])
    sheet.append(rows[3])
    path = tmp_path / "roll.xlsx"
    workbook.save(path)
    frame, info = load_file(path, Source.UNION)
    assert list(frame["roll_id"]) == ["GH1", "GH2", "GH3", "GH4"]
    assert list(frame["source_row"]) == [2, 3, 5, 6]
    assert info.non_data == {"repeated_header": 1} and info.rows_read == 5


def test_a_two_row_header_repeated_mid_sheet_is_non_data(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    merged_header_sheet(sheet, roll_rows("GH", 2))
    sheet.append(["档案号", "职工基本信息", None, None, "档案状态", "备注"])
    sheet.append([None, "职工姓名", "公民身份号码(必填)", "出生日期", None, None])
    for row in roll_rows("HX", 2):
        sheet.append(row)
    path = tmp_path / "roll.xlsx"
    workbook.save(path)
    frame, info = load_file(path, Source.UNION)
    assert list(frame["roll_id"]) == ["GH1", "GH2", "HX1", "HX2"]
    assert info.non_data == {"repeated_header": 2}

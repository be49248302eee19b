"""The generator plants every kind of SPEC §1.4, and its truth knows them (pipeline.generate)."""

from __future__ import annotations

import ast
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from pipeline.generate import build, generate
from pipeline.generate.constants import DISTRICTS as BEIJING
from pipeline.generate.constants import (
    HISTORIC_PREFIXES,
    OLD_CODES,
    OTHER_PROVINCE_CODES,
    PERSON_CLASSES,
    PROTECTION_KINDS,
    UNPUBLISHED_PREFIXES,
    XINJIANG_CODES,
)
from pipeline.generate.idcheck import (
    check_id,
    clean_id,
    id_check_char,
    parse_written_date,
    published_codes,
    standard_to_pua,
)
from pipeline.generate.layout import FOOTER_LABEL, INSTRUCTIONS_SHEET, SERIAL_HEADER
from pipeline.generate.truth import normalise_name

HOUSEHOLDS = 400
SEED = 3  # a file with the 序号 column; SEED_PLAIN has none
SEED_PLAIN = 11
NEW_ROLL_KINDS = (*PERSON_CLASSES, "placeholder", "shared", *PROTECTION_KINDS)


def _all_bytes(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _truth(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / "truth" / f"{name}.csv", dtype=str, keep_default_na=False)


def _valid(first17: str) -> str:
    return first17 + id_check_char(first17)


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("kinds")
    generate(d, households=HOUSEHOLDS, seed=SEED)
    return d


@pytest.fixture(scope="module")
def meta(out: Path) -> dict:
    return json.loads((out / "truth" / "meta.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def kinds(out: Path) -> pd.DataFrame:
    return _truth(out, "roll_id_kinds")


@pytest.fixture(scope="module")
def workbook(out: Path) -> dict[str, list[list]]:
    wb = CalamineWorkbook.from_path(str(out / "union_roll.xlsx"))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


# ---------------------------------------------------------------- the truth's own checks


def test_reference_codes_are_what_they_claim() -> None:
    codes = published_codes()
    assert len(codes) == 6450
    assert set(HISTORIC_PREFIXES) <= codes
    assert not set(UNPUBLISHED_PREFIXES) & codes
    assert {"810000", "820000"} <= codes and "830000" not in codes
    everyday = {*BEIJING, *OTHER_PROVINCE_CODES, *XINJIANG_CODES,
                *(old for old, _, _ in OLD_CODES.values())}
    assert everyday <= codes


@pytest.mark.parametrize(("raw", "status"), [
    (_valid("11010519491231002"), "valid"),
    (_valid("33011320010101123"), "valid"),  # 临平区 (2021), absent from python-stdnum
    (_valid("32901219650304123"), "valid"),  # 昆山 (1989)
    (_valid("81000019900101123"), "valid"),  # Hong Kong residents' permit
    (_valid("83000019900101123"), "valid"),  # Taiwan residents' permit
    (_valid("91184019850615001"), "valid"),  # foreigners' number: Beijing, USA
    (_valid("99984019850615001"), "invalid"),  # foreigners' number, no such province
    (_valid("11019019800101123"), "unpublished_prefix"),
    ("111111111111111111", "placeholder"),
    ("000000000000000000", "placeholder"),
    ("123456789012345678", "placeholder"),
    ("987654321098765432", "placeholder"),
    ("110105000000000000", "placeholder"),
    (_valid("11010500000000123"), "placeholder"),  # all-zero birth date
    (_valid("11010519800101000"), "placeholder"),  # all-zero sequence …
    ("110105198001010000", "invalid"),  # … but …0000 is Excel's damage
    ("", "blank"),
])
def test_check_id(raw: str, status: str) -> None:
    assert check_id(raw).status == status


def test_clean_id_removes_protection_marks() -> None:
    number = _valid("11010519491231002")
    for raw in (f"'{number}", f'="{number}"', f"{number}\t", f"\u00a0{number}",
                f"\u200b{number}", f"{number[:6]}\u200b{number[6:]}", f"\ufeff{number}",
                f"{number[:6]}-{number[6:14]}-{number[14:]}", number.lower()):
        assert clean_id(raw) == number, repr(raw)
        assert check_id(raw).canonical == number


def test_written_dates() -> None:
    assert parse_written_date(60) is None  # Excel's 1900-02-29
    assert parse_written_date(61) == date(1900, 3, 1)
    assert parse_written_date("1980年3月1日") == parse_written_date("19800301") == date(1980, 3, 1)


def test_name_folding_equates_dashes_and_gbk_private_use() -> None:
    for dash in "-‐–—－":
        assert normalise_name(f"阿依古丽{dash}买买提") == normalise_name("阿依古丽·买买提")
    assert standard_to_pua("王䶮") == "王\ue863"
    assert normalise_name("王\ue863") == normalise_name("王䶮") == "王䶮"
    assert normalise_name("李\ue844然") == "李䜣然"
    assert normalise_name("张伟") != normalise_name("张玮")


# ---------------------------------------------------------------- planted, and known to truth


def test_every_new_kind_is_planted(meta: dict) -> None:
    for kind in NEW_ROLL_KINDS:
        assert meta["roll_id_kinds"].get(kind, 0) >= 1, kind
    for kind in (*PERSON_CLASSES, "placeholder", "shared", *PROTECTION_KINDS):
        assert meta["civil_id_kinds"].get(kind, 0) >= 1, kind
    for kind in PROTECTION_KINDS:
        assert meta["member_id_kinds"].get(kind, 0) >= 1, kind
    assert meta["roll_name_kinds"].get("dash_separator", 0) >= 1
    assert meta["roll_name_kinds"].get("pua_roll", 0) + meta["roll_name_kinds"].get(
        "pua_civil", 0) >= 1
    assert meta["roll_birth_kinds"].get("excel_1900_02_29", 0) >= 1


def test_rates_stay_realistic() -> None:
    g = build(2000, 5)
    rows = len(g.rendered.roll)
    kinds = pd.Series(g.rendered.roll_id_kind).value_counts()
    for kind in ("placeholder", "shared"):
        assert 0.001 <= kinds[kind] / rows <= 0.006, kind
    other_numbers = kinds[["permit_hk", "permit_mo", "permit_tw", "foreign_pr"]].sum() / rows
    assert 0.001 <= other_numbers <= 0.006
    assert kinds[list(PROTECTION_KINDS)].sum() / rows <= 0.05
    civil = pd.Series(g.rendered.civil_id_kind).value_counts()
    assert 0.002 <= (civil["placeholder"] + civil["shared"]) / len(g.rendered.civil) <= 0.006
    assert 0.02 <= civil[list(PROTECTION_KINDS)].sum() / len(g.rendered.civil) <= 0.08


def test_invalid_id_truth_by_kind(out: Path, kinds: pd.DataFrame) -> None:
    disc = _truth(out, "discrepancies")
    invalid = set(disc.loc[disc["type"] == "INVALID_ID", "union_roll_id"])
    active = kinds[kinds["roll_status"] == "在档"]
    for kind in ("placeholder", "shared", "unpublished_prefix"):
        rows = set(active.loc[active["id_kind"] == kind, "union_roll_id"])
        assert rows and rows <= invalid, kind
    for kind in ("permit_hk", "permit_mo", "permit_tw", "foreign_pr", "historic_prefix",
                 *PROTECTION_KINDS):
        rows = set(active.loc[active["id_kind"] == kind, "union_roll_id"])
        assert not rows & invalid, kind


def test_people_without_id_evidence_keep_their_true_links(out: Path) -> None:
    g = build(HOUSEHOLDS, SEED)
    roll, rd = g.world.roll, g.rendered
    links = _truth(out, "links")
    linked = set(links["union_roll_id"])
    plans = dict(zip(roll["roll_id"], roll["id_plan"], strict=True))
    for kind in ("placeholder", "shared"):
        rows = {rid for rid, plan in plans.items() if plan == kind}
        assert rows & linked, kind  # at least one such worker is in civil affairs …
        for rid in rows & linked:  # … and stays linked to their own civil person
            i = roll.index[roll["roll_id"] == rid][0]
            c = int(roll.at[i, "civil_row"])
            row = links[links["union_roll_id"] == rid].iloc[0]
            assert row["civil_case_id"] == g.world.civil.at[c, "case_id"]
            assert str(row["id_kind"]) == kind
    # the shared pair: one number, two people whose names and birth dates differ
    shared = [i for i, k in enumerate(rd.roll_id_kind) if k == "shared"]
    assert len(shared) == 2
    a, b = shared
    assert clean_id(rd.roll_id_written[a]) == clean_id(rd.roll_id_written[b])
    assert normalise_name(rd.roll_name_written[a]) != normalise_name(rd.roll_name_written[b])
    births = rd.roll["出生日期"]
    assert parse_written_date(births.iloc[a]) != parse_written_date(births.iloc[b])
    assert None not in (parse_written_date(births.iloc[a]), parse_written_date(births.iloc[b]))


def test_placeholders_also_on_the_civil_side(out: Path) -> None:
    g = build(HOUSEHOLDS, SEED)
    rd = g.rendered
    written = [w for w, k in zip(rd.civil_id_written, rd.civil_id_kind, strict=True)
               if k == "placeholder"]
    assert written and all(check_id(w).status == "placeholder" for w in written)
    # a civil family member carries the 户主's number, under another name
    shared = pd.DataFrame({"id": rd.civil_id_written, "kind": rd.civil_id_kind,
                           "name": rd.civil_name_written})
    shared = shared[shared["kind"] == "shared"]
    groups = shared.groupby("id")["name"].nunique()
    assert len(groups) >= 1 and (groups >= 2).all()
    # civil people without a usable number are not on the roster (nothing could link them)
    member_pids = set(g.world.roster["pid"].tolist())
    civil = g.world.civil
    assert not set(civil.loc[civil["id_plan"] != "", "pid"].tolist()) & member_pids


def test_name_kinds_fold_to_the_civil_name(out: Path) -> None:
    g = build(HOUSEHOLDS, SEED)
    rd = g.rendered
    civil_names = dict(zip(zip(rd.civil["救助证编号"], rd.civil["成员序号"].astype(str),
                               strict=True), rd.civil_name_written, strict=True))
    roll_names = dict(zip(rd.roll["档案号"], rd.roll_name_written, strict=True))
    links = _truth(out, "links")
    special = links[links["name_kind"] != "standard"]
    assert {"dash_separator"} <= set(special["name_kind"])
    assert set(special["name_kind"]) & {"pua_roll", "pua_civil"}
    disc = _truth(out, "discrepancies")
    conflicts = set(disc.loc[disc["type"] == "ID_NAME_CONFLICT", "union_roll_id"])
    planted = set(g.world.roll.loc[g.world.roll["name_form"] != "", "roll_id"])
    assert planted and not planted & conflicts
    for rid, cid, mno, kind in zip(special["union_roll_id"], special["civil_case_id"],
                                   special["civil_member_no"], special["name_kind"],
                                   strict=True):
        roll_name, civil_name = roll_names[rid], civil_names[(cid, mno)]
        if kind == "pua_roll":
            assert any(0xE000 <= ord(ch) <= 0xF8FF for ch in roll_name)
        if kind == "pua_civil":
            assert any(0xE000 <= ord(ch) <= 0xF8FF for ch in civil_name)
        if kind == "dash_separator":
            assert any(d in roll_name for d in "-‐–—－") and "·" in normalise_name(roll_name)
        if rid not in conflicts:  # a planted conflict may also be spelt with a dash
            assert normalise_name(roll_name) == normalise_name(civil_name), (rid, kind)


def test_serial_60_birth_cells(out: Path, kinds: pd.DataFrame, workbook) -> None:
    rows = kinds[kinds["birth_kind"] == "excel_1900_02_29"]
    assert len(rows) >= 1
    links = _truth(out, "links")
    assert set(links.loc[links["birth_kind"] == "excel_1900_02_29", "union_roll_id"])
    sheet_xml = _sheet_xml(out, rows["source_sheet"].iloc[0])
    assert 's="1"><v>60</v>' in sheet_xml  # a numeric cell with the date style
    cells = workbook[rows["source_sheet"].iloc[0]][int(rows["source_row"].iloc[0]) - 1]
    assert date(1900, 2, 28) in cells  # calamine's reading of serial 60 (NOTES.md)


# ---------------------------------------------------------------- files as real exports


def _sheet_xml(out: Path, sheet: str) -> str:
    with zipfile.ZipFile(out / "union_roll.xlsx") as z:
        names = [s.split('"')[0] for s in z.read("xl/workbook.xml").decode().split('name="')[1:]]
        return z.read(f"xl/worksheets/sheet{names.index(sheet) + 1}.xml").decode()


def test_workbook_sheets_headers_and_footers(out: Path, meta: dict, workbook) -> None:
    layout = meta["roll_layout"]
    data_sheets = [s["name"] for s in layout["sheets"]]
    assert INSTRUCTIONS_SHEET in workbook and len(data_sheets) >= 2
    assert set(workbook) == {*data_sheets, INSTRUCTIONS_SHEET}
    assert all(len([c for c in row if c != ""]) == 1 for row in workbook[INSTRUCTIONS_SHEET])
    wb = CalamineWorkbook.from_path(str(out / "union_roll.xlsx"))
    kinds = _truth(out, "roll_id_kinds")
    non_data = 0
    for plan in layout["sheets"]:
        rows = workbook[plan["name"]]
        mine = kinds[kinds["source_sheet"] == plan["name"]]
        first = int(mine["source_row"].astype(int).min())
        last = int(mine["source_row"].astype(int).max())
        assert len(mine) == plan["data_rows"] == last - first + 1
        header = rows[first - 2]
        if plan["two_row_header"]:
            header = [b or t for t, b in zip(rows[first - 3], rows[first - 2], strict=False)]
            merged = wb.get_sheet_by_name(plan["name"]).merged_cell_ranges
            top = first - 3  # 0-based row of the group cells
            assert any(a == (top, a[1]) and b[0] == top and b[1] > a[1] for a, b in merged)
            assert any(a[0] == top and b[0] == top + 1 and a[1] == b[1] for a, b in merged)
            assert "职工基本信息" in rows[top]
        assert "公民身份号码(必填)" in header and "档案号" in header
        assert (header[0] == SERIAL_HEADER) == layout["serial_column"]
        if plan["title_rows"]:
            assert "困难职工档案花名册" in str(rows[0][0])
        tail = rows[last:]
        templates = [r for r in tail if any(c != "" for c in r) and r[0] != FOOTER_LABEL
                     and not str(r[0]).startswith("制表人")]
        assert len(templates) == plan["template_rows"]
        assert all(isinstance(r[0], float) and all(c == "" for c in r[1:]) for r in templates)
        footer = next(r for r in tail if r[0] == FOOTER_LABEL)
        size = header.index("家庭人口数")
        assert footer[size] == sum(int(r[size]) for r in rows[first - 1:last])
        non_data += plan["template_rows"] + plan["footer_rows"]
    assert layout["non_data_rows"] == non_data


def test_workbook_without_serial_column(tmp_path: Path) -> None:
    g = build(HOUSEHOLDS, SEED_PLAIN)
    assert not g.rendered.layout.serial_column
    assert any(p.template_rows for p in g.rendered.layout.sheets)
    from pipeline.generate.writers import write_roll_xlsx

    write_roll_xlsx(g.rendered.roll, tmp_path / "r.xlsx", g.rendered.layout)
    wb = CalamineWorkbook.from_path(str(tmp_path / "r.xlsx"))
    plan = next(p for p in g.rendered.layout.sheets if p.template_rows)
    rows = wb.get_sheet_by_name(plan.name).to_python()
    data_end = plan.first_data_row - 1 + len(plan.rows)
    for k in range(plan.template_rows):  # a bare number in the first column (档案号)
        row = rows[data_end + k]
        assert row[0] == len(plan.rows) + k + 1 and all(c == "" for c in row[1:])


def test_csv_protection_marks_as_exporters_write_them(out: Path) -> None:
    raw = (out / "civil_exchange.csv").read_bytes().decode("gb18030")
    assert ',="' in raw and ",'" in raw  # unquoted text formulas, apostrophes
    assert "\u00a0" in raw or "\u200b" in raw or "\t," in raw
    civil = pd.read_csv(io.StringIO(raw), dtype=str, keep_default_na=False)
    formulas = civil.loc[civil["身份证号"].str.startswith('="'), "身份证号"]
    assert len(formulas) and all(check_id(v).status == "valid" for v in formulas)
    members = (out / "members.csv").read_bytes().decode("utf-8-sig")
    assert ',="' in members and ",'" in members


def test_deterministic_whatever_the_day(out: Path, tmp_path: Path) -> None:
    generate(tmp_path, households=HOUSEHOLDS, seed=SEED)
    assert _all_bytes(out) == _all_bytes(tmp_path)
    # nothing in the generator reads the clock
    package = Path(__file__).resolve().parent.parent / "pipeline" / "generate"
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                assert node.attr not in ("today", "now", "utcnow", "time"), (path.name, node.attr)


def test_real_numbers_never_look_like_placeholders() -> None:
    g = build(HOUSEHOLDS, SEED)
    ids = g.world.persons["id18"]
    assert not (ids.str[14:17] == "000").any()
    classes = g.world.persons["id_class"].value_counts()
    assert all(classes.get(c, 0) >= 1 for c in PERSON_CLASSES)
    special = g.world.persons[g.world.persons["id_class"] != "resident"]
    assert all(check_id(x).status in ("valid", "unpublished_prefix") for x in special["id18"])

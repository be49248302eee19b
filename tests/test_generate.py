"""Tests of the synthetic data generator (pipeline.generate)."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from pipeline.generate import build, generate
from pipeline.generate.constants import INVALID_ID_KINDS
from pipeline.generate.identity import normalise_id, uscc_valid
from pipeline.generate.population import category_for
from pipeline.generate.truth import CODES

HOUSEHOLDS = 150
FILES = ("union_roll.xlsx", "civil_exchange.csv", "members.csv")
CANON_TYPE = {"城市低保": "低保", "低保": "低保", "城乡低保": "低保", "农村低保": "低保",
              "低收入": "低收入", "特困供养": "特困", "特困": "特困"}


def _all_bytes(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("gen_a")
    generate(d, households=HOUSEHOLDS, seed=42)
    return d


def read_roll(folder: Path) -> pd.DataFrame:
    """The roll's data rows read back with calamine, at the sheet and row the truth gives for
    each (under that sheet's own header, one row or two), without the 序号 column."""
    wb = CalamineWorkbook.from_path(str(folder / "union_roll.xlsx"))
    meta = json.loads((folder / "truth" / "meta.json").read_text(encoding="utf-8"))
    two_rows = {s["name"]: s["two_row_header"] for s in meta["roll_layout"]["sheets"]}
    sheets = {n: wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names}
    kinds = _truth(folder, "roll_id_kinds")
    kinds["source_row"] = kinds["source_row"].astype(int)
    first_data = kinds.groupby("source_sheet")["source_row"].min().to_dict()
    records = []
    for rid, sheet, row in zip(kinds["union_roll_id"], kinds["source_sheet"],
                               kinds["source_row"], strict=True):
        rows = sheets[sheet]
        # 0-based index of the (first) header row: just above the sheet's first data row
        first = first_data[sheet] - 1 - (2 if two_rows[sheet] else 1)
        header = rows[first]
        if two_rows[sheet]:
            header = [b or t for t, b in zip(rows[first], rows[first + 1], strict=False)]
        record = dict(zip(header, rows[row - 1], strict=False))
        record.pop("序号", None)
        assert record["档案号"] == rid
        records.append(record)
    return pd.DataFrame(records)


@pytest.fixture(scope="module")
def roll(out: Path) -> pd.DataFrame:
    return read_roll(out)


def test_openpyxl_reads_every_sheet(out: Path) -> None:
    wb = openpyxl.load_workbook(out / "union_roll.xlsx")
    assert "填表说明" in wb.sheetnames and len(wb.sheetnames) >= 3
    assert any(ws.merged_cells.ranges for ws in wb.worksheets)


@pytest.fixture(scope="module")
def civil(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "civil_exchange.csv", encoding="gb18030", dtype=str,
                       keep_default_na=False)


@pytest.fixture(scope="module")
def members(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "members.csv", encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)


def _truth(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / "truth" / f"{name}.csv", dtype=str, keep_default_na=False)


def test_files_written(out: Path) -> None:
    for f in FILES:
        assert (out / f).stat().st_size > 0
    for f in ("links", "member_links", "roll_id_kinds", "discrepancies"):
        assert (out / "truth" / f"{f}.csv").exists()
    assert (out / "truth" / "README.md").exists()
    meta = json.loads((out / "truth" / "meta.json").read_text(encoding="utf-8"))
    assert meta["reference_date"] == "2026-06-30"
    assert meta["seed"] == 42 and meta["households"] == HOUSEHOLDS


def test_generate_command_names_the_reference_date_and_the_night_to_run(tmp_path: Path,
                                                                       capsys) -> None:
    """`bidui generate` says what date its truth is true as of, and the `bidui run` of the set
    as of that date: on stdout's JSON and, last, in words on stderr."""
    from pipeline.cli import main

    out = tmp_path / "gen"
    capsys.readouterr()
    assert main(["generate", "--out", str(out), "--households", "20", "--seed", "3"]) == 0
    captured = capsys.readouterr()
    reference = json.loads((out / "truth" / "meta.json").read_text("utf-8"))["reference_date"]
    night = (f"bidui run --union {out / 'union_roll.xlsx'} --civil {out / 'civil_exchange.csv'} "
             f"--members {out / 'members.csv'} --out RUN_DIR --as-of {reference}")
    summary = json.loads(captured.out)  # stdout stays one JSON document
    assert summary["reference_date"] == reference == "2026-06-30"
    assert summary["run_night"] == night
    assert f"true as of {reference}" in captured.err and night in captured.err
    assert f"bidui evaluate --run RUN_DIR --truth {out / 'truth'}" in captured.err


def test_deterministic_bytes(out: Path, tmp_path: Path) -> None:
    generate(tmp_path, households=HOUSEHOLDS, seed=42)
    assert _all_bytes(out) == _all_bytes(tmp_path)


def test_different_seed_differs(out: Path, tmp_path: Path) -> None:
    generate(tmp_path, households=HOUSEHOLDS, seed=43)
    a, b = _all_bytes(out), _all_bytes(tmp_path)
    for f in FILES:
        assert a[f] != b[f]


def test_every_code_planted(out: Path) -> None:
    types = set(_truth(out, "discrepancies")["type"])
    assert set(CODES) <= types
    assert "POSSIBLE_MATCH_REVIEW" not in types


def test_encodings(out: Path) -> None:
    raw = (out / "civil_exchange.csv").read_bytes()
    assert "·".encode("gb18030") in raw
    assert "·" in raw.decode("gb18030")
    assert (out / "members.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_roll_headers_and_cells(roll: pd.DataFrame) -> None:
    cols = list(roll.columns)
    for h in ("档案号", "职工姓名", "公民身份号码(必填)", " 家庭住址 ", "街道（乡镇）",
              "民政救助类别", "备注"):
        assert h in cols
    assert any(hasattr(v, "year") for v in roll["出生日期"])  # real date cells
    assert any(isinstance(v, str) for v in roll["出生日期"])
    assert set(roll["档案状态"]) == {"在档", "已脱困"}
    assert {"无", "否"} <= set(roll["民政救助类别"])


def test_truth_links_point_at_rows(out: Path, roll, civil, members) -> None:
    roll_ids = set(roll["档案号"])
    assert len(roll_ids) == len(roll)  # roll_ids unique
    civil_keys = set(zip(civil["救助证编号"], civil["成员序号"], strict=True))
    member_ids = set(members["会员编号"])
    links = _truth(out, "links")
    assert len(links) > 0
    assert set(links["union_roll_id"]) <= roll_ids
    assert set(zip(links["civil_case_id"], links["civil_member_no"], strict=True)) <= civil_keys
    ml = _truth(out, "member_links")
    assert set(ml["member_id"]) <= member_ids
    assert set(zip(ml["civil_case_id"], ml["civil_member_no"], strict=True)) <= civil_keys
    kinds = _truth(out, "roll_id_kinds")
    assert set(kinds["union_roll_id"]) == roll_ids
    disc = _truth(out, "discrepancies")
    assert set(disc.loc[disc["union_roll_id"] != "", "union_roll_id"]) <= roll_ids
    assert set(disc.loc[disc["member_id"] != "", "member_id"]) <= member_ids


def test_ids_valid_where_uncorrupted() -> None:
    g = build(HOUSEHOLDS, 42)
    persons = g.world.persons
    assert persons["id18"].is_unique
    published = persons["id_class"] != "unpublished_prefix"
    assert all(normalise_id(x) == x for x in persons.loc[published, "id18"])
    assert not any(normalise_id(x) for x in persons.loc[~published, "id18"])
    rd = g.rendered
    # each number is judged alone here: a shared one is valid by itself
    invalid_alone = INVALID_ID_KINDS - {"shared"}
    for written, kind in zip(rd.civil["身份证号"], rd.civil_id_kind, strict=True):
        assert (normalise_id(written) is None) == (kind in invalid_alone), (written, kind)
        if kind == "valid":
            assert normalise_id(written) == written
    for written, kind in zip(rd.members["公民身份号码"], rd.member_id_kind, strict=True):
        assert (normalise_id(written) is None) == (kind in invalid_alone), (written, kind)
    for written, kind in zip(rd.roll_id_written, rd.roll_id_kind, strict=True):
        assert (normalise_id(written) is None) == (kind in invalid_alone), (written, kind)
    # sex parity and birth date agree with the ID
    for id18, male, by in zip(persons["id18"], persons["male"], persons["birth_year"],
                              strict=True):
        assert (int(id18[16]) % 2 == 1) == bool(male)
        assert int(id18[6:10]) == by


def test_invalid_id_truth_matches_kinds(out: Path) -> None:
    kinds = _truth(out, "roll_id_kinds")
    expected = set(kinds.loc[kinds["id_kind"].isin(INVALID_ID_KINDS)
                             & (kinds["roll_status"] == "在档"), "union_roll_id"])
    disc = _truth(out, "discrepancies")
    assert set(disc.loc[disc["type"] == "INVALID_ID", "union_roll_id"]) == expected


def test_consistency_outside_planted(out: Path, roll, civil) -> None:
    disc = _truth(out, "discrepancies")
    flagged = {t: set(disc.loc[disc["type"] == t, "union_roll_id"]) for t in CODES}
    links = _truth(out, "links")
    civ = civil.set_index(["救助证编号", "成员序号"])
    r = roll.set_index("档案号")
    for rid, cid, mno in zip(links["union_roll_id"], links["civil_case_id"],
                             links["civil_member_no"], strict=True):
        row, c = r.loc[rid], civ.loc[(cid, mno)]
        if row["档案状态"] != "在档":
            continue
        if rid not in flagged["HOUSEHOLD_SIZE_MISMATCH"]:
            assert int(row["家庭人口数"]) == int(c["家庭总人数"])
        claimed = {"否": "无"}.get(row["民政救助类别"], row["民政救助类别"])
        active = c["保障状态"] == "在保"
        if active and rid not in flagged["ASSISTANCE_TYPE_MISMATCH"] | flagged[
                "UNCLAIMED_ASSISTANCE"]:
            assert claimed == CANON_TYPE[c["保障类别"]]
        if not active and rid not in flagged["ASSISTANCE_ENDED"]:
            assert claimed == "无"
        if rid not in flagged["DECEASED"]:
            assert c["人员状态"] == "正常"
    for rid, row in r.iterrows():
        income = float(row["月人均收入"])
        if rid in flagged["CATEGORY_INCONSISTENT"]:
            assert row["困难类别"] != category_for(income)
        else:
            assert row["困难类别"] == category_for(income)
    # roll-only workers claim nothing unless planted
    linked = set(links["union_roll_id"])
    for rid, row in r.iterrows():
        if rid not in linked and row["档案状态"] == "在档":
            claimed = {"否": "无"}.get(row["民政救助类别"], row["民政救助类别"])
            assert (claimed != "无") == (rid in flagged["CLAIMED_ASSISTANCE_NOT_FOUND"])


def test_not_on_hardship_roll_complete(out: Path, roll, civil) -> None:
    links = _truth(out, "links")
    status = dict(zip(roll["档案号"], roll["档案状态"], strict=True))
    with_roll = {c for rid, c in zip(links["union_roll_id"], links["civil_case_id"], strict=True)
                 if status[rid] == "在档"}
    active = set(civil.loc[civil["保障状态"] == "在保", "救助证编号"])
    ml = _truth(out, "member_links")
    expected = {m for c, m in zip(ml["civil_case_id"], ml["member_id"], strict=True)
                if c in active and c not in with_roll}
    disc = _truth(out, "discrepancies")
    assert set(disc.loc[disc["type"] == "NOT_ON_HARDSHIP_ROLL", "member_id"]) == expected


def test_duplicates_share_one_civil_person(out: Path) -> None:
    disc = _truth(out, "discrepancies")
    dups = set(disc.loc[disc["type"] == "DUPLICATE_ROLL_ENTRY", "union_roll_id"])
    assert len(dups) >= 4
    g = build(HOUSEHOLDS, 42)
    roll = g.world.roll.set_index("roll_id")
    per_pid = roll.loc[sorted(dups), "pid"].value_counts()
    assert (per_pid >= 2).all()


def test_uscc_mostly_valid(roll) -> None:
    ok = [uscc_valid(x) for x in roll["统一社会信用代码"]]
    assert 0.9 < sum(ok) / len(ok) < 1.0 or sum(ok) == len(ok)


def test_population_shape() -> None:
    g = build(300, 7)
    civ = g.world.civil
    per_case = civ.groupby("case_id").size()
    assert len(per_case) == 900
    assert 2.2 < per_case.mean() < 2.9
    assert (civ.groupby("case_id")["household_size"].first() >= per_case).all()
    assert (civ["covered_size"] <= civ["household_size"]).all()
    roll = g.world.roll
    assert 0.8 < (roll["roll_status"] == "在档").mean() < 0.9
    assert 45 * 300 < len(g.world.roster) < 55 * 300
    # namesakes: different people, same name and birth year, across roll and civil
    p = g.world.persons
    roll_p = p.loc[roll["pid"].unique()]
    civ_p = p.loc[civ["pid"]]
    a = set(zip(roll_p["name"], roll_p["birth_year"], roll_p["pid"], strict=True))
    b = {(n, y): pid for n, y, pid in zip(civ_p["name"], civ_p["birth_year"], civ_p["pid"],
                                          strict=True)}
    assert sum(1 for n, y, pid in a if (n, y) in b and b[(n, y)] != pid) >= 3

"""Validation gates end to end: whole nights in-process, as `bidui run` runs them (exit code and
the one paragraph it would print)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import valid_id

IDS = [valid_id(f"110105199001011{n:02d}") for n in range(10, 20)]
NAMES = ["张伟", "李娜", "王芳", "刘洋", "陈静", "杨磊", "赵敏", "黄勇", "周杰", "吴霞"]


def civil_csv(path: Path, persons: int, *, blank_ids: bool = False) -> Path:
    lines = ["家庭编号,成员序号,姓名,身份证号,保障类别,区划代码,保障状态,家庭总人数"]
    for n in range(persons):
        id_number = "" if blank_ids else IDS[n]
        lines.append(f"C{n},1,{NAMES[n]},{id_number},城市低保,110108,在保,1")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def union(tmp_path: Path) -> Path:
    path = tmp_path / "union.csv"
    path.write_text("档案号,职工姓名,身份证号,档案状态,是否低保,家庭人口\n"
                    + "".join(f"A{n},{NAMES[n]},{IDS[n]},在档,是,1\n" for n in range(6)),
                    encoding="utf-8")
    return path


def run(night, union: Path, civil: Path, out: Path, state: Path | None, as_of: str):
    args = ["--union", str(union), "--civil", str(civil), "--out", str(out), "--as-of", as_of]
    if state is not None:
        args += ["--state", str(state)]
    return night(*args)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_row_drop_stops_the_night_and_stale_feed_is_a_published_warning(
        night, union, tmp_path) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    civil = civil_csv(tmp_path / "civil.csv", 10)
    first = run(night, union, civil, out, state, "2026-06-29")
    assert first.returncode == 0, first.stderr
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert "night_over_night" in manifest["validation"]["skipped"]

    # Same bytes again: a stale feed, published as a warning in the manifest and the docs.
    second = run(night, union, civil, out, state, "2026-06-30")
    assert second.returncode == 0, second.stderr
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    validation = manifest["validation"]
    assert validation["success"] and validation["critical_failed"] == 0
    failed = validation["suites"]["night_over_night"]["failed"]
    assert [(f["check"], f["severity"]) for f in failed] == [("feed_not_stale", "warning")]
    assert {r["source"]: r["stale_feed"] for r in validation["night_over_night"]} == {
        "union": True, "civil": True}
    index = (out / "validation" / "index.html").read_text("utf-8")
    assert "feed_not_stale" in index and "stale feed" in index
    # the inputs by their Chinese names, the suite by what it compares (not its code name)
    assert "困难职工档案、民政救助交换文件 与上一个正常夜晚" in index
    assert "<td>今晚与上一个正常夜晚的输入文件对比</td>" in index
    pages = list((out / "validation" / "validations" / "night_over_night").rglob("*.html"))
    assert pages, "the night_over_night validation page is published"

    # A civil file with fewer than half the rows of the last good night: stopped, exit 3.
    before = snapshot(out)
    shrunk = civil_csv(tmp_path / "civil_shrunk.csv", 4)
    third = run(night, union, shrunk, out, state, "2026-07-01")
    assert third.returncode == 3, third.stderr
    err = third.stderr
    assert third.failed_stage == "validate"
    assert "row_count_not_halved" in err and "4 rows tonight against 10" in err
    assert "nothing was published" in err
    assert snapshot(out) == before
    last_good = json.loads((state / "last_good_manifest.json").read_text("utf-8"))
    assert last_good["as_of"] == "2026-06-30"


def test_entirely_empty_required_column_is_critical_and_names_the_column(
        night, union, tmp_path) -> None:
    out = tmp_path / "out"
    civil = civil_csv(tmp_path / "civil_blank_ids.csv", 6, blank_ids=True)
    result = run(night, union, civil, out, None, "2026-06-30")
    assert result.returncode == 3, result.stderr
    assert "'身份证号'" in result.stderr and "entirely empty" in result.stderr
    assert not out.exists()


def test_missing_id_column_is_refused_before_validation(night, union, tmp_path) -> None:
    out = tmp_path / "out"
    broken = tmp_path / "civil_no_id.csv"
    broken.write_text("家庭编号,成员序号,姓名,保障类别,区划代码,保障状态\nC1,1,张伟,低保,110108,在保\n",
                      encoding="utf-8")
    result = run(night, union, broken, out, None, "2026-06-30")
    assert result.returncode == 2
    assert "身份证号" in result.stderr and result.failed_stage == "ingest"
    assert not out.exists()


def test_manifest_validation_carries_no_personal_data(night, union, tmp_path) -> None:
    out = tmp_path / "out"
    civil = civil_csv(tmp_path / "civil.csv", 10)
    assert run(night, union, civil, out, None, "2026-06-30").returncode == 0
    text = json.dumps(json.loads((out / "manifest.json").read_text("utf-8"))["validation"],
                      ensure_ascii=False)
    for value in [*IDS, *NAMES]:
        assert value not in text
    for page in (out / "validation").rglob("*.html"):
        html = page.read_text("utf-8")
        assert not any(value in html for value in IDS), page

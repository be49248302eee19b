"""The roster's quarantined rows and field issues are kept on disk as the chunks give them
(`roster.rejects`) and written as a stream (`report.rejected`, `outputs.write_parquet_stream`):
the parts come back in the order pandas' sort gives, the streamed file equals the one written
at once, and a night whose roster's rejects fall in several chunks and files publishes every
one of them, in order, pseudonymised with `--pseudonymise`."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.report.outputs import write_parquet, write_parquet_stream
from pipeline.roster.rejects import RosterRejects

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
ORDER = ["source", "source_file", "source_sheet", "source_row"]


class Rosters(NamedTuple):
    paths: tuple[Path, Path]  # in the order given to --members
    half: int  # the rows of the first


def _rows(file: str, sheet: str | None, rows: list[int]) -> pd.DataFrame:
    return pd.DataFrame({
        "source": pd.array(["members"] * len(rows), dtype="string"),
        "source_file": pd.array([file] * len(rows), dtype="string"),
        "source_sheet": pd.array([sheet] * len(rows), dtype="string"),
        "source_row": pd.array(rows, dtype="int64"),
        "reason_code": pd.array([f"r{r}" for r in rows], dtype="string"),
    })


def test_parts_come_back_sorted_as_pandas_sorts_the_whole(tmp_path: Path) -> None:
    chunks = [  # in roster order: a file's sheets in workbook order, rows in order
        pd.concat([_rows("b.xlsx", "乙", [9, 4]), _rows("b.xlsx", "甲", [2])]),
        pd.concat([_rows("b.xlsx", "甲", [7]), _rows("a.csv", None, [12, 3])]),
        _rows("a.csv", None, [40]),
        _rows("a.csv", None, [])]
    rejects = RosterRejects(tmp_path)
    for chunk in chunks:
        rejects.add(chunk, None)
    whole = pd.concat(chunks, ignore_index=True)
    expected = whole.sort_values(ORDER, kind="mergesort").reset_index(drop=True)
    pd.testing.assert_frame_equal(rejects.quarantine.frame(), expected)
    assert rejects.quarantine.rows == len(whole) == 7
    assert dict(rejects.quarantine.per_file) == {"b.xlsx": 4, "a.csv": 3}
    assert rejects.field_issues.rows == 0 and rejects.field_issues.frame().empty
    assert rejects.root.parent == tmp_path and any(rejects.root.iterdir())
    rejects.close()
    assert not rejects.root.exists()


def test_a_streamed_parquet_file_equals_the_one_written_at_once(tmp_path: Path) -> None:
    frames = [_rows("a.csv", None, [])[["source", "source_row"]],
              pd.DataFrame({"source": pd.array([None, None], dtype="string"),
                            "source_row": pd.array([1, 2], dtype="int64")}),
              pd.DataFrame({"source": pd.array(["union"], dtype="string"),
                            "source_row": pd.array([3], dtype="int64")})]
    assert write_parquet_stream(frames, tmp_path / "stream.parquet") == 3
    write_parquet(pd.concat(frames, ignore_index=True), tmp_path / "once.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "stream.parquet"),
                                  pd.read_parquet(tmp_path / "once.parquet"))
    assert pq.read_schema(tmp_path / "stream.parquet").equals(
        pq.read_schema(tmp_path / "once.parquet"))
    with pytest.raises(ValueError, match="at least one frame"):
        write_parquet_stream([], tmp_path / "none.parquet")


@pytest.fixture(scope="module")
def damaged_rosters(tmp_path_factory) -> Rosters:
    """The sample roster in two files, rows of each without 会员编号 (quarantined) or with a
    date that is none (a field issue), spread over several 3,000-row chunks."""
    folder = tmp_path_factory.mktemp("rosters")
    frame = pd.read_csv(SAMPLE / "members.csv", dtype=str, encoding="utf-8-sig")
    frame.loc[[5, 4_000, 9_100, 20_000], "会员编号"] = None
    frame.loc[[6, 3_500, 12_000, 21_000], "入会日期"] = "2019-02-30"
    half = len(frame) // 2
    second, first = folder / "members_b.csv", folder / "members_a.csv"
    frame.iloc[:half].to_csv(second, index=False, encoding="utf-8-sig")  # given first
    frame.iloc[half:].to_csv(first, index=False, encoding="utf-8-sig")
    return Rosters((second, first), half)


def test_a_nights_roster_rejects_are_all_published_in_order(night, damaged_rosters,
                                                            tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("linking:\n  roster_chunk_rows: 3000\n", encoding="utf-8")
    key = tmp_path / "key"
    key.write_text("0123456789abcdef-test-key", encoding="utf-8")
    outs = {}
    for name, more in (("plain", ()), ("pseudonymised", ("--pseudonymise", "--key-file",
                                                         str(key)))):
        out = tmp_path / name
        result = night("--union", str(SAMPLE / "union_roll.xlsx"), "--civil",
                       str(SAMPLE / "civil_exchange.csv"), "--members",
                       *map(str, damaged_rosters.paths), "--out", str(out), "--as-of",
                       "2026-06-30", "--config", str(config), *more)
        assert result.returncode == 0, result.stderr
        outs[name] = out
        members = result.manifest["accounting"]["members"]
        assert members["rows_quarantined"] == 4 and members["balanced"]
    quarantine = pd.read_parquet(outs["plain"] / "quarantine.parquet")
    issues = pd.read_parquet(outs["plain"] / "field_issues.parquet")
    pd.testing.assert_frame_equal(
        quarantine, quarantine.sort_values(ORDER, kind="mergesort").reset_index(drop=True))
    pd.testing.assert_frame_equal(
        issues, issues.sort_values([*ORDER, "field"], kind="mergesort").reset_index(drop=True))
    ours = quarantine[quarantine["source"] == "members"]
    # the file given second comes first (sorted by file), each file's rows in order
    half = damaged_rosters.half
    assert list(zip(ours["source_file"].map(lambda p: Path(p).name), ours["source_row"],
                    strict=True)) == [
        ("members_a.csv", 20_000 - half + 2), ("members_b.csv", 7), ("members_b.csv", 4_002),
        ("members_b.csv", 9_102)]
    dated = issues[(issues["source"] == "members") & (issues["header"] == "入会日期")]
    assert len(dated) == 4
    assert list(issues["source"].unique()) == ["members", "union"]  # the roll after the roster
    hidden = pd.read_parquet(outs["pseudonymised"] / "quarantine.parquet")
    hidden = hidden[hidden["source"] == "members"]
    assert len(hidden) == 4
    assert not set(hidden["raw_id_number"]) & set(ours["raw_id_number"])
    assert all(name.count("*") for name in hidden["raw_name"])


def test_the_roster_stages_log_line_counts_the_checks_its_suite_adds(damaged_rosters,
                                                                     tmp_path: Path) -> None:
    """The validate stage's line counts the roll's and civil side's suites; the roster's suite
    runs in the roster stage, whose line gives the counts with it: those the report shows."""
    from flows.nightly import _describe
    from pipeline.cli import build_parser, night_request
    from pipeline.night import run_night

    lines: dict[str, str] = {}

    def describing(name, function, *args):
        result = function(*args)
        lines[name] = _describe(result)
        return result

    parsed = build_parser().parse_args([
        "run", "--union", str(SAMPLE / "union_roll.xlsx"), "--civil",
        str(SAMPLE / "civil_exchange.csv"), "--members", *map(str, damaged_rosters.paths),
        "--out", str(tmp_path / "out"), "--as-of", "2025-06-30"])  # join dates ahead: warnings
    manifest = run_night(night_request(parsed), runner=describing).manifest
    suites = manifest["validation"]["suites"]
    inputs = [suites[name] for name in ("union_roll", "civil_exchange", "roster")]
    warnings = sum(s["warnings"] for s in inputs)
    assert suites["roster"]["warnings"] > 0
    assert lines["validate"].startswith(
        f"2 suites, 0 critical failures, {warnings - suites['roster']['warnings']} warnings")
    assert lines["roster"].startswith("roster 24944 rows in 2 chunks (4 quarantined)")
    assert lines["roster"].endswith(
        f"; with the roster's suite: 3 suites, 0 critical failures, {warnings} warnings")
    # The link stage's line splits each file's pairs by decision (evaluate scores the matches).
    out = tmp_path / "out"
    parts = []
    for name in ("links", "member_links"):
        decided = pd.read_parquet(out / f"{name}.parquet")["decision"]
        parts.append(f"{len(decided)} ({(decided == 'match').sum()} match, "
                     f"{(decided == 'possible').sum()} possible)")
    assert lines["link"] == f"{parts[0]} roll–civil links, {parts[1]} member links"

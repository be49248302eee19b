"""Whole nights with the roster streamed: a partitioned Parquet roster read in small chunks
gives the night a CSV roster read whole gives; every roster row is accounted for; the roster
suite describes the whole file; a truncated roster is caught night over night; the spill
folders are gone afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.ingest import load_source
from pipeline.schema import FIELDS, Source

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
AS_OF = "2026-06-30"


def _args(out: Path, members: Path, *more: str) -> list[str]:
    return ["--union", str(SAMPLE / "union_roll.xlsx"), "--civil",
            str(SAMPLE / "civil_exchange.csv"), "--members", str(members), "--out", str(out),
            "--as-of", AS_OF, *more]


def _parquet_roster(folder: Path, parts: int = 3) -> Path:
    """The sample roster as a partitioned Parquet dataset with the canonical headers."""
    frame = load_source([SAMPLE / "members.csv"], Source.MEMBERS).frame
    canonical = {f.name: f.canonical_header for f in FIELDS[Source.MEMBERS]}
    table = frame[list(canonical)].rename(columns=canonical).astype("string")
    folder.mkdir(parents=True)
    step = -(-len(table) // parts)
    for k in range(parts):
        table.iloc[k * step:(k + 1) * step].to_parquet(folder / f"part-{k}.parquet",
                                                       index=False)
    (folder / "_SUCCESS").write_text("")
    return folder


def _small_chunks(tmp: Path) -> Path:
    config = tmp / "config.yaml"
    config.write_text("linking:\n  roster_chunk_rows: 3000\n", encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def csv_night(night, tmp_path_factory):
    out = tmp_path_factory.mktemp("csv") / "out"
    result = night(*_args(out, SAMPLE / "members.csv"))
    assert result.returncode == 0, result.stderr
    return result


def test_a_parquet_roster_in_small_chunks_gives_the_same_night(night, csv_night, tmp_path):
    folder = _parquet_roster(tmp_path / "members.parquet")
    killed = tmp_path / ".out.scratch-killed"  # what a killed night leaves beside DIR
    killed.mkdir()
    (killed / "chunk-000000.parquet").write_bytes(b"records")
    result = night(*_args(tmp_path / "out", folder, "--config",
                          str(_small_chunks(tmp_path))))
    assert result.returncode == 0, result.stderr
    for name in ("member_links", "links", "discrepancies"):
        ours = pd.read_parquet(tmp_path / "out" / f"{name}.parquet")
        theirs = pd.read_parquet(csv_night.out / f"{name}.parquet")
        assert len(ours) > 0, name
        pd.testing.assert_frame_equal(ours, theirs, obj=name)
    members = result.manifest["accounting"]["members"]
    assert members["rows_read"] == csv_night.manifest["accounting"]["members"]["rows_read"]
    assert members["balanced"]
    assert result.manifest["timings_seconds"]["roster"] > 0
    # the roster suite describes the whole roster, once
    suite = result.manifest["validation"]["suites"]["roster"]
    assert suite["rows"] == members["rows_read"] and suite["success"]
    pages = list((tmp_path / "out" / "validation" / "validations").rglob("*roster*.html"))
    assert len(pages) == 1  # one validation result, not one per chunk
    # the night's scratch folder (spilled chunks, validation hashes) is removed, and so is
    # the one a killed night left
    assert list(tmp_path.glob(".out.scratch-*")) == []


def test_rows_across_chunks_are_accounted_for_and_a_truncated_roster_stops_the_night(
        night, tmp_path):
    """Night 1: quarantined rows (no 会员编号) in several chunks are published with their rows,
    and linked + unlinked + quarantined = read. Night 2: the roster cut to a third is caught
    night over night, in the roster stage; nothing is published, the state stays."""
    state = tmp_path / "state"
    frame = pd.read_csv(SAMPLE / "members.csv", dtype=str, encoding="utf-8-sig")
    damaged = frame.copy()
    damaged.loc[[5, 4_000, 20_000], damaged.columns[0]] = None
    roster = tmp_path / "members_damaged.csv"
    damaged.to_csv(roster, index=False, encoding="utf-8-sig")
    first = night(*_args(tmp_path / "out1", roster, "--state", str(state), "--config",
                         str(_small_chunks(tmp_path))))
    assert first.returncode == 0, first.stderr
    members = first.manifest["accounting"]["members"]
    assert members["rows_quarantined"] == 3 and members["balanced"]
    quarantine = pd.read_parquet(tmp_path / "out1" / "quarantine.parquet")
    assert sorted(quarantine.loc[quarantine["source"] == "members", "source_row"]) == [
        7, 4_002, 20_002]
    short = tmp_path / "members.csv"
    frame.iloc[: len(frame) // 3].to_csv(short, index=False, encoding="utf-8-sig")
    second = night(*_args(tmp_path / "out2", short, "--state", str(state), "--as-of",
                          "2026-07-01"))
    assert second.returncode == 3, second.stdout
    assert "row_count_not_halved" in second.stderr and "--members" in second.stderr, second.stderr
    assert second.failed_stage == "roster"
    assert not (tmp_path / "out2").exists()
    good = json.loads((state / "last_good_manifest.json").read_text("utf-8")) if (
        state / "last_good_manifest.json").exists() else None
    if good is not None:
        assert good["as_of"] == AS_OF  # the state did not advance


def test_a_missing_roster_file_stops_the_night_at_ingest(night, tmp_path):
    """The roster is read in the roster stage, but its files are checked before any work."""
    result = night(*_args(tmp_path / "out", tmp_path / "no-such-members.csv"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert result.failed_stage == "ingest" and result.stages == ["ingest"]
    assert not (tmp_path / "out").exists()

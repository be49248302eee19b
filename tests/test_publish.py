"""Publishing is all or nothing, and never sweeps away a folder that is not ours."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import OutputError
from pipeline.report.publish import publish, staging_folder


def night(folder: Path, label: str) -> None:
    (folder / "manifest.json").write_text(label)
    (folder / "links.parquet").write_text(label)


def test_first_publish_creates_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staging_folder(out) as staging:
        night(staging, "one")
        publish(staging, out)
    assert (out / "manifest.json").read_text() == "one"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging left behind


def test_second_publish_replaces_the_whole_set(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for label in ("one", "two"):
        with staging_folder(out) as staging:
            night(staging, label)
            if label == "two":
                (staging / "extra.txt").write_text("x")
            publish(staging, out)
    assert (out / "manifest.json").read_text() == "two"
    assert (out / "extra.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_failure_before_publish_leaves_the_previous_night_intact(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staging_folder(out) as staging:
        night(staging, "one")
        publish(staging, out)
    with pytest.raises(RuntimeError), staging_folder(out) as staging:
        (staging / "manifest.json").write_text("half")
        raise RuntimeError("stage failed")
    assert (out / "manifest.json").read_text() == "one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_foreign_non_empty_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "home"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    with staging_folder(out) as staging, pytest.raises(OutputError, match="not empty"):
        night(staging, "one")
        publish(staging, out)
    assert (out / "thesis.docx").read_text() == "precious"


def test_a_second_run_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    from pipeline.report.publish import output_lock

    out = tmp_path / "out"
    with (output_lock(out), pytest.raises(OutputError, match="another bidui run"),
          output_lock(out)):
        pass
    with output_lock(out):  # released when the first run ended
        pass


def test_something_put_into_a_previous_output_set_is_refused_and_kept(tmp_path: Path) -> None:
    """Another run's output folder (and its lock file) inside DIR, as a user does who runs
    cases into out/case-NN after `make run` wrote out/: the next night into out/ stops
    (exit 4) instead of deleting them; the message names them and the fix."""
    out = tmp_path / "out"
    with staging_folder(out) as staging:
        night(staging, "one")
        publish(staging, out)
    (out / "case-01").mkdir()
    (out / "case-01" / "manifest.json").write_text("{}")
    (out / ".case-01.lock").write_text("")
    with staging_folder(out) as staging, pytest.raises(OutputError) as refused:
        night(staging, "two")
        publish(staging, out)
    assert refused.value.exit_code == 4
    text = refused.value.paragraph()
    assert "2 entries" in text and ".case-01.lock, case-01" in text and "beside it" in text
    assert (out / "case-01" / "manifest.json").exists() and (out / ".case-01.lock").exists()
    assert (out / "manifest.json").read_text() == "one"
    (out / ".case-01.lock").unlink()
    with staging_folder(out) as staging, pytest.raises(OutputError, match="1 entry that"):
        night(staging, "two")
        publish(staging, out)


def test_office_lock_files_and_an_older_versions_outputs_do_not_stop_a_night(
        tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staging_folder(out) as staging:
        (staging / "manifest.json").write_text('{"outputs": {"findings_old.csv": 3}}')
        (staging / "findings_old.csv").write_text("x")  # listed: a night wrote it
        publish(staging, out)
    (out / "~$review.xlsx").write_text("")  # Excel / WPS: review.xlsx is open
    (out / ".~lock.review.xlsx#").write_text("")  # LibreOffice
    with staging_folder(out) as staging:
        night(staging, "two")
        publish(staging, out)
    assert (out / "manifest.json").read_text() == "two"
    assert not (out / "findings_old.csv").exists()


def test_every_entry_a_night_writes_is_known(night, tmp_path: Path) -> None:
    """`publish.NIGHT_ENTRIES` lists what a night writes (xlsx export, roster included), so
    a second night into the same folder is never refused for the first one's files."""
    from pipeline.report.publish import NIGHT_ENTRIES, foreign_entries

    sample = Path(__file__).resolve().parent.parent / "data" / "sample"
    config = tmp_path / "config.yaml"
    config.write_text("report: {xlsx_export: true}\n", encoding="utf-8")
    args = ["--union", str(sample / "union_roll.xlsx"), "--civil",
            str(sample / "civil_exchange.csv"), "--members", str(sample / "members.csv"),
            "--out", str(tmp_path / "out"), "--as-of", "2026-06-30", "--config", str(config)]
    for _ in range(2):
        result = night(*args)
        assert result.returncode == 0, result.stderr
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert written <= NIGHT_ENTRIES and "discrepancies.xlsx" in written
    assert "member_links.parquet" in written and foreign_entries(tmp_path / "out") == []

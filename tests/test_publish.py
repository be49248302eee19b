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

"""A night killed (SIGKILL) during any stage leaves the previous night's outputs intact.

Smoke tests: each kills a real `bidui run` process (against the harness's Prefect server) right
after it logged a stage; last night's folder is made in-process (the `night` fixture)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

STAGES_THEN_KILL = ["ingest", "normalise", "validate", "link", "detect"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    from pipeline.generate import generate

    folder = tmp_path_factory.mktemp("kill")
    generate(folder, households=150, seed=3)
    return folder


def command(generated: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", "run",
            "--union", str(generated / "union_roll.xlsx"),
            "--civil", str(generated / "civil_exchange.csv"),
            "--members", str(generated / "members.csv"),
            "--out", str(out), "--as-of", "2026-06-30"]


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def last_night(night, generated, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("last") / "out"
    result = night(*command(generated, out)[4:])
    assert result.returncode == 0, result.stderr
    return out


def run_and_kill(generated: Path, out: Path, after_stage: str) -> None:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    process = subprocess.Popen(command(generated, out), env=env, stderr=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 240
    killed = False
    for line in process.stderr:  # progress lines: "stage <name> … (x s)"
        if f"stage {after_stage}" in line:
            process.send_signal(signal.SIGKILL)
            killed = True
            break
        if time.monotonic() > deadline:
            break
    process.wait(timeout=60)
    assert killed, f"never saw stage {after_stage}"
    assert process.returncode == -signal.SIGKILL


@pytest.mark.parametrize("after_stage", STAGES_THEN_KILL)
def test_sigkill_after_each_stage_keeps_last_night(prefect_harness, generated, last_night,
                                                   tmp_path, after_stage) -> None:
    out = tmp_path / "out"
    shutil.copytree(last_night, out)
    before = snapshot(out)
    run_and_kill(generated, out, after_stage)
    assert snapshot(out) == before  # last night's set, byte for byte
    pd.read_parquet(out / "links.parquet")  # and readable
    assert json.loads((out / "manifest.json").read_text("utf-8"))["as_of"] == "2026-06-30"


def test_the_next_night_after_a_kill_cleans_up_and_publishes(bidui_cli, generated, last_night,
                                                             tmp_path) -> None:
    out = tmp_path / "out"
    shutil.copytree(last_night, out)
    run_and_kill(generated, out, "detect")  # killed while building the staging folder
    again = bidui_cli(*command(generated, out)[3:])
    assert again.returncode == 0, again.stderr
    assert not list(tmp_path.glob(".out.staging-*"))
    assert (out / "manifest.json").exists()
    # The same night, run by `bidui run` in another process (another hash seed) and in-process
    # by the `night` fixture: the same bytes in every data file.
    data = [{p.name: p.read_bytes() for p in sorted(folder.glob("*.parquet"))}
            for folder in (out, last_night)]
    assert data[0] == data[1] and len(data[0]) >= 5

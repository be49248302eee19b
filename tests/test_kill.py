"""A night killed (SIGKILL) during any stage leaves the previous night's outputs intact; the
next night cleans up and publishes, and prints and logs no personal data.

Smoke tests: real `bidui run` processes (against the harness's Prefect server), one per stage,
run at once, each killed right after it logged its stage; last night's folder is made
in-process (the `night` fixture)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import personal_values, stored_prefect_logs

# After each kind of stage: reading inputs, validating, the roster (its scratch folder beside
# DIR), linking, detecting (normalise is like ingest: nothing beside DIR yet).
STAGES_THEN_KILL = ["ingest", "validate", "roster", "link", "detect"]


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


def start_and_kill(generated: Path, outs: dict[str, Path], temporary: Path) -> dict[str, int]:
    """Start one `bidui run` per stage at once (one --out each, a copy of last night; the
    system's temporary folder `temporary`) and SIGKILL each right after it logged its stage;
    return each process's exit status."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()),
           "TMPDIR": str(temporary)}
    killed: dict[str, bool] = {}

    def watch(stage: str, process: subprocess.Popen) -> None:
        for line in process.stderr:  # progress lines: "stage <name> … (x s)"
            if f"stage {stage}" in line and not killed.get(stage):
                process.send_signal(signal.SIGKILL)
                killed[stage] = True
        # (read to the end: a process never blocks on a full pipe)

    processes = {stage: subprocess.Popen(command(generated, out), env=env,
                                         stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                         text=True)
                 for stage, out in outs.items()}
    watchers = [threading.Thread(target=watch, args=item, daemon=True)
                for item in processes.items()]
    for watcher in watchers:
        watcher.start()
    deadline = time.monotonic() + 300
    for watcher in watchers:
        watcher.join(timeout=max(1.0, deadline - time.monotonic()))
    codes = {}
    for stage, process in processes.items():
        if process.poll() is None:
            process.kill()
        codes[stage] = process.wait(timeout=60)
        assert killed.get(stage), f"never saw stage {stage}"
    return codes


@pytest.fixture(scope="module")
def system_temporary(tmp_path_factory) -> Path:
    """The killed nights' TMPDIR."""
    return tmp_path_factory.mktemp("system-temporary")


@pytest.fixture(scope="module")
def killed(prefect_harness, generated, last_night, system_temporary, tmp_path_factory
           ) -> dict[str, Path]:
    """Last night's folder, once per stage, after a night killed right after that stage:
    the five nights run at the same time (each in its own folder)."""
    outs = {}
    for stage in STAGES_THEN_KILL:
        outs[stage] = tmp_path_factory.mktemp(f"killed-{stage}") / "out"
        shutil.copytree(last_night, outs[stage])
    codes = start_and_kill(generated, outs, system_temporary)
    assert codes == {stage: -signal.SIGKILL for stage in STAGES_THEN_KILL}
    return outs


@pytest.mark.parametrize("after_stage", STAGES_THEN_KILL)
def test_sigkill_after_each_stage_keeps_last_night(killed, last_night, after_stage) -> None:
    out = killed[after_stage]
    assert snapshot(out) == snapshot(last_night)  # last night's set, byte for byte
    pd.read_parquet(out / "links.parquet")  # and readable
    assert json.loads((out / "manifest.json").read_text("utf-8"))["as_of"] == "2026-06-30"


def test_a_killed_night_leaves_its_temporary_files_only_beside_dir(killed, system_temporary
                                                                  ) -> None:
    """The GX project (its results quote failing rows) and the roster's spilled chunks are in
    the night's scratch folder beside DIR, which the next night removes
    (`test_the_next_night_after_a_kill_cleans_up_and_publishes`), not in the system's
    temporary folder, which nothing of bidui's cleans."""
    assert sorted(p.name for p in system_temporary.iterdir() if p.name.startswith("bidui")
                  ) == []
    for stage in ("validate", "roster", "link", "detect"):
        scratch = list(killed[stage].parent.glob(".out.scratch-*"))
        assert len(scratch) == 1, stage
        assert list(scratch[0].glob("bidui-gx-*/gx")), stage  # the GX project is there


@pytest.fixture(scope="module")
def next_night(bidui_cli, generated, killed, tmp_path_factory):
    """The next night, a whole `bidui run`, on a copy of the folder (and what lies beside it)
    of the night killed after detect, while it built its staging folder."""
    root = tmp_path_factory.mktemp("next") / "night"
    shutil.copytree(killed["detect"].parent, root)
    out = root / "out"
    return out, bidui_cli(*command(generated, out)[3:])


def test_the_next_night_after_a_kill_cleans_up_and_publishes(next_night, last_night) -> None:
    out, again = next_night
    assert again.returncode == 0, again.stderr
    assert not list(out.parent.glob(".out.staging-*"))
    assert not list(out.parent.glob(".out.scratch-*"))
    assert (out / "manifest.json").exists()
    # The same night, run by `bidui run` in another process (another hash seed) and in-process
    # by the `night` fixture: the same bytes in every data file.
    data = [{p.name: p.read_bytes() for p in sorted(folder.glob("*.parquet"))}
            for folder in (out, last_night)]
    assert data[0] == data[1] and len(data[0]) >= 5


def test_a_whole_night_leaks_no_id_number_or_name(next_night, generated) -> None:
    """What that whole night printed (what an operator sees) and every log line the Prefect
    server stored hold no full ID number and no full name from its inputs."""
    _, again = next_night
    assert again.returncode == 0, again.stderr
    logs = stored_prefect_logs()
    assert "stage detect" in logs  # the runs' own log lines are among the stored ones
    printed = again.stdout + again.stderr + logs
    assert "stage report" in again.stderr
    ids, names = personal_values(generated)
    assert len(ids) > 1000 and len(names) > 1000
    leaked_ids = [i for i in ids if i in printed]
    leaked_names = [n for n in names if n in printed]
    assert leaked_ids == [] and leaked_names == []

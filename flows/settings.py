"""Prefect settings for offline runs. Must be applied before `prefect` is first imported.

NOTES.md: the temporary local server takes 12–21 s to start here (default timeout 20 s), the
server phones home unless analytics are off, and without PREFECT_HOME runs write into
~/.prefect. Values already set in the environment win (an operator's real server, say).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def project_home() -> Path:
    """The working area: $BIDUI_HOME, else the source checkout, else the current folder."""
    if os.environ.get("BIDUI_HOME"):
        return Path(os.environ["BIDUI_HOME"])
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").exists():
        return checkout
    return Path.cwd()


def apply_offline_settings() -> None:
    defaults = {
        "PREFECT_HOME": str(project_home() / "var" / "prefect"),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_LOGGING_LEVEL": "INFO",
    }
    chosen_here = "PREFECT_HOME" not in os.environ
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    home = Path(os.environ["PREFECT_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if chosen_here:  # its database holds run parameters (input paths) and logs: owner only
        # not ours to change (another user's checkout): Prefect's own modes apply
        with contextlib.suppress(OSError):
            home.chmod(0o700)

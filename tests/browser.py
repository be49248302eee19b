"""Headless Chromium for rendering tests (offline: no network, no proxy, fresh profile).

`.ci/run` installs Debian's chromium; without it the tests skip locally and fail under CI.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def run_chromium(binary: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
               "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
               "--virtual-time-budget=8000", "--window-size=1400,1000", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)



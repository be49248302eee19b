"""Headless Chromium for rendering tests (offline: no network, no proxy, fresh profile).

`.ci/run` installs Debian's chromium; without it the tests skip locally and fail under CI.
"""

from __future__ import annotations

import html
import json
import re
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


def render_with_probe(binary: str, page: Path, tmp_path: Path, probe: str,
                      *args: str) -> dict:
    """Load a copy of `page` beside it (so relative assets resolve) with `probe`, a script
    that writes what it measured as JSON into a `data-probe` attribute, and return that JSON
    (the DOM dumped by headless Chromium; `args`: more Chromium flags, e.g. a window size).
    Fails the test, with Chromium's last words, when no probe came back."""
    probe_page = page.with_name(f"__probe_{page.name}")
    probe_page.write_text(page.read_text("utf-8").replace("</body>", probe + "</body>", 1),
                          encoding="utf-8")
    try:
        result = run_chromium(binary, tmp_path, *args, "--dump-dom", probe_page.as_uri())
    finally:
        probe_page.unlink()
    match = re.search(r'data-probe="([^"]*)"', result.stdout)
    assert match, f"no probe in the rendered DOM; chromium said: {result.stderr[-2000:]}"
    return json.loads(html.unescape(match.group(1)))

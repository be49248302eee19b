"""Prefect's temporary server for one `bidui run`: started first, in the background; stopped
without waiting.

Prefect 3 has no in-memory API. Without `PREFECT_API_URL`, the first flow call imports the
server application into the process (~3 s), starts it as a subprocess
(`prefect.server.api.server.SubprocessASGIServer`: uvicorn serving `create_app` with the
ephemeral settings), waits for it (7–8 s here), and at exit stops it and waits up to 5 s for it
to go (it waits on the run's own open connections, ~4 s). A sample night spent most of its
30 s there.

`start_early()` runs the same server command as the very first step of `bidui run`, before
Prefect, Great Expectations and the stages are imported, so the server boots on the other core
while this process imports; `ready()` waits for its `/api/health` just before the flow starts
and points Prefect at it. At exit nothing waits for it: it gets SIGTERM after Prefect's own exit
handlers have delivered the run's logs and events (the handler is registered before Prefect is
imported, so it runs after Prefect's), and it shuts down by itself once this process has gone
and closed its connections. Its database is Prefect's usual one under `PREFECT_HOME`. On
Linux the kernel also sends it SIGTERM if this process dies (even by SIGKILL), so a killed night
leaves no server behind.

When the environment names a server (`PREFECT_API_URL`, e.g. the harness's or a real one), or
the Prefect settings do (a profile), nothing is started, or what was started is stopped at once.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

# What SubprocessASGIServer._run_uvicorn_command sets for the server process (Prefect 3.9.1;
# tests/test_cli.py compares the whole command with Prefect's).
SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
              "PREFECT__SERVER_FINAL": "1"}
PORTS = range(8000, 9000)  # as Prefect's temporary server
UVICORN_STARTUP_FAILED = 3  # e.g. the port was taken between the check and the bind


def server_command(port: int) -> list[str]:
    """The uvicorn command Prefect's temporary server runs."""
    app_dir = Path(sysconfig.get_paths()["purelib"])
    with contextlib.suppress(ImportError):  # without importing prefect: find its package
        import importlib.util

        spec = importlib.util.find_spec("prefect")
        if spec is not None and spec.origin is not None:
            app_dir = Path(spec.origin).parent.parent
    return [sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir), "--factory",
            "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "error", "--lifespan", "on"]


def _free_port() -> int:
    for _ in range(20):
        port = random.choice(PORTS)
        with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8000-8999 for Prefect's temporary server")


def _die_with_parent():
    """What the child runs before exec: ask the kernel for SIGTERM when this process dies
    (Linux `prctl(PR_SET_PDEATHSIG)`; resolved here, so the child only makes the call)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig, sigterm = 1, int(signal.SIGTERM)
    return lambda: prctl(pr_set_pdeathsig, sigterm)


class TemporaryServer:
    """One temporary Prefect server process started by this run.

    `env`: settings for the server process only (the tests give it a database of its own)."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.started = time.monotonic()
        self.env = {**os.environ, **SERVER_ENV, **(env or {})}
        self.process: subprocess.Popen | None = None
        self._spawn()
        atexit.register(self.stop)  # before Prefect's handlers, so it runs after them

    def _spawn(self) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            server_command(self.port), env=self.env,
            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent())

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def ready(self, timeout: float) -> None:
        """Wait for the server to answer, then point Prefect (already imported) at it."""
        self.wait(timeout)
        os.environ["PREFECT_API_URL"] = self.api_url
        # It serves no UI, and Prefect links none for its own temporary server ("View at …").
        os.environ.setdefault("PREFECT_UI_URL", "")
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()

    def wait(self, timeout: float) -> None:
        """Wait until the server answers (RuntimeError if it exits or `timeout` s passed since
        it was started)."""
        deadline = self.started + timeout
        retries = 3
        while True:
            if self.process is not None and self.process.poll() == UVICORN_STARTUP_FAILED \
                    and retries:  # its port was taken meanwhile: another one (as Prefect does)
                retries -= 1
                self._spawn()
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                raise RuntimeError(f"Prefect's temporary server exited at start (code {code}); "
                                   "set PREFECT_API_URL to a running server, or try again")
            with (contextlib.suppress(OSError),
                  urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response):
                if response.status == 200:
                    break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Prefect's temporary server did not start in {timeout:.0f} "
                                   "s (PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM, without waiting: the server finishes its shutdown by itself."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
        self.process = None


def start_early() -> TemporaryServer | None:
    """Start the temporary server now unless the environment names one (call before
    importing Prefect); `None` when no server is needed from us."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    return TemporaryServer()


def use(server: TemporaryServer | None) -> None:
    """Once Prefect is imported: wait for the early server, or drop it if the Prefect
    settings name another server or forbid a temporary one (Prefect then does as it always
    does)."""
    if server is None:
        return
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url or not settings.server.ephemeral.enabled:
        server.stop()
        return
    server.ready(float(settings.server.ephemeral.startup_timeout_seconds))

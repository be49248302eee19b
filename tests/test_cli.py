"""The command line itself: `--help` without heavy imports, the hidden `bench` alias, one
expected failure through a real `bidui run` (exit code, one paragraph, no traceback), and the
temporary Prefect server `bidui run` starts (same command as Prefect's, gone with the run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import valid_id

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("prefect", "great_expectations", "dask", "distributed", "numba", "benchmarks",
         "pandas", "pyarrow", "sklearn", "recordlinkage")


def test_help_imports_nothing_heavy() -> None:
    probe = ("import sys\nfrom pipeline.cli import main\ntry:\n    main(['--help'])\n"
             "except SystemExit as done:\n    assert done.code == 0\n"
             f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    *usage, loaded = result.stdout.strip().splitlines()
    assert loaded == "[]"
    text = "\n".join(usage)
    for command in ("run", "generate", "evaluate", "explain"):
        assert command in text
    assert "bench" not in text  # the benchmarks have their own entry point


def test_version_prints_the_installed_version(capsys) -> None:
    from importlib.metadata import version

    from pipeline.cli import main

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"bidui {version('bidui')}"


def test_the_help_lists_every_exit_code_the_command_gives() -> None:
    import re

    from pipeline import cli, errors

    listed = {int(code) for code in re.findall(r"^  (\d+) ", cli.EXIT_CODES, re.MULTILINE)}
    given = {0, cli.INTERNAL_ERROR_EXIT, 130} | {
        kind.exit_code for kind in (errors.BiduiError, errors.InputError, errors.ClusterError,
                                    errors.GateError, errors.OutputError)}
    assert listed == given
    assert "exit codes:" in cli.build_parser().format_help()


def test_dask_address_needs_the_dask_engine(tmp_path, capsys) -> None:
    from pipeline.cli import main

    code = main(["run", "--union", "u.csv", "--civil", "c.csv", "--out", str(tmp_path / "o"),
                 "--dask-address", "tcp://127.0.0.1:8786"])
    assert code == 2
    assert "--engine dask" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_an_internal_error_wherever_it_is_typed(monkeypatch, tmp_path, capsys,
                                                            where: str) -> None:
    """`bidui --debug evaluate …` and `bidui evaluate … --debug` both raise the internal
    error; without it the command says "internal error" and exits 70."""
    import pipeline.cli as cli

    def broken(args):
        raise ZeroDivisionError("an internal fault")

    monkeypatch.setitem(cli.COMMANDS, "evaluate", broken)
    monkeypatch.setenv("BIDUI_DEBUG", "")  # main sets it with --debug: restored after
    monkeypatch.delenv("BIDUI_DEBUG")
    command = ["evaluate", "--run", str(tmp_path), "--truth", str(tmp_path)]
    assert cli.main(command) == cli.INTERNAL_ERROR_EXIT
    assert "internal error (ZeroDivisionError)" in capsys.readouterr().err
    with pytest.raises(ZeroDivisionError):
        cli.main(["--debug", *command] if where == "before" else [*command, "--debug"])


def test_every_subcommand_accepts_debug_and_keeps_the_top_level_flag() -> None:
    from pipeline.cli import build_parser

    parser = build_parser()
    run = ["run", "--union", "u.csv", "--civil", "c.csv", "--out", "o"]
    assert parser.parse_args(["--debug", *run]).debug is True
    assert parser.parse_args(run).debug is False
    assert parser.parse_args(["review", "import", "--state", "s", "f.xlsx", "--debug"]).debug


def test_missing_inputs_are_all_named_before_prefect_starts(monkeypatch, tmp_path,
                                                           capsys) -> None:
    import flows.server
    from pipeline.cli import main

    started = []
    monkeypatch.setattr(flows.server, "start_early", lambda: started.append(1))
    union, civil = tmp_path / "nope.xlsx", tmp_path / "nope2.csv"
    code = main(["run", "--union", str(union), "--civil", str(civil), "--out",
                 str(tmp_path / "o"), "--as-of", "2026-06-30"])
    assert code == 2 and not started
    err = capsys.readouterr().err
    assert "2 input files do not exist" in err and str(union) in err and str(civil) in err
    civil.write_text("家庭编号\nC1\n", encoding="utf-8")
    (tmp_path / "roster.xlsx").write_text("x", encoding="utf-8")  # text, not a workbook
    code = main(["run", "--union", str(civil), "--civil", str(civil), "--members",
                 str(tmp_path / "roster.xlsx"), "--out", str(tmp_path / "o")])
    assert code == 2 and not started  # one bad input: its own message, as ingest gives it
    assert "roster.xlsx" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_bench_is_a_hidden_alias_of_the_benchmarks_entry_point(monkeypatch) -> None:
    import benchmarks.cli
    from pipeline.cli import main

    seen = []
    monkeypatch.setattr(benchmarks.cli, "main", lambda argv: seen.append(argv) or 7)
    assert main(["bench", "febrl4", "--json"]) == 7
    assert seen == [["febrl4", "--json"]]


def test_an_expected_failure_exits_with_its_code_and_one_paragraph(bidui_cli, tmp_path) -> None:
    union = tmp_path / "union.csv"
    union.write_text("档案号,职工姓名,身份证号,档案状态\n"
                     f"A1,张伟,{valid_id('11010519900101123')},在档\n", encoding="utf-8")
    civil = tmp_path / "civil_no_id.csv"
    civil.write_text("家庭编号,成员序号,姓名,保障类别,区划代码,保障状态\nC1,1,张伟,低保,110108,在保\n",
                     encoding="utf-8")
    out = tmp_path / "out"
    result = bidui_cli("run", "--union", str(union), "--civil", str(civil), "--out", str(out),
                       "--as-of", "2026-06-30")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "stage ingest stopped" in result.stderr  # through Prefect's run logger
    (paragraph,) = [line for line in result.stderr.splitlines() if line.startswith("bidui: ")]
    assert "civil_no_id.csv" in paragraph and "身份证号" in paragraph and "To fix:" in paragraph
    assert not out.exists() and not list(tmp_path.glob(".out.staging-*"))


@pytest.mark.slow  # imports Prefect's server application (~3 s)
def test_the_server_command_is_prefects(monkeypatch) -> None:
    """flows/server.py starts exactly what Prefect's own temporary server runs."""
    from prefect.server.api.server import SubprocessASGIServer

    from flows.server import SERVER_ENV, server_command

    captured = {}

    def popen(args, env=None, **_):
        captured.update(args=args, env=env)

    monkeypatch.setattr(subprocess, "Popen", popen)
    server = object.__new__(SubprocessASGIServer)
    server.port = 8123
    server._run_uvicorn_command()
    assert captured["args"] == server_command(8123)
    for key, value in SERVER_ENV.items():
        assert captured["env"][key] == value


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return True
        if "\nState:\tZ" in status:  # exited, not yet reaped by whoever adopted it
            return True
        time.sleep(0.1)
    return False


STARTS_A_SERVER = """
import os, sys, time
os.environ.pop("PREFECT_API_URL", None)
from flows.server import start_early
server = start_early()
print(server.process.pid, flush=True)
if sys.argv[1] == "wait":
    time.sleep(120)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG")
@pytest.mark.parametrize("end", ["exit", "sigkill"])
def test_the_temporary_server_goes_with_the_run(tmp_path, end) -> None:
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    child = subprocess.Popen([sys.executable, "-c", STARTS_A_SERVER,
                              "wait" if end == "sigkill" else "exit"], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
    pid = int(child.stdout.readline())
    if end == "sigkill":
        child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    assert _gone(pid, within=30), f"the server {pid} outlived its run"


def test_a_port_taken_meanwhile_gives_the_server_another(monkeypatch) -> None:
    """uvicorn exits with 3 when its port went to someone else between the check and the bind:
    a new server on another port, as Prefect does; the URL Prefect gets is the one that
    answered."""
    import contextlib
    import urllib.request

    import flows.server as server_module

    ports = iter([8101, 8102])
    started = []

    class FakeProcess:
        def __init__(self, args, **_):
            self.port = int(args[args.index("--port") + 1])
            self.returncode = 3 if self.port == 8101 else None
            started.append(self.port)

        def poll(self):
            return self.returncode

        def terminate(self):
            self.returncode = -15

    @contextlib.contextmanager
    def health(url, timeout):
        assert ":8102/" in url, url  # the first one is never asked
        yield type("Response", (), {"status": 200})()

    monkeypatch.setattr(server_module, "_free_port", lambda: next(ports))
    monkeypatch.setattr(server_module.subprocess, "Popen", FakeProcess)
    monkeypatch.setattr(urllib.request, "urlopen", health)
    monkeypatch.setattr(server_module.atexit, "register", lambda _: None)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_UI_URL", "")
    server = server_module.TemporaryServer()
    server.ready(timeout=10)
    assert started == [8101, 8102]
    assert os.environ["PREFECT_API_URL"] == "http://127.0.0.1:8102/api"
    server.stop()
    from prefect.context import refresh_global_settings_context

    monkeypatch.undo()
    refresh_global_settings_context()  # back to this process's own settings


def test_the_published_summary_accounts_for_every_row_read() -> None:
    """The console line per source adds up: linked + unlinked + quarantined + non-data = read
    (non-data rows: a workbook's notes, totals and template rows)."""
    import re

    from pipeline.cli import summary_text

    manifest = {"as_of": "2026-06-30", "outputs": {}, "accounting": {
        "union": {"rows_read": 550, "rows_linked": 203, "rows_unlinked": 306,
                  "rows_quarantined": 0, "rows_non_data": 41},
        "civil": {"rows_read": 3827, "rows_linked": 259, "rows_unlinked": 3566,
                  "rows_quarantined": 2, "rows_non_data": 0}}}
    lines = summary_text(manifest, Path("out")).splitlines()[1:]
    assert len(lines) == 2
    for line in lines:
        counts = {k: int(v.replace(",", "")) for k, v in
                  re.findall(r"(read|linked|unlinked|quarantined|non-data)\s+([\d,]+)", line)}
        assert counts["read"] == (counts["linked"] + counts["unlinked"] + counts["quarantined"]
                                  + counts["non-data"])


def test_too_few_households_to_generate_is_an_input_error(tmp_path, capsys) -> None:
    """`bidui generate --households 5` is the user's mistake (exit 2, one paragraph that
    names the minimum), not an internal error; `--help` gives the same minimum."""
    from pipeline.cli import build_parser, main
    from pipeline.generate import MIN_HOUSEHOLDS

    code = main(["generate", "--out", str(tmp_path / "g"), "--households",
                 str(MIN_HOUSEHOLDS - 1)])
    err = capsys.readouterr().err
    assert code == 2 and f"at least {MIN_HOUSEHOLDS}" in err and "internal" not in err
    assert not (tmp_path / "g").exists()
    generate_help = build_parser()._subparsers._group_actions[0].choices["generate"]
    assert f"at least {MIN_HOUSEHOLDS}" in generate_help.format_help()

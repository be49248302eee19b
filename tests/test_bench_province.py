"""The province part of the bench (issue 15): its verdict rows, ratios, markdown, data sets,
the driver / worker / server split of a run's memory, and its wiring — on synthetic figures and
tiny processes (no province run here).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmarks import cli, province, report, scale, suite
from tests.test_bench_harness import GIB, _tables_are_rectangular, fake_province, fake_results

NAMES = tuple(province.TARGETS)


def _checks(mutate=None) -> dict:
    results = fake_results()
    if mutate:
        mutate(results["province"])
    return report.must_show(results)


# --- the verdict ------------------------------------------------------------------------------


def test_province_checks_pass_with_their_ratios() -> None:
    checks = _checks()
    assert checks["all_pass"] is True
    memory, wall = checks["province_roster_memory"], checks["province_roster_wall"]
    assert memory["peak_ratio"] == pytest.approx(1.1)
    assert memory["roster_ratio"] == pytest.approx(4.998)
    assert wall["wall_ratio"] == pytest.approx(2.0)
    assert wall["wall_us_per_roster_row"] == pytest.approx([300.0, 600 / 4.998])
    assert wall["marginal_us_per_roster_row"] == pytest.approx(300 / 3.998)
    assert wall["roster_stage_seconds"] == [20.0, 95.0]
    assert wall["roster_stage_ratio"] == pytest.approx(4.75)
    night = checks["province_night"]
    assert (night["wall_seconds"], night["peak_rss_bytes"]) == (600.0, int(5.5 * GIB))
    assert checks["province_links"]["precision"] == 0.9995
    dask = checks["province_dask"]
    assert dask["driver_peak_bytes"] == int(4.0 * GIB)  # the driver's own high-water mark
    assert dask["workers_peak_bytes"] == int(2.5 * GIB)  # the workers' largest sampled sum
    assert dask["server_peak_bytes"] == int(0.25 * GIB)
    assert dask["local_driver_peak_bytes"] == int(5.2 * GIB)
    assert dask["local_peak_bytes"] == int(5.5 * GIB)
    assert dask["identical_files"] == dict.fromkeys(province.KEY_COLUMNS, True)


def _set(path: str, value):
    def mutate(figures: dict) -> None:
        *keys, last = path.split(".")
        target = figures
        for key in keys:
            target = target[key]
        target[last] = value
    return mutate


@pytest.mark.parametrize(("mutate", "failing"), [
    (_set("runs.large_local.peak_rss_bytes", int(6.01 * GIB)), {"province_roster_memory"}),
    (_set("runs.large_local.wall_seconds", 1_800.5), {"province_roster_wall", "province_night"}),
    (_set("runs.small_local.wall_seconds", 100.0), {"province_roster_wall"}),
    (_set("runs.large_local.wall_seconds", 900.5), {"province_night"}),
    (_set("runs.large_local.peak_rss_bytes", 8 * GIB + 1),
     {"province_night", "province_roster_memory"}),
    (_set("evaluation.links.precision", 0.9989), {"province_links"}),
    (_set("evaluation.links.recall", 0.9979), {"province_links"}),
    (_set("evaluation", {"error": "bidui evaluate exit 2: no truth"}), {"province_links"}),
    (_set("dask_vs_local.identical", False), {"province_dask"}),
    (_set("runs.large_dask.memory_by_role.driver.hwm_max_bytes", int(5.2 * GIB)),
     {"province_dask"}),
    (_set("runs.large_dask", {"engine": "dask", "error": "bidui: no workers"}),
     {"province_dask"}),
    (_set("runs.small_local", {"error": "no data: RuntimeError: bidui generate failed"}),
     {"province_roster_memory", "province_roster_wall"}),
    (_set("runs.large_local", {"error": "bidui: out of memory", "exit_code": 70}),
     set(NAMES) - {"province_links"}),  # the links check reads the evaluation
])
def test_each_province_check_fails_alone(mutate, failing: set[str]) -> None:
    checks = _checks(mutate)
    assert {name for name in NAMES if not checks[name]["pass"]} == failing
    assert checks["all_pass"] is False
    assert all(checks[name]["pass"] for name in checks if name not in (*NAMES, "all_pass"))


def test_province_not_measured_or_failed_fails_every_province_check() -> None:
    for figures, note in ((None, "province not measured"),
                          ({"error": "RuntimeError: boom"}, "RuntimeError: boom")):
        checks = province.checks(figures)
        assert set(checks) == set(NAMES)
        assert all(c["pass"] is False and c["note"] == note for c in checks.values())
    results = fake_results()
    del results["province"]
    assert report.must_show(results)["all_pass"] is False


def test_driver_peak_falls_back_to_the_sampled_peak() -> None:
    run = {"memory_by_role": {"driver": {"peak_sampled_bytes": 7, "hwm_max_bytes": 0},
                              "workers": {"peak_sampled_bytes": 5, "hwm_max_bytes": 4}}}
    assert province.process_peak(run, "driver") == 7
    assert province.process_peak(run, "workers") == 5
    assert province.process_peak(run, "server") is None
    assert province.process_peak({}, "driver") is None


# --- markdown -----------------------------------------------------------------------------------


def test_markdown_has_the_province_rows_and_section() -> None:
    results = fake_results()
    results["must_show"] = report.must_show(results)
    text = report.render_markdown(results)
    for figure in ("| 5 | province: peak RSS", "1.10× (5.50 GiB with 4,998,000 roster rows vs "
                   "5.00 GiB with 1,000,000)", "wall 2.00× for 5.00× the roster rows",
                   "| 6 | province night: whole", "600.0 s, 5.50 GiB peak RSS",
                   "precision 0.9995, recall 0.9987", "| 7 | province night `--engine dask`",
                   "driver 4.00 GiB, workers 2.50 GiB, Prefect server 0.25 GiB vs local engine "
                   "process 5.20 GiB", "## Province scale", "each extra roster row cost 75.04 µs",
                   "| large_dask | dask | 800.0 |", "Every column equal as well: yes"):
        assert figure in text, figure
    assert "All checks: **PASS**" in text
    _tables_are_rectangular(text)


def test_markdown_shows_province_errors() -> None:
    results = fake_results()
    figures = results["province"]
    figures["runs"]["large_dask"] = {"engine": "dask", "error": "bidui: the cluster died"}
    figures["data"]["small"] = {**figures["data"]["small"],
                                "error": "RuntimeError: bidui generate failed (exit 2)"}
    figures["runs"]["small_local"] = {"engine": "local", "error": "no data: RuntimeError"}
    del figures["dask_vs_local"]
    results["must_show"] = report.must_show(results)
    text = report.render_markdown(results)
    for message in ("bidui: the cluster died", "bidui generate failed (exit 2)",
                    "error: no data: RuntimeError"):
        assert message in text, message
    assert "All checks: **FAIL**" in text
    _tables_are_rectangular(text)
    old = fake_results()  # results.json of a bench before the province part
    del old["province"]
    old["must_show"] = {k: v for k, v in report.must_show(old).items()
                        if not k.startswith("province")}
    assert ("| 7 | province night `--engine dask` beside local | outputs identical; driver "
            "peak < local's | not measured | **FAIL** |") in report.render_markdown(old)


# --- the process tree split by role ------------------------------------------------------------


def test_process_roles_from_the_command_line() -> None:
    python = sys.executable
    assert scale.process_role([python, "-m", "pipeline.cli", "run"], True) == "driver"
    server = [python, "-m", "uvicorn", "--app-dir", "x", "--factory",
              "prefect.server.api.server:create_app"]
    assert scale.process_role(server, False) == "server"
    spawned = [python, "-B", "-c", "from multiprocessing.spawn import spawn_main; spawn_main("
                                   "tracker_fd=5, pipe_handle=7)", "--multiprocessing-fork"]
    assert scale.process_role(spawned, False) == "workers"  # LocalCluster's workers
    assert scale.process_role([python, "-m", "distributed.cli.dask_worker"], False) == "workers"
    assert scale.process_role(["/venv/bin/dask", "worker", "tcp://h:8786"], False) == "workers"
    tracker = [python, "-B", "-c", "from multiprocessing.resource_tracker import main;main(4)"]
    assert scale.process_role(tracker, False) == "other"
    # the run's own paths never decide (a child not yet exec'd carries the driver's argv)
    forked = [python, "-m", "pipeline.cli", "run", "--out", "/tmp/out-dask/prefect"]
    assert scale.process_role(forked, False) == "other"


def test_roles_summary_of_a_sampler() -> None:
    sampler = scale.TreeSampler(pid=1)
    sampler.role_peak = {"driver": 300, "workers": 700, "server": 90}
    sampler.hwm = {10: ("driver", 350), 11: ("workers", 400), 12: ("workers", 380),
                   13: ("server", 95)}
    roles = sampler.roles()
    assert list(roles) == ["driver", "workers", "server"]
    assert roles["workers"] == {"peak_sampled_bytes": 700, "hwm_max_bytes": 400,
                                "hwm_sum_bytes": 780, "processes": 2}
    assert roles["driver"]["hwm_max_bytes"] == 350


TREE = """
import subprocess, sys, time
block = bytearray(120 * 1024 * 1024)
worker = subprocess.Popen([sys.executable, "-c", "import time  # a dask worker\\n"
                           "b = bytearray(60 * 1024 * 1024); time.sleep(1.2)"])
time.sleep(1.2)
worker.wait()
"""


def test_run_measured_splits_driver_and_workers(tmp_path: Path) -> None:
    measured = scale.run_measured([sys.executable, "-c", TREE], tmp_path / "tree.log",
                                  interval=0.1)
    assert measured.exit_code == 0
    roles = measured.as_dict()["memory_by_role"]
    assert roles["driver"]["processes"] == 1
    assert 120 * 1024 ** 2 <= roles["driver"]["hwm_max_bytes"] < 180 * 1024 ** 2
    assert 60 * 1024 ** 2 <= roles["workers"]["hwm_max_bytes"] < 120 * 1024 ** 2
    assert roles["workers"]["peak_sampled_bytes"] >= 60 * 1024 ** 2


# --- data sets ----------------------------------------------------------------------------------


def test_configured_sets_default_and_from_the_environment() -> None:
    small, large = province.configured_sets({})
    assert small.folder == scale.ROOT / "var" / "bench" / "province-1m"
    assert (small.households, small.seed, small.roster_members) == (100_000, 7, 1_000_000)
    assert large.folder == scale.ROOT / "var" / "bench" / "province"
    assert large.roster_members is None
    small, large = province.configured_sets(
        {province.ENV: "households=2000, small=100000,large=300000,root=var/bench/smoke"})
    assert small.folder == scale.ROOT / "var/bench/smoke/province-h2000-s7-r100000"
    assert (small.households, small.seed, small.roster_members) == (2000, 7, 100_000)
    assert large.name == "province-h2000-s7-r300000" and large.roster_members == 300_000
    _, large = province.configured_sets({province.ENV: "households=50,seed=3,root=/tmp/x"})
    assert large.folder == Path("/tmp/x/province-h50-s3-rdefault")
    with pytest.raises(ValueError, match="unknown keys"):
        province.configured_sets({province.ENV: "household=5"})


def _write_set(folder: Path, households: int, seed: int, rows: int) -> None:
    (folder / "truth").mkdir(parents=True, exist_ok=True)
    for name in (scale.UNION_FILE, scale.CIVIL_FILE, scale.MEMBERS_FILE):
        (folder / name).write_text(f"{name} {seed}\n", encoding="utf-8")
    (folder / "truth" / "meta.json").write_text(json.dumps(
        {"households": households, "seed": seed, "files": {scale.MEMBERS_FILE: rows}}))


def test_a_matching_set_is_reused(tmp_path: Path) -> None:
    data = scale.DataSet("s", tmp_path / "s", 20, 7, 300)
    _write_set(data.folder, 20, 7, 300)
    assert province.ensure_set(data, print) == {"generated_now": False,
                                                "generate_seconds": 0.0}
    meta = scale.generated_meta(data.folder)
    assert province.matches(meta, data)
    assert province.matches(meta, scale.DataSet("s", data.folder, 20, 7, None))
    assert not province.matches(meta, scale.DataSet("s", data.folder, 20, 7, 301))
    assert not province.matches(meta, scale.DataSet("s", data.folder, 21, 7, 300))
    assert not province.matches(meta, scale.DataSet("s", data.folder, 20, 8, 300))
    assert province.generate_argv(data, tmp_path / "o")[-2:] == ["--roster-members", "300"]
    assert "--roster-members" not in province.generate_argv(
        scale.DataSet("s", data.folder, 20, 7, None), tmp_path / "o")


FAKE_GENERATE = """
import json, sys
from pathlib import Path
out = Path(sys.argv[1]); rows = int(sys.argv[2])
(out / "truth").mkdir(parents=True)
for name in ("union_roll.xlsx", "civil_exchange.csv", "members.csv"):
    (out / name).write_text("x")
(out / "truth" / "meta.json").write_text(json.dumps(
    {"households": 20, "seed": 7, "files": {"members.csv": rows}}))
print("bidui: wrote", rows)
"""


def test_a_different_set_is_generated_and_a_failure_recorded(tmp_path: Path,
                                                             monkeypatch) -> None:
    data = scale.DataSet("s", tmp_path / "s", 20, 7, 300)
    _write_set(data.folder, 20, 7, 100)  # another roster size: generated again

    def fake(_data, out: Path, rows: int = 300) -> list[str]:
        return [sys.executable, "-c", FAKE_GENERATE, str(out), str(rows)]

    monkeypatch.setattr(province, "generate_argv", fake)
    prepared = province.ensure_set(data, print)
    assert prepared["generated_now"] is True and prepared["generate_seconds"] > 0
    assert scale.generated_meta(data.folder)["files"]["members.csv"] == 300
    assert not data.folder.with_name("s.partial").exists()
    other = scale.DataSet("t", tmp_path / "t", 20, 7, 301)  # the generator writes 300: wrong
    with pytest.raises(RuntimeError, match="bidui: wrote 300"):
        province.ensure_set(other, print)
    assert not other.folder.exists() and not other.folder.with_name("t.partial").exists()


# --- comparing the engines' outputs and evaluating ----------------------------------------------


def _outputs(folder: Path, links: pd.DataFrame, findings: pd.DataFrame) -> None:
    folder.mkdir(parents=True)
    links.to_parquet(folder / "links.parquet")
    findings.to_parquet(folder / "discrepancies.parquet")
    pd.DataFrame({"civil_case_id": ["c1"], "civil_member_no": ["1"], "member_id": ["m1"],
                  "decision": ["match"], "match_probability": [0.9]}).to_parquet(
        folder / "member_links.parquet")


LINKS = pd.DataFrame({"union_roll_id": ["r1", "r2", "r3"], "civil_case_id": ["c1", "c2", "c3"],
                      "civil_member_no": ["1", "1", "2"], "decision": ["match"] * 3,
                      "method": ["id_exact", "probabilistic", "probabilistic"],
                      "match_probability": [1.0, 0.97, 0.95]})
FINDINGS = pd.DataFrame({"discrepancy_id": ["d1", "d2"], "type": ["INVALID_ID", "DECEASED"],
                         "union_roll_id": ["r1", "r4"], "civil_case_id": [None, "c4"],
                         "civil_member_no": [None, "1"], "member_id": [None, None],
                         "summary": ["一", "二"]})


def test_compare_keys_ignores_order_and_other_columns(tmp_path: Path) -> None:
    _outputs(tmp_path / "local", LINKS, FINDINGS)
    _outputs(tmp_path / "dask", LINKS.iloc[::-1].assign(match_probability=[0.95, 0.96, 1.0]),
             FINDINGS.iloc[::-1])
    same = province.compare_keys(tmp_path / "local", tmp_path / "dask")
    assert same["identical"] is True
    assert same["files"]["links.parquet"]["key_columns"] == list(
        province.KEY_COLUMNS["links.parquet"])
    assert same["files"]["discrepancies.parquet"]["rows"] == [2, 2]
    _outputs(tmp_path / "other", LINKS.assign(decision=["match", "match", "possible"]),
             FINDINGS.iloc[:1])
    differs = province.compare_keys(tmp_path / "local", tmp_path / "other")
    assert differs["identical"] is False
    links = differs["files"]["links.parquet"]
    assert (links["identical"], links["rows_only_first"], links["rows_only_second"]) == (
        False, 1, 1)
    findings = differs["files"]["discrepancies.parquet"]
    assert (findings["rows_only_first"], findings["rows_only_second"]) == (1, 0)
    assert differs["files"]["member_links.parquet"]["identical"] is True
    (tmp_path / "other" / "member_links.parquet").unlink()
    missing = province.compare_keys(tmp_path / "local", tmp_path / "other")
    assert missing["files"]["member_links.parquet"] == {"identical": False, "missing": True}


def test_evaluate_reads_bidui_evaluate_json(tmp_path: Path) -> None:
    _outputs(tmp_path / "run", LINKS, FINDINGS)
    truth = tmp_path / "truth"
    truth.mkdir()
    LINKS.iloc[:2][["union_roll_id", "civil_case_id", "civil_member_no"]].to_csv(
        truth / "links.csv", index=False)
    FINDINGS[["type", "union_roll_id", "civil_case_id", "civil_member_no", "member_id"]].to_csv(
        truth / "discrepancies.csv", index=False)
    scores = province.evaluate(tmp_path / "run", truth)
    assert scores["links"]["precision"] == pytest.approx(2 / 3, abs=1e-6)
    assert scores["links"]["recall"] == 1.0
    assert scores["discrepancies"]["INVALID_ID"] == 1.0
    assert scores["seconds"] > 0
    failed = province.evaluate(tmp_path / "nowhere", truth)
    assert failed["error"].startswith("bidui evaluate exit 2")


# --- wiring -------------------------------------------------------------------------------------


def test_run_province_runs_five_nights_then_compares(tmp_path: Path, monkeypatch) -> None:
    small = scale.DataSet("small", tmp_path / "small", 20, 7, 100)
    large = scale.DataSet("large", tmp_path / "large", 20, 7, 300)
    _write_set(small.folder, 20, 7, 100)
    _write_set(large.folder, 20, 7, 300)
    calls = []

    def fake_run(data, engine, out, log, extra=()) -> dict:
        calls.append((data.name, engine, out.name, data.members.name))
        if extra:  # the partitioned night's configuration
            assert extra[0] == "--config"
            configs.append(Path(extra[1]).read_text("utf-8"))
        _outputs(out, LINKS, FINDINGS)
        return fake_province()["runs"][out.name.removeprefix("out-")]

    configs: list[str] = []
    monkeypatch.setattr(scale, "bidui_run", fake_run)
    monkeypatch.setattr(province, "evaluate", lambda out, truth: {
        "links": {"precision": 1.0, "recall": 1.0, "f1": 1.0}, "truth": str(truth)})
    result = province.run_province((small, large), workroot=tmp_path / "runs", command="test")
    assert calls == [("small", "local", "out-small_local", "members.csv"),
                     ("large", "local", "out-large_local", "members.csv"),
                     ("large", "dask", "out-large_dask", "members.csv"),
                     ("large-parquet", "dask", "out-large_dask_parquet", "members-parquet"),
                     ("large", "dask", "out-large_dask_partitioned", "members.csv")]
    assert configs == ["linking:\n  dask_join: partitioned\n"]
    assert result["dask_partitioned_vs_local"]["identical"] is True
    assert result["data"]["large_parquet"]["converted_now"] is True
    assert result["data"]["large_parquet"]["member_rows"] == 300
    assert result["dask_parquet_vs_local"]["identical"] is True
    assert result["same_roll_and_civil"] is True  # the fake sets' files are equal
    assert result["data"]["large"]["member_rows"] == 300
    assert result["evaluation"]["truth"] == str(large.folder / "truth")
    assert result["dask_vs_local"]["identical"] is True
    assert result["dask_vs_local"]["identical_all_columns"] is True
    assert not list((tmp_path / "runs").iterdir())  # the run folders are cleaned up
    checks = province.checks(result)
    assert checks["province_dask"]["pass"] is True
    assert checks["province_dask_parquet"]["pass"] is True
    assert checks["province_dask_partitioned"]["pass"] is True
    # a night asked for the partitioned join whose manifest says broadcast does not pass
    result["runs"]["large_dask_partitioned"]["roster_join"] = {"join": "broadcast"}
    assert province.checks(result)["province_dask_partitioned"]["pass"] is False
    assert checks["province_roster_memory"]["roster_ratio"] == pytest.approx(3.0)


def test_the_parquet_roster_is_the_csv_as_text_and_is_reused(tmp_path: Path,
                                                            monkeypatch) -> None:
    """The Parquet form of a set's roster: the CSV's cells as text (leading zeros, the X
    check character, empty cells as empty strings), several files and row groups; reused
    while members.csv is unchanged, made again when it changes."""
    from pipeline.ingest import load_source
    from pipeline.schema import Source

    monkeypatch.setattr(province, "PARQUET_FILE_ROWS", 4)
    monkeypatch.setattr(province, "PARQUET_GROUP_ROWS", 2)
    data = scale.DataSet("s", tmp_path / "s", 20, 7, None)
    data.folder.mkdir()
    rows = ["会员编号,姓名,身份证号,工作单位,基层工会,所属区,入会日期"] + [
        f"HY{i:04d},人{i},11010519900101123X,,单位{i},朝阳区,2020-01-0{1 + i % 9}"
        for i in range(11)]
    (data.folder / scale.MEMBERS_FILE).write_text("\ufeff" + "\n".join(rows) + "\n",
                                                   encoding="utf-8")
    said: list[str] = []
    converted, first = province.ensure_parquet_roster(data, said.append)
    assert first["converted_now"] is True and first["files"] == 3 and said
    assert converted.members == data.folder / province.PARQUET_ROSTER
    from_csv = load_source([data.folder / scale.MEMBERS_FILE], Source.MEMBERS).frame
    from_parquet = load_source([converted.members], Source.MEMBERS).frame
    provenance = ["source_file", "source_sheet", "source_row"]  # a folder: file and row in it
    columns = [c for c in from_csv.columns if c not in provenance]
    pd.testing.assert_frame_equal(from_parquet[columns], from_csv[columns])
    assert list(from_parquet["source_row"]) == [2, 3, 4, 5] * 2 + [2, 3, 4]
    again, second = province.ensure_parquet_roster(data, said.append)
    assert second == {"converted_now": False, "convert_seconds": 0.0}
    assert again == converted
    (data.folder / scale.MEMBERS_FILE).write_text("\n".join(rows[:5]) + "\n",
                                                   encoding="utf-8")
    _, third = province.ensure_parquet_roster(data, said.append)
    assert third["converted_now"] is True
    assert len(load_source([converted.members], Source.MEMBERS).frame) == 4


def test_run_province_without_data_records_why(tmp_path: Path, monkeypatch) -> None:
    small = scale.DataSet("small", tmp_path / "small", 20, 7, 100)
    large = scale.DataSet("large", tmp_path / "large", 20, 7, None)
    _write_set(large.folder, 20, 7, 300)
    monkeypatch.setattr(province, "generate_argv", lambda data, out: [
        sys.executable, "-c", "print('bidui: error: unrecognized arguments: --roster-members');"
                              "raise SystemExit(2)"])
    monkeypatch.setattr(scale, "bidui_run", lambda data, engine, out, log, *extra: {
        "engine": engine, "error": "bidui: stop here", "exit_code": 2})
    result = province.run_province((small, large), workroot=tmp_path / "runs")
    assert "--roster-members" in result["data"]["small"]["error"]
    assert result["runs"]["small_local"]["error"].startswith("no data: RuntimeError")
    assert result["runs"]["large_local"]["error"] == "bidui: stop here"
    assert result["same_roll_and_civil"] is None
    assert "evaluation" not in result and "dask_vs_local" not in result
    checks = province.checks(result)
    assert not any(c["pass"] for c in checks.values())
    assert "--roster-members" in checks["province_roster_memory"]["note"]


def test_province_command_merges_into_the_results(tmp_path: Path, monkeypatch) -> None:
    args = cli.build_parser().parse_args(["province", "--results-dir", str(tmp_path), "--json"])
    assert args.bench == "province" and cli.plan_from_args(args).results_dir == tmp_path
    previous = fake_results()
    del previous["province"]
    suite.write(previous, tmp_path)
    monkeypatch.setattr(province, "run_province", lambda **kw: {**fake_province(),
                                                                "command": kw["command"]})
    assert cli.main(["province", "--results-dir", str(tmp_path)]) == 0
    stored = json.loads((tmp_path / "results.json").read_text("utf-8"))
    assert stored["sizes"] == json.loads(json.dumps(previous["sizes"]))  # kept as measured
    assert stored["province"]["command"] == "python -m benchmarks province"
    assert stored["must_show"]["all_pass"] is True
    assert "## Province scale" in (tmp_path / "results.md").read_text("utf-8")
    fresh = tmp_path / "fresh"
    monkeypatch.setattr(province, "run_province", lambda **kw: {"error": "RuntimeError: boom"})
    results = suite.run_province_only(fresh)
    assert results["sizes"] == {} and results["machine"]["cores"] >= 1
    assert results["must_show"]["province_night"]["pass"] is False

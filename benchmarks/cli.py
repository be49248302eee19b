"""Command line of the benchmarks: ``python -m benchmarks febrl4|generated|province|all [--json]``.

``all`` runs every bench in one invocation and writes ``benchmarks/results.json`` and
``benchmarks/results.md`` (see :mod:`benchmarks.suite`); it prints the markdown, or the JSON
with ``--json``. ``province`` runs only the province part (:mod:`benchmarks.province`; the
``BIDUI_BENCH_PROVINCE`` environment variable points it at other sizes) and merges it into the
results.json and results.md already there.

``main(argv)`` is what ``bidui bench`` calls. With ``--json`` exactly one JSON object is written
to stdout; everything the engines print or log (Splink's warnings, DuckDB progress) goes to
stderr — stdout is redirected at the file-descriptor level while the engines run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

ENGINES = ("bidui", "splink", "recordlinkage")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="bidui vs Splink vs recordlinkage: precision, recall, F1 and seconds.")
    sub = parser.add_subparsers(dest="bench", required=True)
    febrl = sub.add_parser("febrl4", help="FEBRL4 (5,000 + 5,000 records), with and without ID")
    febrl.add_argument("--limit", type=int, default=None,
                       help="only the first N true links and their records")
    febrl.add_argument("--json", action="store_true", help="print one JSON object")
    gen = sub.add_parser("generated", help="generated union roll → civil exchange file")
    gen.add_argument("--households", type=int, default=2000)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--workdir", type=Path, default=None,
                     help="write the generated files here (default: a temporary folder)")
    gen.add_argument("--json", action="store_true", help="print one JSON object")
    prov = sub.add_parser(
        "province", help="province scale only (1 M vs ~5 M roster, local and dask), merged "
                         "into results.json and results.md")
    prov.add_argument("--json", action="store_true",
                      help="print the results JSON (default: print the markdown)")
    prov.add_argument("--results-dir", type=Path, default=None,
                      help="where results.json and results.md are (default: benchmarks/)")
    every = sub.add_parser(
        "all", help="every bench in one run: writes benchmarks/results.json and results.md")
    every.add_argument("--json", action="store_true",
                       help="print the results JSON (default: print the markdown)")
    every.add_argument("--results-dir", type=Path, default=None,
                       help="where results.json and results.md go (default: benchmarks/)")
    every.add_argument("--sizes", type=_csv, default=None,
                       help="comma list of sample, city, febrl4 (default: all three)")
    every.add_argument("--engines", type=_csv, default=None,
                       help="engines of the whole runs (default: local,dask)")
    every.add_argument("--parts", type=_csv, default=None,
                       help="comma list of runs, throughput, peers, province "
                            "(default: all)")
    every.add_argument("--peer-sizes", type=_csv, default=None,
                       help="generated peer bench sizes: sample, city or N households "
                            "(default: sample,city)")
    every.add_argument("--max-rl-pairs", type=int, default=None,
                       help="recordlinkage Compare on at most this many pairs (random subset)")
    return parser


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send everything written to stdout (Python and C level) to stderr meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def plan_from_args(args: argparse.Namespace):
    from benchmarks.suite import Plan

    plan = Plan()
    for name in ("sizes", "engines", "parts", "peer_sizes", "max_rl_pairs", "results_dir"):
        value = getattr(args, name, None)
        if value is not None:
            setattr(plan, name, value)
    return plan


def run(args: argparse.Namespace) -> dict:
    if args.bench == "all":
        from benchmarks.suite import run_all

        return run_all(plan_from_args(args))
    if args.bench == "province":
        from benchmarks.suite import run_province_only

        return run_province_only(plan_from_args(args).results_dir)
    if args.bench == "febrl4":
        from benchmarks.febrl import run_febrl4_bench

        return run_febrl4_bench(limit=args.limit)
    from benchmarks.generated import run_generated_bench

    return run_generated_bench(households=args.households, seed=args.seed,
                               workdir=args.workdir)


def format_table(result: dict) -> str:
    lines = [f"{'engine':14s} {'run':12s} {'precision':>9s} {'recall':>7s} {'f1':>7s} "
             f"{'seconds':>8s}"]
    for engine in ENGINES:
        entry = result.get(engine, {})
        if "skipped" in entry:
            lines.append(f"{engine:14s} skipped: {entry['skipped']}")
            continue
        for mode, leaf in entry.items():
            if mode == "recall_by_id_kind":
                continue
            lines.append(f"{engine:14s} {mode:12s} {leaf['precision']:>9.4f} "
                         f"{leaf['recall']:>7.4f} {leaf['f1']:>7.4f} {leaf['seconds']:>8.2f}")
    kinds = sorted({k for e in ENGINES for k in result.get(e, {}).get("recall_by_id_kind", {})})
    if kinds:
        lines.append("recall by roll-side ID kind:")
        lines.append(f"  {'kind':14s}" + "".join(f"{e:>15s}" for e in ENGINES))
        for kind in kinds:
            cells = []
            for engine in ENGINES:
                value = result.get(engine, {}).get("recall_by_id_kind", {}).get(kind)
                cells.append(f"{value:>15.4f}" if value is not None else f"{'-':>15s}")
            lines.append(f"  {kind:14s}" + "".join(cells))
    return "\n".join(lines)


def _jsonable(value: object) -> object:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with stdout_to_stderr():
        result = run(args)
    if args.bench in ("all", "province"):
        from benchmarks.report import render_markdown
        from benchmarks.suite import write

        json_path, md_path = write(result, plan_from_args(args).results_dir)
        print(f"wrote {json_path} and {md_path}", file=sys.stderr)
        text = (json.dumps(result, ensure_ascii=False, default=_jsonable) if args.json
                else render_markdown(result))
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        return 0
    if args.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, default=_jsonable) + "\n")
    else:
        sys.stdout.write(format_table(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

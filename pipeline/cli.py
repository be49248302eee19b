"""The `bidui` command line (SPEC §2): run, generate, evaluate, explain.

Expected failures print one paragraph saying what to fix and exit non-zero; nothing prints a
traceback unless `--debug` is given (a traceback could carry personal data from the inputs).

Nothing heavy is imported at module level (Prefect, Great Expectations, Dask, the numba
kernels, pandas, the benchmarks): `bidui --help` answers at once, and each command imports
what it uses. `bidui run` starts Prefect's temporary server before it imports the rest
(`flows/server.py`). The benchmarks have their own entry point, `python -m benchmarks`
(`make bench`); `bidui bench …` is kept as a hidden alias of it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import sys
from pathlib import Path

from pipeline.config import load_config, today_in
from pipeline.errors import BiduiError, InputError

INTERNAL_ERROR_EXIT = 70
EXIT_CODES = """exit codes:
  0   done (bidui run: published)
  2   an input, the configuration or the command line is wrong (the message says which
      file, sheet and row, and the fix); a Dask cluster could not be used
  3   a critical validation failed: nothing was published (see the Data Docs)
  4   the output folder cannot be written safely (or another run holds it)
  70  an internal error: nothing was published; run again with --debug
  130 interrupted (Ctrl-C): nothing was published"""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-06-30") from None


def _version() -> str:
    """The installed package's version (pyproject.toml), or `unknown` when not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bidui")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bidui", description="困难职工档案与民政救助数据比对", epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    parser.add_argument("--version", action="version", version=f"bidui {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the nightly flow once and publish into --out",
                              epilog=EXIT_CODES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--union", nargs="+", type=Path, required=True, metavar="F",
                     help="union hardship roll file(s): CSV, XLSX, XLS, ODS or Parquet "
                          "(a file or a folder)")
    run.add_argument("--civil", nargs="+", type=Path, required=True, metavar="F",
                     help="civil-affairs exchange file(s): CSV, XLSX, XLS, ODS or Parquet")
    run.add_argument("--members", nargs="+", type=Path, default=[], metavar="F",
                     help="union membership roster file(s), optional: CSV, XLSX, XLS, ODS "
                          "or Parquet; read in chunks")
    run.add_argument("--out", type=Path, required=True, metavar="DIR",
                     help="output folder; replaced as a whole when the night succeeds")
    run.add_argument("--as-of", type=_date, default=None, metavar="YYYY-MM-DD",
                     help="the night's date (default: today in the configuration's "
                          "timezone, Asia/Shanghai)")
    run.add_argument("--config", type=Path, default=None, metavar="FILE",
                     help="YAML merged over pipeline/config/defaults.yaml")
    run.add_argument("--pseudonymise", action="store_true",
                     help="replace ID numbers in the outputs by keyed HMAC tokens (key from "
                          "BIDUI_PSEUDONYM_KEY or --key-file)")
    run.add_argument("--key-file", type=Path, default=None, metavar="FILE",
                     help="the pseudonymisation key (at least 16 bytes)")
    run.add_argument("--state", type=Path, default=None, metavar="DIR",
                     help="what lasts across nights: finding history, review decisions, "
                          "what the last good night read")
    run.add_argument("--engine", choices=("local", "dask"), default="local",
                     help="where the link stage's heavy work runs: this process (default) or a "
                          "Dask cluster, partitioned by blocking keys; results are identical")
    run.add_argument("--dask-address", default=None, metavar="ADDRESS",
                     help="with --engine dask: the scheduler (tcp://host:8786); without it a "
                          "local cluster of 2 worker processes on 127.0.0.1 is started")

    gen = commands.add_parser("generate", help="write a synthetic input set with its truth")
    gen.add_argument("--out", type=Path, required=True, metavar="DIR")
    gen.add_argument("--households", type=int, default=500, metavar="N",
                     help="union roll households (default 500, at least 10)")
    gen.add_argument("--seed", type=int, default=42, metavar="S")
    gen.add_argument("--roster-members", type=int, default=None, metavar="N",
                     help="rows of members.csv (default: about 50 per household); the roll, "
                          "civil file and truth are the same whatever N")

    explain = commands.add_parser("explain", help="the evidence for a roll row's best candidates")
    explain.add_argument("--run", type=Path, required=True, metavar="DIR")
    explain.add_argument("--roll-id", required=True, metavar="ID", help="档案编号 of the roll row")
    explain.add_argument("--top", type=int, default=3, metavar="N")

    evaluate = commands.add_parser("evaluate", help="score a run against a truth/ folder")
    evaluate.add_argument("--run", type=Path, required=True, metavar="DIR")
    evaluate.add_argument("--truth", type=Path, required=True, metavar="DIR")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")

    from pipeline.review.cli import add_parser as add_review_parser  # light: no pandas

    add_review_parser(commands)
    _debug_everywhere(commands)
    return parser


def _debug_everywhere(commands: argparse._SubParsersAction) -> None:
    """`--debug` after the command too (`bidui run … --debug`, `bidui review record --debug`),
    as operators type it: each subcommand, nested ones included, accepts it. Its default is
    SUPPRESS, so a subcommand without it leaves the top-level flag as it was given."""
    for sub in commands.choices.values():
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                         help="show tracebacks of internal errors")
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                _debug_everywhere(action)


def night_request(args: argparse.Namespace):
    """The `NightRequest` of a parsed `bidui run` command line."""
    from pipeline.night import NightRequest

    return NightRequest(union=list(args.union), civil=list(args.civil),
                        members=list(args.members), out=args.out, as_of=args.as_of,
                        config_path=args.config, state_dir=args.state,
                        pseudonymise=args.pseudonymise, key_file=args.key_file,
                        engine=args.engine, dask_address=args.dask_address)


# Imported while Prefect's temporary server starts: the stages need them anyway.
PRELOAD = ("flows.nightly", "pipeline.stages", "pipeline.validate.stage",
           "pipeline.link.comparisons.kernels")


def check_input_paths(paths: list[Path]) -> None:
    """Every input of a `bidui run`, checked before Prefect starts, so that a mistyped path
    fails at once (exit 2) rather than after the server's start-up: each exists and is what
    its extension says (`readers.input_kind`, as ingest checks it). InputError; when several
    files do not exist, one message names them all."""
    from pipeline.ingest.readers import input_kind

    missing = [str(path) for path in paths if not Path(path).exists()]
    if len(missing) > 1:
        raise InputError(f"{len(missing)} input files do not exist: {', '.join(missing)}.",
                         "check the paths given on the command line.")
    for path in paths:
        input_kind(Path(path))


def cmd_run(args: argparse.Namespace) -> int:
    request = night_request(args)
    request.check()
    check_input_paths([*request.union, *request.civil, *request.members])
    # The configuration and the linking specs it names are validated before any work (and
    # before Prefect starts): a bad one exits 2 naming the file, the key and the fix.
    config = load_config(args.config)
    if args.pseudonymise:
        from pipeline.pseudonymise import load_key

        load_key(args.key_file)  # refuse to start (before Prefect) without a key
    from flows.settings import apply_offline_settings

    apply_offline_settings()
    from flows.server import start_early, use

    server = start_early()  # boots on the other core while this process imports
    import importlib

    for module in PRELOAD:
        importlib.import_module(module)
    from flows.nightly import StageFailure, nightly
    from pipeline.redaction import install_redaction

    install_redaction()  # after Prefect configured its handlers
    use(server)
    as_of = args.as_of or today_in(config["timezone"])
    state = nightly(union=request.union, civil=request.civil, members=request.members,
                    out=request.out, as_of=as_of, config_path=request.config_path,
                    state_dir=request.state_dir, pseudonymise=request.pseudonymise,
                    key_file=request.key_file, engine=request.engine,
                    dask_address=request.dask_address, return_state=True)
    if state.is_completed():
        print(summary_text(state.result(), args.out))
        return 0
    outcome = state.result(raise_on_failure=False)
    failure = outcome if isinstance(outcome, StageFailure) else None
    message = failure.message if failure else (state.message or "the run failed.")
    print(failure_text(message), file=sys.stderr)
    return failure.exit_code if failure else INTERNAL_ERROR_EXIT


def failure_text(message: str) -> str:
    """What `bidui` prints on stderr for an expected failure: one paragraph."""
    return f"bidui: {message}"


def summary_text(manifest: dict, out: Path) -> str:
    """What `bidui run` prints on stdout for a published night: counts only. Per source, the
    rows read and where each went (linked + unlinked + quarantined + non-data = read: the
    manifest's accounting; non-data rows are notes, totals and template rows)."""
    totals = manifest["accounting"]
    lines = [f"bidui: published {out} (as of {manifest['as_of']})"]
    for source, t in totals.items():
        lines.append(f"  {source:8s} read {t['rows_read']:>8,}  linked {t['rows_linked']:>8,}  "
                     f"unlinked {t['rows_unlinked']:>8,}  quarantined {t['rows_quarantined']:>6,}"
                     f"  non-data {t.get('rows_non_data', 0):>5,}")
    for name, info in manifest["outputs"].items():
        lines.append(f"  {name:24s} {info['rows']:>8,} rows")
    return "\n".join(lines)


def cmd_generate(args: argparse.Namespace) -> int:
    from pipeline.generate import MIN_HOUSEHOLDS, generate

    if args.households < MIN_HOUSEHOLDS:
        raise InputError(f"--households must be at least {MIN_HOUSEHOLDS} (each planted "
                         "discrepancy kind needs a few households).",
                         f"pass {MIN_HOUSEHOLDS} or more.")
    if args.roster_members is not None and args.roster_members < 1:
        raise InputError("--roster-members must be at least 1.", "pass a positive number.")
    summary = generate(args.out, households=args.households, seed=args.seed,
                       roster_members=args.roster_members)
    reference = json.loads((args.out / "truth" / "meta.json").read_text("utf-8"))[
        "reference_date"]
    night = night_command(args.out, reference)
    summary.update({"reference_date": reference, "run_night": night})
    print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    # After the JSON (stdout stays one JSON document): what a human needs next.
    print(f"bidui: the truth in {args.out / 'truth'} is true as of {reference}: run the night "
          f"as of that date, then evaluate it:\n  {night}\n"
          f"  bidui evaluate --run RUN_DIR --truth {shlex.quote(str(args.out / 'truth'))}",
          file=sys.stderr)
    return 0


def night_command(folder: Path, as_of: str) -> str:
    """`bidui run` of a generated set in ``folder`` as of ``as_of`` (into RUN_DIR)."""
    from pipeline.generate import CIVIL_FILE, MEMBERS_FILE, ROLL_FILE

    def path(name: str) -> str:
        return shlex.quote(str(folder / name))

    return (f"bidui run --union {path(ROLL_FILE)} --civil {path(CIVIL_FILE)} "
            f"--members {path(MEMBERS_FILE)} --out RUN_DIR --as-of {as_of}")


def cmd_evaluate(args: argparse.Namespace) -> int:
    from pipeline.evaluate import evaluate_run, format_scores

    scores = evaluate_run(args.run, args.truth)
    for warning in scores["warnings"]:  # first; the scores carry them too (JSON and table)
        print(f"bidui: warning: {warning}", file=sys.stderr)
    print(json.dumps(scores, indent=2) if args.json else format_scores(scores))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    import pandas as pd

    from pipeline.link.explain import explain_roll_row

    evidence_path, model_path = args.run / "link_evidence.parquet", args.run / "link_model.json"
    for path in (evidence_path, model_path):
        if not path.exists():
            raise InputError("the run output is missing.", "pass the --out folder of a "
                             "completed `bidui run`.", file=str(path))
    model = json.loads(model_path.read_text("utf-8"))
    prior_weight = float(model["models"]["union_civil"]["prior_weight"])
    print(explain_roll_row(pd.read_parquet(evidence_path), args.roll_id, prior_weight, args.top,
                           quarantine=_roll_quarantine(args.run / "quarantine.parquet")))
    return 0


def _roll_quarantine(path: Path):
    """The roll's rows of a run's quarantine.parquet (provenance, reason, raw_roll_id only;
    a roster's many rows are not read), or None without one."""
    import pandas as pd
    import pyarrow.parquet as pq

    if not path.exists():
        return None
    names = set(pq.read_schema(path).names)
    if "raw_roll_id" not in names:
        return None
    wanted = [c for c in ("source", "source_file", "source_sheet", "source_row", "reason",
                          "raw_roll_id") if c in names]
    return pd.read_parquet(path, columns=wanted, filters=[("source", "==", "union")])


def cmd_review(args: argparse.Namespace) -> int:
    """`bidui review import FILE… --state DIR`: record analysts' filled review.xlsx copies."""
    from pipeline.review.cli import run

    return run(args)


COMMANDS = {"run": cmd_run, "generate": cmd_generate, "evaluate": cmd_evaluate,
            "explain": cmd_explain, "review": cmd_review}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # hidden alias of the benchmarks' own `python -m benchmarks`
        from benchmarks.cli import main as bench_main

        return bench_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.debug:  # the flow's stage tasks then keep an unexpected error's traceback
        os.environ["BIDUI_DEBUG"] = "1"
    try:
        return COMMANDS[args.command](args)
    except BiduiError as error:
        print(failure_text(error.paragraph()), file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("bidui: interrupted; nothing was published.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed: not an error of ours
        sys.stderr.close()
        return 0
    except Exception as error:
        if args.debug:
            raise
        print(f"bidui: internal error ({type(error).__name__}); nothing was published. "
              "Run again with --debug to see the traceback, and report it.", file=sys.stderr)
        return INTERNAL_ERROR_EXIT


if __name__ == "__main__":
    sys.exit(main())

"""`bidui review import FILE… --state DIR [--check]`: record analysts' decisions now.

The same reading and checks as the nightly inbox (`pipeline.review.inbox`), against the
findings history in DIR; the accepted rows are appended to the decision log at once (the next
night uses them), the files stay where they are. Prints, per file, what was recorded and each
refused row with its row, column and reason (never a cell's value). Exit 0 when every filled
row was recorded, 2 when a row was refused or a file could not be read (the rows that passed
are recorded all the same, unless --check).

The product command line registers it with `add_parser(subparsers)` and dispatches
`args.command == "review"` to `run(args)`; `main(argv)` runs it on its own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.errors import BiduiError, InputError

REFUSED_EXIT = 2


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add `review` (with its `import` command) to the product CLI's subparsers."""
    review = subparsers.add_parser("review", help="analysts' review decisions (review.xlsx)")
    commands = review.add_subparsers(dest="review_command", required=True)
    record = commands.add_parser(
        "import", help="record filled review.xlsx copies (or CSV) into the state's decision log",
        description="Read filled review.xlsx copies (or CSV in UTF-8 / GBK), check every row "
                    "against the findings history, and record the accepted decisions.")
    record.add_argument("files", nargs="+", type=Path, metavar="FILE",
                        help="filled review.xlsx copies, or CSV files with the same headers")
    record.add_argument("--state", type=Path, required=True, metavar="DIR",
                        help="the state folder the nightly run uses (--state of bidui run)")
    record.add_argument("--check", action="store_true",
                        help="only check the files: record nothing")
    return review


def run(args: argparse.Namespace) -> int:
    """`bidui review import`: print what was recorded and refused; the exit code."""
    from pipeline.detect.tracking import read_history
    from pipeline.review.inbox import import_files
    from pipeline.state import StateStore

    root = Path(args.state)
    if not root.is_dir():
        raise InputError(f"the state folder {root} does not exist.",
                         "pass the --state folder of the nightly run (it holds "
                         "findings_history.parquet).")
    plan = import_files(root, list(args.files), read_history(StateStore(root)))
    if not args.check:
        plan.commit(root)
    verb = "可记录" if args.check else "已记录"
    refused = plan.refused
    for report in plan.files:
        if report.status != "read":
            line = f"{report.file}：无法读取，未导入"
        else:
            line = (f"{report.file}：{verb} {report.imported} 条，未采用 {report.refused} 条，"
                    f"此前已记录 {report.unchanged} 条")
        print(line)
        for row in refused[refused["source_file"] == report.file].itertuples(index=False):
            sheet = (f"“{row.source_sheet}”表" if isinstance(row.source_sheet, str)
                     and row.source_sheet else "")  # a workbook of several sheets: which one
            where = f"  {sheet}第 {row.source_row} 行" if row.source_row is not None and \
                str(row.source_row) != "<NA>" else "  "
            column = f"［{row.column}］" if isinstance(row.column, str) else ""
            print(f"{where}{column}{row.reason}")
    if args.check:
        print("（--check：未记录任何处理结果）")
    return REFUSED_EXIT if len(refused) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bidui")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except BiduiError as error:
        print(f"bidui: {error.paragraph()}", file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())

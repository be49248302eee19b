"""The summary table of docs/discrepancies.md, generated from the rule registry.

The table sits between the markers BEGIN and END; everything else in the page is written by
hand. After adding or changing a rule:

    python -m pipeline.detect.docs           # rewrite the table in docs/discrepancies.md
    python -m pipeline.detect.docs --check   # exit 1 if the committed table is out of date

(`tests/test_rule_registry.py` fails while the committed table differs from the registry.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.detect.rules import Rule, rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "discrepancies.md"
BEGIN = ("<!-- rules:begin (generated from pipeline/detect/rules/ by "
         "`python -m pipeline.detect.docs`: edit the rule modules, not this table) -->")
END = "<!-- rules:end -->"
MONEY_TEXT = {"at_risk": "at risk", "outreach": "outreach", None: "—"}


def _row(rule: Rule) -> str:
    module = rule.module.rsplit(".", 1)[-1]
    cells = (
        f"[`{rule.code}`](#{rule.code.lower()})",
        rule.label_zh,
        rule.severity,
        ", ".join(f"`{k}`" for k in rule.keys),
        MONEY_TEXT[rule.money],
        "no truth" if rule.truth_key is None else ", ".join(f"`{k}`" for k in rule.truth_key),
        f"[`{module}.py`](../pipeline/detect/rules/{module}.py)",
    )
    return "| " + " | ".join(cells) + " |"


def rules_table() -> str:
    """The table (markdown) of every registered rule, in registry order, markers included."""
    lines = [BEGIN,
             "| code | report label | severity | keys every finding carries | amount "
             "| evaluated on | rule |",
             "|---|---|---|---|---|---|---|",
             *(_row(rule) for rule in rules()),
             END]
    return "\n".join(lines)


def with_table(text: str) -> str:
    """``text`` (the page) with the table between the markers replaced by the current one."""
    start = text.find(BEGIN.split(" (", 1)[0])
    end = text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{DOC.name} has no {BEGIN!r} … {END!r} markers")
    return text[:start] + rules_table() + text[end + len(END):]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.detect.docs",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only check that the committed table is up to date")
    parser.add_argument("--doc", type=Path, default=DOC, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    text = args.doc.read_text("utf-8")
    fresh = with_table(text)
    if fresh == text:
        print(f"{args.doc}: the rules table is up to date")
        return 0
    if args.check:
        print(f"{args.doc}: the rules table is out of date; run python -m pipeline.detect.docs",
              file=sys.stderr)
        return 1
    args.doc.write_text(fresh, encoding="utf-8")
    print(f"{args.doc}: rules table rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())

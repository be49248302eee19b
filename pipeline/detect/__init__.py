"""Detect: each discrepancy code of SPEC §4 is a small rule in `pipeline.detect.rules`.

Adding a rule: write `rules/<code>.py` declaring CODE, SEVERITY, LABEL_ZH, KEYS, MONEY,
TRUTH_KEY and `detect(ctx)`, add its name to `RULE_MODULES` in `rules/__init__.py` (the
registry every other place reads), add its test beside the others, regenerate the table of
docs/discrepancies.md (`python -m pipeline.detect.docs`) and describe the code there.
"""

from __future__ import annotations

import pandas as pd

from pipeline.detect.finding import COLUMNS, SEVERITIES, DetectContext, empty_findings

# Not `import rules`: the name `pipeline.detect.rules` stays the registry package.
from pipeline.detect.rules import rules as registered_rules

SEVERITY_ORDER = {severity: i for i, severity in enumerate(SEVERITIES)}


def detect_all(ctx: DetectContext) -> pd.DataFrame:
    """Every registered rule's findings, sorted deterministically (severity, type, keys)."""
    frames = [rule.detect(ctx) for rule in registered_rules()]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return empty_findings()
    findings = pd.concat(frames, ignore_index=True)
    order = findings["severity"].map(SEVERITY_ORDER)
    findings = findings.assign(_order=order).sort_values(
        ["_order", "type", "union_roll_id", "civil_case_id", "civil_member_no", "member_id"],
        kind="mergesort", na_position="last").drop(columns="_order")
    return findings.reset_index(drop=True)[list(COLUMNS)]


__all__ = ["DetectContext", "detect_all"]

"""Detect: each discrepancy code of SPEC §4 is a small rule in `pipeline.detect.rules`.

Adding a rule: write `rules/<code>.py` with CODE, SEVERITY and `detect(ctx)`, list it in RULES,
add its test beside the others, and document it in docs/discrepancies.md.
"""

from __future__ import annotations

import pandas as pd

from pipeline.detect.finding import COLUMNS, DetectContext, empty_findings
from pipeline.detect.rules import (
    assistance_ended,
    assistance_type_mismatch,
    category_inconsistent,
    claimed_assistance_not_found,
    deceased,
    duplicate_roll_entry,
    household_size_mismatch,
    id_name_conflict,
    invalid_id,
    not_on_hardship_roll,
    possible_match_review,
    unclaimed_assistance,
)

RULES = (
    invalid_id, duplicate_roll_entry, id_name_conflict, claimed_assistance_not_found,
    assistance_ended, assistance_type_mismatch, unclaimed_assistance, household_size_mismatch,
    deceased, not_on_hardship_roll, category_inconsistent, possible_match_review,
)

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def detect_all(ctx: DetectContext) -> pd.DataFrame:
    """Every rule's findings, sorted deterministically (severity, type, keys)."""
    frames = [rule.detect(ctx) for rule in RULES]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return empty_findings()
    findings = pd.concat(frames, ignore_index=True)
    order = findings["severity"].map(SEVERITY_ORDER)
    findings = findings.assign(_order=order).sort_values(
        ["_order", "type", "union_roll_id", "civil_case_id", "civil_member_no", "member_id"],
        kind="mergesort", na_position="last").drop(columns="_order")
    return findings.reset_index(drop=True)[list(COLUMNS)]


__all__ = ["RULES", "DetectContext", "detect_all"]

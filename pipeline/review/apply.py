"""What analysts' decisions add to the detect stage.

A possible match an analyst decided is no longer a `possible` link (`apply_labels` made it a
`clerical` match, or no link), so the POSSIBLE_MATCH_REVIEW rule no longer sees it. Its
finding is kept here, from the decided pair, with the same id and evidence: confirmed, it
stays in `discrepancies.parquet` with status `confirmed` (not resolved, not dropped);
dismissed, it is counted as dismissed on review (not resolved). If the pair's records
changed since the decision (other evidence), the finding is raised again as a new question.

`review_counts` (re-exported from `pipeline.detect.tracking`) gives the counts per review
state for the manifest, the report and the Prefect summary.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from pipeline.detect.finding import COLUMNS, DetectContext, empty_findings
from pipeline.detect.tracking import review_counts
from pipeline.link.people import CLERICAL

REVIEW_CODE = "POSSIBLE_MATCH_REVIEW"


def reviewed_pair_findings(ctx: DetectContext, pairs: pd.DataFrame | None) -> pd.DataFrame:
    """POSSIBLE_MATCH_REVIEW findings of the pairs an analyst decided (method `clerical`).

    `pairs`: every candidate pair with its decision and method (the link stage's
    `Links.evidence`; `ctx.links` holds only the confirmed ones)."""
    from pipeline.detect.rules import possible_match_review

    if pairs is None or pairs.empty or "method" not in pairs.columns:
        return empty_findings()
    decided = pairs[(pairs["method"].astype("string") == CLERICAL).fillna(False).astype(bool)]
    if decided.empty:
        return empty_findings()
    as_asked = decided.assign(decision=pd.array(["possible"] * len(decided), dtype="string"))
    return possible_match_review.detect(dataclasses.replace(ctx, links=as_asked))


def with_reviewed_pairs(findings: pd.DataFrame, ctx: DetectContext,
                        pairs: pd.DataFrame | None) -> pd.DataFrame:
    """`detect_all(ctx)`'s findings plus `reviewed_pair_findings`, in detect_all's order."""
    from pipeline.detect import SEVERITY_ORDER

    extra = reviewed_pair_findings(ctx, pairs)
    if extra.empty:
        return findings
    extra = extra[~extra["discrepancy_id"].isin(set(findings["discrepancy_id"]))]
    parts = [f for f in (findings, extra) if not f.empty]
    combined = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    order = combined["severity"].map(SEVERITY_ORDER)
    combined = combined.assign(_order=order).sort_values(
        ["_order", "type", "union_roll_id", "civil_case_id", "civil_member_no", "member_id"],
        kind="mergesort", na_position="last").drop(columns="_order")
    return combined.reset_index(drop=True)[[c for c in COLUMNS if c in combined.columns]]




def detect_and_track(ctx: DetectContext, pairs: pd.DataFrame | None,
                     decisions: pd.DataFrame | None, history: pd.DataFrame, as_of):
    """The detect stage with decisions: every rule's findings, the decided pairs' findings,
    then the lifecycle (`pipeline.detect.tracking.track_frames`) → TrackedFindings."""
    from pipeline.detect import detect_all
    from pipeline.detect.tracking import track_frames

    findings = with_reviewed_pairs(detect_all(ctx), ctx, pairs)
    return track_frames(findings, decisions, history, as_of)


__all__ = ["detect_and_track", "review_counts", "reviewed_pair_findings", "with_reviewed_pairs"]

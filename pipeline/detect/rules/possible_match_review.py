"""POSSIBLE_MATCH_REVIEW: a probabilistic roll → civil link in the clerical-review band.

Rule: one finding per link with decision `possible` whose roll entry is 在档. `union_value`
lists the comparisons that did not agree exactly (from the link's `<name>_level` columns);
`match_probability` is the link's. Severity low: nothing is wrong yet, but until the pair is
decided the civil-comparison codes cannot see it (a claim may show as
CLAIMED_ASSISTANCE_NOT_FOUND meanwhile). No amount at risk.
Analyst: compare the two records (ID, name, birth date, address) and record same / not same.
"""

from __future__ import annotations

import pandas as pd

from pipeline.detect.common import POSSIBLE, active_roll, links_with
from pipeline.detect.finding import DetectContext, findings_frame

CODE = "POSSIBLE_MATCH_REVIEW"
SEVERITY = "low"
LABEL_ZH = "疑似匹配待人工核查"
KEYS = ("union_roll_id", "civil_case_id", "civil_member_no")
MONEY = None
TRUTH_KEY = None


def _disagreements(links: pd.DataFrame) -> pd.Series:
    levels = [c for c in links.columns if c.endswith("_level")]
    texts = []
    for _, row in links[levels].iterrows():
        parts = [f"{c.removesuffix('_level')}:{row[c]}" for c in levels
                 if pd.notna(row[c]) and row[c] != "exact"]
        texts.append(";".join(parts) if parts else pd.NA)
    return pd.Series(texts, index=links.index, dtype="string")


def detect(ctx: DetectContext) -> pd.DataFrame:
    roll = active_roll(ctx.union).set_index("row_key")
    links = links_with(ctx, POSSIBLE)
    hit = links[links["union_row_key"].astype(str).isin(set(roll.index.astype(str)))]
    hit = hit.sort_values(["union_roll_id", "civil_case_id", "civil_member_no"],
                          kind="mergesort")
    rows = pd.DataFrame({
        "union_roll_id": hit["union_roll_id"],
        "civil_case_id": hit["civil_case_id"],
        "civil_member_no": hit["civil_member_no"],
        "district_code": roll["district_code"].reindex(hit["union_row_key"]).to_numpy(),
        "union_value": _disagreements(hit),
        "match_probability": hit["match_probability"],
    }, index=hit.index)
    probability = (hit["match_probability"].astype(float) * 100).round(0).astype(int).astype(str)
    summary = "档案" + hit["union_roll_id"].astype("string") + "与民政家庭" + \
        hit["civil_case_id"].astype("string") + "成员" + hit["civil_member_no"].astype("string") + \
        "疑似为同一人（匹配概率" + probability + "%），请人工复核。"
    return findings_frame(CODE, SEVERITY, rows, summary, ctx.as_of)

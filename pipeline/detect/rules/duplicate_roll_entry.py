"""DUPLICATE_ROLL_ENTRY: one worker with two or more 在档 roll entries.

Inputs: the roll's duplicate groups (same person, e.g. filed by a district union and by an
industry union). One finding per entry of the group; `union_value` lists the other entries.
Severity high: help may be paid twice. Amount at risk: only the extra entries are at stake, so
12 × the 低保 standard goes on every entry of a group but the first in sorted roll-id order
(that one carries NaN); the group's total is then the money that may be paid twice.
Analyst: keep one entry, close the others, and check that help was not paid twice.
"""

from __future__ import annotations

import pandas as pd

from pipeline.detect.common import yearly_allowance
from pipeline.detect.finding import DetectContext, findings_frame

CODE = "DUPLICATE_ROLL_ENTRY"
SEVERITY = "high"
LABEL_ZH = "重复建档"
KEYS = ("union_roll_id",)
MONEY = "at_risk"
TRUTH_KEY = ("union_roll_id",)


def detect(ctx: DetectContext) -> pd.DataFrame:
    dups = ctx.roll_duplicates
    if dups.empty:
        return findings_frame(CODE, SEVERITY, pd.DataFrame(), pd.Series(dtype="string"), ctx.as_of)
    roll = ctx.union.set_index("row_key")
    ids_by_group = dups.groupby("group")["roll_id"].agg(lambda s: sorted(s.astype(str)))
    others = [
        ",".join(r for r in ids_by_group[g] if r != rid)
        for g, rid in zip(dups["group"], dups["roll_id"].astype(str), strict=True)
    ]
    # The first entry of each group (by roll id, then row) is the one to keep: no amount.
    order = dups.assign(_rid=dups["roll_id"].astype(str), _key=dups["row_key"].astype(str))
    order = order.sort_values(["group", "_rid", "_key"], kind="mergesort")
    extra = order.duplicated("group").reindex(dups.index)
    rows = pd.DataFrame({
        "union_roll_id": dups["roll_id"],
        "district_code": roll.loc[dups["row_key"], "district_code"].to_numpy(),
        "union_value": others,
        "amount_at_risk_yuan": extra.map({True: yearly_allowance(ctx), False: float("nan")}),
    })
    summary = "档案" + rows["union_roll_id"].astype(str) + "与档案" + rows["union_value"] + \
        "为同一职工重复建档（均在档），请保留一份并核查是否重复帮扶。"
    return findings_frame(CODE, SEVERITY, rows, summary, ctx.as_of)

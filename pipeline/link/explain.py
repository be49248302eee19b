"""A readable waterfall of the evidence behind a roll row's best candidates.

Pure text from a run's `link_evidence.parquet` (each roll row's best candidate pairs, with
every comparison's level and weight, and masked names and ID numbers only) and the prior
weight from `link_model.json`. Each line adds one comparison's log2 Bayes factor to the
running total; the last line turns the total into the match probability.
"""

from __future__ import annotations

import math

import pandas as pd

BAR_BITS = 2.0  # one bar character per this many bits


def _bar(weight: float) -> str:
    n = min(round(abs(weight) / BAR_BITS), 20)
    return ("+" if weight > 0 else "-") * n


def waterfall(pair: pd.Series, prior_weight: float) -> list[str]:
    comparisons = [c[: -len("_level")] for c in pair.index
                   if c.endswith("_level") and f"{c[: -len('_level')]}_weight" in pair.index]
    lines = [f"  {'prior (log2 odds)':28s} {prior_weight:+8.2f}   total {prior_weight:+8.2f}"]
    total = prior_weight
    for name in comparisons:
        weight = float(pair[f"{name}_weight"])
        total += weight
        label = f"{name}: {pair[f'{name}_level']}"
        lines.append(f"  {label:28s} {weight:+8.2f}   total {total:+8.2f}  {_bar(weight)}")
    probability = 1.0 / (1.0 + math.pow(2.0, -total)) if total > -1000 else 0.0
    lines.append(f"  {'= match probability':28s} {probability:8.6f}")
    return lines


def explain_roll_row(evidence: pd.DataFrame, roll_id: str, prior_weight: float,
                     top: int = 3) -> str:
    rows = evidence[evidence["union_roll_id"].astype(str) == str(roll_id)]
    if rows.empty:
        return f"档案 {roll_id}: no candidate pairs in this run (no blocking key shared)."
    rows = rows.sort_values("match_weight", ascending=False, kind="mergesort").head(top)
    first = rows.iloc[0]
    out = [f"档案 {roll_id}  roll: {first['union_name_masked']}  {first['union_id_masked']}",
           f"best {len(rows)} candidate(s) in civil affairs, strongest first:"]
    for rank, (_, pair) in enumerate(rows.iterrows(), start=1):
        out.append("")
        out.append(f"#{rank} case {pair['civil_case_id']} member {pair['civil_member_no']}: "
                   f"{pair['civil_name_masked']}  {pair['civil_id_masked']}   "
                   f"decision: {pair['decision']}  ({pair['method']})")
        out.extend(waterfall(pair, prior_weight))
    return "\n".join(out)

"""A readable waterfall of the evidence behind a roll row's best candidates, in Chinese.

Pure text from a run's `link_evidence.parquet` (each roll row's best candidate pairs, with
every comparison's level and weight, and masked names and ID numbers only) and the prior
weight from `link_model.json`. Each line adds one comparison's log2 Bayes factor (权重) to the
running total (累计); the last line turns the total into the match probability. Levels are
named by their Chinese labels (`ComparisonLevel.label_zh`, read from the linking spec);
numbers are kept as they are. Columns are aligned by display width (a Chinese character takes
two columns in a terminal).
"""

from __future__ import annotations

import functools
import math
import unicodedata
from pathlib import Path

import pandas as pd

BAR_BITS = 2.0  # one bar character per this many bits
LABEL_WIDTH = 34  # display columns for the comparison and its level

# What each comparison of the roll ↔ civil spec compares, for an analyst.
COMPARISON_NAMES = {"name": "姓名", "id_number": "身份证号", "birth_date": "出生日期",
                    "sex": "性别", "district": "区县", "street": "街道", "address": "地址"}
DECISION_NAMES = {"match": "匹配", "possible": "疑似匹配（待人工核查）", "none": "不匹配"}
METHOD_NAMES = {"id_exact": "身份证号完全一致", "probabilistic": "概率模型",
                "clerical": "人工确认"}

Labels = dict[str, dict[str, str]]


@functools.cache
def level_labels(spec: str | Path = "union_civil") -> Labels:
    """Each comparison's level names → Chinese labels, from a linking spec (a shipped name or
    a path, as `link_model.json`'s `specs` records it); the null level included."""
    from pipeline.link.comparisons.base import NULL
    from pipeline.link.spec import load_spec

    labels: Labels = {}
    for comparison in load_spec(spec).comparisons:
        built = comparison.build()
        labels[comparison.name] = {level.name: level.label_zh for level in built.levels}
        labels[comparison.name][NULL.name] = NULL.label_zh
    return labels


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 1)


def _bar(weight: float) -> str:
    n = min(round(abs(weight) / BAR_BITS), 20)
    return ("+" if weight > 0 else "-") * n


def _line(label: str, weight: float | None, total: float) -> str:
    shown = f"{weight:+8.2f}" if weight is not None else " " * 8
    bar = f"  {_bar(weight)}" if weight is not None else ""
    return f"  {_pad(label, LABEL_WIDTH)}{shown}   {total:+8.2f}{bar}".rstrip()


def waterfall(pair: pd.Series, prior_weight: float, labels: Labels | None = None) -> list[str]:
    """One candidate's lines: the prior, each comparison's level and weight with the running
    total, then the match probability."""
    labels = level_labels() if labels is None else labels
    comparisons = [c[: -len("_level")] for c in pair.index
                   if c.endswith("_level") and f"{c[: -len('_level')]}_weight" in pair.index]
    lines = [f"  {_pad('比较项：比较结果', LABEL_WIDTH)}{'权重':>6s}   {'累计':>6s}",
             _line("先验（log2 赔率）", None, prior_weight)]
    total = prior_weight
    for name in comparisons:
        weight = float(pair[f"{name}_weight"])
        total += weight
        level = str(pair[f"{name}_level"])
        label = labels.get(name, {}).get(level, level)
        lines.append(_line(f"{COMPARISON_NAMES.get(name, name)}：{label}", weight, total))
    probability = 1.0 / (1.0 + math.pow(2.0, -total)) if total > -1000 else 0.0
    lines.append(f"  {_pad('= 匹配概率', LABEL_WIDTH)}{probability:8.6f}")
    return lines


def explain_roll_row(evidence: pd.DataFrame, roll_id: str, prior_weight: float,
                     top: int = 3, labels: Labels | None = None,
                     quarantine: pd.DataFrame | None = None) -> str:
    """The text `bidui explain` prints: the roll row (masked), then its best `top` civil-affairs
    candidates, strongest first, each with its waterfall and the decision taken.

    `roll_id` is read as the roll's 档案编号 is (spaces trimmed, full-width forms folded). A
    roll id without candidates: where the run's `quarantine` (quarantine.parquet) holds it,
    the rows and why they were set aside; else that it had no candidate, or is not in the
    run's roll at all."""
    roll_id = _as_roll_id(roll_id)
    rows = evidence[evidence["union_roll_id"].astype(str) == roll_id]
    if rows.empty:
        return _without_candidates(roll_id, quarantine)
    rows = rows.sort_values("match_weight", ascending=False, kind="mergesort").head(top)
    first = rows.iloc[0]
    out = [f"档案 {roll_id}  档案登记：{first['union_name_masked']}  {first['union_id_masked']}",
           f"民政救助数据中证据最强的 {len(rows)} 个候选（由强到弱）；"
           f"权重为 log2 贝叶斯因子，正数支持是同一人，负数反对："]
    for rank, (_, pair) in enumerate(rows.iterrows(), start=1):
        decision = str(pair["decision"])
        method = str(pair["method"])
        out.append("")
        out.append(f"#{rank} 家庭 {pair['civil_case_id']} 成员 {pair['civil_member_no']}："
                   f"{pair['civil_name_masked']}  {pair['civil_id_masked']}   "
                   f"判定：{DECISION_NAMES.get(decision, decision)}"
                   f"（{METHOD_NAMES.get(method, method)}）")
        out.extend(waterfall(pair, prior_weight, labels))
    return "\n".join(out)


def _as_roll_ids(values: pd.Series) -> pd.Series:
    """档案编号 as the roll's normaliser reads them (the `key` kind: spaces trimmed,
    full-width forms folded), string dtype, <NA> for a blank."""
    from pipeline.normalise.fields import KINDS

    return KINDS["key"]("roll_id", values.astype(object)).columns["roll_id"].astype("string")


def _as_roll_id(text: str) -> str:
    """A typed 档案编号 as the roll's normaliser reads it (`_as_roll_ids`)."""
    value = _as_roll_ids(pd.Series([text])).iloc[0]
    return str(text).strip() if pd.isna(value) else str(value)


def _without_candidates(roll_id: str, quarantine: pd.DataFrame | None) -> str:
    """What to say of a roll id with no candidate pair: its quarantined rows (file, sheet,
    row, reason), or that it had no candidate or is not in the run's roll."""
    if quarantine is not None and "raw_roll_id" in quarantine.columns and len(quarantine):
        set_aside = quarantine[(quarantine["source"].astype(str) == "union")
                               & (_as_roll_ids(quarantine["raw_roll_id"])
                                  == roll_id).fillna(False).astype(bool)]
        if len(set_aside):
            lines = [f"档案 {roll_id} 在本次输入中被隔离，未参与比对（见 quarantine.parquet）："]
            for row in set_aside.itertuples(index=False):
                sheet = getattr(row, "source_sheet", None)
                where = f"{row.source_file}" + (f"，工作表 {sheet}" if isinstance(sheet, str)
                                                 else "") + f"，第 {row.source_row} 行"
                lines.append(f"  {where}：{row.reason}")
            return "\n".join(lines)
    return (f"档案 {roll_id}：本次比对中没有它的民政候选记录。它可能与民政数据没有共同的分块键"
            "（例如身份证号、出生日期加姓氏、姓名），也可能不在本次的困难职工档案中："
            "请核对档案编号。")

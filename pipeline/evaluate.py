"""Score a run's outputs against a generator's `truth/` folder: precision, recall, F1.

Links are scored on `match` decisions as (roll id, case id, member no) triples, with recall
broken down by the kind of roll-side ID (valid, typo, legacy, Excel-damaged, blank, permits,
placeholders, shared numbers …) and by every other ``*_kind`` column the truth's links carry
(civil-side ID, name spelling, birth-date cell), and precision by linking method. Findings are
scored per code on the code's entity key; INVALID_ID is also compared row by row per kind of
roll-side ID (truth/roll_id_kinds.csv), so a kind the pipeline wrongly calls invalid (or
wrongly accepts) shows by name.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.detect.rules import rules
from pipeline.errors import InputError

LINK_KEY = ("union_roll_id", "civil_case_id", "civil_member_no")
MEMBER_LINK_KEY = ("civil_case_id", "civil_member_no", "member_id")
# The entity a finding of a code outside the rule registry is scored on: the roll entry.
DEFAULT_FINDING_KEY = ("union_roll_id",)
ROLL_ID_KIND = "id_kind"  # reported as recall_by_id_kind (the headline breakdown)
KIND_TITLES: dict[str, str] = {
    "id_kind": "roll-side ID kind",
    "civil_id_kind": "civil-side ID kind",
    "name_kind": "roll name kind",
    "birth_kind": "roll birth-date kind",
}


def prf(predicted: set, actual: set) -> dict[str, float | int]:
    true_positive = len(predicted & actual)
    precision = true_positive / len(predicted) if predicted else 1.0
    recall = true_positive / len(actual) if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 6), "recall": round(recall, 6), "f1": round(f1, 6),
            "predicted": len(predicted), "actual": len(actual), "true_positive": true_positive}


def _tuples(frame: pd.DataFrame, columns: tuple[str, ...]) -> set[tuple[str, ...]]:
    if frame.empty:
        return set()
    clean = frame[list(columns)].astype("string").fillna("")
    return set(clean.itertuples(index=False, name=None))


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputError("the truth file is missing.", "pass the truth/ folder that "
                         "`bidui generate` wrote beside the inputs.", file=str(path))
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _read_parquet(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputError("the run output is missing.", "pass the --out folder of a "
                         "completed `bidui run`.", file=str(path))
    return pd.read_parquet(path)


def score_links(links: pd.DataFrame, truth: pd.DataFrame) -> dict:
    matches = links[links["decision"] == "match"]
    actual = _tuples(truth, LINK_KEY)
    scores = {"all": prf(_tuples(matches, LINK_KEY), actual)}
    scores["by_method"] = {
        str(method): prf(_tuples(group, LINK_KEY), actual)
        for method, group in matches.groupby("method")
    }
    predicted = _tuples(matches, LINK_KEY)
    by_kind = {column: _recall_by(predicted, truth, column) for column in truth.columns
               if column.endswith("_kind")}
    if ROLL_ID_KIND in by_kind:
        scores["recall_by_id_kind"] = by_kind.pop(ROLL_ID_KIND)
    if by_kind:
        scores["recall_by_kind"] = by_kind
    return scores


def _recall_by(predicted: set, truth: pd.DataFrame, column: str) -> dict[str, float]:
    """Recall of the true links of each value of ``column``."""
    return {
        str(kind): prf(predicted & _tuples(group, LINK_KEY), _tuples(group, LINK_KEY))["recall"]
        for kind, group in truth.groupby(column)
    }


def invalid_id_by_kind(findings: pd.DataFrame, truth: pd.DataFrame,
                       kinds: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per kind of roll-side ID, over 在档 roll rows: how many rows, how many are INVALID_ID in
    truth and in the run, and on how many rows the two agree."""
    active = kinds[kinds["roll_status"] == "在档"]
    run = {rid for (rid,) in _tuples(findings[findings["type"] == "INVALID_ID"],
                                     DEFAULT_FINDING_KEY)}
    true = {rid for (rid,) in _tuples(truth[truth["type"] == "INVALID_ID"],
                                      DEFAULT_FINDING_KEY)}
    out = {}
    for kind, group in active.groupby(ROLL_ID_KIND):
        rows = group["union_roll_id"].astype(str).tolist()
        out[str(kind)] = {
            "rows": len(rows),
            "truth": sum(r in true for r in rows),
            "run": sum(r in run for r in rows),
            "agree": sum((r in true) == (r in run) for r in rows),
        }
    return out


def finding_keys() -> dict[str, tuple[str, ...] | None]:
    """Every discrepancy code of the rule registry, in its order, with the entity a finding is
    scored on against the truth (the rule's TRUTH_KEY: the roll entry, or the roster member for
    NOT_ON_HARDSHIP_ROLL); None when the generator plants no truth for the code (clerical
    review): its findings are counted."""
    return {rule.code: rule.truth_key for rule in rules()}


def score_findings(findings: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Per code (every registered code, then any other code seen, sorted): precision, recall
    and F1 on the code's entity, or the count of findings of a code without truth."""
    scores: dict[str, dict] = {}
    keys = finding_keys()
    seen = set(truth["type"].astype(str)) | set(findings["type"].dropna().astype(str))
    for code in [*keys, *sorted(seen - set(keys))]:
        key = keys.get(code, DEFAULT_FINDING_KEY)
        if key is None:
            scores[code] = {"count": int((findings["type"] == code).sum())}
            continue
        predicted = _tuples(findings[findings["type"] == code], key)
        actual = _tuples(truth[truth["type"] == code], key)
        scores[code] = prf(predicted, actual)
    return scores


def evaluate_run(run: Path, truth: Path) -> dict:
    findings = _read_parquet(run / "discrepancies.parquet")
    true_findings = _read_csv(truth / "discrepancies.csv")
    scores = {
        "links": score_links(_read_parquet(run / "links.parquet"),
                             _read_csv(truth / "links.csv")),
        "discrepancies": score_findings(findings, true_findings),
    }
    if (truth / "roll_id_kinds.csv").exists():
        scores["invalid_id_by_kind"] = invalid_id_by_kind(
            findings, true_findings, _read_csv(truth / "roll_id_kinds.csv"))
    member_links = run / "member_links.parquet"
    if member_links.exists() and (truth / "member_links.csv").exists():
        predicted = _read_parquet(member_links)
        scores["member_links"] = prf(
            _tuples(predicted[predicted["decision"] == "match"], MEMBER_LINK_KEY),
            _tuples(_read_csv(truth / "member_links.csv"), MEMBER_LINK_KEY))
    return scores


def format_scores(scores: dict) -> str:
    lines = ["what                              precision  recall     f1   predicted  actual"]

    def row(name: str, s: dict) -> None:
        lines.append(f"{name:32s} {s['precision']:>9.4f} {s['recall']:>7.4f} {s['f1']:>6.4f} "
                     f"{s['predicted']:>10} {s['actual']:>7}")

    row("links (match)", scores["links"]["all"])
    for method, s in scores["links"]["by_method"].items():
        row(f"  method {method}", s)
    if "member_links" in scores:
        row("member links (match)", scores["member_links"])
    for code, s in scores["discrepancies"].items():
        if "count" in s:
            lines.append(f"{code:32s} count {s['count']} (no truth: clerical review)")
        else:
            row(code, s)
    breakdowns = {}
    if "recall_by_id_kind" in scores["links"]:
        breakdowns[ROLL_ID_KIND] = scores["links"]["recall_by_id_kind"]
    breakdowns.update(scores["links"].get("recall_by_kind", {}))
    for column, recalls in breakdowns.items():
        lines.append(f"link recall by {KIND_TITLES.get(column, column)}:")
        for kind, recall in recalls.items():
            lines.append(f"  {kind:30s} {recall:.4f}")
    if "invalid_id_by_kind" in scores:
        lines.append("INVALID_ID by roll-side ID kind (在档 rows):  rows  truth    run  agree")
        for kind, c in scores["invalid_id_by_kind"].items():
            lines.append(f"  {kind:30s} {c['rows']:>10} {c['truth']:>6} {c['run']:>6} "
                         f"{c['agree']:>6}")
    return "\n".join(lines)

"""Score a run's outputs against a generator's `truth/` folder: precision, recall, F1.

Links are scored on `match` decisions as (roll id, case id, member no) triples, with recall
broken down by the kind of roll-side ID (valid, typo, legacy, Excel-damaged, blank …) and
precision by linking method. Findings are scored per code on the code's entity key.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.errors import InputError

LINK_KEY = ("union_roll_id", "civil_case_id", "civil_member_no")
MEMBER_LINK_KEY = ("civil_case_id", "civil_member_no", "member_id")
# The entity a finding is about, per code (SPEC §4); default: the roll entry.
FINDING_KEYS: dict[str, tuple[str, ...]] = {"NOT_ON_HARDSHIP_ROLL": ("member_id",)}
DEFAULT_FINDING_KEY = ("union_roll_id",)
UNTRUTHED_CODES = ("POSSIBLE_MATCH_REVIEW",)


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
    if "id_kind" in truth.columns:
        predicted = _tuples(matches, LINK_KEY)
        scores["recall_by_id_kind"] = {
            str(kind): prf(predicted & _tuples(group, LINK_KEY), _tuples(group, LINK_KEY))["recall"]
            for kind, group in truth.groupby("id_kind")
        }
    return scores


def score_findings(findings: pd.DataFrame, truth: pd.DataFrame) -> dict:
    scores: dict[str, dict] = {}
    codes = sorted(set(truth["type"]) | set(findings["type"].dropna().astype(str)))
    for code in codes:
        if code in UNTRUTHED_CODES:
            scores[code] = {"count": int((findings["type"] == code).sum())}
            continue
        key = FINDING_KEYS.get(code, DEFAULT_FINDING_KEY)
        predicted = _tuples(findings[findings["type"] == code], key)
        actual = _tuples(truth[truth["type"] == code], key)
        scores[code] = prf(predicted, actual)
    return scores


def evaluate_run(run: Path, truth: Path) -> dict:
    scores = {
        "links": score_links(_read_parquet(run / "links.parquet"),
                             _read_csv(truth / "links.csv")),
        "discrepancies": score_findings(_read_parquet(run / "discrepancies.parquet"),
                                        _read_csv(truth / "discrepancies.csv")),
    }
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
    if "recall_by_id_kind" in scores["links"]:
        lines.append("link recall by roll-side ID kind:")
        for kind, recall in scores["links"]["recall_by_id_kind"].items():
            lines.append(f"  {kind:30s} {recall:.4f}")
    return "\n".join(lines)

"""Score a run's outputs against a generator's `truth/` folder: precision, recall, F1.

Links are scored on `match` decisions as (roll id, case id, member no) triples, with recall
broken down by the kind of roll-side ID (valid, typo, legacy, Excel-damaged, blank, permits,
placeholders, shared numbers …) and by every other ``*_kind`` column the truth's links carry
(civil-side ID, name spelling, birth-date cell), and by linking method: the precision of the
method's matches and the share of all true links it found (``by_method``'s ``recall`` is that
share, also given as ``share_of_true_links``: the truth does not say which method should find
a link, so there is no recall within a method). Findings are scored per code on the code's
entity key; INVALID_ID is also compared row by row per kind of roll-side ID
(truth/roll_id_kinds.csv), so a kind the pipeline wrongly calls invalid (or wrongly accepts)
shows by name.

The findings are true as of the truth's reference date (meta.json's ``reference_date``): a
run as of another date (manifest.json's ``as_of``) is scored all the same, with a warning
(``warnings``) that its discrepancy figures are not meaningful.
"""

from __future__ import annotations

import json
import shlex
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
        str(method): _method_scores(_tuples(group, LINK_KEY), actual)
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


def _method_scores(predicted: set, actual: set) -> dict[str, float | int]:
    """One method's matches against all the true links: its precision, and the share of all
    true links it found (``share_of_true_links``; ``recall`` is the same figure under its
    old name and ``f1`` is computed from it: neither is a recall within the method, which the
    truth cannot give, as it does not say which method should find a link)."""
    scores = prf(predicted, actual)
    scores["share_of_true_links"] = scores["recall"]
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


def _json_field(path: Path, field: str) -> str | None:
    """``field`` of the JSON object in ``path`` as text, or None (no file, not JSON, no field)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get(field)
    except (OSError, ValueError, AttributeError):
        return None
    return str(value) if value else None


def as_of_dates(run: Path, truth: Path) -> dict[str, str | None]:
    """The run's as-of (its manifest.json) and the date the truth is true as of (meta.json's
    ``reference_date``; None for truth folders written before it was recorded)."""
    return {"run": _json_field(run / "manifest.json", "as_of"),
            "truth_reference_date": _json_field(truth / "meta.json", "reference_date")}


def rerun_command(run: Path, as_of: str) -> str:
    """``bidui run`` of the run's inputs (from its manifest) into ``run`` as of ``as_of``;
    ``…`` stands for inputs the manifest does not name."""
    try:
        inputs = json.loads((run / "manifest.json").read_text(encoding="utf-8"))["inputs"]
        paths = {source: list(dict.fromkeys(i["path"] for i in inputs if i["source"] == source))
                 for source in ("union", "civil", "members")}
    except (OSError, ValueError, KeyError, TypeError):
        paths = {}
    words = ["bidui", "run"]
    for source in ("union", "civil", "members"):
        if paths.get(source) or source != "members":
            words += [f"--{source}", *(shlex.quote(str(p)) for p in paths.get(source) or ["…"])]
    return " ".join([*words, "--out", shlex.quote(str(run)), "--as-of", as_of])


def as_of_warning(run: Path, dates: dict[str, str | None]) -> str | None:
    """The warning when the run's as-of is not the truth's reference date (`dates`:
    `as_of_dates`); None when they are the same or either is unknown (a truth folder without
    a reference date: nothing to say)."""
    run_as_of, reference = dates["run"], dates["truth_reference_date"]
    if not run_as_of or not reference or run_as_of == reference:
        return None
    return (f"the run is as of {run_as_of} (its manifest.json) but the truth is true as of "
            f"{reference} (truth/meta.json's reference_date): the discrepancy figures are "
            f"only meaningful for a night run as of {reference} (which findings are due "
            f"depends on the date). Run the night again as of {reference} (with its other "
            f"options as before), then evaluate it again: "
            f"{rerun_command(run, reference)}")


def evaluate_run(run: Path, truth: Path) -> dict:
    findings = _read_parquet(run / "discrepancies.parquet")
    true_findings = _read_csv(truth / "discrepancies.csv")
    dates = as_of_dates(run, truth)
    warning = as_of_warning(run, dates)
    scores = {
        "warnings": [warning] if warning else [],
        "as_of": dates,
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
    lines = [f"WARNING: {warning}" for warning in scores.get("warnings", [])]
    lines.append("what                              precision  recall     f1   predicted  actual")

    def row(name: str, s: dict) -> None:
        lines.append(f"{name:32s} {s['precision']:>9.4f} {s['recall']:>7.4f} {s['f1']:>6.4f} "
                     f"{s['predicted']:>10} {s['actual']:>7}")

    row("links (match)", scores["links"]["all"])
    if "member_links" in scores:
        row("member links (match)", scores["member_links"])
    for code, s in scores["discrepancies"].items():
        if "count" in s:
            lines.append(f"{code:32s} count {s['count']} (no truth: clerical review)")
        else:
            row(code, s)
    if scores["links"]["by_method"]:
        lines.append(f"links by method: the precision of its matches, and the share of all "
                     f"{scores['links']['all']['actual']} true links it found (not a recall "
                     f"within the method):")
        lines.append(f"  {'method':30s} precision  share of true links  found  matches")
        for method, s in scores["links"]["by_method"].items():
            lines.append(f"  {method:30s} {s['precision']:>9.4f} {s['recall']:>19.4f} "
                         f"{s['true_positive']:>6} {s['predicted']:>8}")
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

"""Scoring against truth."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.evaluate import format_scores, invalid_id_by_kind, prf, score_findings, score_links


def test_prf() -> None:
    scores = prf({1, 2, 3, 4}, {2, 3, 4, 5, 6})
    assert scores["precision"] == 0.75 and scores["recall"] == 0.6
    assert abs(scores["f1"] - 2 * 0.75 * 0.6 / 1.35) < 1e-6


def test_links_scored_on_matches_with_recall_by_id_kind() -> None:
    links = pd.DataFrame({
        "union_roll_id": ["R1", "R2", "R3"], "civil_case_id": ["C1", "C2", "C9"],
        "civil_member_no": ["1", "1", "1"], "decision": ["match", "match", "possible"],
        "method": ["id_exact", "id_exact", "id_exact"]})
    truth = pd.DataFrame({
        "union_roll_id": ["R1", "R2", "R3"], "civil_case_id": ["C1", "C2", "C3"],
        "civil_member_no": ["1", "2", "1"], "id_kind": ["valid", "valid", "typo"]})
    scores = score_links(links, truth)
    assert scores["all"]["precision"] == 0.5 and scores["all"]["true_positive"] == 1
    assert scores["recall_by_id_kind"] == {"typo": 0.0, "valid": 0.5}


def test_findings_scored_per_code_on_their_entity() -> None:
    findings = pd.DataFrame({"type": ["INVALID_ID", "NOT_ON_HARDSHIP_ROLL",
                                      "POSSIBLE_MATCH_REVIEW"],
                             "union_roll_id": ["R1", None, "R5"], "member_id": [None, "M1", None]})
    truth = pd.DataFrame({"type": ["INVALID_ID", "INVALID_ID", "NOT_ON_HARDSHIP_ROLL"],
                          "union_roll_id": ["R1", "R2", ""], "member_id": ["", "", "M1"]})
    scores = score_findings(findings, truth)
    assert scores["INVALID_ID"]["recall"] == 0.5 and scores["INVALID_ID"]["precision"] == 1.0
    assert scores["NOT_ON_HARDSHIP_ROLL"]["f1"] == 1.0
    assert scores["POSSIBLE_MATCH_REVIEW"] == {"count": 1}


def test_links_recall_by_every_kind_column() -> None:
    links = pd.DataFrame({
        "union_roll_id": ["R1", "R2"], "civil_case_id": ["C1", "C2"],
        "civil_member_no": ["1", "1"], "decision": ["match", "match"],
        "method": ["probabilistic", "id_exact"]})
    truth = pd.DataFrame({
        "union_roll_id": ["R1", "R2", "R3"], "civil_case_id": ["C1", "C2", "C3"],
        "civil_member_no": ["1", "1", "1"], "id_kind": ["placeholder", "permit_hk", "shared"],
        "civil_id_kind": ["valid", "valid", "text_formula"],
        "name_kind": ["pua_roll", "standard", "dash_separator"],
        "birth_kind": ["stated", "excel_1900_02_29", "stated"]})
    scores = score_links(links, truth)
    assert scores["recall_by_id_kind"] == {"permit_hk": 1.0, "placeholder": 1.0, "shared": 0.0}
    assert scores["recall_by_kind"]["civil_id_kind"] == {"text_formula": 0.0, "valid": 1.0}
    assert scores["recall_by_kind"]["name_kind"]["dash_separator"] == 0.0
    assert scores["recall_by_kind"]["birth_kind"] == {"excel_1900_02_29": 1.0, "stated": 0.5}
    text = format_scores({"links": scores, "discrepancies": {}})
    assert "link recall by civil-side ID kind:" in text
    assert "link recall by roll birth-date kind:" in text


def test_invalid_id_compared_row_by_row_per_kind() -> None:
    kinds = pd.DataFrame({
        "union_roll_id": ["R1", "R2", "R3", "R4", "R5"],
        "id_kind": ["permit_tw", "placeholder", "placeholder", "shared", "typo"],
        "roll_status": ["在档", "在档", "在档", "在档", "已脱困"]})
    truth = pd.DataFrame({"type": ["INVALID_ID"] * 3, "union_roll_id": ["R2", "R3", "R4"],
                          "member_id": ["", "", ""]})
    findings = pd.DataFrame({"type": ["INVALID_ID", "INVALID_ID"],
                             "union_roll_id": ["R1", "R2"], "member_id": [None, None]})
    by_kind = invalid_id_by_kind(findings, truth, kinds)
    assert by_kind == {
        "permit_tw": {"rows": 1, "truth": 0, "run": 1, "agree": 0},
        "placeholder": {"rows": 2, "truth": 2, "run": 1, "agree": 1},
        "shared": {"rows": 1, "truth": 1, "run": 0, "agree": 0},
    }
    text = format_scores({"links": {"all": prf(set(), set()), "by_method": {}},
                          "discrepancies": {}, "invalid_id_by_kind": by_kind})
    assert "INVALID_ID by roll-side ID kind" in text and "permit_tw" in text


# --- the run's as-of against the truth's reference date; the per-method lines -------------

RUN_LINKS = pd.DataFrame({
    "union_roll_id": ["R1", "R2"], "civil_case_id": ["C1", "C2"], "civil_member_no": ["1", "1"],
    "decision": ["match", "match"], "method": ["id_exact", "probabilistic"]})


def _run_and_truth(tmp_path: Path, run_as_of: str | None,
                   reference_date: str | None) -> tuple[Path, Path]:
    """A run folder (links, findings, manifest.json as of ``run_as_of``) and a truth folder
    (meta.json with ``reference_date``, none when None) with four true links."""
    run, truth = tmp_path / "run", tmp_path / "truth"
    run.mkdir()
    truth.mkdir()
    RUN_LINKS.to_parquet(run / "links.parquet")
    pd.DataFrame({"type": ["INVALID_ID"], "union_roll_id": ["R9"], "member_id": [None]}
                 ).to_parquet(run / "discrepancies.parquet")
    manifest = {"as_of": run_as_of, "inputs": [
        {"source": "union", "path": "/data/gen/union_roll.xlsx"},
        {"source": "civil", "path": "/data/gen/civil_exchange.csv"}]}
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    pd.DataFrame({"union_roll_id": ["R1", "R2", "R3", "R4"],
                  "civil_case_id": ["C1", "C2", "C3", "C4"],
                  "civil_member_no": ["1"] * 4}).to_csv(truth / "links.csv", index=False)
    pd.DataFrame({"type": ["INVALID_ID"], "union_roll_id": ["R9"], "member_id": [""]}
                 ).to_csv(truth / "discrepancies.csv", index=False)
    meta = {"seed": 1} if reference_date is None else {"reference_date": reference_date}
    (truth / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return run, truth


def _evaluate(run: Path, truth: Path, capsys, *options: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["evaluate", "--run", str(run), "--truth", str(truth), *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("options", [(), ("--json",)])
def test_evaluate_warns_when_run_as_of_is_not_truth_reference_date(tmp_path, capsys,
                                                                    options) -> None:
    run, truth = _run_and_truth(tmp_path, "2025-06-30", "2026-06-30")
    code, out, err = _evaluate(run, truth, capsys, *options)
    assert code == 0  # a warning, not a failure
    first = err.splitlines()[0]
    assert first.startswith("bidui: warning:")
    assert "2025-06-30" in first and "2026-06-30" in first
    assert "discrepancy figures are only meaningful for a night run as of 2026-06-30" in first
    assert ("bidui run --union /data/gen/union_roll.xlsx --civil /data/gen/civil_exchange.csv "
            f"--out {run} --as-of 2026-06-30") in first
    if options:
        scores = json.loads(out)  # stdout stays one JSON document
        assert scores["as_of"] == {"run": "2025-06-30", "truth_reference_date": "2026-06-30"}
        assert len(scores["warnings"]) == 1 and "--as-of 2026-06-30" in scores["warnings"][0]
        assert scores["links"]["all"]["recall"] == 0.5  # scored all the same
    else:
        assert out.startswith("WARNING: the run is as of 2025-06-30")


@pytest.mark.parametrize(("run_as_of", "reference_date"), [
    ("2026-06-30", "2026-06-30"),  # the same date
    ("2025-06-30", None),          # a truth folder written before the date was recorded
    (None, "2026-06-30"),          # a manifest without an as-of
])
def test_evaluate_says_nothing_when_dates_agree_or_are_unknown(tmp_path, capsys, run_as_of,
                                                               reference_date) -> None:
    run, truth = _run_and_truth(tmp_path, run_as_of, reference_date)
    code, out, err = _evaluate(run, truth, capsys, "--json")
    assert code == 0 and err == ""
    assert json.loads(out)["warnings"] == []
    code, out, err = _evaluate(run, truth, capsys)
    assert code == 0 and err == "" and "WARNING" not in out


def test_evaluate_without_manifest_or_meta_says_nothing(tmp_path, capsys) -> None:
    run, truth = _run_and_truth(tmp_path, "2025-06-30", "2026-06-30")
    (run / "manifest.json").unlink()
    (truth / "meta.json").unlink()
    code, out, err = _evaluate(run, truth, capsys, "--json")
    assert code == 0 and err == ""
    assert json.loads(out)["as_of"] == {"run": None, "truth_reference_date": None}


def test_per_method_lines_give_precision_and_share_of_true_links(tmp_path, capsys) -> None:
    """A method's figure against all true links is its share of them, not its recall: the
    table says so, and the JSON names it (keeping `recall` for the readers of by_method)."""
    run, truth = _run_and_truth(tmp_path, "2026-06-30", "2026-06-30")
    code, out, _ = _evaluate(run, truth, capsys, "--json")
    assert code == 0
    by_method = json.loads(out)["links"]["by_method"]
    assert by_method["probabilistic"]["share_of_true_links"] == 0.25
    assert by_method["probabilistic"]["recall"] == 0.25  # the key other code reads, unchanged
    assert by_method["id_exact"]["precision"] == 1.0
    _, text, _ = _evaluate(run, truth, capsys)
    assert "share of all 4 true links it found (not a recall within the method)" in text
    line = next(line for line in text.splitlines() if line.strip().startswith("probabilistic"))
    assert line.split() == ["probabilistic", "1.0000", "0.2500", "1", "1"]
    assert "method probabilistic" not in text  # no longer a row of the P/R/F1 table

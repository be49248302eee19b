"""An analyst's review round trip, end to end, in-process.

Nights are real nights (`pipeline.night.run_night`, `night` below): the night imports the
inbox first, links with the decisions as labels, detects and tracks, writes the outputs
(review.xlsx, review_import.parquet, manifest["review"]), publishes, and only then records
the decisions and moves the files. Between nights an analyst fills review.xlsx with
openpyxl, as Excel or WPS would, or saves decisions as a GBK CSV the way Chinese Excel does;
a garbled file never stops a night.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from pipeline import stages
from pipeline.config import load_config
from pipeline.detect.tracking import TrackedFindings
from pipeline.generate import generate
from pipeline.generate.constants import REFERENCE_DATE
from pipeline.night import NightRequest, run_night
from pipeline.review import inbox, workbook
from pipeline.review.log import read_log
from tests.helpers import civil_without_ids_of

NIGHT1 = REFERENCE_DATE
NIGHT2 = NIGHT1 + dt.timedelta(days=1)
NIGHT3 = NIGHT2 + dt.timedelta(days=1)
NIGHT4 = NIGHT3 + dt.timedelta(days=1)
ANALYST, NOTE = "欧阳娜娜", "该户已于六月搬离本市，经社区核实"  # must never reach a log


@dataclass(frozen=True)
class Tonight:
    """What the night read of the state (as `pipeline.state.StateSnapshot`), with tonight's
    decisions: the log and the inbox's accepted rows (`ImportPlan.decisions`)."""

    root: Path
    history: pd.DataFrame
    decisions: pd.DataFrame


@dataclass
class Night:
    tracked: TrackedFindings
    links: pd.DataFrame
    plan: inbox.ImportPlan
    manifest: dict
    out: Path


def night(inputs: stages.Inputs, state: Path, out: Path, as_of: dt.date) -> Night:
    """One real night (`run_night`, validation and publishing included), with the detect
    stage's tracked findings and the report stage's import plan kept through the runner."""
    seen: dict = {}

    def runner(name, function, *args):
        result = function(*args)
        if name == "detect":
            seen["tracked"] = result
        elif name == "report":
            seen["plan"] = args[-2]  # (…, review, roster_pass)
        return result

    result = run_night(NightRequest(union=inputs.union, civil=inputs.civil,
                                    members=inputs.members, out=out, as_of=as_of,
                                    state_dir=state), runner=runner)
    return Night(seen["tracked"], pd.read_parquet(out / "links.parquet"), seen["plan"],
                 result.manifest, out)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> stages.Inputs:
    """A generated input set where some people are only possible matches: their civil
    record lost its ID number and has another address."""
    root = tmp_path_factory.mktemp("review_inputs")
    generate(root / "in", households=120, seed=5)
    union, members = root / "in" / "union_roll.xlsx", root / "in" / "members.csv"
    first = stages.Inputs([union], [root / "in" / "civil_exchange.csv"], [members])
    normalised = stages.normalise(stages.ingest(first), NIGHT1)
    exact = stages.link(normalised, load_config()).links
    exact = exact[exact["method"] == "id_exact"].head(10)
    civil_without_ids_of(root / "in" / "civil_exchange.csv", exact, root / "civil.csv")
    return stages.Inputs([union], [root / "civil.csv"], [members])


def _sheet_columns(sheet) -> dict[str, int]:
    return {cell.value: cell.column for cell in sheet[1]}


@pytest.fixture(scope="module")
def round_trip(inputs, tmp_path_factory) -> dict:
    from openpyxl import load_workbook

    root = tmp_path_factory.mktemp("review_nights")
    state = root / "state"
    first = night(inputs, state, root / "out1", NIGHT1)

    # The analyst opens review.xlsx, decides three rows and saves it under a name of their own.
    book = load_workbook(first.out / "review.xlsx")
    sheet = book[workbook.SHEET]
    columns = _sheet_columns(sheet)
    rows = {sheet.cell(r, columns[workbook.ID]).value: r for r in range(2, sheet.max_row + 1)}
    findings = first.tracked.findings.set_index("discrepancy_id")
    review_ids = [i for i in rows if findings.loc[i, "type"] == "POSSIBLE_MATCH_REVIEW"]
    other_ids = [i for i in rows if findings.loc[i, "type"] not in
                 ("POSSIBLE_MATCH_REVIEW", "NOT_ON_HARDSHIP_ROLL")]
    dismissed, confirmed, misspelt = other_ids[0], review_ids[0], other_ids[1]

    def fill(identifier: str, decision: str, who: str, note: str | None = None) -> None:
        row = rows[identifier]
        sheet.cell(row, columns[workbook.DECISION]).value = decision
        sheet.cell(row, columns[workbook.REVIEWER]).value = who
        sheet.cell(row, columns[workbook.NOTE]).value = note
        sheet.cell(row, columns[workbook.DATE]).value = dt.date(2026, 7, 1)

    fill(dismissed, "驳回", "张伟", "已电话核实，家庭人口无误")
    fill(confirmed, "确认", "李娜")
    fill(misspelt, "Dismissd", "王芳")  # a value outside the dropdown's list
    (state / "inbox").mkdir(parents=True, exist_ok=True)
    book.save(state / "inbox" / "七月一日 处理结果.xlsx")
    second = night(inputs, state, root / "out2", NIGHT2)
    third = night(inputs, state, root / "out3", NIGHT3)
    return {"first": first, "second": second, "third": third, "state": state, "root": root,
            "dismissed": dismissed, "confirmed": confirmed, "misspelt": misspelt,
            "rows": rows, "review_ids": review_ids, "other_ids": other_ids}


def test_review_workbook_is_ready_for_excel(round_trip) -> None:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    first = round_trip["first"]
    book = load_workbook(first.out / "review.xlsx")
    sheet = book[workbook.SHEET]
    columns = _sheet_columns(sheet)
    assert list(columns) == list(workbook.HEADERS)
    assert sheet.freeze_panes == "A2"
    last = get_column_letter(len(workbook.HEADERS))
    assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}"
    validations = sheet.data_validations.dataValidation
    assert len(validations) == 1 and validations[0].type == "list"
    assert validations[0].formula1 == '"确认,驳回,待核实"'
    letter = sheet.cell(1, columns[workbook.DECISION]).column_letter
    assert str(validations[0].sqref) == f"{letter}2:{letter}{sheet.max_row}"
    for header in (workbook.ID, workbook.EVIDENCE):
        assert sheet.column_dimensions[sheet.cell(1, columns[header]).column_letter].hidden
    open_findings = first.tracked.findings[first.tracked.findings["status"].isin(
        ["new", "persisting"])]
    assert sheet.max_row - 1 == len(open_findings) > 10
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert {row[columns["状态"] - 1] for row in values} == {"新增"}
    assert {row[columns["严重程度"] - 1] for row in values} <= {"高", "中", "低"}
    assert "疑似匹配待人工核查" in {row[columns["问题类型"] - 1] for row in values}
    probabilities = [row[columns["匹配概率"] - 1] for row in values
                     if row[columns["匹配概率"] - 1] is not None]
    assert probabilities and all(round(p, 2) == p for p in probabilities)
    ids = [row[columns["身份证号"] - 1] for row in values if row[columns["身份证号"] - 1]]
    assert ids and all("*" in i for i in ids)  # masked
    assert all(row[columns[workbook.DECISION] - 1] is None for row in values)
    assert book[workbook.HELP_SHEET]["A1"].value


def test_second_night_applies_the_dismissal_and_refuses_the_bad_row(round_trip) -> None:
    second, dismissed = round_trip["second"], round_trip["dismissed"]
    findings = second.tracked.findings
    assert dismissed not in set(findings["discrepancy_id"])
    assert list(second.tracked.dismissed["discrepancy_id"]) == [dismissed]
    assert second.tracked.resolved.empty  # nothing counted as resolved
    lifecycle = second.manifest["findings_lifecycle"]
    assert lifecycle["resolved"] == 0
    assert lifecycle["dismissed_on_review"] == 1 and lifecycle["confirmed"] == 1

    refused = pd.read_parquet(second.out / "review_import.parquet")
    assert len(refused) == 1
    row = refused.iloc[0]
    assert row["reason_code"] == "not_in_list" and row["column"] == "处理结果"
    assert row["source_row"] == round_trip["rows"][round_trip["misspelt"]]
    assert row["discrepancy_id"] == round_trip["misspelt"]
    assert row["source_file"] == "七月一日 处理结果.xlsx"
    assert "确认 / 驳回 / 待核实" in row["reason"]
    # the misspelt row's finding is still open, undecided
    misspelt = findings.set_index("discrepancy_id").loc[round_trip["misspelt"]]
    assert misspelt["status"] == "persisting" and pd.isna(misspelt["review_decision"])

    review = second.manifest["review"]
    assert (review["imported"], review["refused"]) == (2, 1)
    assert review["files"][0]["moved_to"].startswith("inbox/done/")
    assert [(r["source_row"], r["reason_code"]) for r in review["files"][0]["refusals"]] == [
        (round_trip["rows"][round_trip["misspelt"]], "not_in_list")]
    assert review["warnings"] and "review_import.parquet" in review["warnings"][0]
    state = round_trip["state"]
    assert not list(inbox.inbox_files(state))
    log, warning = read_log(state)
    assert warning is None and len(log) == 2
    assert set(log["source_file"]) == {"七月一日 处理结果.xlsx"}
    assert set(log["decided_by"]) == {"张伟", "李娜"} and set(log["decided_at"]) == {"2026-07-01"}


def test_second_night_confirmed_possible_match_is_a_clerical_match(round_trip) -> None:
    second, confirmed = round_trip["second"], round_trip["confirmed"]
    finding = second.tracked.findings.set_index("discrepancy_id").loc[confirmed]
    assert finding["status"] == "confirmed"
    assert finding["review_decision"] == "confirmed" and finding["reviewed_by"] == "李娜"
    assert finding["reviewed_at"] == pd.Timestamp("2026-07-01")
    key = (finding["union_roll_id"], finding["civil_case_id"], finding["civil_member_no"])
    links = second.links.set_index(["union_roll_id", "civil_case_id", "civil_member_no"])
    assert links.loc[key, "decision"] == "match" and links.loc[key, "method"] == "clerical"
    first_links = round_trip["first"].links.set_index(
        ["union_roll_id", "civil_case_id", "civil_member_no"])
    assert first_links.loc[key, "decision"] == "possible"
    # the other possible matches are untouched
    others = [i for i in round_trip["review_ids"] if i != confirmed]
    status = second.tracked.findings.set_index("discrepancy_id")["status"]
    assert all(status[i] == "persisting" for i in others)

    published = pd.read_parquet(second.out / "discrepancies.parquet")
    row = published.set_index("discrepancy_id").loc[confirmed]
    assert (row["status"], row["review_decision"], row["reviewed_by"]) == (
        "confirmed", "confirmed", "李娜")
    # decided findings are no longer in the workbook to fill
    from openpyxl import load_workbook

    sheet = load_workbook(second.out / "review.xlsx")[workbook.SHEET]
    ids = {c.value for c in sheet[sheet.cell(1, len(workbook.HEADERS) - 1).column_letter]}
    assert confirmed not in ids and round_trip["dismissed"] not in ids
    assert round_trip["misspelt"] in ids


def test_third_night_keeps_the_decisions_and_imports_nothing_twice(round_trip) -> None:
    third = round_trip["third"]
    status = third.tracked.findings.set_index("discrepancy_id")["status"]
    assert status[round_trip["confirmed"]] == "confirmed"
    assert round_trip["dismissed"] not in status.index
    assert third.tracked.resolved.empty
    assert third.manifest["review"] == {"imported": 0, "refused": 0, "files": [],
                                        "warnings": []}
    assert third.manifest["findings_lifecycle"]["dismissed_on_review"] == 1


@pytest.fixture(scope="module")
def gbk_night(round_trip, inputs, tmp_path_factory) -> dict:
    """After the round trip: a GBK CSV with a Chinese name and note (as Chinese Excel saves
    CSV), then a night with garbled files only."""
    state, third = round_trip["state"], round_trip["third"]
    findings = third.tracked.findings
    target = findings[(findings["status"] == "persisting")
                      & ~findings["discrepancy_id"].isin([round_trip["misspelt"]])
                      & (findings["type"] != "POSSIBLE_MATCH_REVIEW")].iloc[0]
    text = ("问题编号,处理结果,备注,处理人,处理日期,依据\r\n"
            f"{target['discrepancy_id']},驳回,{NOTE},{ANALYST},2026/7/3,{target['evidence']}\r\n")
    (state / "inbox" / "decisions.csv").write_bytes(text.encode("gbk"))
    return {"target": target["discrepancy_id"]}


def test_gbk_csv_is_applied_and_its_name_and_note_stay_out_of_logs(
        round_trip, gbk_night, inputs, caplog, capsys) -> None:
    state, root = round_trip["state"], round_trip["root"]
    caplog.set_level(logging.DEBUG)
    fourth = night(inputs, state, root / "out4", NIGHT4)
    assert gbk_night["target"] not in set(fourth.tracked.findings["discrepancy_id"])
    assert fourth.manifest["review"]["imported"] == 1
    assert fourth.manifest["review"]["files"][0]["encoding"] == "gb18030"
    assert fourth.tracked.resolved.empty
    log, _ = read_log(state)
    assert ANALYST in set(log["decided_by"]) and NOTE in set(log["note"])
    captured = capsys.readouterr()
    records = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    assert records  # the import logged what it did, in counts
    for secret in (ANALYST, NOTE, ANALYST.encode("gbk").decode("latin-1")):
        assert all(secret not in text for text in records)
        assert secret not in captured.out and secret not in captured.err
        assert secret not in json.dumps(fourth.manifest, ensure_ascii=False)


def test_garbled_files_are_a_warning_and_the_night_keeps_its_decisions(
        round_trip, gbk_night, inputs, tmp_path, caplog) -> None:
    import random

    state = round_trip["state"]
    box = state / "inbox"
    (box / "review.xlsx").write_bytes(random.Random(7).randbytes(4096))  # not a workbook
    (box / "decisions2.csv").write_bytes(b"\x80\xff\x81\x30" * 64)  # neither UTF-8 nor GB
    (box / "junk.csv").write_bytes("随便写的一些字\n没有表头\n".encode("gbk"))
    (box / "~$review.xlsx").write_bytes(b"lock")  # Excel's lock file: left alone
    caplog.set_level(logging.DEBUG)
    fifth = night(inputs, state, tmp_path / "out5", NIGHT4 + dt.timedelta(days=1))
    review = fifth.manifest["review"]
    assert review["imported"] == 0 and review["refused"] == 3 and len(review["warnings"]) == 3
    assert {f["status"] for f in review["files"]} == {"unreadable"}
    refused = pd.read_parquet(fifth.out / "review_import.parquet")
    assert sorted(refused["reason_code"]) == ["no_header", "unreadable_file", "unreadable_file"]
    assert refused["source_row"].isna().all()
    # the decisions recorded before still hold
    ids = set(fifth.tracked.findings["discrepancy_id"])
    assert round_trip["dismissed"] not in ids and gbk_night["target"] not in ids
    status = fifth.tracked.findings.set_index("discrepancy_id")["status"]
    assert status[round_trip["confirmed"]] == "confirmed"
    assert sorted(p.name for p in (box / "failed").iterdir()) == sorted(
        f"{fifth.plan.stamp}_{n}" for n in ("review.xlsx", "decisions2.csv", "junk.csv"))
    assert [p.name for p in inbox.inbox_files(state)] == []
    assert (box / "~$review.xlsx").exists()
    assert any(r.levelno == logging.WARNING for r in caplog.records)

"""Decision files in every form, every refusal with its reason, the decision log, the CLI."""

from __future__ import annotations

import datetime as dt
import logging
import stat
from pathlib import Path

import pandas as pd
import pytest

from pipeline.detect.finding import findings_frame
from pipeline.detect.lifecycle import apply_history, empty_history, evidence_hash
from pipeline.review import decision_code, inbox
from pipeline.review import log as decision_log

NIGHT1, NIGHT2 = dt.date(2026, 7, 1), dt.date(2026, 7, 2)
NOW = dt.datetime(2026, 7, 2, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
NAME, NOTE = "欧阳娜娜", "户主已去世，家属另行申请"
HEADER_ZH = "问题编号,处理结果,备注,处理人,处理日期,依据\r\n"
HEADER_EN = "discrepancy_id,decision,note,decided_by,decided_at,evidence\r\n"


def findings(values: dict[str, str], as_of: dt.date = NIGHT1) -> pd.DataFrame:
    rows = pd.DataFrame({"union_roll_id": list(values), "union_value": list(values.values()),
                         "civil_value": ["4"] * len(values)})
    return findings_frame("HOUSEHOLD_SIZE_MISMATCH", "medium", rows,
                          pd.Series(["…"] * len(values)), as_of)


@pytest.fixture
def night1() -> dict:
    tonight = findings({"R1": "3", "R2": "3", "R3": "3"})
    _, history, _ = apply_history(tonight, empty_history(), NIGHT1)
    tonight["evidence"] = evidence_hash(tonight)
    return {"findings": tonight.set_index("union_roll_id"), "history": history}


def line(finding: pd.Series, decision: str, who: str = "张伟", note: str = "",
         when: str = "2026-07-01", evidence: str | None = None) -> str:
    return (f"{finding['discrepancy_id']},{decision},{note},{who},{when},"
            f"{finding['evidence'] if evidence is None else evidence}\r\n")


@pytest.mark.parametrize("word, code", [
    ("确认", "confirmed"), (" 驳回 ", "dismissed"), ("待核实", "pending"),
    ("Dismissed", "dismissed"), ("CONFIRMED", "confirmed"), ("pending", "pending"),
    ("驳 回", None), ("Dismissd", None), ("是", None), ("", None), (None, None), (1.0, None)])
def test_decision_words(word, code) -> None:
    assert decision_code(word) == code


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
@pytest.mark.parametrize("header", [HEADER_ZH, HEADER_EN])
def test_csv_in_every_encoding_with_either_header(tmp_path, night1, encoding, header) -> None:
    r1 = night1["findings"].loc["R1"]
    path = tmp_path / "decisions.csv"
    path.write_bytes((header + line(r1, "驳回", NAME, NOTE)).encode(encoding))
    read = inbox.read_decision_file(path)
    assert read.error is None and read.format == "csv"
    assert read.encoding == {"gbk": "gb18030"}.get(encoding, encoding)
    plan = inbox.import_files(tmp_path, [path], night1["history"], NOW)
    assert plan.refused.empty
    accepted = plan.accepted.iloc[0]
    assert (accepted["decision"], accepted["decided_by"], accepted["note"]) == (
        "dismissed", NAME, NOTE)
    assert accepted["source_file"] == "decisions.csv" and accepted["source_row"] == "2"


def test_every_refusal_names_row_column_and_reason(tmp_path, night1) -> None:
    r1, r2, r3 = (night1["findings"].loc[r] for r in ("R1", "R2", "R3"))
    rows = [
        line(r1, "Dismissd"),                                   # 2 outside the list
        "0123456789abcdef0123,驳回,,张伟,2026-07-01,0123456789abcdef\r\n",  # 3 unknown id
        "1.23457E+19,驳回,,张伟,2026-07-01,0123456789abcdef\r\n",  # 4 id mangled by Excel
        line(r2, "确认", who=""),                               # 5 no reviewer
        line(r2, "确认", when="七月一日"),                      # 6 no date
        line(r3, "驳回", evidence="ffffffffffffffff"),          # 7 stale evidence
        line(r3, "驳回", evidence=""),                          # 8 no evidence
        f"{r3['discrepancy_id']},,{NOTE},张伟,,{r3['evidence']}\r\n",  # 9 note, no decision
        f",驳回,,张伟,,{r3['evidence']}\r\n",                   # 10 no id
        line(r1, "确认", note="长" * 2001),                     # 11 note too long
        f"{r3['discrepancy_id']},,,,,{r3['evidence']}\r\n",     # 12 nothing filled: not a row
    ]
    path = tmp_path / "批量.csv"
    path.write_bytes((HEADER_ZH + "".join(rows)).encode("gbk"))
    plan = inbox.import_files(tmp_path, [path], night1["history"], NOW)
    assert plan.accepted.empty
    got = {int(r.source_row): (r.reason_code, r.column) for r in plan.refused.itertuples()}
    assert got == {
        2: ("not_in_list", "处理结果"), 3: ("unknown_id", "问题编号"), 4: ("bad_id", "问题编号"),
        5: ("no_reviewer", "处理人"), 6: ("bad_date", "处理日期"), 7: ("stale", "依据"),
        8: ("no_evidence", "依据"), 9: ("no_decision", "处理结果"), 10: ("no_id", "问题编号"),
        11: ("too_long", "备注")}
    assert plan.refused.set_index("source_row").loc[4, "discrepancy_id"] is pd.NA
    assert all(plan.refused["reason"].str.len() > 10)
    report = plan.files[0].as_dict()
    assert report.pop("refusals")[0] == {"source_sheet": None, "source_row": 2,
                                         "column": "处理结果", "reason_code": "not_in_list",
                                         "reason": inbox.REASONS["not_in_list"]}
    assert report == {
        "file": "批量.csv", "format": "csv", "encoding": "gb18030", "rows": 10, "imported": 0,
        "refused": 10, "unchanged": 0, "status": "read", "moved_to": None}
    text = plan.refused.to_csv() + str(plan.manifest())
    assert NOTE not in text and "长长长" not in text


def test_english_headers_name_their_own_column(tmp_path, night1) -> None:
    path = tmp_path / "old.csv"
    path.write_text(HEADER_EN + line(night1["findings"].loc["R1"], "nope"), encoding="utf-8")
    plan = inbox.import_files(tmp_path, [path], night1["history"], NOW)
    assert list(plan.refused["column"]) == ["decision"]


def test_a_finding_decided_twice(tmp_path, night1) -> None:
    r1, r2 = night1["findings"].loc["R1"], night1["findings"].loc["R2"]
    (tmp_path / "a.csv").write_text(HEADER_ZH + line(r1, "驳回") + line(r2, "确认"), "utf-8")
    (tmp_path / "b.csv").write_text(HEADER_ZH + line(r1, "确认") + line(r2, "确认"), "utf-8")
    plan = inbox.import_files(tmp_path, [tmp_path / "a.csv", tmp_path / "b.csv"],
                              night1["history"], NOW)
    # R1 decided differently twice: both refused, each pointing at the other; R2 the same twice
    assert sorted(zip(plan.refused["source_file"], plan.refused["reason_code"],
                      strict=True)) == [("a.csv", "decided_twice"), ("b.csv", "decided_twice")]
    assert "b.csv 第 2 行" in plan.refused.iloc[0]["reason"]
    assert list(plan.accepted["discrepancy_id"]) == [r2["discrepancy_id"]]
    assert [f.unchanged for f in plan.files] == [0, 1]


def test_the_log_is_append_only_and_never_records_a_row_twice(tmp_path, night1) -> None:
    r1, r2 = night1["findings"].loc["R1"], night1["findings"].loc["R2"]
    path = tmp_path / "d.csv"
    path.write_text(HEADER_ZH + line(r1, "待核实", note="等街道回复"), encoding="utf-8")
    inbox.import_files(tmp_path, [path], night1["history"], NOW).commit(tmp_path)
    log_file = decision_log.log_path(tmp_path)
    first = log_file.read_bytes()
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600 and first.startswith(b"\xef\xbb\xbf")
    again = inbox.import_files(tmp_path, [path], night1["history"], NOW)
    assert again.accepted.empty and again.files[0].unchanged == 1
    path.write_text(HEADER_ZH + line(r1, "驳回", when="2026-07-02") + line(r2, "确认", when=""),
                    encoding="utf-8")
    later = NOW + dt.timedelta(days=1)
    plan = inbox.import_files(tmp_path, [path], night1["history"], later)
    plan.commit(tmp_path)
    assert log_file.read_bytes().startswith(first)  # appended, never rewritten
    log, warning = decision_log.read_log(tmp_path)
    assert warning is None
    assert list(log["decision"]) == ["pending", "dismissed", "confirmed"]
    assert list(log["decided_at"]) == ["2026-07-01", "2026-07-02", ""]
    assert set(log["imported_at"].str.slice(0, 10)) == {"2026-07-02", "2026-07-03"}
    decisions = decision_log.as_decisions(log)
    assert list(decisions["decided_at"]) == ["2026-07-01", "2026-07-02", "2026-07-03"]
    assert list(plan.decisions["decision"]) == ["pending", "dismissed", "confirmed"]


def test_an_unreadable_log_is_a_warning_and_is_kept(tmp_path) -> None:
    decision_log.log_path(tmp_path).write_bytes(b"\x80\xff\x00garbage")
    log, warning = decision_log.read_log(tmp_path)
    assert log.empty and "review_log.csv" in warning
    rows = pd.DataFrame([{"discrepancy_id": "a" * 20, "decision": "confirmed",
                          "decided_by": "x", "imported_at": "2026-07-02T01:00:00+08:00"}])
    decision_log.append(tmp_path, rows)
    assert decision_log.log_path(tmp_path).read_bytes().startswith(b"\x80\xff\x00garbage")


def test_workbook_rows_read_back_with_dates_and_staff_numbers(tmp_path, night1) -> None:
    from openpyxl import Workbook

    r1 = night1["findings"].loc["R1"]
    book = Workbook()
    sheet = book.active
    sheet.append(["说明：请填写"])  # a title row above the header
    sheet.append(["问题编号", "处理结果", "处理人", "处理日期", "依据", "备注"])
    sheet.append([r1["discrepancy_id"], "确认", 10086, dt.datetime(2026, 7, 1, 9, 30),
                  r1["evidence"], None])
    sheet.append([None] * 6)
    book.save(tmp_path / "wps.xlsx")
    plan = inbox.import_files(tmp_path, [tmp_path / "wps.xlsx"], night1["history"], NOW)
    assert plan.refused.empty
    row = plan.accepted.iloc[0]
    assert (row["decided_by"], row["decided_at"], row["source_row"]) == (
        "10086", "2026-07-01T09:30", "3")


def test_prepare_reads_inbox_and_legacy_file_and_moves_nothing(tmp_path, night1) -> None:
    r1, r2 = night1["findings"].loc["R1"], night1["findings"].loc["R2"]
    (tmp_path / "review_decisions.csv").write_bytes(
        (HEADER_EN + line(r1, "dismissed") + line(r2, "Confirmed")).encode("gbk"))
    box = tmp_path / "inbox"
    box.mkdir()
    (box / "x.pdf").write_bytes(b"%PDF-1.4")
    plan = inbox.prepare(tmp_path, night1["history"], NIGHT2, NOW)
    assert set(plan.accepted["decision"]) == {"dismissed", "confirmed"}
    assert [f.status for f in plan.files] == ["read", "unreadable"]
    assert plan.files[1].moved_to == "inbox/failed/20260702T010000_x.pdf"
    assert plan.files[0].moved_to is None  # the old file stays where analysts keep it
    assert (box / "x.pdf").exists()
    plan.commit(tmp_path)
    assert (box / "failed" / "20260702T010000_x.pdf").exists()
    assert (tmp_path / "review_decisions.csv").exists()
    again = inbox.prepare(tmp_path, night1["history"], NIGHT2, NOW)
    assert again.accepted.empty and again.files[0].unchanged == 2
    assert len(again.decisions) == 2


def test_standing_decisions_read_the_legacy_file_even_if_garbled(tmp_path, night1) -> None:
    from pipeline.detect.tracking import read_decisions
    from pipeline.state import StateStore

    store = StateStore(tmp_path)
    r1 = night1["findings"].loc["R1"]
    night1["history"].to_parquet(store.history_path)
    store.decisions_path.write_bytes((HEADER_EN + line(r1, "驳回")).encode("gb18030"))
    assert list(read_decisions(store)["decision"]) == ["dismissed"]
    store.decisions_path.write_bytes(b"\x00\x01\x02" * 10)
    assert read_decisions(store).empty


def test_a_file_changed_while_the_night_ran_stays_in_the_inbox(tmp_path, night1) -> None:
    box = tmp_path / "inbox"
    box.mkdir()
    path = box / "d.csv"
    path.write_text(HEADER_ZH + line(night1["findings"].loc["R1"], "确认"), encoding="utf-8")
    plan = inbox.prepare(tmp_path, night1["history"], NIGHT2, NOW)
    path.write_text(HEADER_ZH + line(night1["findings"].loc["R1"], "驳回"), encoding="utf-8")
    plan.commit(tmp_path)
    assert path.exists() and not (box / "done").exists()


def test_cli_records_and_reports_without_values(tmp_path, night1, capsys, caplog) -> None:
    from pipeline.review.cli import main
    from pipeline.state import StateStore

    caplog.set_level(logging.DEBUG)
    night1["history"].to_parquet(StateStore(tmp_path).history_path)
    r1, r2 = night1["findings"].loc["R1"], night1["findings"].loc["R2"]
    path = tmp_path / "d.csv"
    path.write_bytes((HEADER_ZH + line(r1, "驳回", NAME, NOTE) + line(r2, "作废", NAME, NOTE))
                     .encode("gbk"))
    assert main(["review", "import", str(path), "--state", str(tmp_path), "--check"]) == 2
    assert not decision_log.log_path(tmp_path).exists()
    assert main(["review", "import", str(path), "--state", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert "d.csv：已记录 1 条，未采用 1 条" in out and "第 3 行［处理结果］" in out
    log, _ = decision_log.read_log(tmp_path)
    assert list(log["decided_by"]) == [NAME]
    for text in [out] + [r.getMessage() for r in caplog.records]:
        assert NAME not in text and NOTE not in text
    assert main(["review", "import", str(path), "--state", str(tmp_path / "nope")]) == 2


def test_cli_registers_in_the_product_parser() -> None:
    import argparse

    from pipeline.review.cli import add_parser

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["review", "import", "a.xlsx", "b.csv", "--state", "s"])
    assert (args.command, args.review_command, args.files, args.state) == (
        "review", "import", [Path("a.xlsx"), Path("b.csv")], Path("s"))


@pytest.mark.parametrize("name, content, says", [
    ("a.xlsx", b"\x8f\x03garbage" * 300, "不是工作簿"),
    ("b.xlsx", b"PK\x03\x04broken", "已损坏"),
    ("c.xlsx", b"<html><table><tr><td>x</td></tr></table></html>", "网页"),
    ("d.csv", b"\x80\xff\x81\x30" * 64, "GBK/GB18030"),
    ("e.csv", b"\xe4\xb8\x80\x00\x01", "GBK/GB18030"),
    ("f.csv", b"", "空的"),
    ("g.docx", b"PK", "不是 xlsx"),
])
def test_unreadable_files_say_why_in_chinese(tmp_path, name, content, says) -> None:
    (tmp_path / name).write_bytes(content)
    read = inbox.read_decision_file(tmp_path / name)
    assert read.error == "unreadable_file" and says in read.detail and not read.rows


def test_a_file_in_a_folder_inside_the_inbox_is_read_and_moved(tmp_path, night1) -> None:
    """A colleague's folder in the inbox (inbox/张/…) is read like the inbox itself: never
    skipped unseen. Hidden folders, Excel's lock files and done/ and failed/ are not."""
    r1 = night1["findings"].loc["R1"]
    box = tmp_path / "inbox"
    (box / "张").mkdir(parents=True)
    (box / "张" / "mine.csv").write_bytes((HEADER_EN + line(r1, "dismissed")).encode("gbk"))
    (box / "张" / "~$mine.xlsx").write_bytes(b"lock")
    (box / ".git").mkdir()
    (box / ".git" / "config").write_text("x", encoding="utf-8")
    (box / "done").mkdir()
    (box / "done" / "old.csv").write_text("x", encoding="utf-8")
    (box / "empty").mkdir()
    assert inbox.inbox_files(tmp_path) == [box / "张" / "mine.csv"]
    plan = inbox.prepare(tmp_path, night1["history"], NIGHT2, NOW)
    assert list(plan.accepted["decision"]) == ["dismissed"]
    plan.commit(tmp_path)
    assert not (box / "张" / "mine.csv").exists()
    assert (box / "done" / "20260702T010000_mine.csv").exists()


def test_an_id_number_typed_into_a_note_is_kept_masked(tmp_path, night1) -> None:
    """The state folder holds no ID numbers (docs/security.md): a note quoting one is
    recorded masked, and shown masked in the next night's workbook."""
    r1 = night1["findings"].loc["R1"]
    number = "120101198503126138"  # invented
    box = tmp_path / "inbox"
    box.mkdir()
    (box / "a.csv").write_text(HEADER_ZH + line(r1, "待核实", note=f"户主{number}待核"),
                               encoding="utf-8")
    plan = inbox.prepare(tmp_path, night1["history"], NIGHT2, NOW)
    assert list(plan.accepted["note"]) == ["户主120101********6138待核"]
    plan.commit(tmp_path)
    assert number not in (tmp_path / "review_log.csv").read_text(encoding="utf-8-sig")


def test_the_state_folders_bidui_makes_are_the_owner_s_only(tmp_path, night1) -> None:
    """The state holds the findings' history and the decisions: folders bidui creates are
    0700; a folder the operator made keeps its modes (a group that drops files)."""
    root = tmp_path / "state"
    r1 = night1["findings"].loc["R1"]
    given = tmp_path / "given"
    (given / "inbox").mkdir(parents=True, mode=0o770)
    (given / "inbox").chmod(0o770)
    (given / "inbox" / "a.csv").write_text(HEADER_ZH + line(r1, "确认"), encoding="utf-8")
    for folder in (root, given):
        plan = inbox.prepare(folder, night1["history"], NIGHT2, NOW)
        plan.commit(folder)
    for made in (root, root / "inbox", given / "inbox" / "done"):
        assert stat.S_IMODE(made.stat().st_mode) == 0o700, made
    assert stat.S_IMODE((given / "inbox").stat().st_mode) == 0o770


def test_a_decision_dated_after_the_import_is_refused_as_a_typo(tmp_path, night1) -> None:
    r1, r2 = night1["findings"].loc["R1"], night1["findings"].loc["R2"]
    box = tmp_path / "inbox"
    box.mkdir()
    (box / "a.csv").write_text(HEADER_ZH + line(r1, "确认", when="2027-01-01")
                               + line(r2, "确认", when=NOW.date().isoformat()),
                               encoding="utf-8")
    plan = inbox.prepare(tmp_path, night1["history"], NIGHT2, NOW)
    assert list(plan.accepted["discrepancy_id"]) == [r2["discrepancy_id"]]
    (refused,) = plan.refused.itertuples()
    assert (refused.reason_code, refused.column, refused.source_row) == (
        "future_date", "处理日期", 2)
    assert NOW.date().isoformat() in refused.reason


def test_cli_names_the_sheet_of_a_refused_row(tmp_path, night1, capsys) -> None:
    """A workbook of two sheets (a colleague's copy pasted as 已核查): each refused row says
    which sheet it is on."""
    import openpyxl

    from pipeline.review.cli import main
    from pipeline.state import StateStore

    night1["history"].to_parquet(StateStore(tmp_path).history_path)
    r1 = night1["findings"].loc["R1"]
    book = openpyxl.Workbook()
    book.active.title = "待处理问题"
    copy = book.create_sheet("已核查")
    for sheet in (book.active, copy):
        sheet.append(["问题编号", "处理结果", "备注", "处理人", "处理日期", "依据"])
    copy.append([r1["discrepancy_id"], "作废", "", "张伟", "2026-07-01", r1["evidence"]])
    path = tmp_path / "two.xlsx"
    book.save(path)
    assert main(["review", "import", str(path), "--state", str(tmp_path), "--check"]) == 2
    assert "“已核查”表第 2 行［处理结果］" in capsys.readouterr().out


def test_a_pending_row_handed_back_as_the_next_workbook_shows_it_is_not_recorded_again(
        tmp_path, night1) -> None:
    """待核实 with a blank 处理日期 is recorded blank; the next review.xlsx shows it with the
    day it was recorded. An analyst who hands that workbook back unchanged changes nothing."""
    r1 = night1["findings"].loc["R1"]
    path = tmp_path / "d.csv"
    path.write_text(HEADER_ZH + line(r1, "待核实", when=""), encoding="utf-8")
    inbox.import_files(tmp_path, [path], night1["history"], NOW).commit(tmp_path)
    shown = decision_log.as_decisions(decision_log.read_log(tmp_path)[0])["decided_at"][0]
    assert shown == NOW.date().isoformat()
    path.write_text(HEADER_ZH + line(r1, "待核实", when=shown), encoding="utf-8")
    later = NOW + dt.timedelta(days=1)
    again = inbox.import_files(tmp_path, [path], night1["history"], later)
    assert again.accepted.empty and again.files[0].unchanged == 1


def test_excel_unicode_text_is_read(tmp_path, night1) -> None:
    """Excel's 另存为 → Unicode 文本 (*.txt): UTF-16 with a BOM, tab-separated."""
    r1 = night1["findings"].loc["R1"]
    text = (HEADER_ZH + line(r1, "确认", note="核实, 已停发")).replace(",", "\t")
    text = text.replace("核实\t 已停发", '"核实, 已停发"')
    path = tmp_path / "review.txt"
    path.write_bytes(text.encode("utf-16"))
    plan = inbox.import_files(tmp_path, [path], night1["history"], NOW)
    assert list(plan.accepted["decision"]) == ["confirmed"], plan.refused
    assert list(plan.accepted["note"]) == ["核实, 已停发"]


def test_cli_on_an_unreadable_file_speaks_of_no_night(tmp_path, night1, capsys,
                                                       caplog) -> None:
    from pipeline.review.cli import main
    from pipeline.state import StateStore

    caplog.set_level(logging.DEBUG)
    night1["history"].to_parquet(StateStore(tmp_path).history_path)
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 cut short")
    assert main(["review", "import", str(path), "--state", str(tmp_path), "--check"]) == 2
    assert "broken.xlsx：无法读取，未导入" in capsys.readouterr().out
    assert not [r for r in caplog.records if "night goes on" in r.getMessage()]


def test_two_copies_of_one_name_in_two_folders_stay_apart(tmp_path, night1) -> None:
    """inbox/A/review.csv and inbox/B/review.csv: each is named by its path in the inbox in
    the log and the manifest, counted apart, and both are moved."""
    r1, r2 = night1["findings"].loc["R1"], night1["findings"].loc["R2"]
    box = tmp_path / "inbox"
    for folder, finding, decision in (("A", r1, "确认"), ("B", r2, "作废")):
        (box / folder).mkdir(parents=True)
        (box / folder / "review.csv").write_text(HEADER_ZH + line(finding, decision),
                                                 encoding="utf-8")
    plan = inbox.prepare(tmp_path, night1["history"], NIGHT2, NOW)
    assert [(f.file, f.imported, f.refused) for f in plan.files] == [
        ("A/review.csv", 1, 0), ("B/review.csv", 0, 1)]
    assert list(plan.accepted["source_file"]) == ["A/review.csv"]
    assert list(plan.refused["source_file"]) == ["B/review.csv"]
    plan.commit(tmp_path)
    assert not list(box.glob("[AB]/review.csv"))
    assert len(list((box / "done").glob("*review.csv"))) == 2
    log, _ = decision_log.read_log(tmp_path)
    assert list(log["source_file"]) == ["A/review.csv"]

"""review.xlsx as written (labels, masking, rounding, formulas, pending rows) and read back;
what decisions change in linking (method clerical) and detection (decided pairs)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipeline.detect.finding import DetectContext, findings_frame
from pipeline.detect.lifecycle import evidence_hash
from pipeline.review import inbox, workbook

NIGHT = dt.date(2026, 7, 1)
FULL_ID = "11010519491231002X"


def sample() -> pd.DataFrame:
    rows = pd.DataFrame({
        "union_roll_id": ["R1", "R2", "R3"], "district_code": ["110105", "110108", None],
        "union_value": [f"证件{FULL_ID}", "=HYPERLINK(\"http://x\")", "3"],
        "civil_value": ["4", "4", "4"], "match_probability": [0.573219, None, 0.9],
        "amount_at_risk_yuan": [15839.999, None, 1.0]})
    out = findings_frame("HOUSEHOLD_SIZE_MISMATCH", "medium", rows,
                         pd.Series([f"档案R1：{FULL_ID}", "…", "…"]), NIGHT)
    out["evidence"] = evidence_hash(out)
    out["status"] = pd.array(["new", "persisting", "confirmed"], dtype="string")
    out["review_decision"] = pd.array([pd.NA, "pending", "confirmed"], dtype="string")
    return out


def test_workbook_labels_masks_rounds_and_neutralises(tmp_path) -> None:
    from openpyxl import load_workbook

    findings = sample()
    people = pd.DataFrame({"union_roll_id": ["R1"], "name_masked": ["欧阳**"],
                           "id_masked": ["110105********002X"],
                           "location": ["roll.xlsx › 朝阳区 › 第 12 行"]})
    decisions = pd.DataFrame({
        "discrepancy_id": [findings.loc[1, "discrepancy_id"]], "decision": ["pending"],
        "note": ["等街道回复"], "decided_by": ["张伟"], "decided_at": ["2026-06-30"],
        "evidence": [findings.loc[1, "evidence"]]})
    path = tmp_path / "review.xlsx"
    assert workbook.write_review_workbook(findings, path, people, decisions) == 2  # open only
    sheet = load_workbook(path)[workbook.SHEET]
    rows = [dict(zip(workbook.HEADERS, (c.value for c in row), strict=True))
            for row in sheet.iter_rows(min_row=2)]
    first, second = rows
    assert (first["问题类型"], first["严重程度"], first["状态"]) == ("家庭人口不一致", "中", "新增")
    assert first["所属区"] == "朝阳区" and first["姓名"] == "欧阳**"
    assert first[workbook.LOCATION] == "roll.xlsx › 朝阳区 › 第 12 行"
    assert second[workbook.LOCATION] is None  # R2: not among the people given
    assert first["身份证号"] == "110105********002X"
    assert FULL_ID not in str(first) and "110105********002X" in first["工会数据"]
    assert first["匹配概率"] == 0.57 and first["涉及金额（元/年）"] == 15840.0
    assert first["首次发现"] == dt.datetime(2026, 7, 1)
    assert first["处理结果"] is None and first[workbook.ID] == findings.loc[0, "discrepancy_id"]
    assert second["工会数据"] == "'=HYPERLINK(\"http://x\")"  # text, never a formula
    assert (second["状态"], second["处理结果"], second["备注"], second["处理人"]) == (
        "持续", "待核实", "等街道回复", "张伟")
    assert sheet.cell(2, workbook.HEADERS.index("匹配概率") + 1).number_format == "0.00"
    widths = {h: sheet.column_dimensions[sheet.cell(1, i + 1).column_letter].width
              for i, h in enumerate(workbook.HEADERS)}
    assert all(6 <= w <= 60 for w in widths.values())

    # read back untouched: nothing to import; the pending row again is no new decision
    plan_rows = inbox.read_decision_file(path)
    assert plan_rows.error is None and len(plan_rows.rows) == 1


def test_a_code_written_as_a_value_is_shown_in_chinese(tmp_path) -> None:
    """INVALID_ID's union_value is its problem's code in the Parquet (for filtering); the
    workbook people read shows its Chinese (`VALUES_ZH`); other values are left as written."""
    from openpyxl import load_workbook

    rows = pd.DataFrame({"union_roll_id": ["R1", "R2", "R3"],
                         "union_value": ["checksum", "excel_damage", "not-a-code"]})
    findings = findings_frame("INVALID_ID", "medium", rows, pd.Series(["…"] * 3), NIGHT)
    findings["status"] = pd.array(["new"] * 3, dtype="string")
    path = tmp_path / "review.xlsx"
    workbook.write_review_workbook(findings, path)
    sheet = load_workbook(path)[workbook.SHEET]
    column = workbook.HEADERS.index("工会数据") + 1
    shown = sorted(sheet.cell(r, column).value for r in range(2, 5))
    assert shown == sorted(["校验位错误", "被 Excel 截断", "not-a-code"])


def test_a_finding_without_a_roll_entry_shows_the_civil_persons_masked_name(
        tmp_path) -> None:
    """NOT_ON_HARDSHIP_ROLL names a civil person (and a member), no roll entry: the workbook
    shows that person's masked name and ID (`stages._civil_people_masked`), never the
    full ones; a roll finding keeps the roll entry's."""
    from openpyxl import load_workbook

    from pipeline import stages

    outreach = findings_frame(
        "NOT_ON_HARDSHIP_ROLL", "low",
        pd.DataFrame({"civil_case_id": ["H1", "H2"], "civil_member_no": ["2", "1"],
                      "member_id": ["M1", "M2"]}), pd.Series(["…", "…"]), NIGHT)
    roll = findings_frame("HOUSEHOLD_SIZE_MISMATCH", "medium",
                          pd.DataFrame({"union_roll_id": ["R1"], "civil_case_id": ["H1"],
                                        "civil_member_no": ["2"]}), pd.Series(["…"]), NIGHT)
    findings = pd.concat([outreach, roll], ignore_index=True)
    findings["status"] = pd.array(["new"] * 3, dtype="string")
    civil = pd.DataFrame({"case_id": ["H1", "H1", "H2"], "member_no": ["1", "2", "1"],
                          "name": ["王五", "欧阳娜娜", "李四"],
                          "id_norm": ["110105194912310011", FULL_ID, None]})
    civil_people = stages._civil_people_masked(findings, civil)
    assert sorted(civil_people["civil_case_id"]) == ["H1", "H2"]  # only those named
    people = pd.DataFrame({"union_roll_id": ["R1"], "name_masked": ["张*"],
                           "id_masked": ["110105********0011"]})
    path = tmp_path / "review.xlsx"
    workbook.write_review_workbook(findings, path, people, civil_people=civil_people)
    sheet = load_workbook(path)[workbook.SHEET]
    rows = [dict(zip(workbook.HEADERS, (c.value for c in row), strict=True))
            for row in sheet.iter_rows(min_row=2)]
    shown = {(r["会员编号"] or r["档案编号"]): (r["姓名"], r["身份证号"]) for r in rows}
    assert shown["M1"][0] == "欧阳**" and shown["M1"][1].endswith("002X")
    assert FULL_ID not in str(rows) and "*" in shown["M1"][1]
    assert shown["M2"] == ("李*", None)
    assert shown["R1"] == ("张*", "110105********0011")


def test_an_empty_night_still_writes_a_workbook(tmp_path) -> None:
    from openpyxl import load_workbook

    from pipeline.detect.finding import empty_findings

    empty = empty_findings()
    empty["evidence"] = evidence_hash(empty)
    assert workbook.write_review_workbook(empty, tmp_path / "review.xlsx") == 0
    sheet = load_workbook(tmp_path / "review.xlsx")[workbook.SHEET]
    assert [c.value for c in sheet[1]] == list(workbook.HEADERS)
    assert len(sheet.data_validations.dataValidation) == 1


def test_labels_make_a_confirmed_pair_a_clerical_match() -> None:
    from pipeline.link.people import apply_labels

    frame = pd.DataFrame({
        "union_roll_id": ["R1", "R1", "R2", "R3"], "civil_case_id": ["C1", "C2", "C3", "C4"],
        "civil_member_no": ["1", "1", "1", "1"],
        "decision": pd.array(["match", "possible", "possible", "possible"], dtype="string"),
        "method": pd.array(["probabilistic"] * 4, dtype="string"),
        "match_probability": [0.95, 0.57, 0.5, 0.4]})
    labels = pd.DataFrame({"union_roll_id": ["R1", "R2"], "civil_case_id": ["C2", "C3"],
                           "civil_member_no": ["1", "1"], "label": ["match", "non_match"]})
    out = apply_labels(frame, labels)
    assert list(out["decision"]) == ["none", "match", "none", "possible"]
    assert list(out["method"]) == ["probabilistic", "clerical", "clerical", "probabilistic"]
    assert list(out["match_probability"]) == [0.95, 0.57, 0.5, 0.4]  # the model's, unchanged


def test_decided_pairs_keep_their_review_finding() -> None:
    from pipeline.review.apply import reviewed_pair_findings, with_reviewed_pairs

    union = pd.DataFrame({"row_key": ["u1", "u2"], "roll_id": ["R1", "R2"],
                          "roll_status": ["在档", "在档"], "district_code": ["110105", "110108"]})
    pairs = pd.DataFrame({
        "union_row_key": ["u1", "u2"], "union_roll_id": ["R1", "R2"],
        "civil_case_id": ["C1", "C2"], "civil_member_no": ["1", "1"],
        "decision": pd.array(["match", "none"], dtype="string"),
        "method": pd.array(["clerical", "probabilistic"], dtype="string"),
        "match_probability": [0.57, 0.2], "name_level": ["fuzzy", "exact"],
        "address_level": ["else", "exact"]})
    ctx = DetectContext(union=union, civil=pd.DataFrame(), members=None, links=pairs.iloc[[0]],
                        member_links=None, roll_duplicates=pd.DataFrame(), as_of=NIGHT,
                        config={})
    found = reviewed_pair_findings(ctx, pairs)
    assert list(found["type"]) == ["POSSIBLE_MATCH_REVIEW"]
    assert list(found["union_roll_id"]) == ["R1"] and list(found["match_probability"]) == [0.57]
    assert list(found["union_value"]) == ["name:fuzzy;address:else"]  # as the rule raised it
    combined = with_reviewed_pairs(found.iloc[0:0], ctx, pairs)
    assert list(combined["discrepancy_id"]) == list(found["discrepancy_id"])
    assert with_reviewed_pairs(found, ctx, pairs).shape == found.shape  # never twice
    assert reviewed_pair_findings(ctx, None).empty


def test_review_package_agrees_with_the_lifecycle_and_imports_light() -> None:
    import subprocess
    import sys

    from pipeline import review
    from pipeline.detect import lifecycle

    assert (review.CONFIRMED, review.DISMISSED, review.PENDING) == lifecycle.DECISIONS
    assert set(review.DECISION_LABELS) == set(lifecycle.DECISIONS)
    assert set(review.STATUS_LABELS) == set(lifecycle.STATUSES)
    code = "import sys, pipeline.review.cli; print('pandas' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_without_a_state_folder_review_import_is_empty(tmp_path) -> None:
    assert inbox.write_review_import(None, tmp_path / "review_import.parquet") == 0
    frame = pd.read_parquet(tmp_path / "review_import.parquet")
    assert list(frame.columns) == list(inbox.REFUSED_COLUMNS)
    assert inbox.no_import() == {"imported": 0, "refused": 0, "files": [], "warnings": []}


def test_roll_locations_name_the_file_sheet_and_row_of_every_entry() -> None:
    """A roll split over sheets (and a worker filed twice): each roll id's rows, by file name
    (not path), sheet and row; a CSV row has no sheet."""
    from pipeline import stages

    union = pd.DataFrame({
        "roll_id": ["R1", "R2", "R1", "R3"],
        "source_file": ["/srv/in/roll.xlsx", "/srv/in/roll.xlsx", "/srv/in/roll.xlsx",
                        "/srv/in/more.csv"],
        "source_sheet": pd.array(["朝阳区", "海淀区", "海淀区", None], dtype="string"),
        "source_row": [5, 7, 9, 2]})
    assert stages.roll_locations(union) == {
        "R1": "roll.xlsx › 朝阳区 › 第 5 行；roll.xlsx › 海淀区 › 第 9 行",
        "R2": "roll.xlsx › 海淀区 › 第 7 行", "R3": "more.csv › 第 2 行"}
    assert stages.roll_locations(union.iloc[:0]) == {}

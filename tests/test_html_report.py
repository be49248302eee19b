"""report.html tells the truth: money at risk apart from outreach potential, dismissals never
resolved, the night's data quality on the page, tables that do not break names apart."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from pipeline.detect.finding import findings_frame
from pipeline.report.html_report import (
    money_codes,
    money_summary,
    render_report,
    resolved_count,
    review_counts,
)
from tests.browser import render_with_probe

AS_OF = dt.date(2026, 6, 30)
YEARLY = 15840.0


def finding(code: str, severity: str, summary: str = "说明。", **keys) -> pd.DataFrame:
    rows = pd.DataFrame({k: [v] for k, v in keys.items()})
    return findings_frame(code, severity, rows, pd.Series([summary]), AS_OF)


def night_findings() -> pd.DataFrame:
    """Two at-risk findings on one roll entry, a duplicate pair, two members of one household
    not on the roll (outreach), and a code without money."""
    parts = [
        finding("ASSISTANCE_ENDED", "high", union_roll_id="R1", civil_case_id="C1",
                district_code="110105", amount_at_risk_yuan=YEARLY),
        finding("DECEASED", "high", union_roll_id="R1", civil_case_id="C1",
                civil_member_no="1", district_code="110105", amount_at_risk_yuan=YEARLY),
        finding("DUPLICATE_ROLL_ENTRY", "high", union_roll_id="R2", district_code="110108"),
        finding("DUPLICATE_ROLL_ENTRY", "high", union_roll_id="R3", district_code="110108",
                amount_at_risk_yuan=YEARLY),
        finding("NOT_ON_HARDSHIP_ROLL", "low", civil_case_id="C9", civil_member_no="1",
                member_id="M1", district_code="110101", amount_at_risk_yuan=YEARLY),
        finding("NOT_ON_HARDSHIP_ROLL", "low", civil_case_id="C9", civil_member_no="2",
                member_id="M2", district_code="110101", amount_at_risk_yuan=YEARLY),
        finding("UNCLAIMED_ASSISTANCE", "medium", union_roll_id="R4", civil_case_id="C4",
                district_code="110102", amount_at_risk_yuan=YEARLY),
        finding("HOUSEHOLD_SIZE_MISMATCH", "medium", union_roll_id="R5", civil_case_id="C5",
                district_code="110102"),
    ]
    return pd.concat(parts, ignore_index=True)


PEOPLE = pd.DataFrame({"union_roll_id": ["R1", "R2", "R3", "R4", "R5"],
                       "name_masked": ["欧阳**", "买**·**", "王*", "李*", "张*"],
                       "id_masked": ["110105********123X"] * 5})


def manifest(**extra) -> dict:
    """A manifest as the report stage holds it, with the keys later steps add."""
    return {
        "as_of": AS_OF.isoformat(),
        "inputs": [
            {"source": "union", "path": "/srv/exchange/union_roll.xlsx", "rows_read": 20,
             "rows_linked": 12, "rows_unlinked": 5, "rows_quarantined": 1, "rows_non_data": 2,
             "non_data": {"footer": 2}, "blank_rows_skipped": 3, "balanced": True,
             "sheets": [{"name": "朝阳区", "status": "read", "rows_read": 20},
                        {"name": "填表说明", "status": "skipped",
                         "reason": "前 15 行中没有困难职工档案的表头（如填表说明、汇总表、"
                                   "代码表），不是数据表"}]},
            {"source": "civil", "path": "C:\\exchange\\civil_exchange.csv", "rows_read": 40,
             "rows_linked": 12, "rows_unlinked": 28, "rows_quarantined": 0, "rows_non_data": 0,
             "non_data": {}, "blank_rows_skipped": 0, "balanced": True,
             "sheets": [{"name": None, "status": "read", "rows_read": 40}]},
        ],
        "outputs": {"field_issues.parquet": {"rows": 4}, "quarantine.parquet": {"rows": 1}},
        "findings_lifecycle": {"new": 8, "persisting": 0, "resolved_since_last_night": [],
                               "suppressed_by_review": 0},
        **extra,
    }


VALIDATION = {
    "success": True, "critical_failed": 0, "warnings": 2, "run_name": "bidui-2026-06-30",
    "suites": {
        "union_roll": {"failed": [{"suite": "union_roll", "check": "id_valid",
                                   "severity": "warning", "column": "id_number",
                                   "unexpected_count": 3, "element_count": 20,
                                   "sentence": "身份证号码应为有效的公民身份号码"}]},
        "night_over_night": {"failed": [{"suite": "night_over_night",
                                         "check": "feed_not_stale", "severity": "warning",
                                         "column": "same_bytes_as_last_night",
                                         "unexpected_count": 1, "element_count": 2}]}},
    "skipped": {},
    "night_over_night": [{"source": "union", "rows_read": 20, "last_good_rows_read": 20,
                          "stale_feed": True},
                         {"source": "civil", "rows_read": 40, "last_good_rows_read": 41,
                          "stale_feed": False}],
    "last_good_as_of": "2026-06-29",
    "docs": {"path": "validation/index.html", "missing_assets": []},
}


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


# -- money ----------------------------------------------------------------------------------------

def test_money_at_risk_and_outreach_are_two_figures_each_counted_once() -> None:
    findings = night_findings()
    at_risk = money_summary(findings, "at_risk")
    outreach = money_summary(findings, "outreach")
    # R1 has two at-risk findings but one allowance; R2 carries none (first of its pair).
    assert at_risk == {"yuan": 2 * YEARLY, "entities": 2, "findings": 3, "confirmed_yuan": 0.0}
    # Two members of household C9 are one household's allowance; R4's household is another.
    assert outreach == {"yuan": 2 * YEARLY, "entities": 2, "findings": 3, "confirmed_yuan": 0.0}
    assert "NOT_ON_HARDSHIP_ROLL" in money_codes("outreach")
    assert "NOT_ON_HARDSHIP_ROLL" not in money_codes("at_risk")

    page = render_report(manifest(), findings, PEOPLE)
    assert re.search(r"可能错付（年度）<b>31,680 元</b><small>2 个档案", page)
    assert re.search(r"帮扶潜力（年度）<b>31,680 元</b><small>2 户", page)
    assert "涉及年度金额" not in page and "63,360" not in page  # never added together
    assert "不能相加" in page
    assert "这里的问题数只计带金额、未驳回的问题" in page  # why it differs from the type table


def test_dismissed_findings_leave_the_money_and_confirmed_money_is_shown() -> None:
    findings = night_findings()
    findings.loc[findings["type"] == "DUPLICATE_ROLL_ENTRY", "review_decision"] = "dismissed"
    findings.loc[findings["type"] == "ASSISTANCE_ENDED", "review_decision"] = "confirmed"
    findings.loc[findings["type"] == "ASSISTANCE_ENDED", "status"] = "confirmed"
    at_risk = money_summary(findings, "at_risk")
    assert at_risk["yuan"] == YEARLY and at_risk["confirmed_yuan"] == YEARLY
    page = render_report(manifest(), findings, PEOPLE)
    assert "其中已确认 15,840 元" in page


# -- review states and what is resolved -----------------------------------------------------------

def test_a_dismissal_is_never_resolved() -> None:
    findings = night_findings()
    resolved = pd.DataFrame({"discrepancy_id": ["gone-1", "gone-2", "dismissed-1"]})
    dismissed = pd.DataFrame({"discrepancy_id": ["dismissed-1"]})
    assert resolved_count(resolved, findings, manifest(), dismissed) == (2, 0)
    page = render_report(manifest(), findings, PEOPLE, resolved, dismissed=dismissed)
    assert re.search(r"已解决（较上次）<b>2</b>", page)
    assert re.search(r"驳回（经核实）<b>1</b><small>不算已解决", page)


def test_without_the_dismissed_ids_the_page_says_what_it_cannot_tell() -> None:
    """The night gives only the number held back by a dismissal: the resolved count is an
    upper bound and says so."""
    held_back = manifest()
    held_back["findings_lifecycle"]["suppressed_by_review"] = 1
    resolved = pd.DataFrame({"discrepancy_id": ["gone-1", "maybe-dismissed"]})
    assert resolved_count(resolved, night_findings(), held_back, None) == (2, 1)
    page = render_report(held_back, night_findings(), PEOPLE, resolved)
    assert "其中最多 1 条可能是经核实驳回" in page
    assert re.search(r"驳回（经核实）<b>1</b>", page)


def test_review_states_are_counted_and_labelled_in_chinese() -> None:
    findings = night_findings()
    findings.loc[0, "review_decision"] = "confirmed"
    findings.loc[0, "status"] = "confirmed"
    findings.loc[1, "review_decision"] = "pending"
    findings.loc[2, "review_decision"] = "dismissed"
    counts = review_counts(findings, manifest(), None)
    assert counts == {"pending": 1, "confirmed": 1, "dismissed": 1, None: 5}
    page = render_report(manifest(), findings, PEOPLE)
    text = text_of(page)
    for label, n in (("未处理", 5), ("待核实", 1), ("确认", 1), ("驳回（经核实）", 1),
                     ("已确认", 1)):
        assert f"{label} {n} " in text, label
    assert "dismissed" not in text and "pending" not in text  # codes stay in the frames
    assert re.search(r"待处理问题<b>7</b>", page)  # the dismissed one is not open


def test_no_review_columns_and_a_bare_manifest_still_render() -> None:
    findings = night_findings().drop(columns=["review_decision", "reviewed_by", "reviewed_at"])
    page = render_report({"as_of": "2026-06-30"}, findings, PEOPLE)
    assert "未处理" in page and "数据质量" in page
    assert "还没有校验结果摘要" in page and 'href="validation/index.html"' in page
    empty = render_report({"as_of": "2026-06-30"}, findings.iloc[0:0], PEOPLE.iloc[0:0])
    assert re.search(r"可能错付（年度）<b>0 元</b>", empty)


# -- data quality ---------------------------------------------------------------------------------

def test_data_quality_section_lists_what_the_manifest_knows() -> None:
    # As pipeline.review.inbox.ImportPlan.manifest() gives it (FileReport.as_dict()).
    review = {"imported": 5, "refused": 2,
              "warnings": ["复核_海淀区.xlsx：无法读取，已移到 inbox/failed/"],
              "files": [{"file": "/srv/state/inbox/复核_朝阳区.xlsx", "format": "xlsx",
                         "encoding": None, "rows": 8, "imported": 5, "refused": 2,
                         "unchanged": 1, "status": "read", "moved_to": None,
                         "refusals": [{"source_sheet": "待处理问题", "source_row": 7,
                                       "column": "处理结果", "reason_code": "unknown_decision",
                                       "reason": "处理结果不是 确认 / 驳回 / 待核实 之一"},
                                      {"source_sheet": "待处理问题", "source_row": 9,
                                       "column": "问题编号", "reason_code": "unknown_id",
                                       "reason": "问题编号不存在"}]}]}
    page = render_report(manifest(validation=VALIDATION, review=review), night_findings(),
                         PEOPLE)
    notice = re.search(r'<div class="notice bad">(.*?)</div>', page, flags=re.S)
    assert notice, "a stale feed is a notice on top"
    for words in ("数据源未更新：困难职工档案", "校验警告 2 项", "1 行数据无法使用",
                  "4 处字段值无法识别", "跳过了 1 个工作表", "2 条处理结果未被接受"):
        assert words in notice.group(1), words
    quality = page[page.index('id="quality"'):]
    text = text_of(quality)
    assert "union_roll.xlsx" in text and "civil_exchange.csv" in text  # file names
    assert "填表说明" in text and "不是数据表" in text  # the skipped sheet and why
    assert "id_valid" in text and "feed_not_stale" in text and "警告" in text
    assert "身份证号码应为有效的公民身份号码" in text  # the check in Chinese, beside its code
    assert "身份证号（id_number）" in text  # the column by the header stewards know
    assert "same_bytes_as_last_night" in text  # a derived column: its name
    assert "sha256 一致" in text and "2026-06-29" in text
    assert "导入处理结果 5 条；未被接受 2 条" in text and "复核_朝阳区.xlsx" in text
    assert "复核_朝阳区.xlsx 5 2 1 已读取" in text  # imported, refused, recorded before
    assert "待处理问题 7 处理结果 处理结果不是 确认 / 驳回 / 待核实 之一" in text
    assert "问题编号不存在" in text and "无法读取，已移到 inbox/failed/" in text
    assert "合计、制表人等表尾行 2" in text and "quarantine.parquet" in text
    assert "field_issues.parquet" in text
    assert quality.count('href="validation/index.html"') == 1


def test_a_quiet_night_has_no_notice() -> None:
    quiet = manifest(validation={**VALIDATION, "warnings": 0, "suites": {},
                                 "night_over_night": []})
    quiet["inputs"][0].update(rows_quarantined=0, sheets=quiet["inputs"][0]["sheets"][:1])
    quiet["outputs"]["field_issues.parquet"]["rows"] = 0
    assert 'class="notice' not in render_report(quiet, night_findings(), PEOPLE)


# -- offline, masked, and tables that keep names whole --------------------------------------------

def test_the_page_is_self_contained() -> None:
    page = render_report(manifest(validation=VALIDATION), night_findings(), PEOPLE)
    assert "<script" not in page and "@import" not in page and "url(" not in page
    links = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", page)
    assert set(links) == {"#quality", "validation/index.html"}
    assert len(re.findall(r'<svg class="chart"', page)) == 3


def test_short_cells_never_wrap() -> None:
    page = render_report(manifest(validation=VALIDATION), night_findings(), PEOPLE)
    assert "td.nw{white-space:nowrap}" in page and "word-break:keep-all" in page
    top = page[page.index("需优先处理的问题"):page.index('id="quality"')]
    for value in ("欧阳**", "买**·**", "110105********123X", "R1", "民政记录已死亡"):
        assert f'<td class="nw">{value}</td>' in top, value
    assert '<td class="text">' in top  # the one sentence column wraps


PROBE = """<script>
const wrapped = [];
for (const cell of document.querySelectorAll('td.nw, td.n, th')) {
  if (cell.querySelector('br')) continue;
  const range = document.createRange(); range.selectNodeContents(cell);
  const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
  if (tops.size > 1) wrapped.push(cell.textContent);
}
const sentences = [...document.querySelectorAll('td.text')]
  .map(c => c.getBoundingClientRect().width);
document.body.setAttribute('data-probe', JSON.stringify({wrapped, cells:
  document.querySelectorAll('td.nw').length, narrowest_text: Math.min(...sentences)}));
</script>"""


@pytest.mark.parametrize("width", [1280, 600])
def test_in_chromium_no_name_or_code_breaks_over_lines(chromium, tmp_path: Path,
                                                       width: int) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_report(manifest(validation=VALIDATION), night_findings(), PEOPLE),
                    encoding="utf-8")
    drawn = render_with_probe(chromium, page, tmp_path, PROBE, f"--window-size={width},1000")
    assert drawn["cells"] > 50
    assert drawn["wrapped"] == []
    assert drawn["narrowest_text"] > 150  # sentences keep a readable width

"""The Data Docs a data steward can act on (issue 14, item 4).

A night whose civil-affairs file has bad ID numbers (and whose roll, a workbook with a district
sheet, repeats an 档案编号) runs through the stage functions in-process (`stages.ingest`,
`normalise`, `validate`, then `outputs.write_validation_docs` as the report stage writes the
docs). The pages must say each check in Chinese under the file's own headers, list failing
values masked with their file, sheet and row, give times in Asia/Shanghai, show a
warnings-only suite as 警告 (not Failed) and carry nothing of GX's marketing.

The rendering test drives headless Chromium with networking off (tests/browser.py) and keeps a
screenshot of the civil page's ID check at `var/test-artifacts/data_docs_civil.png`
(git-ignored). Without a Chromium it skips, except under CI=true (the `chromium` fixture).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from tests.browser import render_with_probe, run_chromium
from tests.helpers import valid_id

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "var" / "test-artifacts"
AS_OF = dt.date(2026, 6, 30)
CIVIL_FILE = "民政低保名单.csv"
ROLL_FILE = "困难职工档案.xlsx"
SHEET = "朝阳区"
SURNAMES = "张李王刘陈杨赵黄周吴"
NAMES = [SURNAMES[n % 10] + "晓" + "伟娜芳洋静磊敏勇杰霞"[n // 10 % 10] for n in range(40)]
IDS = [valid_id(f"11010519900101{n + 1:03d}") for n in range(40)]
# Civil rows (0-based) with a bad ID; the file's row is n + 2 (the header is row 1).
BAD_CHECK = list(range(3, 40, 2))  # 19 rows: the check character is wrong
EXCEL_DAMAGE = {6: "1.10105E+17", 12: "110105199001010000"}  # Excel's float, 000 ending
ID_SENTENCE = "身份证号应为有效的公民身份号码（至少 98%）"
ID_TEXT = "身份证号应为有效的公民身份号码"


def wrong_check(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def civil_ids() -> list[str]:
    ids = list(IDS)
    for n in BAD_CHECK:
        ids[n] = wrong_check(ids[n])
    for n, value in EXCEL_DAMAGE.items():
        ids[n] = value
    return ids


def write_inputs(folder: Path) -> tuple[Path, Path]:
    civil = folder / CIVIL_FILE
    lines = ["家庭编号,成员序号,姓名,身份证号,保障类别,区划代码,保障状态,家庭总人数"]
    lines += [f"C{n:03d},1,{NAMES[n]},{number},城市低保,110105,在保,1"
              for n, number in enumerate(civil_ids())]
    civil.write_text("\n".join(lines) + "\n", encoding="gb18030")
    roll = folder / ROLL_FILE
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(["档案号", "职工姓名", "公民身份号码", "档案状态", "是否低保", "家庭人口"])
    for n in range(8):
        sheet.append([f"A{min(n, 6)}", NAMES[n], IDS[n], "在档", "是", 1])  # A6 twice
    book.save(roll)
    return roll, civil


@pytest.fixture(scope="module")
def night(tmp_path_factory) -> dict:
    from pipeline import stages
    from pipeline.config import load_config
    from pipeline.report import outputs

    folder = tmp_path_factory.mktemp("steward")
    roll, civil = write_inputs(folder)
    config = load_config()
    loaded = stages.ingest(stages.Inputs(union=[roll], civil=[civil]))
    normalised = stages.normalise(loaded, AS_OF)
    run = stages.validate(loaded, normalised, AS_OF, config)
    stored = [run.context.validation_results_store.get(key)
              for key in run.context.validation_results_store.list_keys()]
    site = folder / "validation"
    outputs.write_validation_docs(run, site)
    summary = run.summary()
    run.close()
    return {"site": site, "summary": summary, "stored": stored, "config": config}


def page(site: Path, suite: str) -> Path:
    (found,) = list((site / "validations" / suite).rglob("*.html"))
    return found


def text_of(markup: str) -> str:
    markup = re.sub(r"<(script|style)\b.*?</\1>", "", markup, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", markup)))


def index_rows(site: Path) -> list[dict]:
    """The runs table's data as the index page hands it to bootstrap-table."""
    text = (site / "index.html").read_text("utf-8")
    suites = re.findall(r"'_expectation_suite_name_sort': '([^']*)'", text)
    statuses = re.findall(r"'_validation_success_text': '([^']*)'", text)
    times = re.findall(r"'run_time': '([^']*)'", text)
    return [{"suite": s, "status": st, "run_time": t}
            for s, st, t in zip(suites, statuses, times, strict=True)]


# -- without a browser ----------------------------------------------------------------------------

def test_the_night_is_a_warning_not_a_stop(night) -> None:
    summary = night["summary"]
    assert summary["success"] and summary["critical_failed"] == 0
    (failed,) = summary["suites"]["civil_exchange"]["failed"]
    assert (failed["check"], failed["severity"]) == ("id_valid", "warning")
    assert failed["unexpected_count"] == len(BAD_CHECK) + len(EXCEL_DAMAGE)
    checks = [f["check"] for f in summary["suites"]["union_roll"]["failed"]]
    assert checks == ["roll_id_unique"]
    # the summary (the manifest, the report) says each failed check as the Data Docs do
    assert failed["sentence"] == ID_SENTENCE
    assert text_of(page(night["site"], "civil_exchange").read_text("utf-8")).count(
        failed["sentence"])


def test_every_check_reads_as_a_chinese_sentence_under_the_files_headers(night) -> None:
    civil = text_of(page(night["site"], "civil_exchange").read_text("utf-8"))
    assert ID_SENTENCE in civil
    assert "家庭编号 + 成员序号 的组合不应重复" in civil
    assert "区划代码应为 GB/T 2260 中的行政区划代码" in civil  # 区划代码 as the file writes it
    roll = text_of(page(night["site"], "union_roll").read_text("utf-8"))
    assert "公民身份号码应为有效的公民身份号码（至少 90%）" in roll  # the roll's own header
    assert "档案号不应重复" in roll and "职工姓名不应整列为空" in roll
    for text in (civil, roll):
        assert "expect_" not in text and "(**" not in text  # no raw code
        assert "id_number应" not in text and "Data asset" not in text
    assert f"文件： {CIVIL_FILE}" in civil and f"文件： {ROLL_FILE}" in roll


def test_failing_values_are_masked_with_file_sheet_and_row(night) -> None:
    civil = page(night["site"], "civil_exchange").read_text("utf-8")
    text = text_of(civil)
    total = len(BAD_CHECK) + len(EXCEL_DAMAGE)
    assert f"不符合的值（前 20 个，共 {total} 个；个人信息已遮蔽）" in text
    first = BAD_CHECK[0]  # the first failing row, as the file numbers it
    masked = IDS[first][:6] + "*" * 8 + wrong_check(IDS[first])[-4:]
    assert f"{CIVIL_FILE} — {first + 2} {masked}" in text
    for number in [*IDS, *civil_ids()]:
        assert number not in civil, number
    for name in NAMES:
        assert name not in civil
    rows = re.findall(r"<td[^>]*>\s*<div class=\"show-scrollbars\">\s*<span\s*>\s*"
                      + re.escape(CIVIL_FILE), civil)
    assert len(rows) == 20
    roll = text_of(page(night["site"], "union_roll").read_text("utf-8"))
    assert f"{ROLL_FILE} {SHEET} 8 A6" in roll and f"{ROLL_FILE} {SHEET} 9 A6" in roll


def test_failing_values_are_stored_masked_in_the_nights_project(night) -> None:
    """GX keeps results in the night's temporary project: only masked values stay there."""
    stored = json.dumps([r.to_json_dict() for r in night["stored"]], ensure_ascii=False)
    assert "bidui_failing_values" in stored and "partial_unexpected_list" not in stored
    for number in civil_ids():
        assert number not in stored


def test_warnings_only_is_a_warning_and_times_are_local(night) -> None:
    site = night["site"]
    civil = text_of(page(site, "civil_exchange").read_text("utf-8"))
    assert "状态： 警告" in civil and "Failed" not in civil and "Succeeded" not in civil
    assert "通过率" in civil and "北京时间" in civil and "UTC" not in civil
    rows = {r["suite"]: r for r in index_rows(site)}
    assert rows["civil_exchange"]["status"] == "警告"
    assert rows["union_roll"]["status"] == "警告"
    # The run time in Asia/Shanghai: the validation page's own run time, eight hours on.
    stamp = re.search(r"/(\d{8}T\d{6})\.\d+Z/", page(site, "civil_exchange").as_posix())
    utc = dt.datetime.strptime(stamp.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=dt.UTC)
    shanghai = utc + dt.timedelta(hours=8)
    assert rows["civil_exchange"]["run_time"] == f"{shanghai:%Y-%m-%d %H:%M:%S}"
    assert f"{shanghai:%Y-%m-%d %H:%M:%S}（北京时间）" in civil
    index = (site / "index.html").read_text("utf-8")
    assert "运行时间（北京时间）" in index and " UTC" not in index


def test_no_marketing_and_nothing_off_the_machine(night) -> None:
    site = night["site"]
    for path in site.rglob("*.html"):
        text = path.read_text("utf-8")
        lowered = text.lower()
        assert "newsletter" not in lowered and "subscribe" not in lowered, path
        assert "greatexpectations.io" not in lowered and "ge-walkthrough" not in lowered, path
        assert "Data documentation compiled by Great Expectations" not in text, path
        assert re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text) is None, path


def test_a_critical_failure_reads_as_failed(tmp_path) -> None:
    """The page's status follows severity: a failed critical check is 未通过."""
    import pandas as pd

    from pipeline.config import load_config
    from pipeline.validate.runner import ValidationRun

    run = ValidationRun(load_config(), AS_OF)
    try:
        run.run_suite("manifest", pd.DataFrame({"level": ["file"], "source": ["civil"],
                                                "path": [""], "rows_read": [3],
                                                "rows_accounted": [2], "rows_unlinked": [0]}))
        run.build_docs(tmp_path / "validation")
    finally:
        run.close()
    text = text_of(page(tmp_path / "validation", "manifest").read_text("utf-8"))
    assert "状态： 未通过" in text and "rows_read应等于rows_accounted" in text
    assert {r["suite"]: r["status"] for r in index_rows(tmp_path / "validation")} == {
        "manifest": "未通过"}


def test_a_custom_expectation_renders_chinese_through_gx_atomic_renderer() -> None:
    """GX's own rendering path (`Expectation.render()`, the atomic SUMMARY renderer)."""
    from pipeline.validate.custom_expectations import ExpectColumnValuesToBeValidGb11643Id

    expectation = ExpectColumnValuesToBeValidGb11643Id(
        column="id_number", mostly=0.98, meta={"labels": {"columns": {"id_number": "身份证号"}}})
    expectation.render()
    (summary,) = expectation.rendered_content
    params = {k: v["value"] for k, v in summary.value.params.items()}
    assert summary.value.template.replace("$column", params["column"]).replace(
        "$mostly_pct", params["mostly_pct"]) == ID_SENTENCE


def test_values_are_shown_masked_by_kind() -> None:
    from pipeline.validate.sentences import shown_value

    assert shown_value("id_number", IDS[0]) == IDS[0][:6] + "********" + IDS[0][-4:]
    assert shown_value("name", "欧阳娜娜") == "欧阳**"
    assert shown_value("address", "朝阳路9号楼2单元") == "朝阳路******"
    assert shown_value("birth_date", "2027-05-01 00:00:00") == "2027-**-**"
    assert shown_value("phone", "13812345678") == "138******78"
    assert shown_value("employer_uscc", IDS[1]) == f"{IDS[1][:6]}********{IDS[1][-4:]}"
    assert shown_value("roll_id", "A6") == "A6" and shown_value("claimed_assistance", "低保1") \
        == "低保1"  # codes and words as read
    assert shown_value("approved_date", "2027-01-01 00:00:00") == "2027-01-01"
    assert shown_value("id_number", None) == "（空）"


def test_headers_as_each_file_writes_them() -> None:
    from pipeline.ingest.load import FileInfo, SheetInfo
    from pipeline.schema import Source
    from pipeline.validate.stage import input_labels

    def info(path: str, headers: dict) -> FileInfo:
        return FileInfo(path=path, source="union", sha256="", size_bytes=0, encoding=None,
                        sheet=SHEET, header_row=1, rows_read=1, blank_rows_skipped=0,
                        sheets=[SheetInfo(name=SHEET, status="read", headers=headers),
                                SheetInfo(name="填表说明", status="skipped")])

    labels = input_labels(Source.UNION, [
        info("/in/a/roll.xlsx", {"id_number": "公民身份号码", "roll_id": "档案号"}),
        info("/in/b/roll2.xlsx", {"id_number": "身份证号", "roll_id": "档案号"})])
    assert labels["files"] == ["roll.xlsx", "roll2.xlsx"]  # names only, not folders
    assert labels["columns"]["id_number"] == "公民身份号码／身份证号"
    assert labels["columns"]["roll_id"] == "档案号"
    assert labels["columns"]["employer_uscc"] == "统一社会信用代码"  # in no file: canonical


# -- in Chromium ----------------------------------------------------------------------------------

PROBE = """<script>
window.addEventListener('load', function () { setTimeout(function () {
  var rows = Array.prototype.map.call(
    document.querySelectorAll('table.bidui-failing-values tbody tr'),
    function (tr) { return Array.prototype.map.call(tr.querySelectorAll('td'),
      function (td) { return td.innerText.trim(); }); });
  var checks = Array.prototype.map.call(document.querySelectorAll('td'),
    function (td) { return td.innerText.trim(); });
  document.body.setAttribute('data-probe', JSON.stringify({
    text: document.body.innerText, failing: rows, cells: checks}));
}, 500); });
</script>"""


def cjk_font_installed() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    found = subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


def rendered(binary: str, path: Path, tmp_path: Path) -> dict:
    return render_with_probe(binary, path, tmp_path, PROBE)


def test_chromium_shows_the_id_check_and_where_a_bad_id_is(night, chromium, tmp_path) -> None:
    """Rendered offline in headless Chromium: the ID check's Chinese sentence, its failing
    values with file, sheet and row; screenshot in var/test-artifacts/data_docs_civil.png."""
    civil = page(night["site"], "civil_exchange")
    probe = rendered(chromium, civil, tmp_path)
    text = re.sub(r"[ \t]+", " ", probe["text"])
    assert ID_SENTENCE in text
    assert any(cell.startswith(ID_SENTENCE) and "个值不符合" in cell for cell in probe["cells"])
    first = BAD_CHECK[0]
    masked = IDS[first][:6] + "*" * 8 + wrong_check(IDS[first])[-4:]
    assert [CIVIL_FILE, "—", str(first + 2), masked] in probe["failing"]
    assert len(probe["failing"]) == 20
    assert "警告" in text and "北京时间" in text and "Failed" not in text
    assert "newsletter" not in text.lower()
    index = rendered(chromium, night["site"] / "index.html", tmp_path)
    assert CIVIL_FILE in index["text"] and ID_TEXT in index["text"]
    assert "Failed" not in index["text"] and "显示第 1 到第" in index["text"]

    if not cjk_font_installed():  # the screenshot would show boxes for every Chinese character
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("no CJK font: .ci/run installs fonts-noto-cjk")
        pytest.skip("no CJK font for the screenshot (apt-get install -y fonts-noto-cjk)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / "data_docs_civil.png"
    target.unlink(missing_ok=True)
    run_chromium(chromium, tmp_path, "--window-size=1400,1700", f"--screenshot={target}",
                 civil.as_uri())
    assert target.is_file() and target.stat().st_size > 20_000, target



def test_values_filed_but_not_understood_are_counted_and_shown_by_field(tmp_path) -> None:
    """A name typed into 出生日期, a word into 家庭人口: normalising leaves them blank, so the
    typed checks pass on them; `values_understood` counts those rows and shows, per row
    (file, sheet, row), which fields were not understood."""
    from pipeline import stages
    from pipeline.config import load_config
    from pipeline.report import outputs

    roll, civil = write_inputs(tmp_path)
    book = openpyxl.load_workbook(roll)
    sheet = book.active
    sheet.cell(1, 7, "出生日期")
    for row in range(2, 10):
        sheet.cell(row, 7, "1990-01-01")
    sheet.cell(3, 7, NAMES[20])  # file row 3: a name where the birth date goes
    sheet.cell(5, 7, NAMES[21])
    sheet.cell(5, 6, "三口")  # file row 5: and a word for the household size
    book.save(roll)
    config = load_config()
    loaded = stages.ingest(stages.Inputs(union=[roll], civil=[civil]))
    normalised = stages.normalise(loaded, AS_OF)
    run = stages.validate(loaded, normalised, AS_OF, config)
    try:
        summary = run.summary()
        site = tmp_path / "validation"
        outputs.write_validation_docs(run, site)
    finally:
        run.close()
    failed = {f["check"]: f for f in summary["suites"]["union_roll"]["failed"]}
    assert "birth_date_plausible" not in failed  # blank after normalising: it cannot see them
    understood = failed["values_understood"]
    assert (understood["unexpected_count"], understood["severity"]) == (2, "warning")
    text = text_of(page(site, "union_roll").read_text("utf-8"))
    assert f"{ROLL_FILE} {SHEET} 3 出生日期" in text
    assert f"{ROLL_FILE} {SHEET} 5 家庭人口、出生日期" in text or \
        f"{ROLL_FILE} {SHEET} 5 出生日期、家庭人口" in text
    assert NAMES[20] not in text and "三口" not in text  # the values stay in field_issues
    # the table lists rows and their fields, and says so (not 值: no value is shown)
    assert "值不能识别的行（2 个" in text and "不能识别的字段（标准名称）" in text
    assert "2 行有不能识别的值" in text  # rows counted, not values (row 5 has two)


def test_every_local_link_of_the_data_docs_leads_to_a_file(night) -> None:
    """Offline, a link that leads nowhere is a broken page (GX's favicon path was one folder
    short on the results pages)."""
    site = night["site"]
    broken = []
    for page in site.rglob("*.html"):
        text = page.read_text("utf-8")
        for url in re.findall(r'(?:href|src)="([^"#:]+)(?:#[^"]*)?"', text):
            if url and not (page.parent / url).resolve().exists():
                broken.append((str(page.relative_to(site)), url))
    assert not broken, broken[:5]

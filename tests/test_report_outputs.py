"""The people-facing outputs: report.html offline and masked; XLSX without live formulas."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pandas as pd

from pipeline.detect.finding import findings_frame
from pipeline.report.html_report import render_report
from pipeline.report.xlsx_export import neutralise, write_findings_xlsx

FULL_ID = "11010519900101123X"


def sample_findings() -> pd.DataFrame:
    rows = pd.DataFrame({"union_roll_id": ["R1", "R2", "R3"],
                         "district_code": ["110105", "110108", None],
                         "amount_at_risk_yuan": [15840.0, None, 15840.0],
                         "union_value": ['=HYPERLINK("http://x")', "3", "+1"]})
    a = findings_frame("DECEASED", "high", rows.iloc[:1], pd.Series(["档案R1：已死亡。"]),
                       dt.date(2026, 7, 1))
    b = findings_frame("HOUSEHOLD_SIZE_MISMATCH", "medium", rows.iloc[1:],
                       pd.Series(["人口不一致。", "人口不一致。"]), dt.date(2026, 7, 1))
    return pd.concat([a, b], ignore_index=True)


def render() -> str:
    people = pd.DataFrame({"union_roll_id": ["R1", "R2"], "name_masked": ["王*", "李*"],
                           "id_masked": ["110105********123X", "110108********2341"]})
    manifest = {"as_of": "2026-07-01"}
    return render_report(manifest, sample_findings(), people, resolved=pd.DataFrame({"x": [1]}))


def test_report_is_offline_and_masked() -> None:
    page = render()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", page)
    assert "http://" not in page.replace('=HYPERLINK(&quot;http://x&quot;)', "")
    assert FULL_ID not in page and "110105********123X" in page and "王*" in page
    assert "<script" not in page


def test_report_draws_a_bar_per_category() -> None:
    page = render()
    charts = re.findall(r'<svg class="chart".*?</svg>', page, flags=re.S)
    assert len(charts) == 3  # by type, by severity, by district
    assert charts[0].count('class="bar"') == 2  # two finding types
    # Money at risk is the at-risk codes' amounts only (DECEASED here); a stray amount on a
    # code whose rule declares no money shows in its row, never in the headline.
    assert re.search(r"可能错付（年度）<b>15,840 元</b>", page)
    assert re.search(r"帮扶潜力（年度）<b>0 元</b>", page)
    assert "涉及年度金额" not in page  # no figure adds the two together
    assert "已死亡" in page and "民政记录已死亡" in page


def test_xlsx_never_holds_a_live_formula(tmp_path: Path) -> None:
    path = tmp_path / "findings.xlsx"
    assert write_findings_xlsx(sample_findings(), path) == 3
    sheet = openpyxl.load_workbook(path).active
    values = [c.value for row in sheet.iter_rows() for c in row]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert "'=HYPERLINK(\"http://x\")" in values and "'+1" in values
    assert neutralise("-5") == "'-5" and neutralise("王伟") == "王伟" and neutralise(3) == 3


def test_xlsx_has_typed_cells_a_filter_and_a_sheet_saying_what_columns_mean(
        tmp_path: Path) -> None:
    path = tmp_path / "findings.xlsx"
    findings = sample_findings()
    findings.loc[0, "review_decision"] = "confirmed"
    findings.loc[0, "reviewed_at"] = pd.Timestamp("2026-07-01 09:30")
    write_findings_xlsx(findings, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["比对问题", "说明"]
    sheet = book["比对问题"]
    header = [c.value for c in sheet[1]]
    assert header == list(findings.columns)
    last = openpyxl.utils.get_column_letter(len(header))
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:{last}{len(findings) + 1}"
    first = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert first["amount_at_risk_yuan"] == 15840 and first["severity_rank"] == 1
    assert first["as_of"].date() == dt.date(2026, 7, 1)
    assert first["reviewed_at"] == dt.datetime(2026, 7, 1, 9, 30)
    second = dict(zip(header, [c.value for c in sheet[3]], strict=True))
    assert second["reviewed_at"] is None and second["amount_at_risk_yuan"] is None
    notes = {row[0]: row[1] for row in book["说明"].iter_rows(values_only=True) if row[0]}
    assert set(header) <= set(notes) and notes["DECEASED"] == "民政记录已死亡"


def test_findings_parquet_has_analysts_types(tmp_path: Path) -> None:
    """Money a plain double, severity sortable by urgency in pandas (ordered category) and
    in DuckDB (severity_rank), days as dates, the review columns present and empty."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.report.outputs import write_findings_parquet

    path = tmp_path / "discrepancies.parquet"
    findings = sample_findings()
    write_findings_parquet(findings, path)
    schema = pq.read_schema(path)
    assert pa.types.is_dictionary(schema.field("type").type)
    assert schema.field("severity").type.ordered
    assert schema.field("severity_rank").type == pa.int8()
    assert schema.field("amount_at_risk_yuan").type == pa.float64()
    assert schema.field("as_of").type == pa.date32()
    assert schema.field("reviewed_at").type == pa.timestamp("us")
    assert schema.field("review_decision").type == pa.string()
    back = pd.read_parquet(path)
    assert back.loc[0, "amount_at_risk_yuan"] == 15840.0
    assert str(back["amount_at_risk_yuan"].dtype) == "float64"
    assert str(back["severity"].dtype) == "category" and back["severity"].cat.ordered
    assert list(back["severity"].cat.categories) == ["high", "medium", "low"]
    assert back.sort_values("severity")["severity"].tolist() == ["high", "medium", "medium"]
    assert back["severity_rank"].tolist() == [1, 2, 2]
    assert back.loc[0, "as_of"] == dt.date(2026, 7, 1)
    assert back[["review_decision", "reviewed_by", "reviewed_at"]].isna().all().all()
    # Rows and values otherwise as the frame holds them.
    same = [c for c in findings.columns if c not in ("severity", "type", "status", "first_seen",
                                                     "as_of")]
    pd.testing.assert_frame_equal(back[same], findings[same], check_dtype=False)

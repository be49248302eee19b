"""Every recipe in docs/analysts.md runs against a sample night, and gives what the page says.

The night is produced in-process with the stage functions (ingest → normalise → validate →
link → detect → report) on data/sample/ as of 2026-06-30. Each fenced `python` block runs on
its own (a reader copies one block at a time) with warnings as errors, so a recipe that pandas
warns about (an `observed` default, a chained assignment) fails here first; each `sql`
statement runs in DuckDB. The doc's folder `/srv/bidui/out/2026-06-30` is replaced by the
night's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest

duckdb = pytest.importorskip("duckdb")

DOC = Path(__file__).resolve().parent.parent / "docs" / "analysts.md"
SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
DOC_NIGHT = "/srv/bidui/out/2026-06-30"
AS_OF = dt.date(2026, 6, 30)
RANK = {"high": 1, "medium": 2, "low": 3}


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", DOC.read_text("utf-8"), flags=re.S | re.M)


def statements() -> list[str]:
    out = []
    for block in blocks("sql"):
        out += [s.strip() for s in re.split(r";\s*(?:\n|$)", block) if s.strip()]
    return out


PYTHON = blocks("python")
SQL = statements()


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample night's outputs, as `bidui run` publishes them (with discrepancies.xlsx)."""
    from pipeline.config import default_config
    from pipeline.night import NightRequest, run_night

    folder = tmp_path_factory.mktemp("night") / "2026-06-30"
    config = default_config()
    config["report"] = {**(config.get("report") or {}), "xlsx_export": True}
    run_night(NightRequest(union=[SAMPLE / "union_roll.xlsx"],
                           civil=[SAMPLE / "civil_exchange.csv"],
                           members=[SAMPLE / "members.csv"], out=folder, as_of=AS_OF,
                           config=config))
    return folder


def run_python(block: str, night: Path, cwd: Path) -> dict:
    code = block.replace(DOC_NIGHT, night.as_posix())
    namespace: dict = {"__name__": "__recipe__"}
    before = Path.cwd()
    os.chdir(cwd)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            exec(compile(code, str(DOC), "exec"), namespace)
    finally:
        os.chdir(before)
    return namespace


def python_block(containing: str) -> str:
    (block,) = [b for b in PYTHON if containing in b]
    return block


def run_sql(statement: str, night: Path) -> pd.DataFrame:
    connection = duckdb.connect()
    try:
        return connection.sql(statement.replace(DOC_NIGHT, night.as_posix())).df()
    finally:
        connection.close()


def sql_statement(containing: str) -> str:
    (statement,) = [s for s in SQL if containing in s]
    return statement


@pytest.fixture(scope="module")
def findings(night: Path) -> pd.DataFrame:
    return pd.read_parquet(night / "discrepancies.parquet")


# -- every block runs ---------------------------------------------------------------------------

def test_the_page_has_recipes_for_pandas_and_duckdb() -> None:
    assert len(PYTHON) >= 7 and len(SQL) >= 7
    assert all(DOC_NIGHT in b for b in PYTHON) and all(DOC_NIGHT in s for s in SQL)


@pytest.mark.parametrize("index", range(len(PYTHON)), ids=lambda i: f"python-{i + 1}")
def test_python_block_runs(index: int, night: Path, tmp_path: Path) -> None:
    run_python(PYTHON[index], night, tmp_path)


@pytest.mark.parametrize("index", range(len(SQL)), ids=lambda i: f"sql-{i + 1}")
def test_sql_statement_runs(index: int, night: Path) -> None:
    assert len(run_sql(SQL[index], night).columns) > 0


# -- what the text says they give -----------------------------------------------------------------

def ranks(severity: pd.Series) -> list[int]:
    return [RANK[s] for s in severity.astype(str)]


def test_the_work_list_is_high_then_medium_then_low(night: Path, tmp_path: Path) -> None:
    todo = run_python(python_block("todo = "), night, tmp_path)["todo"]
    assert ranks(todo["severity"]) == sorted(ranks(todo["severity"]))
    assert set(todo["severity"].astype(str)) == {"high", "medium", "low"}
    for _, group in todo.groupby("severity", observed=True):
        amounts = group["amount_at_risk_yuan"]
        assert amounts.dropna().is_monotonic_decreasing
        assert not amounts.iloc[: amounts.notna().sum()].isna().any()  # no amount last


def test_the_filtered_workbook_holds_what_it_says(night: Path, tmp_path: Path,
                                                  findings: pd.DataFrame) -> None:
    import openpyxl

    chaoyang = run_python(python_block("chaoyang = "), night, tmp_path)["chaoyang"]
    expected = findings[(findings["status"] == "new") & (findings["severity"] == "high")
                        & (findings["district_code"].fillna("") == "110105")]
    assert len(chaoyang) == len(expected) > 0
    sheet = openpyxl.load_workbook(tmp_path / "朝阳区_今日新增_高.xlsx")["比对问题"]
    assert sheet.max_row == len(expected) + 1


def test_counts_by_code_add_up_and_money_kinds_match_the_rules(
        night: Path, tmp_path: Path, findings: pd.DataFrame) -> None:
    from pipeline.report.html_report import money_codes

    namespace = run_python(python_block("by_type = "), night, tmp_path)
    assert set(namespace["AT_RISK"]) == money_codes("at_risk")
    assert set(namespace["OUTREACH"]) == money_codes("outreach")
    by_type = namespace["by_type"]
    assert int(by_type["n"].sum()) == len(findings)
    manifest = json.loads((night / "manifest.json").read_text("utf-8"))
    assert {t: int(n) for (t, _m), n in by_type["n"].items()} == manifest["findings_by_type"]
    assert by_type["n"].is_monotonic_decreasing
    kinds = {t: m for t, m in by_type.index}
    assert kinds["NOT_ON_HARDSHIP_ROLL"] == "outreach" and kinds["DECEASED"] == "at risk"
    # The SQL recipes' IN lists name the same codes.
    for statement, kind in ((sql_statement("AS at_risk_yuan"), "at_risk"),
                            (sql_statement("AS outreach_yuan"), "outreach")):
        listed = set(re.findall(r"'([A-Z_]+)'", statement))
        assert listed == money_codes(kind), kind


def test_money_figures_are_the_reports(night: Path, tmp_path: Path,
                                       findings: pd.DataFrame) -> None:
    from pipeline.report.html_report import money_summary

    at_risk, outreach = money_summary(findings, "at_risk"), money_summary(findings, "outreach")
    assert at_risk["yuan"] > 0 and outreach["yuan"] > 0
    namespace = run_python(python_block("at_risk_yuan = "), night, tmp_path)
    assert namespace["at_risk_yuan"] == at_risk["yuan"]
    assert namespace["outreach_yuan"] == outreach["yuan"]
    sql_at_risk = run_sql(sql_statement("AS at_risk_yuan"), night)
    sql_outreach = run_sql(sql_statement("AS outreach_yuan"), night)
    assert sql_at_risk.loc[0, "at_risk_yuan"] == at_risk["yuan"]
    assert sql_at_risk.loc[0, "roll_entries"] == at_risk["entities"]
    assert sql_outreach.loc[0, "outreach_yuan"] == outreach["yuan"]
    assert sql_outreach.loc[0, "households"] == outreach["entities"]
    page = (night / "report.html").read_text("utf-8")
    assert f"可能错付（年度）<b>{at_risk['yuan']:,.0f} 元</b>" in page
    assert f"帮扶潜力（年度）<b>{outreach['yuan']:,.0f} 元</b>" in page


def test_district_table_counts_every_finding_by_severity(night: Path, tmp_path: Path,
                                                         findings: pd.DataFrame) -> None:
    table = run_python(python_block("by_district = "), night, tmp_path)["by_district"]
    assert int(table.to_numpy().sum()) == len(findings)
    assert [str(c) for c in table.columns] == ["high", "medium", "low"]


def test_dates_and_decisions(night: Path, tmp_path: Path, findings: pd.DataFrame) -> None:
    namespace = run_python(python_block("days_open = "), night, tmp_path)
    assert namespace["open_since_june"].empty  # a first night: everything is new tonight
    assert set(namespace["days_open"]) == {0}
    assert namespace["decisions"].sum() == len(findings)


def test_links_and_data_quality_recipes(night: Path, tmp_path: Path) -> None:
    namespace = run_python(python_block("issues_by = "), night, tmp_path)
    assert len(namespace["matched"]) == 1
    assert namespace["matched"]["method"].tolist() == ["probabilistic"]
    issues = pd.read_parquet(night / "field_issues.parquet")
    assert len(issues) > 0 and int(namespace["issues_by"].sum()) == len(issues)
    manifest = json.loads((night / "manifest.json").read_text("utf-8"))
    assert manifest["outputs"]["field_issues.parquet"]["rows"] == len(issues)
    statement = sql_statement("field_issues.parquet")
    assert int(run_sql(statement, night)["n"].sum()) == len(issues)


def test_manifest_recipe_and_its_accounting(night: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture) -> None:
    namespace = run_python(python_block("manifest = json.load"), night, tmp_path)
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == len(namespace["manifest"]["inputs"]) == 3
    for item in namespace["manifest"]["inputs"]:
        assert item["rows_read"] == (item["rows_linked"] + item["rows_unlinked"]
                                     + item["rows_quarantined"] + item["rows_non_data"])


def test_duckdb_orders_by_severity_rank(night: Path, findings: pd.DataFrame) -> None:
    by_type = run_sql(sql_statement("GROUP BY type"), night)
    assert ranks(by_type["severity"]) == sorted(ranks(by_type["severity"]))
    assert int(by_type["n"].sum()) == len(findings)
    new = run_sql(sql_statement("WHERE status = 'new'"), night)
    assert len(new) == int((findings["status"] == "new").sum())
    assert ranks(new["severity"]) == sorted(ranks(new["severity"]))
    # Sorting the text would not do: DuckDB reads severity as VARCHAR.
    text_order = run_sql(f"SELECT DISTINCT severity FROM '{DOC_NIGHT}/discrepancies.parquet' "
                         "ORDER BY severity", night)["severity"].tolist()
    assert text_order == ["high", "low", "medium"]


def test_links_recipe_is_least_sure_first_and_the_join_keeps_one_roll_row(night: Path) -> None:
    links = run_sql(sql_statement("FROM '/srv/bidui/out/2026-06-30/links.parquet'\nWHERE"), night)
    assert len(links) > 0 and links["match_probability"].is_monotonic_increasing
    joined = run_sql(sql_statement("LEFT JOIN"), night)
    assert len(joined) >= 1 and joined["match_probability"].notna().all()


def test_the_types_are_what_the_page_says(night: Path, findings: pd.DataFrame) -> None:
    assert str(findings["amount_at_risk_yuan"].dtype) == "float64"
    assert findings["severity"].cat.ordered
    assert list(findings["severity"].cat.categories) == ["high", "medium", "low"]
    assert str(findings["severity_rank"].dtype) == "Int8"
    assert isinstance(findings["as_of"].iloc[0], dt.date)
    described = run_sql(f"DESCRIBE SELECT * FROM '{DOC_NIGHT}/discrepancies.parquet'", night)
    types = dict(zip(described["column_name"], described["column_type"], strict=True))
    assert types["amount_at_risk_yuan"] == "DOUBLE" and types["severity"] == "VARCHAR"
    assert types["severity_rank"] == "TINYINT" and types["as_of"] == "DATE"
    assert types["reviewed_at"] == "TIMESTAMP"
    # Every column is in the page's column table.
    table = DOC.read_text("utf-8").split("## The findings' columns")[1].split("\n## ")[0]
    for column in findings.columns:
        assert f"`{column}`" in table, column


def test_the_page_never_sorts_severity_as_text() -> None:
    for statement in SQL:
        assert not re.search(r"ORDER BY ([\w.]+, )*(\w+\.)?severity\b(?!_rank)", statement)
    assert "Never `ORDER BY severity`" in DOC.read_text("utf-8")


def test_the_nights_workbook_is_as_the_page_describes(night: Path,
                                                      findings: pd.DataFrame) -> None:
    import openpyxl

    book = openpyxl.load_workbook(night / "discrepancies.xlsx")
    assert book.sheetnames == ["比对问题", "说明"]
    sheet = book["比对问题"]
    assert [c.value for c in sheet[1]] == list(findings.columns)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    header = [c.value for c in sheet[1]]
    first = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert isinstance(first["severity_rank"], int) and first["severity_rank"] in (1, 2, 3)
    assert isinstance(first["as_of"], dt.datetime)  # a date cell

"""Great Expectations suites, custom expectations, severities and views (no Prefect server).

One temporary GX project for the module (GX import is 3-10 s).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import load_config
from pipeline.schema import Source
from tests.helpers import raw_frame, valid_id

SUITES = Path(__file__).resolve().parent.parent / "pipeline" / "validate" / "suites"
GOOD = valid_id("11010519900101123")


@pytest.fixture(scope="module")
def gx_run():
    from pipeline.validate.runner import ValidationRun

    run = ValidationRun(load_config(), dt.date(2026, 6, 30))
    yield run
    run.close()


def _validate(run, expectations: list, frame: pd.DataFrame, name: str):
    """Run ad-hoc expectations on a frame in the module's project; return the results."""
    import great_expectations as gx

    suite = run.context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    asset = run.datasource.add_dataframe_asset(name)
    batch = asset.add_batch_definition_whole_dataframe(name)
    definition = gx.ValidationDefinition(name=name, data=batch, suite=suite)
    result = definition.run(batch_parameters={"dataframe": frame},
                            expectation_parameters={"as_of": "2026-06-30"},
                            result_format={"result_format": "SUMMARY"})
    for item in result.results:
        assert not item.exception_info.get("raised_exception"), item.exception_info
    return result.results


def test_every_suite_loads_with_every_expectation(gx_run) -> None:
    """GX drops unknown expectation types silently: the custom module must be registered."""
    names = sorted(p.stem for p in SUITES.glob("*.json"))
    assert set(names) == {"union_roll", "civil_exchange", "roster", "night_over_night",
                          "links", "discrepancies", "manifest"}
    custom_seen = set()
    for name in names:
        document = json.loads((SUITES / f"{name}.json").read_text("utf-8"))
        suite = gx_run.load_suite(name)
        assert len(suite.expectations) == len(document["expectations"]), name
        loaded_types = [e.expectation_type for e in suite.expectations]
        assert loaded_types == [e["type"] for e in document["expectations"]], name
        checks = [e["meta"]["check"] for e in document["expectations"]]
        assert len(checks) == len(set(checks)), f"{name}: check names must be unique"
        custom_seen |= {t for t in loaded_types if "gb11643" in t or "uscc" in t
                        or "admin_code" in t or "plausible" in t}
    from pipeline.validate.custom_expectations import CUSTOM_EXPECTATIONS

    assert custom_seen == set(CUSTOM_EXPECTATIONS)


def test_severity_and_mostly_come_from_configuration(gx_run) -> None:
    suite = gx_run.load_suite("civil_exchange")
    by_check = {e.meta["check"]: e for e in suite.expectations}
    assert by_check["person_key_unique"].meta["severity"] == "critical"
    assert by_check["required_filled:id_number"].meta["severity"] == "critical"
    assert by_check["id_valid"].meta["severity"] == "warning"
    assert by_check["id_valid"].mostly == 0.98
    from pipeline.validate.settings import ValidationSettings

    custom = ValidationSettings.from_config(
        load_config() | {"validation": {"severity": {"civil_exchange": {"id_*": "critical"}},
                                        "mostly": {"civil_exchange": {"id_valid": 0.5}}}})
    assert custom.severity_of("civil_exchange", "id_valid") == "critical"
    assert custom.severity_of("civil_exchange", "other") == "warning"
    assert custom.mostly_of("civil_exchange", "id_valid") == 0.5


def test_bad_severity_in_configuration_is_a_clear_error() -> None:
    from pipeline.errors import InputError
    from pipeline.validate.settings import ValidationSettings

    with pytest.raises(InputError, match="critical"):
        ValidationSettings.from_config({"validation": {"severity": {"links": {"*": "fatal"}}}})


def test_custom_expectations_with_mostly(gx_run) -> None:
    from pipeline.validate import custom_expectations as ce

    frame = pd.DataFrame({
        "id": [GOOD, "110105199001011230", "1.10108E+17", None, valid_id("11010819850505234")],
        "uscc": ["9111010853638473" + "4X", "9111010536384734X2", None, "x", "91110111742219300L"],
        "code": ["110108", "110103", "999999", None, "110228"],
        "date": pd.to_datetime(["1950-01-01", "1899-12-31", "2026-07-01", None, "2026-06-30"]),
        "size": pd.array([1, 20, 0, None, 21], dtype="Int64"),
    })
    results = _validate(gx_run, [
        ce.ExpectColumnValuesToBeValidGb11643Id(column="id"),
        ce.ExpectColumnValuesToBeValidGb11643Id(column="id", mostly=0.5),
        ce.ExpectColumnValuesToBeValidUscc(column="uscc", mostly=0.5),
        ce.ExpectColumnValuesToBeKnownAdminCode(column="code"),
        ce.ExpectColumnValuesToBeKnownAdminCode(column="code", mostly=0.6),
        ce.ExpectColumnValuesToBePlausibleDates(column="date", max_date={"$PARAMETER": "as_of"}),
        ce.ExpectColumnValuesToBePlausibleDates(column="date", max_date="2030-01-01", mostly=0.7),
        ce.ExpectColumnValuesToBePlausibleHouseholdSize(column="size"),
    ], frame, "custom")
    counts = [(r.success, r.result["unexpected_count"]) for r in results]
    assert counts == [
        (False, 2),  # bad checksum and Excel damage; the missing one is not judged
        (True, 2),   # 2 of 4 non-missing fail: mostly 0.5 passes
        (True, 2),   # 'x' and a bad check character fail (2 of 4 -> 0.5 >= 0.5)
        (False, 1),  # 999999 never existed; 110103 崇文 and 110228 密云县 are history
        (True, 1),
        (False, 2),  # 1899 and a day after as-of
        (True, 1),   # with a later upper bound only 1899 fails: 3 of 4
        (False, 2),  # 0 and 21 people
    ]


def test_input_view_keeps_every_row_read_and_types_from_normalisation() -> None:
    from pipeline.normalise.sources import normalise_source
    from pipeline.validate.stage import input_view

    raw = raw_frame(Source.CIVIL, [
        {"case_id": " C1 ", "member_no": "1", "name": "张伟", "id_number": GOOD,
         "assistance_type": "城市低保", "district_code": "110108", "case_status": "在保",
         "household_size": "3", "approved_date": "2019年3月1日"},
        {"case_id": None, "member_no": "2", "name": "李娜", "id_number": None,
         "assistance_type": "低保", "district_code": "110108", "case_status": "在保"},
    ])
    normalised = normalise_source(raw, Source.CIVIL, dt.date(2026, 6, 30))
    assert len(normalised.quarantine) == 1
    view = input_view(raw, normalised.frame, Source.CIVIL)
    assert len(view) == 2
    assert view["case_id"].tolist()[0] == "C1" and pd.isna(view["case_id"].tolist()[1])
    assert view["household_size"].dtype == "Int64" and view["household_size"].tolist()[0] == 3
    assert view["approved_date"].tolist()[0] == pd.Timestamp("2019-03-01")


def test_night_over_night_frame_compares_rows_and_bytes() -> None:
    from pipeline.ingest import FileInfo, Loaded
    from pipeline.validate.stage import night_over_night_frame

    def info(source: str, sha: str, rows: int) -> FileInfo:
        return FileInfo(path=f"{source}.csv", source=source, sha256=sha, size_bytes=1,
                        encoding="utf-8", sheet=None, header_row=1, rows_read=rows,
                        blank_rows_skipped=0, extra_columns=[], duplicate_columns=[])

    loaded = {Source.UNION: Loaded(Source.UNION, pd.DataFrame(), [info("union", "a", 100)]),
              Source.CIVIL: Loaded(Source.CIVIL, pd.DataFrame(), [info("civil", "b", 40)])}
    last = {"inputs": [{"source": "union", "sha256": "a", "rows_read": 90},
                       {"source": "civil", "sha256": "c", "rows_read": 100}],
            "accounting": {"union": {"rows_read": 90}, "civil": {"rows_read": 100}}}
    frame = night_over_night_frame(loaded, last).set_index("source")
    assert bool(frame.loc["union", "same_bytes_as_last_night"])
    assert not bool(frame.loc["civil", "same_bytes_as_last_night"])
    assert frame.loc["civil", "row_ratio"] == pytest.approx(0.4)


def test_markdown_summary_has_counts_only() -> None:
    from pipeline.validate.stage import markdown_summary

    summary = {"run_name": "bidui-2026-06-30", "success": True, "critical_failed": 0,
               "warnings": 1, "skipped": {},
               "suites": {"union_roll": {"success": False, "rows": 3, "evaluated": 2,
                                         "unsuccessful": 1, "failed": [
                                             {"suite": "union_roll", "check": "id_valid",
                                              "severity": "warning", "unexpected_count": 1,
                                              "element_count": 3}]}}}
    text = markdown_summary(summary)
    assert "| union_roll | id_valid | warning | 1 | 3 |" in text

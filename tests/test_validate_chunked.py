"""Chunked validation (`pipeline/validate/chunked.py`): chunk by chunk, merged, the same outcome,
stored result and Data Docs as `run_suite` on the whole validation view.

The views come from the sample roster (data/sample/members.csv) through load_source,
normalise_source and input_view, as the validate stage builds them, with problems planted in
the raw rows: invalid IDs, join dates out of range, a member_id duplicated within a chunk and
others across chunks, empty cells.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import load_config
from pipeline.schema import Source

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
SUITES = ROOT / "pipeline" / "validate" / "suites"
AS_OF = dt.date(2026, 6, 30)


def _view(source: Source, path: Path, plant=None, rows: int | None = None):
    """(validation view, labels) of a sample file, after `plant(raw)` edits its raw rows."""
    from pipeline.ingest import load_source
    from pipeline.normalise.sources import normalise_source
    from pipeline.validate.stage import input_labels, input_view

    loaded = load_source([path], source)
    raw = loaded.frame if rows is None else loaded.frame.iloc[:rows].copy()
    if plant is not None:
        plant(raw)
    typed = normalise_source(raw, source, AS_OF).frame
    return input_view(raw, typed, source), input_labels(source, loaded.files)


def _plant(raw: pd.DataFrame) -> None:
    """Problems at fixed rows of the first 40 and, on a long roster, far apart."""
    n = len(raw)
    ids = raw.columns.get_loc("id_number")
    members = raw.columns.get_loc("member_id")
    for row in (1, 8, 15, 22, 29, 36):  # bad check characters, Excel damage: 6 of 40 fail
        raw.iat[row, ids] = "1.10108E+17" if row % 2 else "110105199001011230"
    raw.iat[3, members] = raw.iat[2, members]  # duplicated within a chunk of 7
    raw.iat[33, members] = raw.iat[0, members]  # across chunks
    raw.iat[n - 1, members] = raw.iat[0, members]  # three times, first and last row included
    raw.iat[n // 2, members] = raw.iat[5, members]
    raw.iloc[4, raw.columns.get_loc("join_date")] = "1899-12-31"
    raw.iloc[9, raw.columns.get_loc("join_date")] = "2031-01-01"
    raw.iloc[n - 2, raw.columns.get_loc("join_date")] = "1800-01-01"
    raw.iloc[10, members] = None  # empty cells: not judged by map checks, counted as missing
    raw.iloc[11, raw.columns.get_loc("name")] = None
    raw.iloc[12, ids] = None
    raw.iloc[13, raw.columns.get_loc("join_date")] = None


@pytest.fixture(scope="module")
def small():
    return _view(Source.MEMBERS, SAMPLE / "members.csv", _plant, rows=40)


@pytest.fixture(scope="module")
def sample():
    return _view(Source.MEMBERS, SAMPLE / "members.csv", _plant)


def _run():
    from pipeline.validate.runner import ValidationRun

    return ValidationRun(load_config(), AS_OF)


def _stored(run, suite: str = "roster") -> dict:
    """The suite's result in the results store: success, statistics, and per check its
    success, result body (counts, observed value, masked failing values), exception and meta
    (severity, the Data Docs' labels)."""
    keys = [k for k in run.context.validation_results_store.list_keys()
            if k.expectation_suite_identifier.name == suite]
    assert len(keys) == 1, keys
    result = run.context.validation_results_store.get(keys[0])
    checks = {r.expectation_config.meta["check"]: (r.success, r.result, r.exception_info,
                                                   r.expectation_config.meta)
              for r in result.results}
    return {"success": result.success, "statistics": result.statistics, "checks": checks}


def _whole(view: pd.DataFrame, labels: dict, suite: str = "roster") -> dict:
    run = _run()
    try:
        outcome = run.run_suite(suite, view, labels)
        return {"outcome": outcome, "stored": _stored(run, suite), "sentences": run.sentences,
                "summary": run.summary()["suites"]}
    finally:
        run.close()


def _chunked(view: pd.DataFrame, labels: dict, size: int, suite: str = "roster",
             late_labels: bool = False, **options) -> dict:
    from pipeline.validate.chunked import ChunkedSuite

    run = _run()
    try:
        chunked = ChunkedSuite(run, suite, None if late_labels else labels, **options)
        for start in range(0, max(len(view), 1), size):  # an empty view: one empty chunk
            chunked.add(view.iloc[start:start + size])
        if late_labels:  # the files are known once read (pipeline/roster/validation.py)
            chunked.labels = labels
        outcome = chunked.finish()
        assert not chunked.spill_path.exists()
        return {"outcome": outcome, "stored": _stored(run, suite), "sentences": run.sentences,
                "summary": run.summary()["suites"]}
    finally:
        run.close()


@pytest.fixture(scope="module")
def small_whole(small):
    return _whole(*small)


def _assert_same(chunked: dict, whole: dict) -> None:
    assert chunked["outcome"] == whole["outcome"]
    assert chunked["summary"] == whole["summary"]
    assert chunked["sentences"] == whole["sentences"]
    assert chunked["stored"]["success"] == whole["stored"]["success"]
    assert chunked["stored"]["statistics"] == whole["stored"]["statistics"]
    assert chunked["stored"]["checks"].keys() == whole["stored"]["checks"].keys()
    for check, (success, body, info, meta) in whole["stored"]["checks"].items():
        got = chunked["stored"]["checks"][check]
        assert got[0] == success, check
        assert got[1] == body, check  # every count, percentage, observed and failing value
        assert got[2] == info, check
        assert got[3] == meta and meta["labels"], check


def test_every_roster_expectation_type_has_a_merge_rule() -> None:
    from pipeline.validate.chunked import MERGE_RULES

    for suite in ("roster", "union_roll", "civil_exchange"):
        document = json.loads((SUITES / f"{suite}.json").read_text("utf-8"))
        unknown = {e["type"] for e in document["expectations"]} - set(MERGE_RULES)
        assert not unknown, f"{suite}: no merge rule for {sorted(unknown)}"


def test_a_type_without_merge_rule_is_refused_naming_it(tmp_path: Path) -> None:
    from pipeline.validate.chunked import ChunkedSuite, UnsupportedExpectation
    from pipeline.validate.runner import ValidationRun

    document = json.loads((SUITES / "roster.json").read_text("utf-8"))
    document["expectations"].append({"type": "expect_column_values_to_not_be_null",
                                     "kwargs": {"column": "name"},
                                     "meta": {"check": "name_present"}})
    (tmp_path / "roster.json").write_text(json.dumps(document), encoding="utf-8")
    run = ValidationRun(load_config(), AS_OF, suites_dir=tmp_path)
    try:
        with pytest.raises(UnsupportedExpectation, match="expect_column_values_to_not_be_null"):
            ChunkedSuite(run, "roster")
        assert run.outcomes == [] and run.labels == {}  # refused before loading anything
    finally:
        run.close()
    document = json.loads((SUITES / "civil_exchange.json").read_text("utf-8"))
    for expectation in document["expectations"]:  # an option no merge rule is tested with
        if expectation["type"] == "expect_compound_columns_to_be_unique":
            expectation["kwargs"]["ignore_row_if"] = "all_values_are_missing"
    (tmp_path / "civil_exchange.json").write_text(json.dumps(document), encoding="utf-8")
    run = ValidationRun(load_config(), AS_OF, suites_dir=tmp_path)
    try:
        with pytest.raises(UnsupportedExpectation, match="all_values_are_missing"):
            ChunkedSuite(run, "civil_exchange")
    finally:
        run.close()


@pytest.mark.parametrize(("size", "late_labels"), [(1, False), (7, False), (7, True),
                                                  (40, False)])
def test_chunked_equals_whole_on_planted_problems(small, small_whole, size: int,
                                                  late_labels: bool) -> None:
    view, labels = small
    whole = small_whole
    failed = {f.check for f in whole["outcome"].failed}
    # values_understood: a join date filed but not a date (blank for join_date_plausible)
    assert failed == {"member_id_unique", "id_valid", "join_date_plausible", "values_understood"}
    unique = whole["stored"]["checks"]["member_id_unique"][1]
    assert unique["unexpected_count"] == 7  # 2 within a chunk of 7, 3 + 2 across chunks
    assert unique["missing_count"] == 1
    assert whole["stored"]["checks"]["required_filled:member_id"][1]["observed_value"] == 35
    _assert_same(_chunked(view, labels, size, late_labels=late_labels), whole)


def test_an_empty_roster_gates_chunked_as_whole(small) -> None:
    view, labels = small
    empty = view.iloc[:0]
    whole = _whole(empty, labels)
    assert {f.check for f in whole["outcome"].failed} >= {"rows_present",
                                                          "required_filled:member_id"}
    _assert_same(_chunked(empty, labels, 10), whole)


def test_a_few_hundred_rows_per_chunk_on_the_sample_roster(sample) -> None:
    view, labels = sample
    whole = _whole(view, labels)
    _assert_same(_chunked(view, labels, 700), whole)
    # with a single bucket the counts are the same (buckets only bound memory)
    _assert_same(_chunked(view, labels, 5_000, buckets=1), whole)
    rows = [r[2] for r in whole["stored"]["checks"]["member_id_unique"][1]
            ["bidui_failing_values"]]
    assert str(len(view) + 1) in rows  # the last row (file row = position + 2), a twin of row 2


@pytest.mark.slow
def test_three_hundred_rows_per_chunk_on_the_sample_roster(sample) -> None:
    view, labels = sample
    _assert_same(_chunked(view, labels, 300), _whole(view, labels))


def _plant_roll(raw: pd.DataFrame) -> None:
    """A roll id shared by both sheets, a household of 25, an invalid employer code."""
    raw.iloc[30, raw.columns.get_loc("roll_id")] = raw.iloc[3, raw.columns.get_loc("roll_id")]
    raw.iloc[5, raw.columns.get_loc("household_size")] = "25"
    raw.iloc[6, raw.columns.get_loc("employer_uscc")] = "91110000ABCDEFGH12"


def test_union_roll_over_two_sheets_chunked_equals_whole() -> None:
    view, labels = _view(Source.UNION, ROOT / "tests" / "cases" / "04-roll-over-two-sheets" /
                         "union_roll.xlsx", _plant_roll)
    assert view["source_sheet"].nunique() == 2
    whole = _whole(view, labels, suite="union_roll")
    assert {"roll_id_unique", "household_size_plausible"} <= \
        {f.check for f in whole["outcome"].failed}
    _assert_same(_chunked(view, labels, 5, suite="union_roll"), whole)


def _plant_civil(raw: pd.DataFrame) -> None:
    """Person keys (家庭编号, 成员序号) repeated within a chunk of 7, across chunks and three
    times; a key with one part missing (ignored by the check, counted as missing); a household
    covering more people than it has, and one without its size."""
    n = len(raw)
    case, member = raw.columns.get_loc("case_id"), raw.columns.get_loc("member_no")
    for twin, row in ((2, 3), (0, 33), (0, n - 1), (5, n // 2)):
        raw.iat[row, case], raw.iat[row, member] = raw.iat[twin, case], raw.iat[twin, member]
    raw.iat[24, case] = raw.iat[25, case]  # same case, other member: no duplicate
    raw.iat[10, member] = None
    raw.iat[12, case] = None
    raw.iat[6, raw.columns.get_loc("covered_size")] = "9"
    raw.iat[8, raw.columns.get_loc("household_size")] = None


@pytest.mark.parametrize("size", [1, 7, 40])
def test_civil_suite_chunked_equals_whole(size: int) -> None:
    view, labels = _view(Source.CIVIL, SAMPLE / "civil_exchange.csv", _plant_civil, rows=40)
    whole = _whole(view, labels, suite="civil_exchange")
    failed = {f.check for f in whole["outcome"].failed}
    assert {"person_key_unique", "covered_size_within_household"} <= failed
    key = whole["stored"]["checks"]["person_key_unique"][1]
    assert (key["unexpected_count"], key["missing_count"]) == (7, 2)
    assert whole["stored"]["checks"]["covered_size_within_household"][1][
        "unexpected_count"] == 1
    _assert_same(_chunked(view, labels, size, suite="civil_exchange"), whole)


def test_civil_suite_chunked_equals_whole_on_the_sample() -> None:
    view, labels = _view(Source.CIVIL, SAMPLE / "civil_exchange.csv", _plant_civil)
    whole = _whole(view, labels, suite="civil_exchange")
    assert "person_key_unique" in {f.check for f in whole["outcome"].failed}
    _assert_same(_chunked(view, labels, 500, suite="civil_exchange"), whole)


def test_validate_chunks_from_raw_and_normalised_chunks() -> None:
    """What the chunked roster reader calls: (raw, typed) per chunk, as validate_inputs."""
    from pipeline.ingest import load_source
    from pipeline.normalise.sources import normalise_source
    from pipeline.validate.chunked import validate_chunks

    loaded = load_source([SAMPLE / "members.csv"], Source.MEMBERS)
    raw = loaded.frame.iloc[:600].copy()
    _plant(raw)
    view, labels = _view(Source.MEMBERS, SAMPLE / "members.csv", _plant, rows=600)
    whole = _whole(view, labels)
    chunks = ((part, normalise_source(part, Source.MEMBERS, AS_OF).frame)
              for part in (raw.iloc[s:s + 250] for s in range(0, len(raw), 250)))
    run = _run()
    try:
        outcome = validate_chunks(run, Source.MEMBERS, chunks, loaded.files)
        assert outcome == whole["outcome"] and run.outcomes == [outcome]
        assert _stored(run) == whole["stored"]
    finally:
        run.close()


def test_a_column_empty_in_some_chunks_only_passes_and_empty_everywhere_gates(small) -> None:
    from pipeline.errors import GateError
    from pipeline.validate.chunked import ChunkedSuite
    from pipeline.validate.runner import raise_on_critical
    from pipeline.validate.stage import describe

    view, labels = small
    view = view.copy()
    view.loc[:19, "name"] = pd.NA  # the first chunks have no name at all: not a broken export
    result = _chunked(view, labels, 10)
    assert "required_filled:name" not in {f.check for f in result["outcome"].failed}

    view["name"] = pd.Series(pd.NA, index=view.index, dtype="string")
    run = _run()
    chunked = ChunkedSuite(run, "roster", labels)
    for start in range(0, len(view), 10):
        chunked.add(view.iloc[start:start + 10])
    outcome = chunked.finish()
    (failure,) = [f for f in outcome.failed if f.check == "required_filled:name"]
    assert failure.severity == "critical" and failure.observed_value == 0
    with pytest.raises(GateError, match="required column '姓名'"):
        raise_on_critical(run, lambda f: describe(f, run), "inputs")


def test_data_docs_list_one_roster_result(small, tmp_path: Path) -> None:
    from pipeline.validate.chunked import ChunkedSuite

    view, labels = small
    run = _run()
    try:
        chunked = ChunkedSuite(run, "roster", labels)
        for start in range(0, len(view), 7):
            chunked.add(view.iloc[start:start + 7])
        chunked.finish()
        run.build_docs(tmp_path / "site")
        (page,) = list((tmp_path / "site" / "validations" / "roster").rglob("*.html"))
        text = page.read_text("utf-8")
        assert "members.csv" in text and "会员编号" in text
        index = (tmp_path / "site" / "index.html").read_text("utf-8")
        assert index.count("validations/roster/") == 1
    finally:
        run.close()


def test_hash_folder_is_private_and_removed(small, tmp_path: Path) -> None:
    from pipeline.validate.chunked import ChunkedSuite

    view, labels = small
    run = _run()
    try:
        with ChunkedSuite(run, "roster", labels, spill_dir=tmp_path) as chunked:
            chunked.add(view.iloc[:20])
            folder = chunked.spill_path
            assert folder.parent == tmp_path
            assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
            assert any(folder.iterdir())
        assert not folder.exists()  # closed without finish: gone, nothing recorded
        assert run.outcomes == []
        assert not list(run.context.validation_results_store.list_keys())
    finally:
        run.close()


def test_chunks_must_keep_their_columns_and_dtypes(small) -> None:
    from pipeline.validate.chunked import ChunkedSuite

    view, labels = small
    run = _run()
    try:
        with ChunkedSuite(run, "roster", labels) as chunked:
            chunked.add(view.iloc[:10])
            other = view.iloc[10:20].copy()
            other["member_id"] = other["member_id"].astype(object)
            with pytest.raises(ValueError, match="member_id"):
                chunked.add(other)
            with pytest.raises(ValueError, match="columns"):
                chunked.add(view.iloc[10:20].drop(columns=["name"]))
    finally:
        run.close()


def test_column_hashes_count_as_pandas() -> None:
    from pipeline.validate.spill import ColumnHashes, SpillFolder, new_hash_key

    generator = np.random.default_rng(7)
    values = pd.Series(generator.integers(0, 3_000, 10_000).astype(str), dtype="string")
    values[generator.integers(0, 10_000, 300)] = pd.NA
    folder = SpillFolder()
    try:
        hashes = ColumnHashes(folder.path, "t", new_hash_key(), with_rows=True, buckets=8)
        for start in range(0, len(values), 999):
            hashes.add(values.iloc[start:start + 999], start)
        counts = hashes.count(20)
        present = values.dropna()
        duplicated = present.duplicated(keep=False)
        assert counts.distinct == present.nunique()
        assert counts.duplicated_rows == int(duplicated.sum())
        assert counts.first_duplicated.tolist() == present.index[duplicated][:20].tolist()
    finally:
        folder.close()
    assert not folder.path.exists()

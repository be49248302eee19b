"""The civil-affairs side read, normalised and validated in chunks on Dask workers
(`pipeline/civil/on_dask.py`) is the side read whole here: the same frame, quarantine, field
issues and stored validation result, with ID numbers shared by different people across
chunks, the same person filed twice across chunks, person keys repeated across chunks, and
quarantined rows, in chunks of a few hundred rows, from CSV and from Parquet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.civil.on_dask import read_on_dask
from pipeline.config import load_config
from pipeline.ingest import load_source
from pipeline.normalise.sources import normalise_source
from pipeline.schema import Source
from tests.test_validate_chunked import _stored

pytestmark = pytest.mark.slow  # a local Dask cluster of two worker processes

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "civil_exchange.csv"
AS_OF = dt.date(2026, 6, 30)
CHUNK = 1_000


@pytest.fixture(scope="module")
def client():
    from pipeline.link.distributed import open_dask_executor

    with open_dask_executor(None, workers=2) as executor:
        yield executor.client


def _planted(folder: Path, repeated_key: bool = True) -> Path:
    """The sample civil file with, across chunks of 1,000 rows: a valid number carried by a
    stranger 2,000 rows on (shared: both marked), the same person filed again 1,500 rows on
    (not shared), a number shared three ways in three chunks, a person key (家庭编号,
    成员序号) repeated across chunks, and a row with neither name nor number (quarantined)."""
    raw = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False, encoding="gb18030")
    ids, names = raw.columns.get_loc("身份证号"), raw.columns.get_loc("姓名")
    valid = [k for k in range(len(raw)) if len(raw.iat[k, ids]) == 18]
    first, second, third = valid[10], valid[20], valid[30]
    raw.iat[first + 2_000, ids] = raw.iat[first, ids]  # a stranger: another name
    raw.iat[second + 1_500, ids] = raw.iat[second, ids]  # the same person again
    raw.iat[second + 1_500, names] = raw.iat[second, names]
    raw.iat[third + 1_000, ids] = raw.iat[third, ids]
    raw.iat[third + 2_500, ids] = raw.iat[third, ids]
    for column in ("救助证编号", "成员序号") if repeated_key else ():
        raw.iat[3_100, raw.columns.get_loc(column)] = raw.iat[5, raw.columns.get_loc(column)]
    raw.iat[2_200, ids], raw.iat[2_200, names] = "", ""
    path = folder / "civil_exchange.csv"
    raw.to_csv(path, index=False, encoding="gb18030")
    return path


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    return _planted(tmp_path_factory.mktemp("civil"))


@pytest.fixture(scope="module")
def publishable(tmp_path_factory) -> Path:
    """`planted` without the repeated person key (a critical check: the night stops)."""
    return _planted(tmp_path_factory.mktemp("civil"), repeated_key=False)


def _on_dask(client, paths: list[Path], keep=None):
    from pipeline.civil.on_dask import read_on_dask

    chunks = read_on_dask(client, paths, CHUNK)
    return chunks, chunks.normalise(AS_OF, keep)


def test_normalised_on_the_workers_is_the_whole_frame(client, planted) -> None:
    whole_loaded = load_source([planted], Source.CIVIL)
    whole = normalise_source(whole_loaded.frame, Source.CIVIL, AS_OF)
    shared = whole.frame["id_problem"] == "shared"
    assert shared.sum() == 5  # two strangers and three carriers; the person filed twice not
    assert len(whole.quarantine) >= 1
    chunks, there = _on_dask(client, [planted])
    try:
        assert len(chunks.raw) == -(-len(whole_loaded.frame) // CHUNK) >= 3
        assert chunks.files == whole_loaded.files
        assert list(chunks.frame.columns) == list(whole_loaded.frame.columns)
        assert chunks.frame.empty and chunks.rows == whole_loaded.rows == len(whole.frame) + len(
            whole.quarantine)  # what the ingest stage's log line counts
        pd.testing.assert_frame_equal(there.frame.fetch(), whole.frame)
        pd.testing.assert_frame_equal(there.quarantine, whole.quarantine)
        pd.testing.assert_frame_equal(there.field_issues, whole.field_issues)
    finally:
        chunks.release()


def test_a_number_shared_across_chunks_is_found_only_over_the_whole_file(planted) -> None:
    """Why the chunks are decided together: normalised one chunk at a time, the strangers
    carrying one number in different chunks keep it as evidence."""
    raw = load_source([planted], Source.CIVIL).frame
    alone = pd.concat([normalise_source(raw.iloc[s:s + CHUNK], Source.CIVIL, AS_OF, s).frame
                       for s in range(0, len(raw), CHUNK)], ignore_index=True)
    assert (alone["id_problem"] == "shared").sum() == 0


def test_only_the_kept_columns_come_back(client, planted) -> None:
    from pipeline.stages import CIVIL_READ_LATER

    whole = normalise_source(load_source([planted], Source.CIVIL).frame, Source.CIVIL, AS_OF)
    chunks, there = _on_dask(client, [planted], CIVIL_READ_LATER)
    try:
        kept = [c for c in CIVIL_READ_LATER if c in whole.frame.columns]
        assert list(there.frame.columns) == kept
        pd.testing.assert_frame_equal(there.frame.fetch(), whole.frame[kept])
    finally:
        chunks.release()


def test_the_linking_features_are_built_on_the_workers_as_from_the_whole_frame(client,
                                                                              planted) -> None:
    """With `features` the workers build each chunk's linking features: together they are
    `person_features` of the whole frame, row for row, and the frame that comes here lacks
    the columns only the features read (birth dates, sex, street, address, phone,
    employer). The features stay on a worker (`RemoteFrame`)."""
    from pipeline.link.features import person_features
    from pipeline.link.remote import RemoteFrame
    from pipeline.stages import CIVIL_KEPT_BESIDE_FEATURES, CIVIL_READ_LATER, without_features

    whole = normalise_source(load_source([planted], Source.CIVIL).frame, Source.CIVIL, AS_OF)
    chunks = read_on_dask(client, [planted], CHUNK)
    try:
        there = chunks.normalise(AS_OF, CIVIL_KEPT_BESIDE_FEATURES, features=True)
        assert len(chunks.normalised) >= 3
        later = [c for c in CIVIL_READ_LATER if c in whole.frame.columns]
        held = there.features  # on a worker: only its future, size and columns are here
        assert isinstance(held, RemoteFrame) and len(held) == len(whole.frame)
        expected = person_features(whole.frame[later])
        assert list(held.columns) == list(expected.columns)
        pd.testing.assert_frame_equal(held.fetch(), expected)
        assert not {"address", "birth_date", "street"} & set(there.frame.columns)
        kept = [c for c in CIVIL_KEPT_BESIDE_FEATURES if c in whole.frame.columns]
        pd.testing.assert_frame_equal(there.frame.fetch(), whole.frame[kept])
        assert chunks.normalise(AS_OF).features is None  # only when asked
        after_link = without_features({Source.CIVIL: there})[Source.CIVIL]
        assert after_link.features is None and after_link.frame is there.frame
    finally:
        chunks.release()


def test_a_parquet_civil_file_is_read_on_the_workers_the_same(client, planted, tmp_path
                                                              ) -> None:
    frame = pd.read_csv(planted, dtype=str, keep_default_na=False, encoding="gb18030")
    folder = tmp_path / "civil.parquet"
    folder.mkdir()
    for k, start in enumerate(range(0, len(frame), 1_300)):  # pieces not at chunk bounds
        frame.iloc[start:start + 1_300].to_parquet(folder / f"part-{k}.parquet", index=False)
    whole_loaded = load_source([folder], Source.CIVIL)
    whole = normalise_source(whole_loaded.frame, Source.CIVIL, AS_OF)
    chunks, there = _on_dask(client, [folder])
    try:
        assert chunks.files == whole_loaded.files
        pd.testing.assert_frame_equal(there.frame.fetch(), whole.frame)
        pd.testing.assert_frame_equal(there.quarantine, whole.quarantine)
    finally:
        chunks.release()


def test_the_civil_suite_checked_on_the_workers_is_the_whole_frames(client, planted,
                                                                    tmp_path) -> None:
    from pipeline.validate.runner import ValidationRun
    from pipeline.validate.stage import input_labels, input_view

    loaded = load_source([planted], Source.CIVIL)
    typed = normalise_source(loaded.frame, Source.CIVIL, AS_OF).frame
    here = ValidationRun(load_config(), AS_OF)
    there = ValidationRun(load_config(), AS_OF)
    chunks, _ = _on_dask(client, [planted])
    try:
        labels = input_labels(Source.CIVIL, loaded.files)
        whole = here.run_suite("civil_exchange", input_view(loaded.frame, typed, Source.CIVIL),
                               labels)
        assert "person_key_unique" in {f.check for f in whole.failed}
        chunked = chunks.validate_in_chunks(there, "civil_exchange", labels, tmp_path)
        assert chunked == whole
        assert _stored(there, "civil_exchange") == _stored(here, "civil_exchange")
        assert there.sentences == here.sentences
        assert chunks.raw == [] and chunks.normalised == []  # released once checked
        assert list(tmp_path.iterdir()) == []  # the hashes' folder is gone
    finally:
        chunks.release()
        here.close()
        there.close()


def test_no_numbers_repeat_no_second_round(client, tmp_path) -> None:
    """The sample as it is: every chunk finished with nothing to mark, as the whole frame."""
    whole = normalise_source(load_source([SAMPLE], Source.CIVIL).frame, Source.CIVIL, AS_OF)
    chunks, there = _on_dask(client, [SAMPLE])
    try:
        pd.testing.assert_frame_equal(there.frame.fetch(), whole.frame)
        assert np.array_equal(there.frame.fetch()["id_valid"].to_numpy(),
                              whole.frame["id_valid"].to_numpy())
    finally:
        chunks.release()


def _night(night, client, civil: Path, out: Path, engine: str, *more: str):
    """A night on the sample roll and roster with `civil`, its civil side in chunks of 1,000
    rows on the module's cluster (engine "dask") or read whole (engine "local"); `more`:
    further options."""
    config = out.parent / "config.yaml"
    config.write_text("linking:\n  civil_chunk_rows: 1000\n", encoding="utf-8")
    sample = ROOT / "data" / "sample"
    extra = ["--dask-address", client.scheduler.address] if engine == "dask" else []
    return night("--union", str(sample / "union_roll.xlsx"), "--civil", str(civil),
                 "--members", str(sample / "members.csv"), "--out", str(out),
                 "--as-of", "2026-06-30", "--config", str(config), "--engine", engine,
                 *extra, *more)


def test_a_person_key_repeated_across_chunks_stops_the_night_as_read_whole(
        night, client, planted, tmp_path) -> None:
    results = {engine: _night(night, client, planted, tmp_path / engine, engine)
               for engine in ("local", "dask")}
    for result in results.values():
        assert result.returncode == 3 and result.failed_stage == "validate"
        assert "2 of 3827 rows share a (家庭编号, 成员序号) person key" in result.stderr
        # where they are, for the steward (file and row: no values)
        assert "[rows: civil_exchange.csv row 7, civil_exchange.csv row 3102]" in result.stderr
        assert not result.out.exists()
    assert results["dask"].stderr == results["local"].stderr


@pytest.mark.parametrize("pseudonymise", [False, True], ids=["plain", "pseudonymised"])
def test_a_night_with_the_civil_side_in_chunks_on_the_workers_is_the_local_night(
        night, client, publishable, tmp_path, pseudonymise) -> None:
    """The whole night on both engines, the civil side in chunks of 1,000 rows with numbers
    shared across them: every published table (with the links' tokens when pseudonymised:
    the Dask driver holds only the linked civil rows by then), the accounting and the
    validation summary are the same; the civil suite's Data Docs page is one result, not
    one per chunk."""
    key = tmp_path / "key"
    key.write_bytes(b"0123456789abcdef-civil-on-dask")
    more = ("--pseudonymise", "--key-file", str(key)) if pseudonymise else ()
    outs = {}
    for engine in ("local", "dask"):
        outs[engine] = tmp_path / engine
        result = _night(night, client, publishable, outs[engine], engine, *more)
        assert result.returncode == 0, result.stderr
    tokens = pd.read_parquet(outs["dask"] / "links.parquet").filter(like="_token")
    assert list(tokens.columns) == (["union_id_token", "civil_id_token"] if pseudonymise
                                    else [])
    assert tokens.notna().any().all()  # tokens made (a roll row may have no number)
    for name in ("links.parquet", "member_links.parquet", "discrepancies.parquet",
                 "quarantine.parquet", "field_issues.parquet", "link_evidence.parquet"):
        expected = pd.read_parquet(outs["local"] / name)
        pd.testing.assert_frame_equal(pd.read_parquet(outs["dask"] / name), expected, obj=name)
    import json

    manifests = {e: json.loads((o / "manifest.json").read_text("utf-8")) for e, o in outs.items()}
    assert manifests["dask"]["accounting"] == manifests["local"]["accounting"]
    assert manifests["dask"]["validation"] == manifests["local"]["validation"]
    assert manifests["local"]["linking"]["engine"] == "local"
    assert manifests["local"]["linking"]["chunk_rows"] == {"members": 200_000}
    assert manifests["dask"]["linking"]["engine"] == "dask"
    assert manifests["dask"]["linking"]["chunk_rows"] == {"members": 200_000, "civil": 1_000}
    civil = manifests["local"]["validation"]["suites"]["civil_exchange"]
    assert civil["rows"] == manifests["local"]["accounting"]["civil"]["rows_read"] > 3 * 1000
    pages = list((outs["dask"] / "validation" / "validations").rglob("*civil_exchange*.html"))
    assert len(pages) == 1
    quarantined = pd.read_parquet(outs["dask"] / "quarantine.parquet")
    assert (quarantined["source"] == "civil").any()


CASES = ROOT / "tests" / "cases"


@pytest.mark.parametrize("folder", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_each_real_file_case_normalises_on_the_workers_as_read_whole(client, folder) -> None:
    """The exchange-file cases (tests/cases/: title rows, placeholders, apostrophes…) in
    chunks of 100 rows on the workers: the same frame, quarantine and field issues."""
    path = CASES / folder / "civil_exchange.csv"
    loaded = load_source([path], Source.CIVIL)
    whole = normalise_source(loaded.frame, Source.CIVIL, AS_OF)
    from pipeline.civil.on_dask import read_on_dask

    chunks = read_on_dask(client, [path], 100)
    try:
        there = chunks.normalise(AS_OF)
        assert len(chunks.raw) >= 3 and chunks.files == loaded.files
        pd.testing.assert_frame_equal(there.frame.fetch(), whole.frame)
        pd.testing.assert_frame_equal(there.quarantine, whole.quarantine)
        pd.testing.assert_frame_equal(there.field_issues, whole.field_issues)
    finally:
        chunks.release()


def test_two_civil_files_one_a_workbook_over_two_sheets(client, tmp_path) -> None:
    """Several inputs, one of them a workbook whose people are on two sheets: chunks never
    span a sheet or a file, row keys run on over all of them, provenance is kept."""
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False, encoding="gb18030")
    book = tmp_path / "civil_b.xlsx"
    with pd.ExcelWriter(book) as writer:
        frame.iloc[:700].to_excel(writer, sheet_name="东城区", index=False)
        frame.iloc[700:1500].to_excel(writer, sheet_name="西城区", index=False)
    first = tmp_path / "civil_a.csv"
    frame.iloc[1500:].to_csv(first, index=False, encoding="gb18030")
    paths = [first, book]
    loaded = load_source(paths, Source.CIVIL)
    whole = normalise_source(loaded.frame, Source.CIVIL, AS_OF)
    from pipeline.civil.on_dask import read_on_dask

    chunks = read_on_dask(client, paths, 1_000)
    try:
        there = chunks.normalise(AS_OF)
        assert chunks.files == loaded.files
        pd.testing.assert_frame_equal(there.frame.fetch(), whole.frame)
        assert set(there.frame.fetch()["source_sheet"].dropna()) == {"东城区", "西城区"}
    finally:
        chunks.release()


@pytest.mark.parametrize("fault", ["no data rows", "no ID column"])
def test_a_bad_civil_file_is_the_same_input_error_on_the_workers(client, tmp_path,
                                                                 fault: str) -> None:
    from pipeline.civil.on_dask import read_on_dask
    from pipeline.errors import InputError

    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False, encoding="gb18030")
    frame = frame.iloc[:0] if fault == "no data rows" else frame.drop(columns="身份证号")
    path = tmp_path / "civil_exchange.csv"
    frame.to_csv(path, index=False, encoding="gb18030")
    with pytest.raises(InputError) as here:
        load_source([path], Source.CIVIL)
    with pytest.raises(InputError) as there:
        read_on_dask(client, [path], 1_000)
    assert str(there.value) == str(here.value)

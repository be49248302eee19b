"""An ID number shared by different people is found over the whole roster, not per chunk.

The roster is read in chunks; a clerk's copied number can sit in two chunks (the copy far
down the file, or across a chunk boundary). `roster.shared_numbers` reads the roster once
for its numbers before the first pass, so the streamed night marks exactly the rows the
roster held whole marks (`shared_ids.shared_id_rows`), and links as it does, whatever the
chunk size; on Dask too."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.ingest import load_source
from pipeline.link.people import link_civil_members
from pipeline.link.spec import load_spec
from pipeline.normalise.sources import NUMBER_FIELDS, normalise_source, number_frame, prepare_source
from pipeline.roster.first_pass import roster_reads, stream_roster
from pipeline.roster.second_pass import link_roster
from pipeline.roster.shared_numbers import chunk_numbers, find_shared
from pipeline.schema import SOURCE_FILE, Source

AS_OF = dt.date(2026, 11, 1)
CHUNK = 997
SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
CASES = Path(__file__).resolve().parent / "cases"  # copies of ../shared/cases
KEY = ["civil_case_id", "civil_member_no", "member_id"]
COMPARED = [*KEY, "member_row_key", "civil_row_key", "decision", "method",
            "match_probability", "match_weight"]


@pytest.fixture(scope="module")
def planted(sample_sides):
    """The sample roster with numbers copied by clerks: a linked member's number onto a
    stranger 20 chunks down; one number onto strangers in three chunks; one onto the next
    row (one chunk); and a member's number and name onto a row far down (the same person
    filed twice: not shared). Returns (raw roster, its FileInfos, {copied position:
    positions of its copies})."""
    _civil, _civil_f, loaded, (whole_links, _, _) = sample_sides
    raw = loaded.frame.copy()
    linked = sorted({int(key[1:]) for key in whole_links["member_row_key"]})
    with_number = raw["id_number"].notna().to_numpy()
    a, b, c, d = [p for p in linked if with_number[p] and p < 3 * CHUNK][:4]
    copies = {a: [a + 20 * CHUNK], b: [b + 7 * CHUNK, b + 15 * CHUNK], c: [c + 1],
              d: [d + 22 * CHUNK]}
    for source, targets in copies.items():
        for target in targets:
            raw.loc[target, "id_number"] = raw.loc[source, "id_number"]
            if source == d:
                raw.loc[target, "name"] = raw.loc[source, "name"]
    return raw, loaded.files, copies


def chunks_of(raw: pd.DataFrame, files, rows: int = CHUNK):
    return [raw.iloc[i:i + rows] for i in range(0, len(raw), rows)], lambda: files


def whole_shared(raw: pd.DataFrame) -> set[tuple[str, str]]:
    frame = normalise_source(raw, Source.MEMBERS, AS_OF).frame
    marked = frame[frame["id_problem"] == "shared"]
    return set(zip(marked[SOURCE_FILE].astype(str), marked["id_norm"].astype(str), strict=True))


def ordered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[COMPARED].sort_values(KEY, kind="mergesort").reset_index(drop=True)


def test_numbers_copied_across_chunks_are_found_as_the_whole_roster_finds_them(planted):
    raw, files, copies = planted
    chunks, _ = chunks_of(raw, files)
    found = find_shared(chunks, AS_OF)
    expected = whole_shared(raw)
    assert found.keys == expected
    # the strangers' numbers (two across chunks, one within one) are shared; the same
    # person filed twice is not; each chunk alone sees only the one copied to the next row
    numbers = {source: str(raw.loc[source, "id_number"]).strip().upper() for source in copies}
    shared_numbers = {number for _, number in expected}
    a, b, c, d = copies
    assert {numbers[a], numbers[b], numbers[c]} <= shared_numbers
    assert numbers[d] not in shared_numbers
    per_chunk = set().union(*(whole_shared(chunk) for chunk in chunks))
    assert numbers[c] in {n for _, n in per_chunk}
    assert numbers[a] not in {n for _, n in per_chunk}


def test_rows_marks_exactly_the_rows_the_whole_roster_marks(planted):
    raw, files, _ = planted
    chunks, _ = chunks_of(raw, files, 2_500)
    found = find_shared(chunks, AS_OF)
    whole = normalise_source(raw, Source.MEMBERS, AS_OF)
    marked = []
    for k, chunk in enumerate(chunks):
        prepared = prepare_source(chunk.reset_index(drop=True), Source.MEMBERS, AS_OF,
                                  first_row=k * 2_500)
        marked.append(found.rows(prepared.frame))
    expected = whole.frame["id_problem"].eq("shared").fillna(False).to_numpy(dtype=bool)
    assert expected.sum() >= 7  # the strangers: 2 + 3 + 2 rows
    keys = whole.frame["row_key"].str.slice(1).astype(int).to_numpy()
    assert np.array_equal(np.concatenate(marked)[keys], expected)


@pytest.mark.parametrize("chunk", [CHUNK, 6_000])
def test_the_streamed_roster_links_as_the_whole_planted_roster(sample_sides, planted, chunk):
    civil, civil_f, _, _ = sample_sides
    raw, files, copies = planted
    whole = normalise_source(raw, Source.MEMBERS, AS_OF)
    whole_links, whole_model, _ = link_civil_members(civil, civil_f, whole.frame,
                                                     "civil_members")
    roster = stream_roster([], civil_f, load_spec("civil_members"), AS_OF,
                           chunks=chunks_of(raw, files, chunk))
    try:
        links, model, _ = link_roster(civil, roster)
        issues = roster.rejects.field_issues.frame()
    finally:
        roster.close()
    # the steward's list: a field issue per carrier, as the roster held whole gives it
    shared_issues = issues[issues["reason_code"] == "shared_id_number"]
    expected = whole.field_issues[whole.field_issues["reason_code"] == "shared_id_number"]
    assert len(expected) >= 7
    pd.testing.assert_frame_equal(shared_issues.reset_index(drop=True),
                                  expected.reset_index(drop=True))
    pd.testing.assert_frame_equal(ordered(links), ordered(whole_links))
    assert model["comparisons"] == whole_model["comparisons"]
    assert roster.shared_numbers == len(whole_shared(raw))
    # the stranger given a linked member's number is not linked to that member's household
    a = next(iter(copies))
    stranger = f"M{copies[a][0]}"
    owner_cases = set(whole_links.loc[whole_links["member_row_key"] == f"M{a}", "civil_case_id"])
    assert not set(links.loc[links["member_row_key"] == stranger, "civil_case_id"]) & owner_cases


def test_number_frame_types_as_prepare_source(planted):
    """The first read's columns are typed exactly as the first pass types them: on the
    planted roster, and on every case's files shaped like real exports (the roll states
    birth dates, the civil side does not)."""
    given = [(planted[0], Source.MEMBERS)]
    for folder in sorted(p for p in CASES.iterdir() if p.is_dir()):
        for path in sorted(folder.iterdir()):
            source = {"union_roll": Source.UNION, "civil_exchange": Source.CIVIL,
                      "members": Source.MEMBERS}.get(path.stem)
            if source is not None:
                given.append((load_source([path], source).frame, source))
    assert len(given) >= 15  # the planted roster and seven cases' two files
    for raw, source in given:
        light = number_frame(raw, source, AS_OF)
        full = prepare_source(raw, source, AS_OF).frame
        columns = [SOURCE_FILE, *(f for f in NUMBER_FIELDS if f in full.columns), "id_norm",
                   "id_placeholder"]
        assert list(light.columns) == columns
        pd.testing.assert_frame_equal(light, full[columns])


def test_a_one_shot_iterator_of_chunks_is_refused():
    with pytest.raises(TypeError, match="read twice"):
        roster_reads([], CHUNK, (iter([pd.DataFrame()]), lambda: []))


def test_the_roster_on_dask_finds_the_same_numbers_and_links(sample_sides, planted):
    from pipeline.link.distributed import open_dask_executor
    from pipeline.roster.on_dask import link_roster_on_dask, stream_roster_on_dask

    civil, civil_f, _, _ = sample_sides
    raw, files, _ = planted
    spec = load_spec("civil_members")
    here = stream_roster([], civil_f, spec, AS_OF, chunks=chunks_of(raw, files))
    try:
        links_here, _, _ = link_roster(civil, here)
    finally:
        here.close()
    with open_dask_executor(None, workers=2) as executor:
        there = stream_roster_on_dask(executor.client, [], civil_f, spec, AS_OF,
                                      chunks=chunks_of(raw, files))
        try:
            assert there.shared_numbers == len(whole_shared(raw)) >= 3
            links_there, _, _ = link_roster_on_dask(executor.client, civil, there)
        finally:
            there.close()
    pd.testing.assert_frame_equal(ordered(links_there), ordered(links_here))


def test_a_parquet_roster_read_on_the_workers_finds_them_too(sample_sides, planted, tmp_path,
                                                              monkeypatch):
    """Every roster input Parquet: the first read is on the workers as well (the driver
    streams no row), and finds the numbers the local engine finds in the same folder."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import pipeline.roster.on_dask as on_dask
    from pipeline.ingest.stream_sources import ParquetSource
    from pipeline.link.distributed import open_dask_executor

    civil, civil_f, _, _ = sample_sides
    _, _, copies = planted
    frame = pd.read_csv(SAMPLE / "members.csv", dtype=str, keep_default_na=False,
                        encoding="utf-8-sig")
    for source, targets in copies.items():
        for target in targets:
            frame.loc[target, "公民身份号码"] = frame.loc[source, "公民身份号码"]
            if source == list(copies)[3]:
                frame.loc[target, "姓名"] = frame.loc[source, "姓名"]
    folder = tmp_path / "members"
    folder.mkdir()
    bounds = np.linspace(0, len(frame), 4).astype(int)
    for k in range(3):
        pq.write_table(pa.Table.from_pandas(frame.iloc[bounds[k]:bounds[k + 1]],
                                            preserve_index=False),
                       folder / f"part-{k}.parquet", row_group_size=301)
    spec = load_spec("civil_members")
    here = stream_roster([folder], civil_f, spec, AS_OF, chunk_rows=CHUNK)
    try:
        links_here, _, _ = link_roster(civil, here)
    finally:
        here.close()
    whole = load_source([folder], Source.MEMBERS).frame
    assert here.shared_numbers == len(whole_shared(whole)) >= 3

    def here_only(*_args, **_kwargs):
        raise AssertionError("the driver read roster rows")

    monkeypatch.setattr(ParquetSource, "blocks", here_only)
    monkeypatch.setattr(on_dask, "sent_from_here", here_only)
    with open_dask_executor(None, workers=2) as executor:
        there = on_dask.stream_roster_on_dask(executor.client, [folder], civil_f, spec, AS_OF,
                                              chunk_rows=CHUNK)
        try:
            links_there, _, _ = on_dask.link_roster_on_dask(executor.client, civil, there)
        finally:
            there.close()
    assert there.shared_numbers == here.shared_numbers
    pd.testing.assert_frame_equal(ordered(links_there), ordered(links_here))


def test_the_shared_numbers_never_print_a_number(planted):
    raw, files, _ = planted
    found = find_shared(chunks_of(raw, files)[0], AS_OF)
    assert len(found) >= 3
    text = repr(found) + str(found) + repr(chunk_numbers(raw.iloc[:50], AS_OF))
    for _, number in found.keys:
        assert number not in text
    assert not any(str(name) in text for name in raw["name"].iloc[:50] if len(str(name)) > 1)


def test_a_number_copied_across_two_sheets_of_a_workbook_is_shared(sample_sides, tmp_path):
    """A roster workbook of two sheets (a title row above each header, as offices export):
    one file, so a number copied from the first sheet onto a stranger in the second is
    shared; read in 1,000-row chunks (chunks never span sheets) as held whole. The field
    issues name the sheet and row of both carriers."""
    from openpyxl import Workbook

    _, civil_f, _, _ = sample_sides
    frame = pd.read_csv(SAMPLE / "members.csv", dtype=str, keep_default_na=False,
                        encoding="utf-8-sig").iloc[:3_000]
    frame.loc[2_600, "公民身份号码"] = frame.loc[10, "公民身份号码"]
    assert frame.loc[2_600, "姓名"] != frame.loc[10, "姓名"]
    book = Workbook()
    for k, sheet in enumerate((book.active, book.create_sheet())):
        sheet.title = ("东城区", "西城区")[k]
        sheet.append([f"{sheet.title}工会会员名册"])
        sheet.append(list(frame.columns))
        for row in frame.iloc[k * 1_500:(k + 1) * 1_500].itertuples(index=False):
            sheet.append(list(row))
    path = tmp_path / "会员名册.xlsx"
    book.save(path)
    whole = normalise_source(load_source([path], Source.MEMBERS).frame, Source.MEMBERS, AS_OF)
    expected = whole.field_issues[whole.field_issues["reason_code"] == "shared_id_number"]
    assert list(zip(expected["source_sheet"], expected["source_row"], strict=True)) == [
        ("东城区", 13), ("西城区", 1_103)]  # data from row 3 of each sheet
    roster = stream_roster([path], civil_f, load_spec("civil_members"), AS_OF,
                           chunk_rows=1_000)
    try:
        issues = roster.rejects.field_issues.frame()
    finally:
        roster.close()
    assert roster.chunks == 4 and roster.shared_numbers == 1
    got = issues[issues["reason_code"] == "shared_id_number"].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected.reset_index(drop=True))

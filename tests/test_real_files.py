"""The real exchange-file cases (tests/cases/, copied from shared/cases/): each gives what its
README says a careful user expects, compared with a control written plainly.

Each night runs in-process through the same stage functions the flow wires (ingest →
normalise → link → detect), without Prefect or validation, so the eight nights take seconds.
The control is the same people written plainly: case 02's roll with the apostrophes taken out
(16 links, 15 of them `id_exact`, 2 INVALID_ID, as the cases' README says).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from pipeline import stages
from pipeline.config import default_config

CASES = Path(__file__).resolve().parent / "cases"
AS_OF = dt.date(2025, 6, 30)
LINK_KEYS = ["union_roll_id", "civil_case_id", "civil_member_no", "method", "decision"]
FINDING_KEYS = ["type", "union_roll_id", "civil_case_id", "civil_member_no", "union_value"]


@dataclass
class Night:
    loaded: dict
    normalised: dict
    links: pd.DataFrame
    findings: pd.DataFrame

    @property
    def roll(self) -> pd.DataFrame:
        return self.normalised[stages.Source.UNION].frame

    def link_rows(self) -> set[tuple]:
        return set(self.links[LINK_KEYS].astype(str).itertuples(index=False, name=None))

    def finding_rows(self) -> set[tuple]:
        return set(self.findings[FINDING_KEYS].astype(str).itertuples(index=False, name=None))

    def findings_of(self, roll_id: str) -> pd.DataFrame:
        return self.findings[self.findings["union_roll_id"] == roll_id]

    def link_of(self, roll_id: str) -> pd.DataFrame:
        return self.links[self.links["union_roll_id"] == roll_id]


def run_night(union: Path | list[Path], civil: Path, executor=None) -> Night:
    """One night through the stage functions, in-process (no Prefect, no validation);
    `executor`: a Dask executor (the civil side read, normalised and linked on its
    workers), else the local engine."""
    config = default_config()
    unions = union if isinstance(union, list) else [union]
    loaded = stages.ingest(stages.Inputs(union=unions, civil=[civil]), executor)
    normalised = stages.normalise(loaded, AS_OF)
    links, normalised = stages.link_and_civil_rows(stages.for_later_stages(normalised),
                                                   config, None, executor)
    tracked = stages.detect(stages.without_features(normalised), links, AS_OF, config)
    return Night(loaded, normalised, links.links, tracked.findings)


def case(name: str) -> tuple[Path, Path]:
    folder = next(CASES.glob(f"{name}*"))
    return next(folder.glob("union_roll.*")), folder / "civil_exchange.csv"


@pytest.fixture(scope="module")
def control_night(tmp_path_factory: pytest.TempPathFactory) -> Night:
    """Case 02's roll with every apostrophe marker removed: the people written plainly."""
    union, civil = case("02")
    plain = tmp_path_factory.mktemp("control") / "union_roll.csv"
    with union.open(encoding="utf-8-sig", newline="") as source, \
            plain.open("w", encoding="utf-8-sig", newline="") as target:
        writer = csv.writer(target)
        for row in csv.reader(source):
            writer.writerow([cell[1:] if cell.startswith("'") else cell for cell in row])
    return run_night(plain, civil)


def test_control_is_what_the_cases_readme_says(control_night: Night) -> None:
    links = control_night.links
    assert len(links) == 16
    assert (links["method"] == "id_exact").sum() == 15
    invalid = control_night.findings[control_night.findings["type"] == "INVALID_ID"]
    assert sorted(invalid["union_value"]) == ["checksum", "checksum"]


def test_01_residence_permits_are_valid_and_link_on_the_id() -> None:
    night = run_night(*case("01"))
    kinds = {"HUNT01-TW": "permit_tw", "HUNT01-HK": "permit_hk", "HUNT01-MO": "permit_mo"}
    roll = night.roll.set_index("roll_id")
    for roll_id, kind in kinds.items():
        assert bool(roll.loc[roll_id, "id_valid"]), roll_id
        assert roll.loc[roll_id, "id_kind"] == kind
        assert night.findings_of(roll_id).query("type == 'INVALID_ID'").empty
        link = night.link_of(roll_id)
        assert len(link) == 1 and link["method"].iloc[0] == "id_exact", roll_id
        assert link["civil_case_id"].iloc[0] == "BJHUNT01" + roll_id[-2:]
        assert link["civil_member_no"].iloc[0] == "1"


def test_02_apostrophe_protected_ids_give_the_control(control_night: Night) -> None:
    night = run_night(*case("02"))
    assert night.roll["id_raw"].str.startswith("'").sum() == len(night.roll)  # raw kept
    assert night.link_rows() == control_night.link_rows()
    assert night.finding_rows() == control_night.finding_rows()


@pytest.mark.parametrize("name", ["03", "04"])
def test_03_04_every_roll_row_is_read_whatever_the_layout(name: str, control_night: Night) -> None:
    night = run_night(*case(name))
    assert len(night.roll) == 42
    assert set(night.roll["roll_id"]) == set(control_night.roll["roll_id"])
    # Same people, same evidence: the same links, and the same findings except where the
    # control's CSV and this workbook differ in a cell (one Excel-damaged ID cell).
    assert night.link_rows() - control_night.link_rows() <= {
        r for r in night.link_rows() if r[0] == "GH2023-991261"}
    assert {r[:2] for r in night.finding_rows()} == {r[:2] for r in control_night.finding_rows()}


def test_04_each_row_carries_its_sheet() -> None:
    night = run_night(*case("04"))
    sheets = night.roll["source_sheet"].value_counts().to_dict()
    assert sheets == {"朝阳区": 21, "海淀区": 21}


def test_05_excel_1900_02_29_is_no_date_and_no_evidence_against() -> None:
    night = run_night(*case("05"))
    roll = night.roll.set_index("roll_id")
    issues = night.normalised[stages.Source.UNION].field_issues
    birth_issues = issues[(issues["field"] == "birth_date")
                          & issues["source_row"].isin(roll.loc[["HUNT13-A", "HUNT13-B"],
                                                               "source_row"])]
    assert birth_issues["reason_code"].tolist() == ["not_a_date", "not_a_date"]
    assert set(birth_issues["raw_value_masked"]) == {"1900-**-**"}
    for roll_id in ("HUNT13-A", "HUNT13-B", "HUNT13-C"):
        assert "birth_date" in str(roll.loc[roll_id, "field_issues"]), roll_id
        assert roll.loc[roll_id, "birth_date_source"] != "stated"
        link = night.link_of(roll_id)
        assert len(link) == 1, roll_id
        assert link["civil_case_id"].iloc[0] == "BJHUNT13" + roll_id[-1]
        assert link["civil_member_no"].iloc[0] == "1"
        assert link["decision"].iloc[0] == "match"
        assert link["birth_date_level"].iloc[0] in ("null", "exact"), roll_id


def test_06_dashes_between_minority_name_parts_are_the_separator() -> None:
    night = run_night(*case("06"))
    for roll_id in ("HUNT15-A", "HUNT15-B", "HUNT15-C"):
        assert night.findings_of(roll_id).query("type == 'ID_NAME_CONFLICT'").empty, roll_id
        link = night.link_of(roll_id)
        assert len(link) == 1 and link["method"].iloc[0] == "id_exact"
        assert bool(link["name_agrees"].iloc[0]), roll_id
    names = night.roll.set_index("roll_id")["name"]
    assert names["HUNT15-A"] == "阿依古丽·买买提"


def test_07_placeholders_are_no_evidence(tmp_path: Path) -> None:
    union, civil = case("07")
    night = run_night(union, civil)
    placeholder_cases = {"BJHUNT16X", "BJHUNT16Y", "BJHUNT16Z"}
    assert not night.links["civil_case_id"].isin(placeholder_cases).any()
    for roll_id in ("HUNT16-A", "HUNT16-B"):
        invalid = night.findings_of(roll_id).query("type == 'INVALID_ID'")
        assert invalid["union_value"].tolist() == ["placeholder"], roll_id
        assert night.link_of(roll_id).empty
    civil_frame = night.normalised[stages.Source.CIVIL].frame
    placeholders = civil_frame[civil_frame["case_id"].isin(placeholder_cases)
                               & civil_frame["id_placeholder"]]
    assert len(placeholders) == 4 and not placeholders["id_birth_date"].notna().any()
    # … and the data steward is told of each, to have the feed's owner fill in the number
    issues = night.normalised[stages.Source.CIVIL].field_issues
    told = issues[issues["reason_code"] == "id_placeholder"]
    assert len(told) == int(civil_frame["id_placeholder"].sum()) >= len(placeholders)
    assert {"111111********1111", "000000********0000"} <= set(told["raw_value_masked"])

    # Their other findings are those of the same rows with the ID left blank.
    import openpyxl

    book = openpyxl.load_workbook(union)
    sheet = book.active
    for row in sheet.iter_rows(min_row=2):
        if row[0].value in ("HUNT16-A", "HUNT16-B"):
            row[2].value = None
    blank = tmp_path / "union_roll.xlsx"
    book.save(blank)
    blanked = run_night(blank, civil)
    for roll_id in ("HUNT16-A", "HUNT16-B"):
        mine = {r for r in night.finding_rows() if r[1] == roll_id and r[0] != "INVALID_ID"}
        theirs = {r for r in blanked.finding_rows() if r[1] == roll_id and r[0] != "INVALID_ID"}
        assert mine == theirs and mine, roll_id
    assert night.link_rows() == blanked.link_rows()


@pytest.fixture(scope="module")
def dask_executor():
    """A local cluster of two single-threaded worker processes for these nights."""
    from pipeline.link.distributed import open_dask_executor

    with open_dask_executor(None, workers=2) as executor:
        yield executor


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name[:2] for p in CASES.iterdir() if p.is_dir()))
def test_each_case_gives_the_same_night_on_the_dask_engine(name: str, dask_executor) -> None:
    """The civil side read, normalised and linked on the workers, its features and columns
    kept there (`RemoteFrame`, `RemoteChunks`): the same links (every column), findings,
    quarantine and field issues as the local engine, on every shape of export; after the
    linkage the driver holds the linked civil rows only, and the same usable rows per
    file as the whole frame counts."""
    from pipeline.link.remote import RemoteFrame
    from pipeline.schema import SOURCE_FILE

    union, civil = case(name)
    here = run_night(union, civil)
    there = run_night(union, civil, dask_executor)
    assert isinstance(there.normalised[stages.Source.CIVIL].features, RemoteFrame)
    assert len(here.links) > 0
    whole = here.normalised[stages.Source.CIVIL]
    linked = there.normalised[stages.Source.CIVIL]
    assert whole.usable_per_file is None
    assert linked.usable_per_file == \
        whole.frame[SOURCE_FILE].astype(str).value_counts().to_dict()
    keys = set(here.links["civil_row_key"])
    assert 0 < len(linked.frame) < len(whole.frame) and set(linked.frame["row_key"]) == keys
    assert set(stages.CIVIL_KEPT_BESIDE_FEATURES) <= set(linked.frame.columns)
    pd.testing.assert_frame_equal(
        linked.frame, whole.frame.loc[whole.frame["row_key"].isin(keys),
                                      linked.frame.columns].reset_index(drop=True))
    pd.testing.assert_frame_equal(there.links, here.links)
    pd.testing.assert_frame_equal(there.findings.reset_index(drop=True),
                                  here.findings.reset_index(drop=True))
    for source in (stages.Source.UNION, stages.Source.CIVIL):
        mine, theirs = there.normalised[source], here.normalised[source]
        pd.testing.assert_frame_equal(mine.quarantine, theirs.quarantine)
        if theirs.field_issues is None:
            assert mine.field_issues is None or mine.field_issues.empty
        else:
            pd.testing.assert_frame_equal(mine.field_issues, theirs.field_issues)

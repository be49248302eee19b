"""After `validate` the night keeps only the civil-affairs columns later stages read
(`stages.for_later_stages`): the published files are exactly those of a night that keeps the
whole frame, and the dropped columns' values are freed."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pandas as pd
import pytest

from pipeline import stages
from pipeline.normalise.sources import NormalisedSource
from pipeline.schema import Source

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
KEY = b"0123456789abcdef-later-columns"


def _night(night, out: Path, *more: str):
    return night("--union", str(SAMPLE / "union_roll.xlsx"),
                 "--civil", str(SAMPLE / "civil_exchange.csv"),
                 "--members", str(SAMPLE / "members.csv"),
                 "--out", str(out), "--as-of", "2026-06-30", *more)


@pytest.mark.parametrize("pseudonymise", [False, True], ids=["plain", "pseudonymised"])
def test_a_night_on_the_cut_civil_frame_publishes_what_the_whole_frame_gives(
        night, tmp_path: Path, monkeypatch, pseudonymise: bool) -> None:
    """Any later reader of a dropped column would fail (KeyError) or differ here: the night
    runs every stage after validate (roster, link, detect, report) on the cut frame."""
    key = tmp_path / "key"
    key.write_bytes(KEY)
    more = ("--pseudonymise", "--key-file", str(key)) if pseudonymise else ()
    seen: list[list[str]] = []
    cut = stages.for_later_stages

    def recording(normalised):
        out = cut(normalised)
        seen.append(list(out[Source.CIVIL].frame.columns))
        return out

    monkeypatch.setattr(stages, "for_later_stages", recording)
    slim = _night(night, tmp_path / "cut", *more)
    assert slim.returncode == 0, slim.stderr
    assert seen and set(seen[0]) <= set(stages.CIVIL_READ_LATER)
    assert {"name", "id_norm", "case_id", "case_status"} <= set(seen[0])
    assert not {"name_raw", "id_raw", "relation", "monthly_benefit"} & set(seen[0])
    monkeypatch.setattr(stages, "for_later_stages", lambda normalised: normalised)
    whole = _night(night, tmp_path / "whole", *more)
    assert whole.returncode == 0, whole.stderr

    names = sorted(p.name for p in (tmp_path / "whole").glob("*.parquet"))
    assert "member_links.parquet" in names and "discrepancies.parquet" in names
    assert names == sorted(p.name for p in (tmp_path / "cut").glob("*.parquet"))
    for name in names:
        expected = pd.read_parquet(tmp_path / "whole" / name)
        if name in ("links.parquet", "member_links.parquet", "discrepancies.parquet"):
            assert len(expected) > 10, name
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "cut" / name), expected,
                                      obj=name)
    assert slim.manifest["accounting"] == whole.manifest["accounting"]
    assert slim.manifest["findings_by_type"] == whole.manifest["findings_by_type"]


class Cell:  # a value whose lifetime can be watched
    pass


def test_the_civil_frame_is_cut_to_the_listed_columns_and_the_rest_is_freed() -> None:
    watched = Cell()
    alive = weakref.ref(watched)
    civil = pd.DataFrame({"row_key": pd.array(["C0", "C1"], dtype="string"),
                          "case_id": ["H1", "H1"], "name": ["张伟", "李娜"],
                          "name_raw": pd.Series([watched, "李 娜"], dtype=object),
                          "relation": ["户主", "配偶"]})
    quarantine = pd.DataFrame({"reason_code": ["missing_case_id"]})
    union = pd.DataFrame({"roll_id": ["R1"], "cause": ["病"]})
    normalised = {Source.UNION: NormalisedSource(Source.UNION, union, quarantine.iloc[:0]),
                  Source.CIVIL: NormalisedSource(Source.CIVIL, civil, quarantine)}
    del watched

    out = stages.for_later_stages(normalised)
    assert list(out[Source.CIVIL].frame.columns) == ["row_key", "case_id", "name"]
    pd.testing.assert_frame_equal(out[Source.CIVIL].frame, civil[["row_key", "case_id", "name"]])
    assert out[Source.CIVIL].quarantine is quarantine  # rejected rows: untouched
    assert out[Source.UNION] is normalised[Source.UNION]  # the roll: whole
    assert "name_raw" in civil.columns  # the given frame is not changed
    del civil, normalised
    gc.collect()
    assert alive() is None  # nothing of the dropped columns is held


def test_the_columns_read_later_include_every_list_they_are_made_of() -> None:
    from pipeline.detect.common import CIVIL_COLUMNS
    from pipeline.link.features import INPUTS

    listed = set(stages.CIVIL_READ_LATER)
    assert set(CIVIL_COLUMNS) <= listed and set(INPUTS) <= listed
    assert len(listed) == len(stages.CIVIL_READ_LATER)  # each once

"""A member whose ID number was mistyped in its first 14 digits (place or birth date), and
whose name is the civil-affairs person's, still links: the same name with the same last four
digits (sequence code and check digit, GB 11643) is a blocking rule of the roster model
(`name_id_tail`), and the one-digit level's u is estimated within the birth-date block
(`training.u_within_block`), so the pair scores as a match although the number fails its
check."""

from __future__ import annotations

import datetime as dt

import yaml

from pipeline.link.people import link_civil_members
from pipeline.link.spec import load_spec
from pipeline.normalise.sources import normalise_source
from pipeline.schema import Source

AS_OF = dt.date(2026, 11, 1)
KEY = ["member_id", "civil_case_id", "civil_member_no"]


def mistype_birth_year(number: str) -> str:
    """The last digit of the birth year (the 10th) one higher: 1968 → 1969."""
    return number[:9] + str((int(number[9]) + 1) % 10) + number[10:]


def test_a_member_number_mistyped_in_its_birth_year_still_links(sample_sides, tmp_path):
    civil, civil_f, loaded, (whole, _, _) = sample_sides
    exact = whole[(whole["decision"] == "match") & (whole["method"] == "id_exact")]
    names = normalise_source(loaded.frame, Source.MEMBERS, AS_OF).frame.set_index(
        "row_key")["name"]
    same_name = (exact["member_row_key"].map(names).to_numpy()
                 == exact["civil_row_key"].map(civil.set_index("row_key")["name"]).to_numpy())
    chosen = exact[same_name].drop_duplicates("member_id").head(25)
    assert len(chosen) == 25
    raw = loaded.frame.copy()
    rows = raw["member_id"].isin(chosen["member_id"])
    raw.loc[rows, "id_number"] = raw.loc[rows, "id_number"].map(mistype_birth_year)
    members = normalise_source(raw, Source.MEMBERS, AS_OF).frame
    assert not members.loc[members["member_id"].isin(chosen["member_id"]), "id_valid"].any()
    expected = set(map(tuple, chosen[KEY].astype(str).to_numpy()))

    links, _, stats = link_civil_members(civil, civil_f, members, "civil_members")
    matched = links[links["decision"] == "match"]
    found = set(map(tuple, matched[KEY].astype(str).to_numpy()))
    assert expected <= found
    assert next(s for s in stats if s["name"] == "name_id_tail")["pairs"] > 0

    # Without the rule no other blocking rule brings these pairs together: the ID blocks
    # need the first 14 or all 18 digits, the birth-date blocks the birth date or year.
    data = load_spec("civil_members").to_dict()
    data["blocking"] = [b for b in data["blocking"] if b["name"] != "name_id_tail"]
    spec = tmp_path / "without_name_id_tail.yaml"
    spec.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    without, _, _ = link_civil_members(civil, civil_f, members, str(spec))
    assert not expected & set(map(tuple, without[KEY].astype(str).to_numpy()))

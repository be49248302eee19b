"""Linking on generated data with truth: the people that matter are found, and only they."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import stages
from pipeline.config import load_config
from pipeline.evaluate import score_links
from pipeline.generate import generate
from pipeline.generate.constants import REFERENCE_DATE


@pytest.fixture(scope="module")
def linked(tmp_path_factory) -> tuple[stages.Links, Path, dict]:
    folder = tmp_path_factory.mktemp("generated")
    generate(folder, households=400, seed=11)
    inputs = stages.Inputs([folder / "union_roll.xlsx"], [folder / "civil_exchange.csv"],
                           [folder / "members.csv"])
    normalised = stages.normalise(stages.ingest(inputs), REFERENCE_DATE)
    return stages.link(normalised, load_config()), folder / "truth", normalised


def test_roll_to_civil_links_against_truth(linked) -> None:
    links, truth, _ = linked
    scores = score_links(links.links, pd.read_csv(truth / "links.csv", dtype=str,
                                                  keep_default_na=False))
    assert scores["all"]["precision"] >= 0.995
    assert scores["all"]["recall"] >= 0.995
    # Rows whose roll-side ID is blank, mistyped or Excel-damaged are still found.
    for kind in ("blank", "typo", "excel_000", "excel_e17", "legacy15"):
        if kind in scores["recall_by_id_kind"]:
            assert scores["recall_by_id_kind"][kind] >= 0.95, kind
    assert set(links.links["method"]) == {"id_exact", "probabilistic"}


def test_id_exact_links_are_all_true(linked) -> None:
    links, truth, _ = linked
    scores = score_links(links.links, pd.read_csv(truth / "links.csv", dtype=str,
                                                  keep_default_na=False))
    assert scores["by_method"]["id_exact"]["precision"] == 1.0


def test_duplicate_roll_entries_are_clustered(linked) -> None:
    links, truth, _ = linked
    found = set(links.roll_duplicates["roll_id"])
    planted = pd.read_csv(truth / "discrepancies.csv", dtype=str, keep_default_na=False)
    planted = set(planted.loc[planted["type"] == "DUPLICATE_ROLL_ENTRY", "union_roll_id"])
    assert planted and len(found & planted) / len(planted) >= 0.95
    assert len(found - planted) <= max(1, len(planted) // 50)


def test_each_output_pair_carries_its_evidence(linked) -> None:
    links, _, _ = linked
    columns = set(links.links.columns)
    for name in ("name", "id_number", "birth_date", "sex", "district", "street", "address"):
        assert {f"{name}_level", f"{name}_weight"} <= columns
    weights = links.links[[c for c in columns if c.endswith("_weight") and
                           c != "match_weight"]].sum(axis=1)
    assert (weights - links.links["match_weight"]).abs().max() < 1e-9
    assert links.links["match_probability"].between(0, 1).all()


def test_namesakes_with_different_valid_ids_are_not_linked(linked) -> None:
    links, _, _ = linked
    matches = links.links[links.links["decision"] == "match"]
    assert not (matches["id_number_level"] == "differs_valid").any()
    evidence = links.evidence
    namesakes = evidence[(evidence["name_level"] == "exact")
                         & (evidence["id_number_level"] == "differs_valid")]
    assert len(namesakes) > 0  # the generator plants them, and they are candidates …
    assert set(namesakes["decision"]) == {"none"}  # … but never linked on the name alone


def test_blocking_pair_completeness_on_truth(linked) -> None:
    """Every true roll → civil pair is among the candidates (the linker cannot find others)."""
    from pipeline.link.blocking import candidate_pairs
    from pipeline.link.engine import Linker
    from pipeline.link.features import person_features
    from pipeline.link.spec import load_spec
    from pipeline.schema import Source

    _, truth, normalised = linked
    union, civil = normalised[Source.UNION].frame, normalised[Source.CIVIL].frame
    linker = Linker(load_spec("union_civil"))
    li, ri, stats = candidate_pairs(person_features(union), person_features(civil),
                                    linker.passes)
    found = set(zip(union["roll_id"].to_numpy()[li], civil["case_id"].to_numpy()[ri],
                    civil["member_no"].to_numpy()[ri], strict=True))
    true = pd.read_csv(truth / "links.csv", dtype=str, keep_default_na=False)
    true = set(zip(true["union_roll_id"], true["civil_case_id"], true["civil_member_no"],
                   strict=True))
    assert len(true & found) / len(true) >= 0.999
    assert len(li) < len(union) * len(civil) / 50  # blocking, not the cross product
    assert sum(s.new_pairs for s in stats) == len(li)


def test_blocking_codes_are_shared_only_by_the_same_frames(linked) -> None:
    """Passes and EM sessions share each column's codes, factorised once per pair of frames;
    a pass on other frames never reads them."""
    from pipeline.link.blocking import BlockPass, ColumnCodes, key_codes
    from pipeline.link.features import person_features
    from pipeline.schema import Source

    _, _, normalised = linked
    union = person_features(normalised[Source.UNION].frame)
    civil = person_features(normalised[Source.CIVIL].frame)
    shared = ColumnCodes(union, civil)
    for columns in (["birth", "surname_py"], ["name_nosep", "birth_year"], ["name_nosep"]):
        block = BlockPass(columns, 5000)
        assert np.array_equal(block.positions(union, civil, shared),
                              block.positions(union, civil))
    assert set(shared._codes) == {"birth", "surname_py", "name_nosep", "birth_year"}
    other = union.iloc[::-1].reset_index(drop=True)
    fresh = key_codes(other, civil, ["birth"], shared)
    assert np.array_equal(fresh[0], key_codes(other, civil, ["birth"])[0])
    assert not np.array_equal(fresh[0], key_codes(union, civil, ["birth"], shared)[0])


def test_comparisons_run_in_bounded_chunks_with_identical_results(linked) -> None:
    from pipeline.link.engine import Linker
    from pipeline.link.features import person_features
    from pipeline.link.spec import load_spec
    from pipeline.schema import Source

    _, _, normalised = linked
    union = person_features(normalised[Source.UNION].frame)
    civil = person_features(normalised[Source.CIVIL].frame)
    spec = load_spec("union_civil")
    big, small = Linker(spec), Linker(spec.__class__(**{**vars(spec), "chunk_pairs": 500}))
    seen: list[int] = []
    for comparison in small.comparisons:
        original = comparison.compare

        def spy(pairs, _original=original):
            seen.append(len(pairs))
            return _original(pairs)

        comparison.compare = spy
    li = np.arange(min(len(union), 300)).repeat(10) % len(union)
    ri = np.arange(len(li)) % len(civil)
    lf, rf = big.inputs(union), big.inputs(civil)
    assert (big.compute_levels(lf, rf, li, ri) == small.compute_levels(lf, rf, li, ri)).all()
    assert max(seen) <= 500 and len(seen) >= len(small.comparisons) * (len(li) // 500)


def test_the_roster_model_s_prior_counts_the_true_member_links(linked) -> None:
    """The civil → roster model's prior, times all pairs, is the number of true member links
    (the generator's truth) within 10 %: it comes from the pairs with the same ID number
    (`training.prior_from`), not from EM over candidates, which takes the roster's namesakes
    born the same year for matches and would make every probability too high."""
    from pipeline.ingest import load_source
    from pipeline.link.engine import Linker
    from pipeline.link.features import person_features
    from pipeline.link.spec import load_spec
    from pipeline.normalise.sources import normalise_source
    from pipeline.schema import Source

    _, truth, normalised = linked
    members_file = truth.parent / "members.csv"
    members = normalise_source(load_source([members_file], Source.MEMBERS).frame,
                               Source.MEMBERS, REFERENCE_DATE).frame
    civil = normalised[Source.CIVIL].frame
    result = Linker(load_spec("civil_members")).run(person_features(civil),
                                                    person_features(members))
    model = result.model
    true_links = len(pd.read_csv(truth / "member_links.csv", dtype=str))
    expected = model.prior * len(civil) * len(members)
    assert model.training["prior_from"]["used"] == "level"
    assert expected == pytest.approx(true_links, rel=0.10)
    em_expected = (model.training["prior_from"]["em_prior_candidates"]
                   * model.training["candidate_pairs"])
    assert em_expected > expected  # what EM over the candidates would have said

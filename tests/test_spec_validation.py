"""Linking specs as validated data: shipped specs load, blocking rules are named, and every
mistake is refused with the file, the dotted key and the fix (InputError, exit 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline.errors import InputError
from pipeline.link.comparisons import KINDS
from pipeline.link.spec import (
    PARAMETER_MODELS,
    BlockingRule,
    ModelSpec,
    level_names,
    load_spec,
    shipped_specs,
    spec_from_dict,
)

SPECS = Path(__file__).resolve().parents[1] / "pipeline" / "link" / "specs"


def shipped(name: str) -> dict:
    return yaml.safe_load((SPECS / f"{name}.yaml").read_text("utf-8"))


def refused(data: dict, origin: str = "my_spec.yaml") -> str:
    with pytest.raises(InputError) as caught:
        spec_from_dict(data, origin)
    error = caught.value
    assert error.exit_code == 2 and error.file == origin
    text = error.paragraph()
    assert "\n" not in text and "validation error" not in text  # one paragraph, no dump
    return text


def test_shipped_specs_load_and_round_trip() -> None:
    assert {"union_civil", "roll_dedupe", "civil_members", "febrl4", "febrl4_no_id"} <= set(
        shipped_specs())
    for name in shipped_specs():
        spec = load_spec(name)
        assert isinstance(spec, ModelSpec)
        assert spec_from_dict(spec.to_dict()) == spec


def test_every_registered_kind_has_its_own_parameter_model() -> None:
    assert set(PARAMETER_MODELS) == set(KINDS)
    for kind, model in PARAMETER_MODELS.items():
        assert model.__module__ == "pipeline.link.spec", kind  # declared, not the fallback


def test_blocking_rules_are_named_in_either_form() -> None:
    data = shipped("union_civil")
    data["blocking"] = [["id"], ["birth", "surname_py"],
                        {"name": "exact_name", "columns": ["name_nosep"]},
                        {"columns": ["name_py", "district_code"]}]
    data["training"]["em_sessions"] = [{"block": "birth+surname_py"}]
    spec = spec_from_dict(data)
    assert spec.training.em_sessions[0].block == spec.blocking[1]
    assert [(b.name, b.columns) for b in spec.blocking] == [
        ("id", ("id",)), ("birth+surname_py", ("birth", "surname_py")),
        ("exact_name", ("name_nosep",)), ("name_py+district_code", ("name_py", "district_code"))]
    assert spec.to_dict()["blocking"][1] == {"name": "birth+surname_py",
                                             "columns": ["birth", "surname_py"]}


def test_shipped_person_specs_name_their_rules_and_sessions() -> None:
    spec = load_spec("union_civil")
    assert [b.name for b in spec.blocking][:3] == ["exact_id", "id_first14", "birth_surname"]
    sessions = spec.training.em_sessions
    # `block: exact_id` is the blocking rule of that name; a session may also give its own.
    assert sessions[0].block == spec.blocking[0]
    assert sessions[1].block == BlockingRule(name="name_birth", columns=("name_nosep", "birth"))
    assert sessions[2].block.columns == ("birth", "surname_py")


def test_comparison_parameters_reach_the_comparison_unchanged() -> None:
    spec = load_spec("union_civil")
    by_name = {c.name: c for c in spec.comparisons}
    assert by_name["name"].params == {"jaro_winkler": 0.88}
    assert by_name["address"].params == {"thresholds": [0.9, 0.6]}
    assert by_name["birth_date"].params == {"null_when_both": {"birth_source": "id"}}
    assert by_name["id_number"].params == {"fixed_m": {"differs_valid": 0.001}}
    assert by_name["sex"].params == {}  # the kind's own defaults apply
    assert by_name["id_number"].build().fixed_m() == {5: 0.001}


def test_misspelt_top_level_key() -> None:
    data = shipped("union_civil") | {"max_block_pair": 10}
    text = refused(data)
    assert "my_spec.yaml" in text and "max_block_pair:" in text
    assert "did you mean max_block_pairs?" in text


def test_misspelt_fixed_m_level() -> None:
    data = shipped("union_civil")
    data["comparisons"][1]["fixed_m"] = {"differs_vaild": 0.001}
    text = refused(data)
    assert "comparisons[1].fixed_m.differs_vaild" in text
    assert "did you mean differs_valid?" in text and "differs_unverified" in text


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_unknown_comparison_parameter_names_the_kinds_parameters(kind: str) -> None:
    data = shipped("union_civil")
    data["comparisons"] = [{"name": "c", "kind": kind, "column": "name", "treshold": 0.5}]
    text = refused(data)
    assert "comparisons[0].treshold" in text
    allowed = PARAMETER_MODELS[kind].allowed_keys()
    assert "fixed_m" in allowed
    assert f"allowed: {', '.join(allowed)}." in text


def test_mistyped_comparison_parameter() -> None:
    data = shipped("union_civil")
    data["comparisons"][0]["jaro_winkler"] = "high"
    assert "comparisons[0].jaro_winkler is 'high'" in refused(data)
    data = shipped("union_civil")
    data["comparisons"][6]["thresholds"] = [0.6, 0.9]  # ascending: the 0.9 level never hit
    text = refused(data)
    assert "comparisons[6].thresholds" in text and "write them as [0.9, 0.6]" in text


def test_unknown_kind() -> None:
    data = shipped("union_civil")
    data["comparisons"][5]["kind"] = "similarty"
    text = refused(data)
    assert "comparisons[5].kind" in text and "did you mean similarity?" in text


@pytest.mark.parametrize(("match", "possible", "key"), [
    (0.5, 0.9, "decisions.possible_probability"),
    (1.0, 0.5, "decisions.match_probability"),
    (0.9, 0.0, "decisions.possible_probability"),
])
def test_probabilities_out_of_order_or_range(match: float, possible: float, key: str) -> None:
    data = shipped("union_civil")
    data["decisions"].update(match_probability=match, possible_probability=possible)
    text = refused(data)
    assert key in text and "To fix:" in text


def test_link_type_assignment_and_sizes() -> None:
    assert "did you mean dedupe?" in refused(shipped("roll_dedupe") | {"link_type": "dedup"})
    text = refused(shipped("union_civil") | {"assignment": "one_to_many"})
    assert "assignment" in text and "one_to_one, clusters" in text
    assert "chunk_pairs is 0" in refused(shipped("union_civil") | {"chunk_pairs": 0})
    data = shipped("union_civil")
    data["training"]["u_sample_pairs"] = -5
    assert "training.u_sample_pairs" in refused(data)


def test_sessions_and_rules_name_what_the_spec_has() -> None:
    data = shipped("union_civil")
    data["training"]["em_sessions"][1]["estimate_without"] = ["name", "birthdate"]
    text = refused(data)
    assert "training.em_sessions[1].estimate_without[1]" in text
    assert "did you mean birth_date?" in text

    data = shipped("union_civil")
    data["training"]["em_sessions"][0]["block"] = "exact_ids"
    text = refused(data)
    assert "training.em_sessions[0].block" in text and "did you mean exact_id?" in text

    data = shipped("union_civil")
    data["training"]["em_sessions"][1]["block"] = ["name_nosep", "brith"]
    text = refused(data)
    assert "training.em_sessions[1].block.columns[1]" in text and "did you mean birth?" in text

    data = shipped("union_civil")
    data["decisions"]["deterministic"][0]["level"] = "exakt"
    text = refused(data)
    assert "decisions.deterministic[0].level" in text and "did you mean exact?" in text

    data = shipped("union_civil")
    data["decisions"]["deterministic"][0]["comparison"] = "id_numbr"
    assert "did you mean id_number?" in refused(data)

    data = shipped("union_civil")
    data["decisions"]["deterministic"][0]["both"] = {"id_vaild": "1"}
    text = refused(data)
    assert "decisions.deterministic[0].both.id_vaild" in text and "did you mean id_valid?" in text


def test_the_prior_level_names_what_the_spec_has() -> None:
    """`training.prior_from` names a comparison and one of its levels, checked as a
    deterministic rule's are; the shipped roster spec uses it and round-trips it."""
    data = shipped("civil_members")
    data["training"]["prior_from"] = {"comparison": "id_number", "level": "exakt"}
    text = refused(data)
    assert "training.prior_from.level" in text and "did you mean exact?" in text
    data["training"]["prior_from"] = {"comparison": "id_numbr", "level": "exact"}
    text = refused(data)
    assert "training.prior_from" in text and "did you mean id_number?" in text
    spec = load_spec("civil_members")
    assert spec.training.prior_from is not None
    assert spec.to_dict()["training"]["prior_from"] == {"comparison": "id_number",
                                                        "level": "exact"}
    assert "prior_from" not in load_spec("union_civil").to_dict()["training"]


def test_person_specs_name_only_person_features() -> None:
    data = shipped("union_civil")
    data["blocking"].append({"name": "typo", "columns": ["nmae"]})
    text = refused(data)
    assert "blocking[6].columns[0]" in text and "person features" in text

    data = shipped("union_civil")
    data["comparisons"][2]["null_when_both"] = {"birth_sorce": "id"}
    text = refused(data)
    assert "comparisons[2].null_when_both.birth_sorce" in text
    assert "did you mean birth_source?" in text


def test_febrl_specs_name_their_own_columns() -> None:
    """FEBRL is not a person spec: its columns are its own, and sessions must use them."""
    data = shipped("febrl4")
    data["training"]["em_sessions"] = [{"block": ["date_of_birth"],
                                        "estimate_without": ["date_of_birth"]}]
    assert spec_from_dict(data).training.em_sessions[0].block.name == "date_of_birth"
    data["training"]["em_sessions"] = [{"block": ["date_of_brith"]}]
    text = refused(data)
    assert "did you mean date_of_birth?" in text
    assert "columns the comparisons and blocking rules read" in text


def test_names_are_unique() -> None:
    data = shipped("union_civil")
    data["comparisons"][3]["name"] = "name"
    assert "comparisons[3].name" in refused(data)
    data = shipped("union_civil")
    data["blocking"].append(["name_nosep"])  # the same columns as exact_name
    assert "same columns as exact_name" in refused(data)


def test_tf_on_a_kind_without_a_tf_level() -> None:
    data = shipped("union_civil")
    data["comparisons"][1]["tf"] = True
    assert "comparisons[1].tf" in refused(data)


def test_feature_values_are_text() -> None:
    data = shipped("union_civil")
    data["decisions"]["deterministic"][0]["both"] = {"id_valid": 1}  # unquoted in YAML
    assert spec_from_dict(data).decisions.deterministic[0].both == (("id_valid", "1"),)


def test_spec_files_that_cannot_be_read(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nblocking: [\n", "utf-8")
    with pytest.raises(InputError, match=r"not valid YAML at line"):
        load_spec(broken)
    with pytest.raises(InputError, match="did you mean union_civil"):
        load_spec("union_civl")
    with pytest.raises(InputError, match="must be a YAML mapping"):
        spec_from_dict(["name"], "list.yaml")


def test_a_bad_spec_in_the_link_stage_is_an_input_error(tmp_path: Path) -> None:
    """Reached without `load_config` (a test, a notebook), the link stage still raises
    InputError, which the flow maps to exit 2 (not an internal error)."""
    from pipeline.link.people import link_people

    bad = tmp_path / "bad.yaml"
    data = shipped("roll_dedupe")
    data["comparisons"][1]["fixed_m"] = {"differs_vaild": 0.001}
    bad.write_text(yaml.safe_dump(data), "utf-8")
    frame = pd.DataFrame({"name": ["王伟"], "id_norm": [""], "id_valid": [False],
                          "id_excel_damaged": [False], "birth_date": [pd.NaT]})
    with pytest.raises(InputError) as caught:
        link_people(frame, frame, None, {"roll_dedupe": str(bad), "union_civil": "union_civil",
                                         "civil_members": "civil_members"})
    assert caught.value.exit_code == 2 and caught.value.file == str(bad)


def test_level_names_accessor_reads_names_or_level_objects() -> None:
    class Level:
        def __init__(self, name: str) -> None:
            self.name = name

    class Names:
        level_names = ("exact", "else")

    class Objects:
        LEVELS = (Level("exact"), Level("else"))

    assert level_names(Names()) == level_names(Objects()) == ("exact", "else")


def _tiny_spec(sessions: list[dict]) -> ModelSpec:
    return spec_from_dict({
        "name": "tiny", "blocking": [{"name": "same_a", "columns": ["a"]}, ["b"]],
        "comparisons": [{"name": "a", "kind": "exact", "column": "a"},
                        {"name": "b", "kind": "exact", "column": "b"},
                        {"name": "c", "kind": "exact", "column": "c"}],
        "training": {"u_sample_pairs": 2000, "em_sessions": sessions}})


def test_model_records_each_em_session_and_averages_them() -> None:
    from pipeline.link.engine import Linker

    rng = np.random.default_rng(3)
    n = 60
    left = pd.DataFrame({col: rng.integers(0, 6, n).astype(str) for col in "abc"}).astype(object)
    right = left.copy()
    right.loc[::3, "c"] = "x"
    spec = _tiny_spec([{"block": "same_a", "estimate_without": ["a"]},
                       {"block": ["b"], "estimate_without": ["b"]}])
    model = Linker(spec, threads=1).run(left, right).model.as_dict()
    sessions = model["training"]["em_sessions"]
    assert [s["block"] for s in sessions] == [{"name": "same_a", "columns": ["a"]},
                                              {"name": "b", "columns": ["b"]}]
    assert [s["estimated"] for s in sessions] == [["b", "c"], ["a", "c"]]
    assert [s["iterations"] for s in sessions] == model["training"]["em_iterations"]
    final = {c["name"]: [lv["m"] for lv in c["levels"]] for c in model["comparisons"]}
    # c was estimated by both sessions: the model's m is their mean.
    mean_c = np.mean([list(s["m"]["c"].values()) for s in sessions], axis=0)
    assert np.allclose(final["c"], mean_c)
    assert np.allclose(final["b"], list(sessions[0]["m"]["b"].values()))
    assert list(sessions[0]["m"]["b"]) == ["exact", "else"]


def test_one_em_over_all_candidates_is_recorded_as_one_session() -> None:
    from pipeline.link.engine import Linker

    rng = np.random.default_rng(4)
    frame = pd.DataFrame({col: rng.integers(0, 5, 40).astype(str) for col in "abc"}
                         ).astype(object)
    model = Linker(_tiny_spec([]), threads=1).run(frame, frame.copy()).model.as_dict()
    (session,) = model["training"]["em_sessions"]
    assert session["block"] is None and session["estimated"] == ["a", "b", "c"]
    final = {c["name"]: [lv["m"] for lv in c["levels"]] for c in model["comparisons"]}
    assert all(np.allclose(final[k], list(session["m"][k].values())) for k in final)


def test_u_within_block_names_what_the_spec_has() -> None:
    """`training.u_within_block` names a comparison, some (not all) of its levels and a block
    that agrees on `agree_on`; a block given by name is the blocking rule of that name; the
    shipped roster spec uses it and round-trips it."""
    entry = {"comparison": "id_number", "levels": ["one_edit"], "agree_on": ["birth"],
             "block": "birth_surname"}
    cases = [
        ({"comparison": "id_numbr"}, "training.u_within_block[0].comparison",
         "did you mean id_number?"),
        ({"levels": ["one_edt"]}, "training.u_within_block[0].levels[0]",
         "did you mean one_edit?"),
        ({"levels": ["exact", "one_edit", "first15", "birth_part", "differs_unverified",
                     "differs_valid"]}, "training.u_within_block[0].levels",
         "list only the rare levels"),
        ({"agree_on": ["name"]}, "training.u_within_block[0].block",
         "include every agree_on column"),
        ({"block": "birth_surnam"}, "training.u_within_block[0].block",
         "did you mean birth_surname?"),
        ({"block": ["birth", "surnme_py"]}, "training.u_within_block[0].block.columns[1]",
         "did you mean surname_py?"),
        ({"agree_on": ["birthday"]}, "training.u_within_block[0].agree_on[0]",
         "did you mean birth?"),
        ({"levels": ["one_edit", "one_edit"]}, "training.u_within_block[0].levels",
         "list each level once"),
        ({"levels": []}, "training.u_within_block[0].levels", "list at least one level"),
        ({"agree_on": []}, "training.u_within_block[0].agree_on", "list at least one column"),
    ]
    for change, where, fix in cases:
        data = shipped("civil_members")
        data["training"]["u_within_block"] = [{**entry, **change}]
        text = refused(data)
        assert where in text and fix in text, (change, text)
    spec = load_spec("civil_members")
    (rare,) = spec.training.u_within_block
    assert rare.block.columns == ("birth", "surname_py")  # resolved by name
    assert spec.to_dict()["training"]["u_within_block"] == [{
        "comparison": "id_number", "levels": ["exact", "one_edit", "first15", "birth_part"],
        "agree_on": ["birth"], "block": {"name": "birth_surname",
                                         "columns": ["birth", "surname_py"]}}]
    assert "u_within_block" not in load_spec("union_civil").to_dict()["training"]

"""The run configuration as validated data: the defaults merged with a user file are checked
(unknown keys, severities, time zone, dates, the linking specs they name) and a bad file stops
`bidui run` with exit 2, naming the file, the key and the fix, before any work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.config import config_hash, default_config, load_config
from pipeline.config.model import suite_checks
from pipeline.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SPECS = ROOT / "pipeline" / "link" / "specs"


def write(tmp_path: Path, text: str, name: str = "night.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def refused(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_config(path)
    error = caught.value
    assert error.exit_code == 2
    text = error.paragraph()
    assert "\n" not in text and "validation error" not in text  # no pydantic dump
    return text


def test_defaults_are_valid_and_returned_as_the_same_plain_dict() -> None:
    config = load_config()
    assert config == default_config()
    assert config_hash(config) == config_hash(default_config())


def test_a_valid_user_file_is_merged_over_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "report: {xlsx_export: true}\ntimezone: Asia/Urumqi\n"
                           "validation:\n  mostly:\n    roster: {id_valid: 0.9}\n")
    config = load_config(path)
    assert config["report"] == {"xlsx_export": True} and config["timezone"] == "Asia/Urumqi"
    assert config["validation"]["mostly"]["roster"] == {"id_valid": 0.9}
    assert config["validation"]["mostly"]["union_roll"]["id_valid"] == 0.9  # kept
    assert config["linking"] == default_config()["linking"]


def test_misspelt_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, "reprot: {xlsx_export: true}\n")
    text = refused(path)
    assert str(path) in text and "reprot:" in text and "did you mean report?" in text


def test_a_spec_setting_in_the_configuration_says_where_it_belongs(tmp_path: Path) -> None:
    text = refused(write(tmp_path, "max_block_pair: 10\n"))
    assert "max_block_pair:" in text and "max_block_pairs is a setting of a linking spec" in text
    assert "linking.specs" in text


def test_bad_severity(tmp_path: Path) -> None:
    path = write(tmp_path, "validation:\n  severity:\n    union_roll:\n      rows_present: "
                           "critcal\n")
    text = refused(path)
    assert "validation.severity.union_roll.rows_present" in text
    assert "did you mean critical?" in text and "critical, warning" in text
    text = refused(write(tmp_path, "validation: {default_severity: error}\n"))
    assert "validation.default_severity" in text and "critical, warning" in text


@pytest.mark.skipif(not suite_checks(), reason="pipeline/validate/suites/ not present")
def test_validation_keys_name_real_suites_and_checks(tmp_path: Path) -> None:
    text = refused(write(tmp_path, "validation:\n  severity:\n    union_rol: {'*': warning}\n"))
    assert "validation.severity.union_rol" in text and "did you mean union_roll?" in text
    text = refused(write(tmp_path, "validation:\n  severity:\n    union_roll:\n"
                                   "      'requird_filled:*': critical\n"))
    assert "matches no check of suite union_roll" in text
    text = refused(write(tmp_path, "validation:\n  mostly:\n    union_roll: {id_vaild: 0.9}\n"))
    assert "validation.mostly.union_roll.id_vaild" in text and "did you mean id_valid?" in text
    text = refused(write(tmp_path, "validation:\n  mostly:\n    union_roll: {id_valid: 1.5}\n"))
    assert "validation.mostly.union_roll.id_valid is 1.5" in text
    text = refused(write(tmp_path, "validation:\n  parameters: {min_row_ration: 0.4}\n"))
    assert "validation.parameters.min_row_ration" in text and "did you mean min_row_ratio" in text


def test_bad_timezone(tmp_path: Path) -> None:
    text = refused(write(tmp_path, "timezone: Asia/Shanghia\n"))
    assert "timezone" in text and "did you mean Asia/Shanghai?" in text
    assert "IANA" in refused(write(tmp_path, "timezone: Mars/Olympus\n"))


def test_dibao_standards(tmp_path: Path) -> None:
    text = refused(write(tmp_path, "dibao_standards:\n  - {from: '2022-13-01', "
                                   "yuan_per_month: 1320}\n"))
    assert "dibao_standards[0].from" in text
    text = refused(write(tmp_path, "dibao_standards:\n  - {from: 2020-07-01, yuan: 1170}\n"))
    assert "dibao_standards[0].yuan" in text and "from, yuan_per_month" in text
    text = refused(write(tmp_path, "dibao_standards:\n  - {from: 2020-07-01, yuan_per_month: 0}\n"))
    assert "dibao_standards[0].yuan_per_month" in text
    text = refused(write(tmp_path, "dibao_standards:\n  - {from: 2020-07-01, yuan_per_month: 1}\n"
                                   "  - {from: 2020-07-01, yuan_per_month: 2}\n"))
    assert "dibao_standards[1].from" in text


def test_report_flag_is_a_boolean(tmp_path: Path) -> None:
    assert "report.xlsx_export" in refused(write(tmp_path, "report: {xlsx_export: 'yes!'}\n"))


def test_linking_specs_are_loaded_and_checked(tmp_path: Path) -> None:
    text = refused(write(tmp_path, "linking:\n  specs: {union_civil: union_civl}\n"))
    assert "linking.specs.union_civil" in text and "did you mean union_civil?" in text
    text = refused(write(tmp_path, "linking:\n  specs: {union_cvil: union_civil}\n"))
    assert "linking.specs.union_cvil" in text and "did you mean union_civil?" in text
    text = refused(write(tmp_path, "linking:\n  specs: {union_civil: roll_dedupe}\n"))
    assert "needs a link spec" in text


def bad_spec(tmp_path: Path) -> Path:
    data = yaml.safe_load((SPECS / "union_civil.yaml").read_text("utf-8"))
    data["comparisons"][1]["fixed_m"] = {"differs_vaild": 0.001}
    path = tmp_path / "my_union_civil.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return path


def test_a_bad_spec_named_by_the_configuration_is_refused_up_front(tmp_path: Path) -> None:
    spec = bad_spec(tmp_path)
    text = refused(write(tmp_path, f"linking:\n  specs: {{union_civil: '{spec}'}}\n"))
    assert f"File {spec}" in text and "comparisons[1].fixed_m.differs_vaild" in text
    assert "linking.specs.union_civil" in text and "did you mean differs_valid?" in text


def _run_args(out: Path, config: Path) -> list[str]:
    return ["run", "--union", str(SAMPLE / "union_roll.xlsx"), "--civil",
            str(SAMPLE / "civil_exchange.csv"), "--out", str(out), "--as-of", "2026-06-30",
            "--config", str(config)]


def test_cli_run_with_a_bad_configuration_exits_2_before_any_work(tmp_path: Path) -> None:
    config = write(tmp_path, "validation:\n  severity:\n    union_roll:\n"
                             "      rows_present: critcal\n")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", *_run_args(out, config)],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert str(config) in result.stderr
    assert "validation.severity.union_roll.rows_present" in result.stderr
    assert "did you mean critical?" in result.stderr
    assert not out.exists()  # nothing was started, not even the output folder


def test_cli_run_with_a_bad_spec_exits_2(tmp_path: Path, capsys) -> None:
    from pipeline.cli import main

    spec = bad_spec(tmp_path)
    config = write(tmp_path, f"linking:\n  specs: {{union_civil: '{spec}'}}\n")
    assert main(_run_args(tmp_path / "out", config)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(spec) in err
    assert "comparisons[1].fixed_m.differs_vaild" in err and "differs_valid" in err

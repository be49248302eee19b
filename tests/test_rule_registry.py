"""The rule registry (pipeline/detect/rules/) is the one place a discrepancy code is declared.

Every other place derives from it: the output suite's lists, the report's labels and money sets,
evaluate's codes, the generator truth's code order and the table in docs/discrepancies.md. These
tests check that they agree, and that a rule added the way a developer adds one (a module in the
rules package, its name in RULE_MODULES) reaches all of them with no other file touched.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import pkgutil
import re
import sys
import textwrap
import types
from pathlib import Path

import pandas as pd
import pytest

import pipeline.detect.rules as registry
from pipeline.detect.docs import DOC, rules_table, with_table
from pipeline.detect.finding import KEY_COLUMNS, SEVERITIES
from pipeline.detect.rules import Rule, RuleError, codes, rules
from pipeline.evaluate import finding_keys, score_findings
from pipeline.generate.truth import CODES as TRUTH_CODES
from pipeline.report.html_report import code_labels, money_codes, render_report
from pipeline.validate.derived import discrepancy_parameters
from pipeline.validate.runner import SUITES_DIR, suite_document
from tests.test_detect_rules import findings_for, id17, roll

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "SPEC.md"

# SPEC §4, in its order.
SPEC_CODES = (
    "CLAIMED_ASSISTANCE_NOT_FOUND", "ASSISTANCE_ENDED", "ASSISTANCE_TYPE_MISMATCH",
    "UNCLAIMED_ASSISTANCE", "HOUSEHOLD_SIZE_MISMATCH", "DECEASED", "DUPLICATE_ROLL_ENTRY",
    "NOT_ON_HARDSHIP_ROLL", "INVALID_ID", "ID_NAME_CONFLICT", "CATEGORY_INCONSISTENT",
    "POSSIBLE_MATCH_REVIEW",
)
HAN = re.compile(r"[\u4e00-\u9fff]")


def _suite_lists(document: dict) -> dict[str, list]:
    """The discrepancies suite's lists by check name (value sets and row-condition codes)."""
    out = {}
    for expectation in document["expectations"]:
        kwargs = expectation["kwargs"]
        condition = kwargs.get("row_condition")
        if isinstance(condition, dict):
            out[expectation["meta"]["check"]] = condition["parameter"]
        elif "value_set" in kwargs:
            out[expectation["meta"]["check"]] = kwargs["value_set"]
    return out


# -- the registry itself --------------------------------------------------------------------


def test_registry_codes_are_the_spec_codes_in_spec_order() -> None:
    assert codes() == SPEC_CODES


def test_spec_file_lists_the_same_codes() -> None:
    """The test constant above is SPEC §4 (checked against the file when it is beside us)."""
    if not SPEC.exists():
        pytest.skip("../shared/SPEC.md is not checked out here")
    section = SPEC.read_text("utf-8").split("## 4.", 1)[1]
    assert tuple(re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.M)) == SPEC_CODES


def test_every_module_of_the_rules_package_is_registered() -> None:
    found = sorted(m.name for m in pkgutil.iter_modules(registry.__path__))
    assert found == sorted(registry.RULE_MODULES)


def test_every_rule_declares_valid_fields() -> None:
    for rule in rules():
        assert rule.module == f"pipeline.detect.rules.{rule.code.lower()}"
        assert rule.severity in SEVERITIES
        assert rule.label_zh.strip() and HAN.search(rule.label_zh), rule.code
        assert rule.keys and set(rule.keys) <= set(KEY_COLUMNS), rule.code
        assert rule.money in ("at_risk", "outreach", None)
        assert rule.truth_key is None or set(rule.truth_key) <= set(rule.keys)
        assert callable(rule.detect)
    labels = [rule.label_zh for rule in rules()]
    assert len(labels) == len(set(labels)), "two codes share a report label"


def test_money_kinds_follow_spec_and_docs() -> None:
    """SPEC §3 tells money at risk from outreach potential: NOT_ON_HARDSHIP_ROLL and
    UNCLAIMED_ASSISTANCE (the roll says 无: help that may be owed) are outreach."""
    money = {rule.code: rule.money for rule in rules()}
    assert {c for c, m in money.items() if m == "outreach"} == {
        "NOT_ON_HARDSHIP_ROLL", "UNCLAIMED_ASSISTANCE"}
    assert {c for c, m in money.items() if m == "at_risk"} == {
        "CLAIMED_ASSISTANCE_NOT_FOUND", "ASSISTANCE_ENDED", "DECEASED", "DUPLICATE_ROLL_ENTRY"}


def _module(name: str = "pipeline.detect.rules.fake_code", **fields) -> types.ModuleType:
    module = types.ModuleType(name)
    base = {"CODE": "FAKE_CODE", "SEVERITY": "low", "LABEL_ZH": "测试", "KEYS": ("union_roll_id",),
            "MONEY": None, "TRUTH_KEY": ("union_roll_id",), "detect": lambda ctx: None}
    for key, value in {**base, **fields}.items():
        if value is not ...:
            setattr(module, key, value)
    return module


@pytest.mark.parametrize(("fields", "complaint"), [
    ({"CODE": ...}, "declares no CODE"),
    ({"CODE": "OTHER_CODE"}, "named after its code"),
    ({"CODE": "fake_code"}, "upper-case"),
    ({"SEVERITY": "critical"}, "SEVERITY"),
    ({"LABEL_ZH": "  "}, "LABEL_ZH"),
    ({"LABEL_ZH": "fake"}, "Chinese"),
    ({"KEYS": ("union_roll_id", "name")}, "KEYS"),
    ({"KEYS": ()}, "KEYS"),
    ({"KEYS": ["union_roll_id"]}, "KEYS"),
    ({"MONEY": "risk"}, "MONEY"),
    ({"TRUTH_KEY": ("member_id",)}, "TRUTH_KEY"),
    ({"detect": ...}, "declares no detect"),
    ({"detect": "detect"}, "detect"),
    ({"VALUES_ZH": {"checksum": "checksum"}}, "VALUES_ZH"),
    ({"VALUES_ZH": [("checksum", "校验位错误")]}, "VALUES_ZH"),
])
def test_a_wrong_declaration_is_refused_naming_module_and_field(fields, complaint) -> None:
    with pytest.raises(RuleError, match=re.escape(complaint)) as refused:
        Rule.from_module(_module(**fields))
    assert "pipeline.detect.rules.fake_code" in str(refused.value)


def test_a_code_registered_twice_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(registry, "RULE_MODULES", (*registry.RULE_MODULES, "invalid_id"))
    with pytest.raises(RuleError, match="INVALID_ID"):
        rules()


# -- every place agrees with the registry ---------------------------------------------------


def test_output_suite_lists_are_the_registry() -> None:
    raw = (SUITES_DIR / "discrepancies.json").read_text("utf-8")
    assert not [c for c in SPEC_CODES if c in raw], "the suite lists codes by hand again"
    lists = _suite_lists(suite_document("discrepancies"))
    assert lists["type_known"] == list(codes())
    assert lists["severity_known"] == list(SEVERITIES)
    for key in KEY_COLUMNS:
        assert lists[f"keys_for_code:{key}"] == [r.code for r in rules() if key in r.keys], key
    assert lists["amount_only_for_money_codes"] == [r.code for r in rules() if r.money is None]
    # The lists the suite checked before the registry, unchanged.
    assert set(lists["keys_for_code:union_roll_id"]) == set(SPEC_CODES) - {"NOT_ON_HARDSHIP_ROLL"}
    assert set(lists["keys_for_code:civil_case_id"]) == {
        "ASSISTANCE_ENDED", "ASSISTANCE_TYPE_MISMATCH", "UNCLAIMED_ASSISTANCE",
        "HOUSEHOLD_SIZE_MISMATCH", "DECEASED", "ID_NAME_CONFLICT", "POSSIBLE_MATCH_REVIEW",
        "NOT_ON_HARDSHIP_ROLL"}
    assert set(lists["keys_for_code:civil_member_no"]) == {
        "DECEASED", "ID_NAME_CONFLICT", "POSSIBLE_MATCH_REVIEW", "NOT_ON_HARDSHIP_ROLL"}
    assert lists["keys_for_code:member_id"] == ["NOT_ON_HARDSHIP_ROLL"]


def test_every_suite_parameter_left_is_for_gx() -> None:
    """After the registry's lists are filled in, no `$PARAMETER` of the registry is left."""
    text = json.dumps(suite_document("discrepancies"))
    assert "$PARAMETER" not in text
    assert set(discrepancy_parameters()) >= {"discrepancy_codes", "discrepancy_severities"}


def test_report_labels_and_money_sets_are_the_registry() -> None:
    assert code_labels() == {rule.code: rule.label_zh for rule in rules()}
    assert list(code_labels()) == list(SPEC_CODES)
    assert money_codes("at_risk") == {r.code for r in rules() if r.money == "at_risk"}
    assert money_codes("outreach") == {r.code for r in rules() if r.money == "outreach"}


def test_evaluate_and_truth_codes_are_the_registry() -> None:
    assert list(finding_keys()) == list(codes())
    empty = pd.DataFrame({"type": pd.Series(dtype="string"),
                          "union_roll_id": pd.Series(dtype="string"),
                          "member_id": pd.Series(dtype="string")})
    assert list(score_findings(empty, empty)) == list(codes())
    assert tuple(r.code for r in rules() if r.truth_key is not None) == TRUTH_CODES
    assert tuple(c for c in SPEC_CODES if c != "POSSIBLE_MATCH_REVIEW") == TRUTH_CODES


def test_docs_table_is_the_registry() -> None:
    text = DOC.read_text("utf-8")
    assert with_table(text) == text, "run `python -m pipeline.detect.docs`"
    assert rules_table() in text
    for code in codes():
        assert f"\n## {code}\n" in text, f"docs/discrepancies.md has no section for {code}"


def test_docs_command_checks_and_rewrites(tmp_path: Path) -> None:
    from pipeline.detect.docs import main

    doc = tmp_path / "discrepancies.md"
    doc.write_text("# x\n\n<!-- rules:begin -->\nold\n<!-- rules:end -->\n\n## y\n", "utf-8")
    assert main(["--check", "--doc", str(doc)]) == 1
    assert main(["--doc", str(doc)]) == 0
    assert main(["--check", "--doc", str(doc)]) == 0
    assert doc.read_text("utf-8") == f"# x\n\n{rules_table()}\n\n## y\n"


# -- a new rule flows everywhere --------------------------------------------------------------

PROBE = textwrap.dedent('''
    """FIXTURE_PROBE: a throwaway rule of the registry tests (every 在档 entry)."""

    import pandas as pd

    from pipeline.detect.common import active_roll
    from pipeline.detect.finding import findings_frame

    CODE = "FIXTURE_PROBE"
    SEVERITY = "low"
    LABEL_ZH = "测试探针"
    KEYS = ("union_roll_id",)
    MONEY = None
    TRUTH_KEY = ("union_roll_id",)


    def detect(ctx):
        hit = active_roll(ctx.union)
        rows = pd.DataFrame({"union_roll_id": hit["roll_id"],
                             "district_code": hit["district_code"]})
        summary = "档案" + hit["roll_id"].astype("string") + "：测试。"
        return findings_frame(CODE, SEVERITY, rows, summary, ctx.as_of)
''')


@pytest.fixture
def probe_rule(tmp_path, monkeypatch):
    """Add a rule as a developer does: its module in the rules package (here a folder added
    to the package's path, so nothing is written into the source tree) and its name in
    RULE_MODULES."""
    (tmp_path / "fixture_probe.py").write_text(PROBE, encoding="utf-8")
    monkeypatch.setattr(registry, "__path__", [*registry.__path__, str(tmp_path)])
    monkeypatch.setattr(registry, "RULE_MODULES", (*registry.RULE_MODULES, "fixture_probe"))
    importlib.invalidate_caches()
    yield "FIXTURE_PROBE"
    sys.modules.pop("pipeline.detect.rules.fixture_probe", None)
    vars(registry).pop("fixture_probe", None)


def test_a_new_rule_reaches_suite_labels_evaluate_docs_and_detect(probe_rule) -> None:
    code = probe_rule
    assert codes()[-1] == code
    # The output suite, as the night loads it.
    lists = _suite_lists(suite_document("discrepancies"))
    assert code in lists["type_known"]
    assert code in lists["keys_for_code:union_roll_id"]
    assert code not in lists["keys_for_code:member_id"]
    assert code in lists["amount_only_for_money_codes"]
    # The report's labels, evaluate's codes, the docs table.
    assert code_labels()[code] == "测试探针"
    assert finding_keys()[code] == ("union_roll_id",)
    assert f"[`{code}`](#fixture_probe) | 测试探针 | low |" in rules_table()
    # A night's detect stage runs it.
    findings = findings_for([roll("R1", id17(1)), roll("R2", id17(2), roll_status="已脱困")], [])
    probe = findings[findings["type"] == code]
    assert list(probe["union_roll_id"]) == ["R1"]
    page = render_report({"as_of": "2026-06-30"}, findings,
                         pd.DataFrame(columns=["union_roll_id", "name_masked", "id_masked"]))
    assert "测试探针" in page
    scores = score_findings(findings, pd.DataFrame({"type": [code], "union_roll_id": ["R1"],
                                                    "member_id": [""]}))
    assert scores[code]["f1"] == 1.0
    # The rule is gone with the fixture: nothing else was touched.


def test_the_probe_is_gone_after_its_test() -> None:
    assert "FIXTURE_PROBE" not in codes()
    assert "FIXTURE_PROBE" not in json.dumps(suite_document("discrepancies"))


def test_the_nights_output_suite_accepts_a_new_rule_and_checks_its_declaration(
        probe_rule) -> None:
    """Through Great Expectations, as the report stage runs it: the new code is a known type,
    and an amount on a code whose rule declares MONEY = None fails the suite."""
    from pipeline.config import load_config
    from pipeline.validate.runner import ValidationRun

    findings = findings_for([roll("R1", id17(1))], [])
    assert probe_rule in set(findings["type"])
    with_amount = findings.assign(amount_at_risk_yuan=15840.0)
    for frame, failed in ((findings, []), (with_amount, ["amount_only_for_money_codes"])):
        run = ValidationRun(load_config(), dt.date(2026, 6, 30))
        try:
            outcome = run.run_suite("discrepancies", frame)
        finally:
            run.close()
        assert [f.check for f in outcome.failed] == failed


def test_invalid_ids_chinese_values_cover_every_problem_it_writes() -> None:
    from pipeline.detect.rules import invalid_id

    (rule,) = [r for r in rules() if r.code == "INVALID_ID"]
    assert set(dict(rule.values_zh)) == set(invalid_id.PROBLEM_TEXT)

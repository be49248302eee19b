"""The rule registry: one module per discrepancy code of SPEC §4, listed once in RULE_MODULES.

A rule module declares everything about its code, as module constants:

    CODE       the code; the module is named after it (rules/invalid_id.py → INVALID_ID)
    SEVERITY   high / medium / low: the code's severity (detect may vary it per finding, as
               INVALID_ID gives `low` for an unpublished prefix)
    LABEL_ZH   the Chinese label the report shows
    KEYS       the key columns every finding of the code carries, among union_roll_id,
               civil_case_id, civil_member_no, member_id (the output suite checks them)
    MONEY      what its `amount_at_risk_yuan` is: "at_risk" (payments that may be wrong),
               "outreach" (help that may be owed) or None (the code carries no amount)
    TRUTH_KEY  the keys `bidui evaluate` scores it on against the generator's truth, or None
               when the generator plants no truth for it (the findings are only counted)
    detect(ctx) → its findings (`pipeline.detect.finding.findings_frame`)
    VALUES_ZH  optional: {value: Chinese} for the codes it writes as `union_value` /
               `civil_value` (INVALID_ID's `checksum`…): the Parquet keeps the code, the review
               workbook shows the Chinese

`rules()` reads them (checked when read: a wrong field is an error naming the module) and
everything else derives from it: `detect_all`, the output suite's lists
(`pipeline/validate/derived.py`), the report's labels and money sets, evaluate's codes, the
generator truth's code order, and the table in docs/discrepancies.md (`pipeline.detect.docs`).

Adding a rule: write rules/<code>.py and its test, add its name to RULE_MODULES (SPEC order),
run `python -m pipeline.detect.docs` and describe the code in docs/discrepancies.md.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import pandas as pd

from pipeline.detect.finding import KEY_COLUMNS, SEVERITIES, DetectContext

# The rule modules of this package, in SPEC §4 order (the order of codes everywhere).
RULE_MODULES: tuple[str, ...] = (
    "claimed_assistance_not_found",
    "assistance_ended",
    "assistance_type_mismatch",
    "unclaimed_assistance",
    "household_size_mismatch",
    "deceased",
    "duplicate_roll_entry",
    "not_on_hardship_roll",
    "invalid_id",
    "id_name_conflict",
    "category_inconsistent",
    "possible_match_review",
)

AT_RISK, OUTREACH = "at_risk", "outreach"
MONEY_KINDS = (AT_RISK, OUTREACH, None)
_CODE = re.compile(r"[A-Z][A-Z0-9_]*")
_HAN = re.compile(r"[\u4e00-\u9fff]")


class RuleError(ValueError):
    """A rule module declares a field wrongly (a fault in bidui, found when rules are read)."""


@dataclass(frozen=True)
class Rule:
    """What a rule module declares, checked."""

    code: str
    severity: str
    label_zh: str
    keys: tuple[str, ...]
    money: str | None
    truth_key: tuple[str, ...] | None
    detect: Callable[[DetectContext], pd.DataFrame]
    module: str
    values_zh: tuple[tuple[str, str], ...] = ()  # VALUES_ZH's items (hashable: rules are cached)

    @classmethod
    def from_module(cls, module: ModuleType) -> Rule:
        name = module.__name__

        def field(attribute: str):
            if not hasattr(module, attribute):
                raise RuleError(f"{name} declares no {attribute} (see pipeline.detect.rules)")
            return getattr(module, attribute)

        def fail(attribute: str, rule: str) -> RuleError:
            return RuleError(f"{name}.{attribute} = {getattr(module, attribute)!r}: {rule}")

        code = field("CODE")
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            raise fail("CODE", "must be an upper-case code such as INVALID_ID")
        if code.lower() != name.rsplit(".", 1)[-1]:
            raise fail("CODE", f"the module must be named after its code ({code.lower()}.py)")
        if field("SEVERITY") not in SEVERITIES:
            raise fail("SEVERITY", f"must be one of {list(SEVERITIES)}")
        label = field("LABEL_ZH")
        if not isinstance(label, str) or not label.strip() or not _HAN.search(label):
            raise fail("LABEL_ZH", "must be a Chinese label")
        keys = field("KEYS")
        if (not isinstance(keys, tuple) or not keys or len(set(keys)) != len(keys)
                or not set(keys) <= set(KEY_COLUMNS)):
            raise fail("KEYS", f"must be a tuple of distinct columns among {list(KEY_COLUMNS)}")
        if field("MONEY") not in MONEY_KINDS:
            raise fail("MONEY", f"must be one of {list(MONEY_KINDS)}")
        truth_key = field("TRUTH_KEY")
        if truth_key is not None and (not isinstance(truth_key, tuple) or not truth_key
                                      or not set(truth_key) <= set(keys)):
            raise fail("TRUTH_KEY", "must be None or a tuple of columns among KEYS")
        if not callable(field("detect")):
            raise fail("detect", "must be a function detect(ctx) -> findings")
        values = getattr(module, "VALUES_ZH", {})
        if not isinstance(values, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and _HAN.search(v)
                for k, v in values.items()):
            raise fail("VALUES_ZH", "must be a dict of value → Chinese text")
        return cls(code=code, severity=module.SEVERITY, label_zh=label, keys=keys,
                   money=module.MONEY, truth_key=truth_key, detect=module.detect, module=name,
                   values_zh=tuple(values.items()))


def rules() -> tuple[Rule, ...]:
    """The registered rules, in RULE_MODULES order (each module imported and checked once)."""
    return _load(RULE_MODULES)


@functools.cache
def _load(names: tuple[str, ...]) -> tuple[Rule, ...]:
    loaded = tuple(Rule.from_module(importlib.import_module(f"{__name__}.{n}")) for n in names)
    codes = [rule.code for rule in loaded]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise RuleError(f"codes registered more than once in RULE_MODULES: {twice}")
    return loaded


def codes() -> tuple[str, ...]:
    """Every code, in registry (SPEC §4) order."""
    return tuple(rule.code for rule in rules())


def codes_where(predicate: Callable[[Rule], bool]) -> tuple[str, ...]:
    """The codes of the rules that satisfy ``predicate``, in registry order."""
    return tuple(rule.code for rule in rules() if predicate(rule))


__all__ = ["AT_RISK", "MONEY_KINDS", "OUTREACH", "RULE_MODULES", "Rule", "RuleError", "codes",
           "codes_where", "rules"]

"""Suite parameters that the code defines, not the configuration: the discrepancy rules' lists.

A suite JSON may hold `{"$PARAMETER": name}` where a list belongs. The configuration's
parameters (`validation.parameters`) and `as_of` are left to GX, which fills them when it
validates. The names below are filled in when the runner loads the suite instead, so that they
may also sit inside a `row_condition` (which GX does not fill) and the Data Docs show the values
the night checked. `pipeline/validate/suites/discrepancies.json` takes every code list from the rule
registry (`pipeline/detect/rules/`): a new rule is in the output suite without touching it.
"""

from __future__ import annotations

from collections.abc import Callable

PARAMETER = "$PARAMETER"


def discrepancy_parameters() -> dict[str, list[str]]:
    """The `discrepancies` suite's lists, from the rule registry."""
    from pipeline.detect.finding import KEY_COLUMNS, SEVERITIES
    from pipeline.detect.rules import codes, codes_where

    parameters: dict[str, list[str]] = {
        "discrepancy_codes": list(codes()),
        "discrepancy_severities": list(SEVERITIES),
        "discrepancy_codes_without_money": list(codes_where(lambda rule: rule.money is None)),
    }
    for key in KEY_COLUMNS:
        parameters[f"discrepancy_codes_with_{key}"] = list(
            codes_where(lambda rule, key=key: key in rule.keys))
    return parameters


DERIVED: dict[str, Callable[[], dict[str, object]]] = {"discrepancies": discrepancy_parameters}


def derived_parameters(suite: str) -> dict[str, object]:
    """The parameters the code fills into ``suite`` when it is loaded (none for most suites)."""
    provider = DERIVED.get(suite)
    return provider() if provider else {}


def fill(document: object, parameters: dict[str, object]) -> object:
    """``document`` with every `{"$PARAMETER": name}` whose name is in ``parameters`` replaced
    by its value (others, such as `as_of`, are kept for GX)."""
    if isinstance(document, dict):
        if set(document) == {PARAMETER} and document[PARAMETER] in parameters:
            return parameters[document[PARAMETER]]
        return {k: fill(v, parameters) for k, v in document.items()}
    if isinstance(document, list):
        return [fill(v, parameters) for v in document]
    return document

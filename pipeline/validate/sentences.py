"""What a data steward reads in the Data Docs: each expectation as a Chinese sentence, its
columns under the input file's own headers, and up to 20 failing values, masked, with the file,
sheet and row they came from.

Great Expectations renders an expectation through renderer functions registered per expectation
type (`great_expectations.expectations.registry`): the prescriptive one writes the sentence
("身份证号应为有效的公民身份号码（至少 98%）"), the diagnostic ones the status icon, the count of
failing values, the table of failing values and the observed value. bidui's custom expectations
declare theirs as class methods (`custom_expectations.py`, GX's own way); for GX's built-in
expectations the runner registers the functions below for every type a suite uses
(`install_renderers`), so a sentence is Chinese wherever a steward sees it, and no value reaches
a page unmasked (GX's own failing-values table is replaced for every type, even one without a
Chinese sentence, which falls back to GX's English).

Headers and files come from the expectation's `meta.labels`, written by the runner when the
suite runs on an input (`{"columns": {field: header as written}, "files": [...], "input": ...}`);
without labels (output suites) the internal column name is shown.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Iterable
from pathlib import PurePath
from typing import Any

from great_expectations.render import (
    LegacyDiagnosticRendererType,
    LegacyRendererType,
    RenderedStringTemplateContent,
    RenderedTableContent,
)
from great_expectations.render.renderer.renderer import renderer

from pipeline.masking import mask_id, mask_name
from pipeline.normalise.field_issues import mask_value

FAILING_SHOWN = 20
PARAMETER = "$PARAMETER"
CRITICAL, WARNING = "critical", "warning"
EMPTY = "（空）"
NO_SHEET = "—"  # a CSV or Parquet file has no sheets

# Fields whose values are personal data beyond field_issues.mask_value's rules.
ID_FIELDS = frozenset({"id_number"})
NAME_FIELDS = frozenset({"name"})
ADDRESS_FIELDS = frozenset({"address"})

Sentence = tuple[str, dict[str, str]]


# -- reading a configuration ----------------------------------------------------------------------

def config_of(configuration=None, result=None):
    """The expectation configuration, from whichever of the two the dispatcher passed."""
    if configuration is not None:
        return configuration
    if result is not None:
        return getattr(result, "expectation_config", None)
    return None


def _get(configuration, key: str, default=None):
    value = getattr(configuration, key, None)
    if value is None and isinstance(configuration, dict):
        value = configuration.get(key)
    return default if value is None else value


def labels_of(configuration) -> dict:
    return (_get(configuration, "meta", {}) or {}).get("labels") or {}


# The input views' column of the fields filed but not understood (`stage.UNREADABLE`, which
# is this name), read by each input suite's `values_understood`.
UNREADABLE_COLUMN = "unreadable_fields"


def column_label(configuration, column: str) -> str:
    """The column as the input file writes it (`身份证号`), else its internal name."""
    return (labels_of(configuration).get("columns") or {}).get(column) or str(column)


def columns_of(configuration) -> list[str]:
    kwargs = _get(configuration, "kwargs", {}) or {}
    if kwargs.get("column"):
        return [kwargs["column"]]
    if kwargs.get("column_list"):
        return list(kwargs["column_list"])
    return [kwargs[k] for k in ("column_A", "column_B") if kwargs.get(k)]


def severity_of(configuration) -> str:
    return (_get(configuration, "meta", {}) or {}).get("severity", WARNING)


def file_names(paths: Iterable[object]) -> list[str]:
    """File names only (no folders), in order, once each."""
    names: list[str] = []
    for path in paths:
        if path is None or (isinstance(path, float) and math.isnan(path)):
            continue
        name = PurePath(str(path)).name or str(path)
        if name not in names:
            names.append(name)
    return names


# -- numbers and dates as a steward reads them -----------------------------------------------------

def number_text(value: object) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:,.4g}" if abs(value) >= 1 else f"{value:.4g}"
    return str(value)


def percent_text(value: object) -> str:
    if not isinstance(value, int | float):
        return "--"
    if value == 0 or value >= 1:
        return f"{value:.4g}%"
    return f"{value:.2g}%"


def mostly_pct(value: object) -> str | None:
    """`mostly` 0.98 → "98"; None when every value must pass."""
    if not isinstance(value, int | float) or isinstance(value, bool) or value >= 1:
        return None
    return f"{value * 100:.6g}"


def _date_text(value: object) -> str:
    text = str(value)
    return text[:-9] if text.endswith(" 00:00:00") or text.endswith("T00:00:00") else text


def _bound(value: object, suite_parameters: dict | None) -> str:
    """A bound as shown: a suite parameter by its night's value (as_of: 核查日)."""
    if isinstance(value, dict) and PARAMETER in value:
        name = value[PARAMETER]
        known = (suite_parameters or {}).get(name)
        shown = "核查日" if name == "as_of" else name
        return f"{_date_text(known)}（{shown}）" if known is not None else shown
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()[:10]
    if isinstance(value, int | float):
        return number_text(value)
    return _date_text(value)


# -- the sentences --------------------------------------------------------------------------------

def _with_mostly(template: str, params: dict[str, str], kwargs: dict) -> Sentence:
    pct = mostly_pct(kwargs.get("mostly"))
    if pct is not None:
        params["mostly_pct"] = pct
        template += "（至少 $mostly_pct%）"
    return template, params


def _between(kwargs: dict, params: dict, suite_parameters, lo: str, hi: str, *,
             subject: str = "$column") -> str:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None:
        params["min_value"] = _bound(low, suite_parameters)
    if high is not None:
        params["max_value"] = _bound(high, suite_parameters)
    strict_low, strict_high = kwargs.get("strict_min"), kwargs.get("strict_max")
    if low is not None and high is not None:
        return f"{subject}应在 $min_value 至 $max_value 之间"
    if low is not None:
        return f"{subject}应{'大于' if strict_low else '不小于'} $min_value{lo}"
    if high is not None:
        return f"{subject}应{'小于' if strict_high else '不大于'} $max_value{hi}"
    return f"{subject}可为任意值"


def _values_list(values: object, params: dict[str, str], limit: int = 12) -> str:
    items = list(values) if isinstance(values, list | tuple | set | frozenset) else []
    if isinstance(values, dict) and PARAMETER in values:
        params["value_set"] = str(values[PARAMETER])
        return "$value_set 中的值"
    shown = []
    for n, value in enumerate(items[:limit]):
        params[f"v{n}"] = _bound(value, None)
        shown.append(f"$v{n}")
    text = "、".join(shown)
    if len(items) > limit:
        text += f" 等 {len(items)} 个值"
    return text or "（空集合）"


def _custom(template: str) -> Callable[[dict, dict, dict | None], str]:
    return lambda kwargs, params, suite_parameters: template


def _dates(kwargs: dict, params: dict, suite_parameters) -> str:
    params["min_date"] = _bound(kwargs.get("min_date") or "1900-01-01", suite_parameters)
    high = kwargs.get("max_date")
    params["max_date"] = _bound(high, suite_parameters) if high is not None else "今天"
    return "$column应为 $min_date 至 $max_date 之间的日期"


def _row_count(kwargs: dict, params: dict, suite_parameters) -> str:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and high is None:
        params["min_value"] = _bound(low, suite_parameters)
        return "文件至少应有 $min_value 行数据"
    return _between(kwargs, params, suite_parameters, " 行", " 行", subject="数据行数")


def _unique_count(kwargs: dict, params: dict, suite_parameters) -> str:
    if kwargs.get("min_value") == 1 and kwargs.get("max_value") is None:
        return "$column不应整列为空（至少要有一个值）"
    return _between(kwargs, params, suite_parameters, " 个", " 个",
                    subject="$column不同值的个数")


def _compound_unique(kwargs: dict, params: dict, suite_parameters) -> str:
    return "$columns 的组合不应重复"


def _pair_greater(kwargs: dict, params: dict, suite_parameters) -> str:
    return "$column_A应大于或等于$column_B" if kwargs.get("or_equal") else \
        "$column_A应大于$column_B"


def _pair_equal(kwargs: dict, params: dict, suite_parameters) -> str:
    return "$column_A应等于$column_B"


def _values_between(kwargs: dict, params: dict, suite_parameters) -> str:
    return _between(kwargs, params, suite_parameters, "", "")


def _in_set(kwargs: dict, params: dict, suite_parameters) -> str:
    return "$column应为以下之一：" + _values_list(kwargs.get("value_set"), params)


# Expectation type → the sentence's template (without the `mostly` clause). `$column`,
# `$column_A`, `$column_B`, `$columns` are the columns under the file's headers.
TEMPLATES: dict[str, Callable[[dict, dict, dict | None], str]] = {
    "expect_column_values_to_be_valid_gb11643_id": _custom("$column应为有效的公民身份号码"),
    "expect_column_values_to_be_valid_uscc": _custom(
        "$column应为有效的统一社会信用代码（GB 32100，含校验位）"),
    "expect_column_values_to_be_known_admin_code": _custom(
        "$column应为 GB/T 2260 中的行政区划代码（已撤销的旧代码也算）"),
    "expect_column_values_to_be_plausible_dates": _dates,
    "expect_column_values_to_be_plausible_household_size": _custom(
        "$column应为 1 至 20 之间的整数（人）"),
    "expect_table_row_count_to_be_between": _row_count,
    "expect_column_unique_value_count_to_be_between": _unique_count,
    "expect_compound_columns_to_be_unique": _compound_unique,
    "expect_column_pair_values_a_to_be_greater_than_b": _pair_greater,
    "expect_column_pair_values_to_be_equal": _pair_equal,
    "expect_column_values_to_be_between": _values_between,
    "expect_column_values_to_be_unique": _custom("$column不应重复"),
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_not_be_null": _custom("$column不应为空"),
    "expect_column_values_to_be_null": _custom("$column应为空"),
}


def _row_condition(kwargs: dict, configuration, params: dict[str, str]) -> str:
    """"当 类型 为 A、B 时，" for a GX 1.x comparison condition; a generic clause otherwise."""
    condition = kwargs.get("row_condition")
    if not condition:
        return ""
    if isinstance(condition, dict) and condition.get("type") == "comparison":
        column = (condition.get("column") or {}).get("name")
        params["rc_column"] = column_label(configuration, column) if column else "?"
        value = condition.get("parameter")
        if condition.get("operator") in ("IN", "in") and isinstance(value, list):
            inner: dict[str, str] = {}
            listed = _values_list(value, inner)
            for key, text in inner.items():
                params[f"rc_{key}"] = text
            listed = listed.replace("$v", "$rc_v").replace("$value_set", "$rc_value_set")
            return f"当$rc_column为 {listed} 时，"
        params["rc_value"] = _bound(value, None)
        operator = str(condition.get("operator"))
        operator = {"==": "为", "!=": "不为", ">": "大于", "<": "小于", ">=": "不小于",
                    "<=": "不大于"}.get(operator, operator)
        return f"当$rc_column{operator} $rc_value 时，"
    params["rc_text"] = str(condition)
    return "在满足 $rc_text 的行中，"


def sentence(configuration, suite_parameters: dict | None = None) -> Sentence | None:
    """The Chinese sentence of an expectation: (template, params as display text); None for a
    type without one (GX's English is kept). A suite may give its own template in
    `meta.sentence` (same `$column` parameters)."""
    if configuration is None:
        return None
    expectation_type = _get(configuration, "type") or _get(configuration, "expectation_type")
    build = TEMPLATES.get(str(expectation_type))
    meta = _get(configuration, "meta", {}) or {}
    if build is None and not meta.get("sentence"):
        return None
    kwargs = dict(_get(configuration, "kwargs", {}) or {})
    params: dict[str, str] = {}
    for key in ("column", "column_A", "column_B"):
        if kwargs.get(key):
            params[key] = column_label(configuration, kwargs[key])
    if kwargs.get("column_list"):
        params["columns"] = " + ".join(column_label(configuration, c)
                                       for c in kwargs["column_list"])
    template = build(kwargs, params, suite_parameters) if build else ""
    if meta.get("sentence"):
        template = str(meta["sentence"])
    template = _row_condition(kwargs, configuration, params) + template
    return _with_mostly(template, params, kwargs)


def sentence_text(configuration, suite_parameters: dict | None = None) -> str | None:
    """The sentence as plain text (for the summary banner and tests)."""
    made = sentence(configuration, suite_parameters)
    if made is None:
        return None
    template, params = made
    from string import Template

    return Template(template).safe_substitute(params)


# -- failing values --------------------------------------------------------------------------------

def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or \
        str(value) in ("", "nan", "NaT", "None", "<NA>")


def shown_value(field: str, value: object) -> str:
    """A failing value as a steward may see it: ID numbers `110105********123X`, names by
    surname, addresses by their first characters, birth dates by year, phones by their ends,
    anything shaped like an ID number masked; codes, words, numbers and other dates as read."""
    if _missing(value):
        return EMPTY
    text = _date_text(value)
    if field == UNREADABLE_COLUMN:  # the standard names of fields, no one's data
        return text
    if field in ID_FIELDS:
        return mask_id(text)
    if field in NAME_FIELDS:
        return mask_name(text)
    if field in ADDRESS_FIELDS:
        return text[:3] + "*" * max(len(text) - 3, 1)
    return mask_value(field, text) or EMPTY


PROVENANCE = ("source_file", "source_sheet", "source_row")


def failing_rows(result, limit: int = FAILING_SHOWN) -> list[tuple[str, str, str, str]]:
    """Up to `limit` failing rows of a result: (file name, sheet, row, value masked). Uses
    `partial_unexpected_index_list` (rows with their provenance, when the runner asked for it),
    else the values alone."""
    configuration = config_of(None, result)
    body = getattr(result, "result", None) or {}
    if "bidui_failing_values" in body:  # masked by the runner right after the run
        return [tuple(str(c) for c in row) for row in body["bidui_failing_values"][:limit]]
    columns = columns_of(configuration)
    rows: list[tuple[str, str, str, str]] = []
    indexed = body.get("partial_unexpected_index_list") or []
    if indexed and isinstance(indexed[0], dict):
        for item in indexed[:limit]:
            value = " / ".join(shown_value(c, item.get(c)) for c in columns) if columns else ""
            sheet = item.get("source_sheet")
            rows.append((", ".join(file_names([item.get("source_file")])),
                         NO_SHEET if _missing(sheet) else str(sheet),
                         "" if _missing(item.get("source_row")) else str(item["source_row"]),
                         value))
        return rows
    for value in (body.get("partial_unexpected_list") or [])[:limit]:
        if isinstance(value, dict):
            shown = " / ".join(shown_value(c, value.get(c)) for c in columns)
        elif isinstance(value, list | tuple) and len(columns) == len(value):
            shown = " / ".join(shown_value(c, v) for c, v in zip(columns, value, strict=True))
        else:
            shown = shown_value(columns[0] if columns else "", value)
        rows.append(("", "", "", shown))
    return rows


# -- renderer functions (the same for custom and built-in expectations) ---------------------------

COLUMN_PARAMS = ("column", "column_A", "column_B", "columns", "rc_column")


def _param_styling(runtime_configuration: dict | None) -> dict | None:
    """GX's styling of the page (values as grey badges, the column blue), every column
    parameter styled as GX styles `column`."""
    styling = (runtime_configuration or {}).get("styling")
    if not styling:
        return styling
    params = dict(styling.get("params") or {})
    column = params.get("column")
    if column is not None:
        params.update({name: column for name in COLUMN_PARAMS})
    return {**styling, "params": params}


def prescriptive(configuration=None, result=None, runtime_configuration=None,
                 fallback: Callable | None = None, **kwargs) -> list:
    """The legacy prescriptive renderer: the sentence, styled as GX styles its parameters."""
    configuration = config_of(configuration, result)
    made = sentence(configuration, (runtime_configuration or {}).get("suite_parameters"))
    if made is None:
        if fallback is not None:
            return fallback(configuration=configuration, result=result,
                            runtime_configuration=runtime_configuration, **kwargs)
        return [RenderedStringTemplateContent(
            content_block_type="string_template",
            string_template={"template": "检查 $type", "params": {
                "type": str(_get(configuration, "type", "?"))}})]
    template, params = made
    return [RenderedStringTemplateContent(
        content_block_type="string_template",
        string_template={"template": template, "params": params,
                         "styling": _param_styling(runtime_configuration)})]


def status_icon(configuration=None, result=None, runtime_configuration=None, **kwargs):
    """✓ passed; ⚠ failed with severity warning; ✗ failed critical; ❗ could not run."""
    assert result is not None, "Must provide a result object."
    info = getattr(result, "exception_info", None) or {}
    raised = info.get("raised_exception") if "raised_exception" in info else any(
        isinstance(v, dict) and v.get("raised_exception") for v in info.values())
    if result.success and not raised:
        icon, title, extra = ["fas", "fa-check-circle", "text-success"], "通过", {
            "parent": {"classes": ["hide-succeeded-validation-target-child"]}}
    elif raised:
        icon, title, extra = ["fas", "fa-exclamation-circle", "text-danger"], "未能运行", {}
    elif severity_of(config_of(configuration, result)) == CRITICAL:
        icon, title, extra = ["fas", "fa-times", "text-danger"], "未通过（严重）", {}
    else:
        icon, title, extra = ["fas", "fa-exclamation-triangle", "text-warning"], "警告", {}
    return RenderedStringTemplateContent(
        content_block_type="string_template",
        string_template={"template": "$icon", "params": {"icon": "", "markdown_status_icon": title},
                         "styling": {"params": {"icon": {
                             "tag": "i", "classes": icon,
                             "attributes": {"title": title, "aria-label": title}}}}},
        styling=extra or None)


def unexpected_statement(configuration=None, result=None, runtime_configuration=None, **kwargs):
    """How many values failed (of how many rows), or why the check could not run."""
    if result is None:
        return []
    info = getattr(result, "exception_info", None) or {}
    if "raised_exception" not in info:
        info = next((v for v in info.values() if isinstance(v, dict)), {})
    if info.get("raised_exception"):
        kind = str(info.get("exception_message", "")).split(":", 1)[0][:80] or "error"
        return [RenderedStringTemplateContent(
            content_block_type="string_template",
            string_template={"template": "\n此检查未能运行（$kind）：请把 bidui --debug run 的输出"
                                         "交给维护人员。",
                             "params": {"kind": kind}, "tag": "strong",
                             "styling": {"classes": ["text-danger"]}})]
    body = getattr(result, "result", None) or {}
    if result.success or not body.get("unexpected_count"):
        return []
    params = {"unexpected_count": number_text(body["unexpected_count"]),
              "unexpected_percent": percent_text(body.get("unexpected_percent")),
              "element_count": number_text(body.get("element_count", 0))}
    classes = ["text-danger"] if severity_of(config_of(configuration, result)) == CRITICAL \
        else ["bidui-status-warning"]
    # values_understood counts rows (a row with two fields not understood is one)
    counted = "行有不能识别的值" if columns_of(config_of(configuration, result)) == [
        UNREADABLE_COLUMN] else "个值不符合"
    return [RenderedStringTemplateContent(
        content_block_type="string_template",
        string_template={"template": f"\n$unexpected_count {counted}（占有值行的 "
                                     "$unexpected_percent，共 $element_count 行）。",
                         "params": params, "tag": "strong", "styling": {"classes": classes}})]


def _cell(text: str) -> RenderedStringTemplateContent:
    return RenderedStringTemplateContent(content_block_type="string_template",
                                         string_template={"template": "$v", "params": {"v": text}})


def unexpected_table(configuration=None, result=None, runtime_configuration=None, **kwargs):
    """Up to 20 failing values, masked, with file, sheet and row (文件, 工作表, 行, 值); for
    `values_understood`, the rows and their fields not understood."""
    if result is None or result.success:
        return None
    rows = failing_rows(result)
    if not rows:
        return None
    body = getattr(result, "result", None) or {}
    total = body.get("unexpected_count") or len(rows)
    # values_understood's column holds, per row, the fields whose values were not understood
    # (their standard names, `stage._unreadable`): the table lists rows, not values
    fields = columns_of(config_of(configuration, result)) == [UNREADABLE_COLUMN]
    what, last = (("值不能识别的行", "不能识别的字段（标准名称）") if fields
                  else ("不符合的值", "值"))
    header = f"{what}（前 {len(rows)} 个，共 {number_text(total)} 个；个人信息已遮蔽）" \
        if total > len(rows) else f"{what}（{len(rows)} 个；个人信息已遮蔽）"
    return [RenderedTableContent(
        content_block_type="table",
        header=RenderedStringTemplateContent(
            content_block_type="string_template",
            string_template={"template": header, "tag": "p",
                             "styling": {"classes": ["mt-3", "mb-1", "bidui-failing-title"]}}),
        header_row=["文件", "工作表", "行", last],
        table=[[_cell(c) for c in row] for row in rows],
        styling={"body": {"classes": ["table-bordered", "table-sm", "mt-1",
                                      "bidui-failing-values"]}})]


OBSERVED_UNITS = {"expect_table_row_count_to_be_between": "{} 行",
                  "expect_column_unique_value_count_to_be_between": "{} 个不同的值"}


def observed_value(configuration=None, result=None, runtime_configuration=None, **kwargs) -> str:
    """What was found: a count with its unit, the share of values that fail, or 无值 when the
    column holds no value to judge."""
    if result is None:
        return "--"
    body = getattr(result, "result", None) or {}
    observed = body.get("observed_value")
    if observed is not None:
        if isinstance(observed, int | float) and not isinstance(observed, bool):
            unit = OBSERVED_UNITS.get(str(_get(config_of(configuration, result), "type")), "{}")
            return unit.format(number_text(observed))
        return "--" if isinstance(observed, list | dict) else str(observed)
    if body.get("unexpected_percent") is not None:
        return f"{percent_text(body['unexpected_percent'])} 不符合"
    if body.get("element_count") and body.get("missing_count") == body.get("element_count"):
        return "无值"
    return "--"


# -- registration for GX's built-in expectations --------------------------------------------------

def _registered(expectation_type: str, renderer_type: str):
    from great_expectations.expectations.registry import get_renderer_impl

    impl = get_renderer_impl(object_name=expectation_type, renderer_type=renderer_type)
    return impl


def bidui_renderer(renderer_type: str) -> Callable[[Callable], Callable]:
    """GX's `@renderer` decorator, marking the function as bidui's (so `install_renderers`
    leaves it in place)."""
    def decorate(fn: Callable) -> Callable:
        wrapped = renderer(renderer_type=renderer_type)(fn)
        wrapped._bidui = True  # type: ignore[attr-defined]
        return wrapped
    return decorate


def _wrap(renderer_type: str, fn: Callable, fallback: Callable | None = None) -> Callable:
    if fallback is None:
        def call(*args: Any, **kwargs: Any):
            return fn(**kwargs)
    else:
        def call(*args: Any, **kwargs: Any):
            return fn(fallback=fallback, **kwargs)
    return bidui_renderer(renderer_type)(call)


DIAGNOSTICS: dict[str, Callable] = {
    LegacyDiagnosticRendererType.STATUS_ICON: status_icon,
    LegacyDiagnosticRendererType.UNEXPECTED_STATEMENT: unexpected_statement,
    LegacyDiagnosticRendererType.UNEXPECTED_TABLE: unexpected_table,
    LegacyDiagnosticRendererType.OBSERVED_VALUE: observed_value,
}


def install_renderers(expectation_types: Iterable[str]) -> None:
    """Register bidui's renderers for each expectation type (idempotent): the Chinese sentence
    where one is known (GX's English otherwise), and the diagnostic renderers for every type,
    so no page shows an unmasked value. bidui's custom expectations carry them already."""
    from great_expectations.expectations.registry import (
        _registered_expectations,
        register_renderer,
    )

    registry_log = logging.getLogger("great_expectations.expectations.registry")
    level = registry_log.level
    registry_log.setLevel(logging.ERROR)  # "Overwriting declaration" is what we mean here
    try:
        for expectation_type in set(expectation_types):
            parent = _registered_expectations.get(expectation_type)
            if parent is None:
                continue
            current = _registered(expectation_type, LegacyRendererType.PRESCRIPTIVE)
            if current is None or not getattr(current.renderer, "_bidui", False):
                fallback = current.renderer if current is not None else None
                register_renderer(object_name=expectation_type, parent_class=parent,
                                  renderer_fn=_wrap(LegacyRendererType.PRESCRIPTIVE,
                                                    prescriptive, fallback))
            for renderer_type, fn in DIAGNOSTICS.items():
                current = _registered(expectation_type, renderer_type)
                if current is None or not getattr(current.renderer, "_bidui", False):
                    register_renderer(object_name=expectation_type, parent_class=parent,
                                      renderer_fn=_wrap(renderer_type, fn))
    finally:
        registry_log.setLevel(level)

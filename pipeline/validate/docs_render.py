"""The Data Docs pages as a data steward reads them: Chinese, local time, warnings as warnings.

Great Expectations builds a Data Docs site from renderer and view classes named in the site's
configuration (`site_section_builders.<section>.renderer / view`, `site_index_builder.renderer
/ view`). `site_config` names the classes below, which extend GX's own:

- `BiduiValidationResultsPageRenderer`: the overview says which file was checked (not "Data
  asset: None"), the status is 通过 / 警告 / 未通过 (a suite whose only failures are warnings is
  a warning, not "Failed"), the statistics are in Chinese, run times are in the configured
  timezone (Asia/Shanghai), not UTC.
- `BiduiColumnSectionRenderer`: a column's section is titled with the file's own header
  (身份证号), with the file name and the internal field name beside it; its table renderer
  labels the columns 状态 / 检查 / 实际值.
- `BiduiSiteIndexPageRenderer`: the index's runs table in Chinese, local run times, 警告 for a
  warnings-only suite, the checked file instead of GX's asset name.
- `BiduiPageView` / `BiduiIndexPageView`: GX's Jinja views with bidui's templates first
  (`docs_templates.py`): no newsletter footer, no walkthrough pop-up, no link to GX's site.

The expectation sentences and failing values come from the expectations' renderers
(`sentences.py`). `docs_assets.make_offline` then points every asset at the local copies.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from great_expectations.render import (
    CollapseContent,
    RenderedBootstrapTableContent,
    RenderedHeaderContent,
    RenderedMarkdownContent,
    RenderedSectionContent,
    RenderedStringTemplateContent,
    RenderedTableContent,
    RenderedTabsContent,
)
from great_expectations.render.renderer.column_section_renderer import (
    ExpectationSuiteColumnSectionRenderer,
    ValidationResultsColumnSectionRenderer,
)
from great_expectations.render.renderer.content_block import (
    ValidationResultsTableContentBlockRenderer,
)
from great_expectations.render.renderer.page_renderer import (
    ExpectationSuitePageRenderer,
    ValidationResultsPageRenderer,
)
from great_expectations.render.renderer.site_index_page_renderer import SiteIndexPageRenderer
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import ChoiceLoader, DictLoader

from pipeline.validate import sentences
from pipeline.validate.docs_templates import TEMPLATES

DEFAULT_TIMEZONE = "Asia/Shanghai"
TABLE_LEVEL = "Table-Level Expectations"
TABLE_LEVEL_ZH = "整表检查"
PASSED, WARNING, FAILED = "passed", "warning", "failed"
STATUS_TEXT = {PASSED: "通过", WARNING: "警告", FAILED: "未通过"}
STATUS_ICON = {PASSED: ["fas", "fa-check-circle", "text-success", "ge-success-icon"],
               WARNING: ["fas", "fa-exclamation-triangle", "text-warning", "bidui-warning-icon"],
               FAILED: ["fas", "fa-times", "text-danger", "ge-failed-icon"]}
_MODULE = __name__


def zone_name(timezone: str) -> str:
    return "北京时间" if timezone in ("Asia/Shanghai", "Asia/Chongqing", "PRC") else timezone


def local_time(value: object, timezone: str = DEFAULT_TIMEZONE, with_zone: bool = True) -> str:
    """A run time as a steward reads it: `2026-06-30 21:59:35（北京时间）`."""
    if value is None:
        return "--"
    if isinstance(value, str):
        from dateutil.parser import parse

        try:
            value = parse(value)
        except (ValueError, OverflowError):
            return value
    if not isinstance(value, dt.datetime):
        return str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(ZoneInfo(timezone))
    text = f"{local:%Y-%m-%d %H:%M:%S}"
    return f"{text}（{zone_name(timezone)}）" if with_zone else text


def _run_time(run_id) -> object:
    if isinstance(run_id, dict):
        return run_id.get("run_time")
    return getattr(run_id, "run_time", None)


def _run_name(run_id) -> str:
    if isinstance(run_id, dict):
        return run_id.get("run_name") or "--"
    return getattr(run_id, "run_name", None) or "--"


def suite_status(validation_results) -> str:
    """通过 when every expectation passed; 警告 when every failure is a warning; else 未通过."""
    if validation_results.success:
        return PASSED
    failed = [r for r in validation_results.results if not r.success]
    if failed and all(sentences.severity_of(r.expectation_config) != sentences.CRITICAL
                      for r in failed):
        return WARNING
    return FAILED


def _labels(validation_results) -> dict:
    for result in validation_results.results:
        labels = sentences.labels_of(result.expectation_config)
        if labels:
            return labels
    return {}


def _text(template: str, params: dict | None = None, tag: str | None = None,
          styling: dict | None = None) -> RenderedStringTemplateContent:
    string_template: dict = {"template": template, "params": params or {}}
    if tag:
        string_template["tag"] = tag
    if styling:
        string_template["styling"] = styling
    return RenderedStringTemplateContent(content_block_type="string_template",
                                         string_template=string_template)


# -- validation result pages ----------------------------------------------------------------------

class BiduiValidationResultsPageRenderer(ValidationResultsPageRenderer):
    def __init__(self, column_section_renderer=None, run_info_at_end: bool = False,
                 data_context=None, timezone: str = DEFAULT_TIMEZONE) -> None:
        super().__init__(
            column_section_renderer=column_section_renderer or {
                "module_name": _MODULE, "class_name": "BiduiColumnSectionRenderer"},
            run_info_at_end=run_info_at_end, data_context=data_context)
        self.timezone = timezone

    def _parse_run_values(self, validation_results):
        run_id = validation_results.meta.get("run_id")
        return _run_name(run_id), local_time(_run_time(run_id), self.timezone)

    def _determine_page_title(self, run_name, run_time, data_asset_name,
                              expectation_suite_name) -> str:
        return f"校验结果 / {expectation_suite_name} / {run_name} / {run_time}"

    def _collect_rendered_document_content_sections(self, validation_results,
                                                    overview_content_blocks,
                                                    collapse_content_blocks, columns):
        """GX's sections (overview, table-level checks, one per column), the columns with a
        failed check first, then in the input's field order (GX: alphabetical)."""
        order = list(_labels(validation_results).get("columns") or {})
        named = [c for c in columns if c != TABLE_LEVEL]
        named.sort(key=lambda c: (all(r.success for r in columns[c]),
                                  order.index(c) if c in order else len(order), c))
        sections = [RenderedSectionContent(section_name="Overview",
                                           content_blocks=overview_content_blocks)]
        for column in ([TABLE_LEVEL] if TABLE_LEVEL in columns else []) + named:
            sections.append(self._column_section_renderer.render(
                validation_results=columns[column],
                suite_parameters=validation_results.suite_parameters))
        if self.run_info_at_end:
            sections.append(RenderedSectionContent(section_name="运行信息",
                                                   content_blocks=collapse_content_blocks))
        return sections

    def _render_validation_header(self, validation_results):
        status = suite_status(validation_results)
        labels = _labels(validation_results)
        suite = validation_results.suite_name
        suite_path = "/".join([".."] * (len(suite.split(".")) + 3) + ["expectations",
                                                                      *suite.split(".")])
        failed = [r for r in validation_results.results if not r.success]
        critical = sum(sentences.severity_of(r.expectation_config) == sentences.CRITICAL
                       for r in failed)
        detail = {PASSED: "全部检查通过",
                  WARNING: f"{len(failed)} 项警告：数据照常发布，请核对下列不符合的值",
                  FAILED: f"{critical} 项严重问题、{len(failed) - critical} 项警告"}[status]
        files = "、".join(labels.get("files") or []) or "--"
        what = labels.get("input") or suite
        return RenderedHeaderContent(
            content_block_type="header",
            header=_text("概况", tag="h5", styling={"classes": ["m-0"]}),
            subheader=_text(
                "${t_suite} ${suite}（${what}）\n ${t_file} ${files}\n "
                "${t_status} ${html_success_icon} ${status}：${detail}",
                {"t_suite": "校验套件：", "suite": suite, "what": what, "t_file": "文件：",
                 "files": files, "t_status": "状态：", "status": STATUS_TEXT[status],
                 "detail": detail,
                 "html_success_icon": f'<i class="{" ".join(STATUS_ICON[status][:3])}" '
                                      f'aria-hidden="true"></i>'},
                styling={"params": {"t_suite": {"classes": ["h6"]},
                                    "t_file": {"classes": ["h6"]},
                                    "t_status": {"classes": ["h6"]},
                                    "status": {"tag": "strong", "classes": [
                                        f"bidui-status-{status}"]},
                                    "suite": {"tag": "a",
                                              "attributes": {"href": f"{suite_path}.html"}}},
                         "classes": ["mb-0", "mt-1"]}),
            styling={"classes": ["col-12", "p-0"],
                     "header": {"classes": ["alert", "alert-secondary"]}})

    def _render_validation_statistics(self, validation_results):
        statistics = validation_results.statistics
        rows = [["已检查", statistics.get("evaluated_expectations")],
                ["通过", statistics.get("successful_expectations")],
                ["未通过", statistics.get("unsuccessful_expectations")]]
        percent = statistics.get("success_percent")
        if percent is not None:
            rows.append(["通过率", sentences.percent_text(percent)])
        return RenderedTableContent(
            content_block_type="table",
            header=_text("统计", tag="h6", styling={"classes": ["m-0"]}),
            table=[[name, "--" if value is None else str(value)] for name, value in rows],
            styling={"classes": ["col-6", "table-responsive", "mt-1", "p-1"],
                     "body": {"classes": ["table", "table-sm"]}})

    def _render_validation_info(self, validation_results):
        run_id = validation_results.meta.get("run_id")
        version = validation_results.meta.get("great_expectations_version")
        return RenderedTableContent(
            content_block_type="table",
            header=_text("运行信息", tag="h6", styling={"classes": ["m-0"]}),
            table=[["运行名称", _run_name(run_id)],
                   ["运行时间", local_time(_run_time(run_id), self.timezone)],
                   ["Great Expectations 版本", str(version or "--")]],
            styling={"classes": ["col-12", "table-responsive", "mt-1"],
                     "body": {"classes": ["table", "table-sm"]}})

    def _generate_collapse_content_block(self, collapse_content_blocks, validation_results):
        # Batch markers / spec / definition are GX internals: the run information is enough.
        return CollapseContent(collapse_toggle_link="更多信息…",
                               collapse=collapse_content_blocks,
                               styling={"body": {"classes": ["card", "card-body"]},
                                        "classes": ["col-12", "p-1"]})


def _column_header(results, column: str) -> RenderedHeaderContent:
    configuration = results[0].expectation_config if hasattr(results[0], "expectation_config") \
        else results[0]
    labels = sentences.labels_of(configuration)
    files = "、".join(labels.get("files") or [])
    if column == TABLE_LEVEL or column == "_nocolumn":
        title, note = TABLE_LEVEL_ZH, files
    else:
        title = sentences.column_label(configuration, column)
        note = " · ".join(part for part in (files, f"字段 {column}") if part)
    return RenderedHeaderContent(
        header=_text("$title $note", {"title": title, "note": note}, tag="h5",
                     styling={"classes": ["m-0"], "params": {"note": {
                         "tag": "small", "classes": ["text-muted", "ml-2",
                                                     "bidui-column-note"]}}}),
        styling={"classes": ["col-12", "p-0"],
                 "header": {"classes": ["alert", "alert-secondary"]}})


def _section_title(results, column: str) -> str:
    if column in (TABLE_LEVEL, "_nocolumn"):
        return TABLE_LEVEL_ZH
    first = results[0]
    configuration = getattr(first, "expectation_config", None) or first
    return sentences.column_label(configuration, column)


class BiduiColumnSectionRenderer(ValidationResultsColumnSectionRenderer):
    def __init__(self, table_renderer=None) -> None:
        super().__init__(table_renderer=table_renderer or {
            "module_name": _MODULE, "class_name": "BiduiTableContentBlockRenderer"})

    @classmethod
    def _render_header(cls, validation_results):
        return validation_results, _column_header(validation_results,
                                                  cls._get_column_name(validation_results))

    def render(self, validation_results, suite_parameters=None):
        section = super().render(validation_results, suite_parameters=suite_parameters)
        section.section_name = _section_title(validation_results, section.section_name)
        return section


class BiduiTableContentBlockRenderer(ValidationResultsTableContentBlockRenderer):
    @classmethod
    def _process_content_block(cls, content_block, has_failed_evr, render_object=None) -> None:
        super()._process_content_block(content_block, has_failed_evr, render_object=render_object)
        content_block.header_row = ["状态", "检查", "实际值", *content_block.header_row[3:]]
        options = dict(content_block.header_row_options or {})
        options.pop("Status", None)
        content_block.header_row_options = {"状态": {"sortable": True}, **options}


class BiduiSuiteColumnSectionRenderer(ExpectationSuiteColumnSectionRenderer):
    @classmethod
    def _render_header(cls, expectations):
        return expectations, _column_header(expectations, cls._get_column_name(expectations))

    def render(self, expectations):
        section = super().render(expectations)
        section.section_name = _section_title(expectations, section.section_name)
        return section


class BiduiExpectationSuitePageRenderer(ExpectationSuitePageRenderer):
    """GX's suite page in Chinese: what the suite checks (its `notes`), on which files."""

    def __init__(self, column_section_renderer=None) -> None:
        super().__init__(column_section_renderer=column_section_renderer or {
            "module_name": _MODULE, "class_name": "BiduiSuiteColumnSectionRenderer"})

    def render(self, expectations):
        document = super().render(expectations)
        document.page_title = f"校验套件 / {document.expectation_suite_name}"
        return document

    def _render_expectation_suite_header(self):
        return RenderedHeaderContent(
            content_block_type="header", header=_text("概况", tag="h5",
                                                      styling={"classes": ["m-0"]}),
            styling={"classes": ["col-12"], "header": {"classes": ["alert", "alert-secondary"]}})

    def _render_expectation_suite_info(self, expectations):
        labels = next((sentences.labels_of(e.configuration) for e in expectations.expectations
                       if sentences.labels_of(e.configuration)), {})
        rows = [["校验套件", expectations.name],
                ["检查对象", labels.get("input") or "--"],
                ["今晚的文件", "、".join(labels.get("files") or []) or "--"],
                ["Great Expectations 版本",
                 str(expectations.meta.get("great_expectations_version") or "--")]]
        return RenderedTableContent(
            content_block_type="table", header=_text("信息", tag="h6",
                                                     styling={"classes": ["m-0"]}),
            table=[[name, _text("$v", {"v": value})] for name, value in rows],
            styling={"classes": ["col-12", "table-responsive", "mt-1"],
                     "body": {"classes": ["table", "table-sm"]}})

    def _render_table_level_expectations(self, columns):
        block = super()._render_table_level_expectations(columns)
        if block is not None:
            block.header = _text(TABLE_LEVEL_ZH, tag="h6", styling={"classes": ["m-0"]})
        return block

    def _render_expectation_suite_notes(self, expectations):
        block = super()._render_expectation_suite_notes(expectations)
        columns = {c for e in expectations.expectation_configurations
                   for c in sentences.columns_of(e)}
        text = [f"本套件共 {len(expectations.expectations)} 项检查，涉及 {len(columns)} 列。"]
        text += [t for t in block.text if isinstance(t, RenderedMarkdownContent)]
        block.text = text
        block.header = _text("说明", tag="h6", styling={"classes": ["m-0"]})
        return block


# -- the index ------------------------------------------------------------------------------------

_INDEX_COLUMNS = {"validation_success": "状态", "run_time": "运行时间", "run_name": "运行名称",
                  "asset_name": "文件", "batch_identifier": "批次",
                  "expectation_suite_name": "校验套件"}
_INDEX_TABS = {"Validation Results": "校验结果", "Expectation Suites": "校验套件",
               "Profiling Results": "数据概况"}


def _status_cell(status: str) -> RenderedStringTemplateContent:
    return _text("$validation_success", {"validation_success": ""}, styling={
        "params": {"validation_success": {"tag": "i", "classes": STATUS_ICON[status],
                                          "attributes": {"title": STATUS_TEXT[status]}}},
        "classes": ["ge-index-page-table-validation-links-item"]})


class BiduiSiteIndexPageRenderer(SiteIndexPageRenderer):
    """GX's index with the runs table in Chinese. `suites` (from the runner): per suite its
    status (passed / warning / failed) and the files it checked."""

    def __init__(self, timezone: str = DEFAULT_TIMEZONE, suites: dict | None = None) -> None:
        super().__init__()
        self.timezone = timezone
        self.suites = suites or {}

    def render(self, index_links_dict):  # GX's is a classmethod; this one knows the night
        document = super().render(index_links_dict)
        for section in document.sections:
            for block in section.content_blocks:
                if isinstance(block, RenderedHeaderContent):
                    template = getattr(block.header, "string_template", None) or {}
                    if "title_prefix" in template.get("params", {}):
                        template["params"]["title_prefix"] = "数据校验"
                if isinstance(block, RenderedTabsContent):
                    for tab in block.tabs:
                        tab["tab_name"] = _INDEX_TABS.get(tab["tab_name"], tab["tab_name"])
                        if isinstance(tab.get("tab_content"), RenderedBootstrapTableContent):
                            self._localise(tab["tab_content"])
        return document

    def _localise(self, table: RenderedBootstrapTableContent) -> None:
        for column in table.table_columns:
            column["title"] = _INDEX_COLUMNS.get(column["field"], column["title"])
            if column["field"] == "run_time":  # one night per site: no date filter to break
                column["title"] = f"运行时间（{zone_name(self.timezone)}）"
                for key in ("filterControl", "filterCustomSearch", "filterDatepickerOptions"):
                    column.pop(key, None)
            if column["field"] == "expectation_suite_name" and len(table.table_columns) == 1:
                column["title"] = "校验套件"
        for row in table.table_data:
            suite = row.get("_expectation_suite_name_sort")
            if suite is None or "run_time" not in row:
                continue
            known = self.suites.get(suite) or {}
            success = row.get("_validation_success_text") == "Success"
            status = known.get("status") or (PASSED if success else FAILED)
            row["validation_success"] = _status_cell(status)
            row["_validation_success_text"] = STATUS_TEXT[status]
            sort = row.get("_run_time_sort")
            if isinstance(sort, int | float):
                row["run_time"] = local_time(dt.datetime.fromtimestamp(sort, dt.UTC),
                                             self.timezone, with_zone=False)
            if known.get("files"):
                row["asset_name"] = _text("$files", {"files": "、".join(known["files"])})


# -- views ----------------------------------------------------------------------------------------

def _bidui_first(view) -> None:
    view.env.loader = ChoiceLoader([DictLoader(TEMPLATES), view.env.loader])


class BiduiPageView(DefaultJinjaPageView):
    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        _bidui_first(self)


class BiduiIndexPageView(DefaultJinjaIndexPageView):
    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        _bidui_first(self)


def site_config(base_directory: str, *, timezone: str, suites: dict) -> dict:
    """The Data Docs site configuration naming bidui's renderers and views."""
    view = {"module_name": _MODULE, "class_name": "BiduiPageView"}
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                          "base_directory": base_directory},
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "renderer": {"module_name": _MODULE, "class_name": "BiduiSiteIndexPageRenderer",
                         "timezone": timezone, "suites": suites},
            "view": {"module_name": _MODULE, "class_name": "BiduiIndexPageView"},
        },
        "site_section_builders": {
            "validations": {
                "renderer": {"module_name": _MODULE,
                             "class_name": "BiduiValidationResultsPageRenderer",
                             "timezone": timezone},
                "view": view,
            },
            "expectations": {
                "renderer": {"module_name": _MODULE,
                             "class_name": "BiduiExpectationSuitePageRenderer"},
                "view": view,
            },
        },
    }

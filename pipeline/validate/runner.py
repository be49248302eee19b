"""Run the Great Expectations suites of `pipeline/validate/suites/` and build the night's Data Docs.

The GX project (a file context) lives in a temporary folder per night, never in the user's
home; the suites are copied into it from the repository, after the custom expectations are
registered (import of `custom_expectations` below).

Input suites run on a validation view that keeps each row's provenance (source_file,
source_sheet, source_row): their results ask GX for up to 20 failing rows with that
provenance (SUMMARY, `unexpected_index_column_names`). Right after each run the runner replaces
those values by their masked forms (`sentences.failing_rows`: ID numbers `110105********123X`,
names by surname, …) in the result and in the night's temporary results store, so the Data Docs
list failing values a steward can find in the file, and nothing unmasked is rendered. Output
suites keep counts only. The manifest and the Prefect artifact carry counts and check names,
never values.

`validate_inputs` (the validate stage) runs the input suites and, with a last good night, the
night-over-night suite; `validate_outputs` (the report stage) runs the output suites on the
frames about to be published; `build_docs` writes the Data Docs into the staging folder, in
Chinese for the data steward (`docs_render.py`, `sentences.py`), and makes them open offline
(`docs_assets.py`). A failed critical expectation raises `GateError`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

# Registers the custom expectations: must precede any suite load (GX drops unknown types).
import pipeline.validate.custom_expectations  # noqa: F401
from pipeline.errors import GateError
from pipeline.schema import SOURCE_NAMES
from pipeline.validate import docs_assets, sentences
from pipeline.validate.derived import derived_parameters, fill
from pipeline.validate.settings import CRITICAL, WARNING, ValidationSettings

# Package data (pyproject.toml), so an installed bidui has its suites wherever it runs.
SUITES_DIR = Path(__file__).resolve().parent / "suites"
SITE_NAME = "bidui"
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}
# Input suites: up to 20 failing rows with where they came from (masked right after the run).
PROVENANCE = list(sentences.PROVENANCE)
ROWS_RESULT_FORMAT = {"result_format": "SUMMARY",
                      "partial_unexpected_count": sentences.FAILING_SHOWN,
                      "unexpected_index_column_names": PROVENANCE,
                      "return_unexpected_index_query": False}
# What a result may hold of the rows themselves: replaced by `bidui_failing_values` (masked).
RAW_RESULT_KEYS = ("partial_unexpected_list", "partial_unexpected_counts",
                   "partial_unexpected_index_list", "unexpected_list", "unexpected_index_list",
                   "unexpected_rows", "unexpected_index_query", "details")
COUNT_KEYS = ("element_count", "unexpected_count", "unexpected_percent", "missing_count")

log = logging.getLogger(__name__)


def suite_json(name: str, suites_dir: Path = SUITES_DIR) -> dict:
    return json.loads((suites_dir / f"{name}.json").read_text("utf-8"))


def suite_document(name: str, suites_dir: Path = SUITES_DIR) -> dict:
    """The suite as the night runs it: its JSON with the parameters the code defines filled in
    (the discrepancy codes' lists from the rule registry, `pipeline/validate/derived.py`)."""
    return fill(suite_json(name, suites_dir), derived_parameters(name))


@dataclass
class Failure:
    """One expectation that did not pass (counts only, never values)."""

    suite: str
    check: str
    severity: str
    expectation_type: str
    column: str | None
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: float | int | None = None
    error: str | None = None  # the exception's type when the expectation could not run


@dataclass
class SuiteOutcome:
    suite: str
    rows: int
    evaluated: int
    successful: int
    failed: list[Failure] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict:
        return {"success": self.success, "rows": self.rows, "evaluated": self.evaluated,
                "successful": self.successful, "unsuccessful": len(self.failed),
                "critical_failed": sum(f.severity == CRITICAL for f in self.failed),
                "warnings": sum(f.severity == WARNING for f in self.failed),
                "failed": [asdict(f) for f in self.failed]}


class ValidationRun:
    """The night's GX project and every suite outcome so far (input, then output suites)."""

    def __init__(self, config: dict, as_of, suites_dir: Path = SUITES_DIR,
                 workdir: Path | None = None) -> None:
        """`workdir`: where the temporary GX project goes (its validation results quote
        failing rows): the night's scratch folder, which a later night removes if this one
        is killed; default the system's temporary folder."""
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.settings = ValidationSettings.from_config(config)
        self.timezone = str(config.get("timezone") or "Asia/Shanghai")
        self.as_of = pd.Timestamp(as_of)
        self.suites_dir = suites_dir
        self.run_name = f"bidui-{self.as_of.date().isoformat()}"
        self.root = Path(tempfile.mkdtemp(prefix="bidui-gx-", dir=workdir))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.root, ignore_errors=True)
        self.context = gx.get_context(mode="file", project_root_dir=self.root)
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.context.variables.save()
        with contextlib.suppress(Exception):
            self.context.delete_data_docs_site("local_site")
        self.datasource = self.context.data_sources.add_pandas("bidui")
        self.outcomes: list[SuiteOutcome] = []
        self.skipped: dict[str, str] = {}
        self.skipped_zh: dict[str, str] = {}  # the same, as the Data Docs say it
        self.labels: dict[str, dict] = {}  # suite -> headers as written, files checked
        self.sentences: dict[tuple[str, str], str] = {}  # (suite, check) -> Chinese sentence
        # (suite, check) -> where its first failing rows are: (file name, sheet, row), no values
        self.failing_at: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
        self.docs_missing_assets: list[str] = []
        self.feeds: pd.DataFrame | None = None  # night over night, when it ran
        self.last_good_as_of: str | None = None

    def close(self) -> None:
        self._cleanup()

    # -- suites --------------------------------------------------------------------------------

    def load_suite(self, name: str, labels: dict | None = None):
        """Copy the repository's suite into the project (derived parameters filled in) and
        load it, with the configured severities and `mostly` applied and, for the Data Docs,
        `labels` (the input's headers as written and its files) in each expectation's
        `meta.labels` (saved in the temporary project only)."""
        target = self.root / "gx" / "expectations" / f"{name}.json"
        target.write_text(json.dumps(suite_document(name, self.suites_dir), ensure_ascii=False,
                                     indent=2), encoding="utf-8")
        suite = self.context.suites.get(name)
        sentences.install_renderers(e.expectation_type for e in suite.expectations)
        if labels is not None:
            self.labels[name] = labels
        labels = self.labels.get(name)
        for expectation in suite.expectations:
            check = (expectation.meta or {}).get("check", expectation.expectation_type)
            severity = self.settings.severity_of(name, check)
            expectation.severity = severity
            expectation.meta = {**(expectation.meta or {}), "severity": severity}
            if labels:
                expectation.meta["labels"] = labels
            mostly = self.settings.mostly_of(name, check)
            if mostly is not None and hasattr(expectation, "mostly"):
                expectation.mostly = mostly
        suite.save()
        return suite

    def run_suite(self, name: str, frame: pd.DataFrame,
                  labels: dict | None = None) -> SuiteOutcome:
        """Validate `frame` with the suite. A frame with the provenance columns (an input's
        validation view) gets its failing rows listed, masked; any other frame counts only."""
        suite = self.load_suite(name, labels)
        key, validation = self.run_checkpoint(name, suite, frame)
        return self.record(name, len(frame), key, validation)

    def expectation_parameters(self) -> dict:
        """The suite parameters of tonight's run (`$PARAMETER` values): the configured ones and
        `as_of` (ISO date)."""
        return {**self.settings.parameters, "as_of": self.as_of.date().isoformat()}

    def batch_definition(self, name: str):
        """The suite's whole-dataframe batch definition (asset and definition named after the
        suite, one per suite and night), created on first use."""
        try:
            asset = self.datasource.get_asset(name)
        except LookupError:
            asset = self.datasource.add_dataframe_asset(name)
        try:
            return asset.get_batch_definition(name)
        except KeyError:
            return asset.add_batch_definition_whole_dataframe(name)

    def run_checkpoint(self, name: str, suite, frame: pd.DataFrame) -> tuple:
        """Run the loaded `suite` on `frame` through a checkpoint named after it: GX stores the
        result in the night's results store. Returns (store key, ExpectationSuiteValidationResult),
        raw (failing values unmasked: `record` masks them)."""
        import great_expectations as gx

        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=self.batch_definition(name), suite=suite))
        rows = all(column in frame.columns for column in PROVENANCE)
        checkpoint = self.context.checkpoints.add(gx.Checkpoint(
            name=name, validation_definitions=[definition], actions=[],
            result_format=ROWS_RESULT_FORMAT if rows else RESULT_FORMAT))
        result = checkpoint.run(batch_parameters={"dataframe": frame},
                                expectation_parameters=self.expectation_parameters(),
                                run_id=gx.RunIdentifier(run_name=self.run_name))
        ((key, validation),) = result.run_results.items()
        return key, validation

    def record(self, name: str, rows: int, key, validation, rewrite: bool = False) -> SuiteOutcome:
        """Mask the failing values of a stored result (rewriting it in the store, or when
        `rewrite`), record the failed checks' sentences and append the suite's outcome (`rows`:
        the frame's row count)."""
        if mask_failing_values(validation) or rewrite:
            self.context.validation_results_store.set(key, validation)
        parameters = self.expectation_parameters()
        outcome = summarise(name, rows, validation)
        for item in validation.results:
            if not item.success:
                check = (item.expectation_config.meta or {}).get("check",
                                                                 item.expectation_config.type)
                self.sentences[(name, check)] = sentences.sentence_text(
                    item.expectation_config, parameters) or check
                listed = (item.result or {}).get("bidui_failing_values") or []
                self.failing_at[(name, check)] = [
                    (str(row[0]), str(row[1]), str(row[2])) for row in listed
                    if len(row) >= 3 and str(row[2])]
        self.outcomes.append(outcome)
        return outcome

    # -- results -------------------------------------------------------------------------------

    def failures(self, severity: str | None = None) -> list[Failure]:
        return [f for o in self.outcomes for f in o.failed
                if severity is None or f.severity == severity]

    def summary(self) -> dict:
        """The manifest's `validation` key: per suite, counts and failed checks only; each
        failed check with its Chinese `sentence` (what it expects, under the file's own
        headers: no values; as the Data Docs and the gate's message say it)."""
        suites = {o.suite: o.as_dict() for o in self.outcomes}
        for name, outcome in suites.items():
            for failed in outcome["failed"]:
                failed["sentence"] = self.sentences.get((name, failed["check"]))
        return {
            "success": not self.failures(CRITICAL),
            "critical_failed": len(self.failures(CRITICAL)),
            "warnings": len(self.failures(WARNING)),
            "run_name": self.run_name,
            "suites": suites,
            "skipped": dict(self.skipped),
            "night_over_night": [] if self.feeds is None else [
                {"source": r["source"], "rows_read": int(r["rows_read"]),
                 "last_good_rows_read": int(r["last_rows_read"]),
                 "stale_feed": bool(r["same_bytes_as_last_night"])}
                for r in self.feeds.to_dict("records")],
            "last_good_as_of": self.last_good_as_of,
            "docs": {"path": "validation/index.html",
                     "missing_assets": list(self.docs_missing_assets)},
        }

    # -- Data Docs -----------------------------------------------------------------------------

    def suite_statuses(self) -> dict[str, dict]:
        """Per suite run tonight: passed / warning (only warnings failed) / failed, and the
        files it checked (for the index page)."""
        statuses = {}
        for outcome in self.outcomes:
            severities = {f.severity for f in outcome.failed}
            status = "passed" if not severities else (
                "failed" if CRITICAL in severities else "warning")
            statuses[outcome.suite] = {
                "status": status, "files": list((self.labels.get(outcome.suite) or {})
                                                .get("files") or [])}
        return statuses

    def build_docs(self, site: Path) -> Path:
        """Data Docs of every suite run tonight into `site`, in Chinese, opening offline."""
        from pipeline.validate.docs_render import site_config

        site.mkdir(parents=True, exist_ok=True)
        self.context.add_data_docs_site(SITE_NAME, site_config(
            str(site), timezone=self.timezone, suites=self.suite_statuses()))
        self.context.build_data_docs(site_names=[SITE_NAME])
        self.docs_missing_assets = docs_assets.make_offline(site)
        if self.docs_missing_assets:
            log.warning("Data Docs assets missing (run `make install`): %s",
                        ", ".join(self.docs_missing_assets))
        add_summary_banner(site / "index.html", self)
        return site / "index.html"


def summarise(name: str, rows: int, validation) -> SuiteOutcome:
    failed = []
    for item in validation.results:
        if item.success:
            continue
        config = item.expectation_config
        meta = config.meta or {}
        result = item.result or {}
        observed = result.get("observed_value")
        info = item.exception_info or {}
        raised = info.get("raised_exception") if isinstance(info, dict) else False
        failed.append(Failure(
            suite=name, check=meta.get("check", config.type),
            severity=meta.get("severity", WARNING), expectation_type=config.type,
            column=config.kwargs.get("column") or ",".join(config.kwargs.get("column_list", [])
                                                           or []) or None,
            **{k: _number(result.get(k)) for k in COUNT_KEYS if k != "missing_count"},
            observed_value=_number(observed) if isinstance(observed, int | float) else None,
            error=(str(info.get("exception_message", "")).split(":", 1)[0][:80] or "error")
            if raised else None))
    stats = validation.statistics
    return SuiteOutcome(suite=name, rows=rows, evaluated=int(stats["evaluated_expectations"]),
                        successful=int(stats["successful_expectations"]), failed=failed)


def _number(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return round(float(value), 4)
    return None


def mask_failing_values(validation) -> bool:
    """Replace the failing rows GX returned in each result by their masked forms
    (`bidui_failing_values`: file name, sheet, row, value masked) and drop the raw lists.
    True if anything was replaced (the stored result is then rewritten)."""
    changed = False
    for item in validation.results:
        body = item.result
        if not isinstance(body, dict) or not any(k in body for k in RAW_RESULT_KEYS):
            continue
        body["bidui_failing_values"] = [list(row) for row in sentences.failing_rows(item)]
        for key in RAW_RESULT_KEYS:
            body.pop(key, None)
        changed = True
    return changed


def add_summary_banner(index: Path, run: ValidationRun) -> None:
    """A short bidui summary on top of GX's index, in Chinese: every failed check with its
    sentence, file and severity; checks that did not run; a stale feed."""
    import html

    if not index.exists():
        return
    rows = ""
    for f in run.failures():
        badge, level = ("danger", "严重") if f.severity == CRITICAL else ("warning", "警告")
        count = "" if f.unexpected_count is None else sentences.number_text(f.unexpected_count)
        labels = run.labels.get(f.suite) or {}
        files = "、".join(labels.get("files") or []) or labels.get("input") or f.suite
        said = run.sentences.get((f.suite, f.check), f.check)
        rows += (f"<tr><td>{html.escape(files)}</td><td>{html.escape(said)}"
                 f' <small class="text-muted">{html.escape(f.suite)} · {html.escape(f.check)}'
                 f"</small></td>"
                 f'<td><span class="badge badge-{badge}">{level}</span></td>'
                 f"<td>{count}</td></tr>")
    notes = [f"{name} 未运行：{run.skipped_zh.get(name, reason)}"
             for name, reason in run.skipped.items()]
    if run.feeds is not None:
        names = {source.value: name for source, name in SOURCE_NAMES.items()}
        stale = [names.get(str(s), str(s))
                 for s in run.feeds.loc[run.feeds["same_bytes_as_last_night"], "source"]]
        if stale:
            notes.append(f"数据未更新（stale feed，警告 feed_not_stale）：{'、'.join(stale)} "
                         f"与上一个正常夜晚（{run.last_good_as_of}）的文件逐字节相同"
                         "（sha256 相同）")
    skipped = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    critical, warnings = len(run.failures(CRITICAL)), len(run.failures(WARNING))
    if critical:
        status = ("alert-danger", f"{critical} 项严重问题，{warnings} 项警告")
    elif warnings:
        status = ("alert-warning", f"{warnings} 项警告：数据照常发布，请按各页列出的文件、工作表和"
                                   "行号核对")
    else:
        status = ("alert-success", "全部检查通过")
    table = (f'<table class="table table-sm table-bordered bidui-failures"><thead><tr>'
             f"<th>文件</th><th>检查</th><th>级别</th><th>不符合</th></tr></thead>"
             f"<tbody>{rows}</tbody></table>") if rows else ""
    banner = (f'<div class="container-fluid mt-3 bidui-summary"><div class="alert {status[0]}">'
              f"<strong>bidui 数据校验 {html.escape(run.run_name)}</strong>：{status[1]}"
              f"{table}{'<ul>' + skipped + '</ul>' if skipped else ''}</div></div>")
    text = index.read_text("utf-8")
    text = text.replace("<body>", "<body>" + banner, 1) if "<body>" in text else banner + text
    index.write_text(text, encoding="utf-8")


# -- gates ----------------------------------------------------------------------------------------

def raise_on_critical(run: ValidationRun, describe, stage: str) -> None:
    """GateError naming every failed critical check, with what to do."""
    failed = run.failures(CRITICAL)
    if not failed:
        return
    parts = "; ".join(describe(f) for f in failed)
    run.close()
    if stage == "outputs":
        raise GateError(f"the night was stopped before publishing because the outputs failed "
                        f"critical checks: {parts}.",
                        "this is a fault in bidui, not in the input files: keep the inputs, "
                        "report the failed checks with `bidui --debug run …` output to the "
                        "maintainers; nothing was published and the previous outputs are "
                        "unchanged.")
    fix = ("correct the named file upstream (or ask the data provider to re-export it) and "
           "run the night again; nothing was published and the previous outputs are unchanged.")
    if any(f.check == "row_count_not_halved" for f in failed):
        fix += (" If the smaller file is genuinely complete, lower "
                "validation.parameters.min_row_ratio in a --config file for this night.")
    raise GateError(f"the night was stopped before publishing because critical input checks "
                    f"failed: {parts}.", fix)

"""The nightly Prefect flow: `pipeline.night.run_night` with each stage as a Prefect task.

The night itself (lock, sweep, state, staging, publishing, failure handling) is plain Python
in `pipeline/night.py`; this module adds only Prefect's concerns: one task per stage, a log
line per stage through the run logger (counts only, never personal data), the artifacts of a
published night, and the flow's final state. Prefect's own "Finished in state Completed()"
line after each task is left out (`TaskCompletedLines`): the stage's line says it, with
its counts and time, and after a stage that stopped the night it would read "Completed";
the flow's "Finished in state Failed(…)" line is shortened (`FlowFailedLines`): the
paragraph is already in the stage's line and in `bidui run`'s own message.
Expected failures (bad input, a failed gate, an unsafe output folder) end the flow in a
Failed state whose message is the one-paragraph error for the operator: no traceback,
nothing published.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import Task, flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed

from pipeline import stages
from pipeline.detect.tracking import TrackedFindings
from pipeline.errors import BiduiError
from pipeline.night import NightRequest, run_night
from pipeline.normalise.field_issues import SHARED_NUMBER
from pipeline.schema import Source


@dataclass
class StageFailure:
    """A night ended on an expected error; carries the operator's message and exit code."""

    message: str
    exit_code: int


@dataclass
class _Stopped:
    """What a stage task returns instead of raising an expected error: Prefect would log the
    exception's repr and traceback (which can carry input bytes)."""

    error: BiduiError


INTERNAL_ERROR_EXIT = 70
DEBUG_ENV = "BIDUI_DEBUG"  # set by `bidui --debug`: unexpected errors keep their traceback
TASK_RUN_LOGGER = "prefect.task_runs"  # the logger of Prefect's task runs (`get_run_logger`)


class TaskCompletedLines(logging.Filter):
    """Drops Prefect's "Finished in state Completed()" record of a task run: a stage task
    ends Completed even when it stopped the night (it returns the error for the flow to
    raise: `_Stopped`), and its own line already says how it ended. Every other record (the
    stage lines, a task that failed, the flow's final state) passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == TASK_RUN_LOGGER
                    and record.getMessage().startswith("Finished in state Completed("))


FLOW_RUN_LOGGER = "prefect.flow_runs"  # the logger of Prefect's flow runs
FLOW_FAILED_LINE = ("Finished in state Failed: the night stopped and nothing was published "
                    "(the line above and bidui's own message say why)")


class FlowFailedLines(logging.Filter):
    """Shortens Prefect's "Finished in state Failed("…")" record of the flow run: its message
    is the one-paragraph error the stage's own line has just logged and `bidui run` prints
    next, so the console showed the same paragraph three times. The flow's state keeps the
    message (the Prefect UI, `state.message`); only this log line is shortened."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == FLOW_RUN_LOGGER and record.getMessage().startswith(
                "Finished in state Failed("):
            record.msg, record.args = FLOW_FAILED_LINE, ()
        return True


def quiet_task_completions() -> None:
    """Install `TaskCompletedLines` on Prefect's task-run logger and `FlowFailedLines` on its
    flow-run logger (idempotent)."""
    for name, kind in ((TASK_RUN_LOGGER, TaskCompletedLines), (FLOW_RUN_LOGGER, FlowFailedLines)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())


class InternalStageError(RuntimeError):
    """An unexpected error in a stage, reduced to its type and source line: its own text (a
    `UnicodeDecodeError` quotes the file's bytes) never reaches a log, the console or a
    Prefect state. `bidui --debug run …` keeps the original exception and its traceback."""


def where(error: BaseException) -> str:
    """`Type at file.py:line` of the innermost frame: no message, no values."""
    frames = traceback.extract_tb(error.__traceback__)
    place = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(error).__name__}{place}"


@dataclass
class _Crashed:
    """What a stage task returns for an unexpected error (outside `--debug`)."""

    stage: str
    where: str


def _stage(name: str, function: Callable[..., Any], *args: Any) -> Any:
    logger = get_run_logger()
    started = time.perf_counter()
    try:
        result = function(*args)
    except BiduiError as error:
        logger.error("stage %s stopped: %s", name, error.paragraph())
        return _Stopped(error)
    except Exception as error:
        if os.environ.get(DEBUG_ENV):
            raise
        logger.error("stage %s failed: internal error %s", name, where(error))
        return _Crashed(name, where(error))
    logger.info("stage %-9s %s (%.1f s)", name, _describe(result, name),
                time.perf_counter() - started)
    return result


_TASKS: dict[str, Task] = {}


def stage_task(name: str) -> Task:
    """The Prefect task that runs stage `name` (task runs are named after the stage)."""
    if name not in _TASKS:
        _TASKS[name] = task(_stage, name=name, cache_policy=NO_CACHE)
    return _TASKS[name]


def prefect_runner(name: str, function: Callable[..., Any], *args: Any) -> Any:
    """The stage runner of the flow: the stage as a task; an expected error is raised again
    here, in the flow, for `run_night` to discard the staging folder and stop the night."""
    result = stage_task(name)(name, function, *args)
    if isinstance(result, _Stopped):
        raise result.error
    if isinstance(result, _Crashed):
        raise InternalStageError(
            f"internal error in stage {result.stage} ({result.where}); nothing was published. "
            "Run again with `bidui --debug run …` to see the traceback, and report it.")
    return result


def _decided(pairs) -> str:
    """`N (M match, K possible)`: a links frame's rows by `decision` (what `bidui evaluate`
    scores is the matches; the possible ones are the clerical-review band)."""
    counts = pairs["decision"].value_counts() if "decision" in pairs else {}
    return (f"{len(pairs)} ({int(counts.get('match', 0))} match, "
            f"{int(counts.get('possible', 0))} possible)")


def _checked(suites: int, critical_failed: int, warnings: int) -> str:
    """A validation's counts as the validate and roster stages' log lines give them."""
    return f"{suites} suites, {critical_failed} critical failures, {warnings} warnings"


def _shared_number_rows(field_issues: Any) -> int:
    """Rows whose ID number different people carry in their file (`field_issues` reason
    `shared_id_number`: used, the number no one's evidence); 0 without field issues."""
    if field_issues is None or "reason_code" not in getattr(field_issues, "columns", ()):
        return 0
    return int((field_issues["reason_code"] == SHARED_NUMBER[0]).sum())


def _describe(result: Any, stage: str = "") -> str:
    """Row counts only: never personal data in logs. `stage`: the stage that gave `result`
    (the roster stage gives None when the night has no roster)."""
    if result is None and stage == "roster":
        return "skipped: no roster given (--members)"
    if isinstance(result, dict) and result and all(isinstance(k, Source) for k in result):
        parts = []
        for source, item in result.items():
            frame = getattr(item, "frame", None)
            quarantine = getattr(item, "quarantine", None)
            rows = getattr(item, "rows", None)  # read: on the Dask workers, not in `frame`
            if rows is None:
                rows = len(frame) if frame is not None else 0
            text = f"{source.value} {rows} rows"
            if quarantine is not None:
                shared = _shared_number_rows(getattr(item, "field_issues", None))
                text += f" ({len(quarantine)} quarantined" + (
                    f", {shared} rows with an ID number shared by different people)" if shared
                    else ")")
            parts.append(text)
        return ", ".join(parts)
    if isinstance(result, stages.RosterPass):
        join = getattr(result.join, "join", None)  # --engine dask: which join, and why
        quarantined = result.rows_quarantined
        checked = result.validation  # the validate stage's line counts the other suites
        chunks = f"{result.chunks} chunk" + ("" if result.chunks == 1 else "s")
        return (f"roster {result.rows_usable + quarantined} rows in {chunks} "
                f"({quarantined} quarantined), {result.shared_numbers} ID numbers "
                f"shared by different people, {result.could_pair.rows} could pair"
                + (f"; {join} join ({result.join.reason})" if join else "")
                + (f"; with the roster's suite: {_checked(**checked)}" if checked else ""))
    if isinstance(result, stages.Linked):  # the link stage's: its links
        result = result.links
    if isinstance(result, stages.Links):  # as links.parquet and member_links.parquet hold them
        roll = f"{_decided(result.links)} roll–civil links"
        if result.member_links is None:
            return roll
        return f"{roll}, {_decided(result.member_links)} member links"
    runner = sys.modules.get("pipeline.validate.runner")  # GX: loaded by the validate stage
    if runner is not None and isinstance(result, runner.ValidationRun):
        summary = result.summary()
        return _checked(len(summary["suites"]), summary["critical_failed"], summary["warnings"])
    if isinstance(result, TrackedFindings):
        new = int((result.findings["status"] == "new").sum())
        return (f"{len(result.findings)} findings ({new} new, {len(result.resolved)} resolved "
                f"since last night)")
    return "done"


def publish_validation_artifact(manifest: dict) -> None:
    """The validation summary as a Prefect markdown artifact (counts only, no personal data)."""
    from prefect.artifacts import create_markdown_artifact

    from pipeline.validate.stage import markdown_summary

    create_markdown_artifact(key="bidui-validation", markdown=markdown_summary(
        manifest["validation"]), description="bidui validation summary (no personal data)")


def publish_findings_artifacts(manifest: dict) -> None:
    """A markdown summary and a table of counts for the Prefect UI: counts only, no people."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    lifecycle = manifest["findings_lifecycle"]
    rows = [{"type": code, "count": count} for code, count in
            sorted(manifest["findings_by_type"].items())]
    create_table_artifact(key="bidui-findings-by-type", table=rows,
                          description="bidui findings by type (counts only)")
    lines = [f"# bidui night {manifest['as_of']}", "",
             "| source | read | linked | unlinked | quarantined |", "|---|---|---|---|---|"]
    for source, t in manifest["accounting"].items():
        lines.append(f"| {source} | {t['rows_read']} | {t['rows_linked']} | "
                     f"{t['rows_unlinked']} | {t['rows_quarantined']} |")
    lines += ["", f"Findings: {sum(manifest['findings_by_type'].values())} "
              f"(new {lifecycle['new']}, persisting {lifecycle['persisting']}, resolved since "
              f"last night {len(lifecycle['resolved_since_last_night'])}, dismissed by review "
              f"{lifecycle['suppressed_by_review']})."]
    review = manifest.get("review") or {}
    lines += ["", "| review state | findings |", "|---|---|"] + [
        f"| {label} | {lifecycle.get(key, 0)} |" for key, label in (
            ("confirmed", "confirmed"), ("pending", "pending (待核实)"),
            ("dismissed_on_review", "dismissed on review (never resolved)"))]
    lines += ["", f"Decisions imported tonight: {review.get('imported', 0)}, refused "
              f"{review.get('refused', 0)}, warnings {len(review.get('warnings') or [])}."]
    create_markdown_artifact(key="bidui-night", markdown="\n".join(lines),
                             description="bidui night summary (no personal data)")


@flow(name="bidui-nightly", log_prints=False, validate_parameters=False)
def nightly(union: list[Path], civil: list[Path], out: Path, members: list[Path] | None = None,
            as_of: dt.date | None = None, config_path: Path | None = None,
            state_dir: Path | None = None, pseudonymise: bool = False,
            key_file: Path | None = None, engine: str = "local",
            dask_address: str | None = None) -> Any:
    """Cross-check the roll against civil affairs for one night and publish into `out`.

    `engine="dask"` runs the link stage's heavy work on the Dask scheduler at `dask_address`
    (default: a local cluster of two worker processes). The night is `run_night`'s: it holds
    a lock on `out`, removes what a killed night left beside it, and advances the state only
    after publishing."""
    quiet_task_completions()
    request = NightRequest(union=list(union), civil=list(civil), out=Path(out),
                           members=list(members or []), as_of=as_of, config_path=config_path,
                           state_dir=state_dir, pseudonymise=pseudonymise, key_file=key_file,
                           engine=engine, dask_address=dask_address)
    try:
        night = run_night(request, runner=prefect_runner)
    except BiduiError as error:
        return Failed(message=error.paragraph(),
                      data=StageFailure(error.paragraph(), error.exit_code))
    except InternalStageError as error:  # our text only: type and source line
        return Failed(message=str(error), data=StageFailure(str(error), INTERNAL_ERROR_EXIT))
    publish_validation_artifact(night.manifest)
    publish_findings_artifacts(night.manifest)
    return Completed(message=f"published {len(night.manifest['outputs'])} data outputs (as "
                     "manifest.json lists them), the report and the Data Docs",
                     data=night.manifest)

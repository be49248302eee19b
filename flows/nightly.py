"""The nightly Prefect flow: one task per stage, wiring the functions of `pipeline.stages`.

Expected failures (bad input, a failed gate, an unsafe output folder) end the flow in a Failed
state whose message is the one-paragraph error for the operator: no traceback, nothing
published. Outputs are built in a staging folder and published in one rename at the end.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed

from pipeline import stages
from pipeline.config import load_config, today_in
from pipeline.detect.tracking import TrackedFindings
from pipeline.detect.tracking import save as save_history
from pipeline.errors import BiduiError
from pipeline.pseudonymise import load_key
from pipeline.report.publish import (
    check_target,
    output_lock,
    publish,
    staging_folder,
    sweep_orphans,
)
from pipeline.schema import Source
from pipeline.state import StateStore
from pipeline.validate.runner import ValidationRun


@dataclass
class StageFailure:
    """A stage ended on an expected error; carries the operator's message and exit code."""

    message: str
    exit_code: int


def _run_stage(name: str, function: Callable[..., Any], timings: dict[str, float],
               *args: Any, **kwargs: Any) -> Any:
    logger = get_run_logger()
    started = time.perf_counter()
    try:
        result = function(*args, **kwargs)
    except BiduiError as error:
        logger.error("stage %s stopped: %s", name, error.paragraph())
        return StageFailure(error.paragraph(), error.exit_code)
    timings[name] = time.perf_counter() - started
    logger.info("stage %-9s %s (%.1f s)", name, _describe(result), timings[name])
    return result


def _describe(result: Any) -> str:
    """Row counts only: never personal data in logs."""
    if isinstance(result, dict) and result and all(isinstance(k, Source) for k in result):
        parts = []
        for source, item in result.items():
            frame = getattr(item, "frame", None)
            quarantine = getattr(item, "quarantine", None)
            text = f"{source.value} {len(frame) if frame is not None else 0} rows"
            if quarantine is not None:
                text += f" ({len(quarantine)} quarantined)"
            parts.append(text)
        return ", ".join(parts)
    if isinstance(result, stages.Links):
        members = 0 if result.member_links is None else len(result.member_links)
        return f"{len(result.links)} roll–civil links, {members} member links"
    if isinstance(result, ValidationRun):
        summary = result.summary()
        return (f"{len(summary['suites'])} suites, {summary['critical_failed']} critical "
                f"failures, {summary['warnings']} warnings")
    if isinstance(result, TrackedFindings):
        new = int((result.findings["status"] == "new").sum())
        return (f"{len(result.findings)} findings ({new} new, {len(result.resolved)} resolved "
                f"since last night)")
    return "done"


@task(name="ingest", cache_policy=NO_CACHE)
def ingest_task(inputs: stages.Inputs, timings: dict) -> Any:
    return _run_stage("ingest", stages.ingest, timings, inputs)


@task(name="normalise", cache_policy=NO_CACHE)
def normalise_task(loaded: Any, as_of: dt.date, timings: dict) -> Any:
    return _run_stage("normalise", stages.normalise, timings, loaded, as_of)


def _link_on(normalised: Any, config: dict, state: StateStore | None, engine: str,
             dask_address: str | None) -> stages.Links:
    """`stages.link` here, or with a Dask executor open around it (closed when done)."""
    if engine != "dask":
        return stages.link(normalised, config, state)
    from pipeline.link.distributed import open_dask_executor

    with open_dask_executor(dask_address) as executor:
        return stages.link(normalised, config, state, executor=executor)


@task(name="link", cache_policy=NO_CACHE)
def link_task(normalised: Any, config: dict, state: StateStore | None, timings: dict,
              engine: str = "local", dask_address: str | None = None) -> Any:
    return _run_stage("link", _link_on, timings, normalised, config, state, engine,
                      dask_address)


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(loaded: Any, normalised: Any, as_of: dt.date, config: dict,
                  state_dir: Path | None, timings: dict) -> Any:
    return _run_stage("validate", stages.validate, timings, loaded, normalised, as_of, config,
                      state_dir)


def publish_validation_artifact(manifest: dict) -> None:
    """The validation summary as a Prefect markdown artifact (counts only, no personal data)."""
    from prefect.artifacts import create_markdown_artifact

    from pipeline.validate.stage import markdown_summary

    create_markdown_artifact(key="bidui-validation", markdown=markdown_summary(
        manifest["validation"]), description="bidui validation summary (no personal data)")


@task(name="detect", cache_policy=NO_CACHE)
def detect_task(normalised: Any, links: Any, as_of: dt.date, config: dict,
                state: StateStore | None, timings: dict) -> Any:
    return _run_stage("detect", stages.detect, timings, normalised, links, as_of, config,
                      state)


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
    create_markdown_artifact(key="bidui-night", markdown="\n".join(lines),
                             description="bidui night summary (no personal data)")


@task(name="report", cache_policy=NO_CACHE)
def report_task(out: Path, timings: dict, **parts: Any) -> Any:
    def build_and_publish() -> dict:  # publish() re-checks the target just before the swap
        with staging_folder(out) as staging:
            manifest = stages.report(staging, timings=timings, **parts)
            publish(staging, out)
        return manifest

    return _run_stage("report", build_and_publish, timings)


@flow(name="bidui-nightly", log_prints=False, validate_parameters=False)
def nightly(union: list[Path], civil: list[Path], out: Path, members: list[Path] | None = None,
            as_of: dt.date | None = None, config_path: Path | None = None,
            state_dir: Path | None = None, pseudonymise: bool = False,
            key_file: Path | None = None, engine: str = "local",
            dask_address: str | None = None) -> Any:
    """Cross-check the roll against civil affairs for one night and publish into `out`.

    `engine="dask"` runs the link stage's heavy work on the Dask scheduler at `dask_address`
    (default: a local cluster of two worker processes).

    The whole night holds a lock on `out` (a second run fails at once), starts by removing
    what a killed night left beside it, and advances the state only after publishing."""
    timings: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        try:
            config = load_config(config_path)
            as_of = as_of or today_in(config.get("timezone", "Asia/Shanghai"))
            check_target(out)
            if pseudonymise:
                load_key(key_file)  # refuse to start without a key
            stack.enter_context(output_lock(out))
        except BiduiError as error:
            return _failed(StageFailure(error.paragraph(), error.exit_code))
        sweep_orphans(out)
        state = StateStore(Path(state_dir)) if state_dir is not None else None
        inputs = stages.Inputs(union=list(union), civil=list(civil),
                               members=list(members or []))

        loaded = ingest_task(inputs, timings)
        if isinstance(loaded, StageFailure):
            return _failed(loaded)
        normalised = normalise_task(loaded, as_of, timings)
        if isinstance(normalised, StageFailure):
            return _failed(normalised)
        checks = validate_task(loaded, normalised, as_of, config, state_dir, timings)
        if isinstance(checks, StageFailure):
            return _failed(checks)
        links = link_task(normalised, config, state, timings, engine, dask_address)
        if isinstance(links, StageFailure):
            return _failed(links)
        tracked = detect_task(normalised, links, as_of, config, state, timings)
        if isinstance(tracked, StageFailure):
            return _failed(tracked)
        manifest = report_task(out, timings, loaded=loaded, normalised=normalised, links=links,
                               tracked=tracked, checks=checks, as_of=as_of, config=config,
                               pseudonymise=pseudonymise, key_file=key_file)
        if isinstance(manifest, StageFailure):
            return _failed(manifest)
        if state is not None:
            save_history(state, tracked)
            state.record_good_night(manifest)
    publish_validation_artifact(manifest)
    publish_findings_artifacts(manifest)
    return Completed(message=f"published {len(manifest['outputs'])} outputs", data=manifest)


def _failed(failure: StageFailure) -> Any:
    return Failed(message=failure.message, data=failure)

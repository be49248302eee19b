"""One night, in plain Python: `run_night(request)`.

Everything a night does besides the stages themselves lives here, so that any caller (the
Prefect flow, the tests, a notebook) gets the same night:

1. check the request: the engine, the configuration (loaded and validated with the linking
   specs it names), the night's date, the output folder, the pseudonymisation key;
2. hold the output lock on DIR for the whole night (a second night on DIR fails at once);
3. remove what a killed night left beside DIR (staging and set-aside folders);
4. read the state folder once (`StateStore.read()`): the stages get that snapshot;
5. run the stage functions of `pipeline.stages` in order: ingest, normalise, validate, roster
   (the membership roster streamed in chunks, `pipeline.roster`), link, detect, report (into
   a staging folder beside DIR);
6. publish the staging folder into DIR in one rename;
7. only then write the state: the findings history and the last good manifest.

An expected failure (`BiduiError`: exit 2 input, 3 gate, 4 output folder) discards the staging
folder, publishes nothing, leaves the state as it was, and is raised to the caller, who prints
its one paragraph; anything else is a bug (the command line's exit 70).

Each stage goes through a *stage runner*, `runner(name, function, *args)`, which must return
`function(*args)`; the default calls it here. The Prefect flow (`flows/nightly.py`) passes one
that runs each stage as a Prefect task. The night times each stage function itself (inside the
runner), so the timings are the same whatever runs the stages.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import load_config, today_in
from pipeline.errors import InputError
from pipeline.report.publish import (
    check_target,
    output_lock,
    publish,
    scratch_folder,
    staging_folder,
    sweep_orphans,
)
from pipeline.state import StateStore

if TYPE_CHECKING:
    pass

STAGES = ("ingest", "normalise", "validate", "roster", "link", "detect", "report")
ENGINES = ("local", "dask")

StageRunner = Callable[..., Any]
"""`runner(name, function, *args)`: run one named stage and return `function(*args)`."""


def call_stage(name: str, function: Callable[..., Any], *args: Any) -> Any:
    """The default stage runner: call the stage function in this thread."""
    return function(*args)


@dataclass(frozen=True)
class NightRequest:
    """What `bidui run` is asked to do (see its --help)."""

    union: Sequence[Path]
    civil: Sequence[Path]
    out: Path
    members: Sequence[Path] = ()
    as_of: dt.date | None = None  # default: today in the configuration's time zone
    config_path: Path | None = None
    config: dict | None = None  # an already loaded configuration instead of config_path
    state_dir: Path | None = None
    pseudonymise: bool = False
    key_file: Path | None = None
    engine: str = "local"
    dask_address: str | None = None

    def check(self) -> None:
        """The checks that need no file: InputError (exit 2) before any work."""
        if self.engine not in ENGINES:
            raise InputError(f"the engine '{self.engine}' is unknown.",
                             f"use one of: {', '.join(ENGINES)}.")
        if self.dask_address is not None and not self.dask_address.strip():
            # an unset variable in the operator's script: not "start a local cluster"
            raise InputError("--dask-address is given but empty.",
                             "give the scheduler's address (tcp://host:8786), or leave "
                             "--dask-address out to start a local cluster.")
        if self.dask_address and self.engine != "dask":
            raise InputError("--dask-address is given but the engine is local.",
                             "add --engine dask to use that cluster, or drop --dask-address.")
        if self.dask_address:  # its form only (no connection): a typo fails before Prefect
            from pipeline.link.distributed import check_address

            check_address(self.dask_address)


@dataclass
class NightResult:
    """A published night: its manifest, the folder it is in, and seconds per step.

    `timings` has one entry per stage function as it ran (the manifest's `timings_seconds`
    are the same for the first five; its `report` stops before the Data Docs are written), plus
    `publish` (the swap into DIR) and `night` (the whole call, lock to state)."""

    manifest: dict
    out: Path
    timings: dict[str, float] = field(default_factory=dict)


def run_night(request: NightRequest, runner: StageRunner = call_stage) -> NightResult:
    """Run one night and publish it into `request.out`, or raise the `BiduiError` that stopped
    it (nothing published, state unchanged)."""
    from pipeline import stages  # pandas and the stages: not for `bidui --help`

    started = time.perf_counter()
    request.check()
    config = request.config if request.config is not None else load_config(request.config_path)
    as_of = request.as_of or today_in(config.get("timezone", "Asia/Shanghai"))
    out = Path(request.out)
    check_target(out)
    if request.pseudonymise:
        from pipeline.pseudonymise import load_key

        load_key(request.key_file)  # refuse to start without a key
    timings: dict[str, float] = {}

    def stage(name: str, function: Callable[..., Any], *args: Any) -> Any:
        def timed(*given: Any) -> Any:
            begun = time.perf_counter()
            result = function(*given)
            timings[name] = time.perf_counter() - begun
            return result

        timed.__name__ = timed.__qualname__ = f"{name}_stage"
        timed.__doc__ = function.__doc__
        return runner(name, timed, *args)

    with output_lock(out):
        sweep_orphans(out)
        store = StateStore(Path(request.state_dir)) if request.state_dir is not None else None
        snapshot = store.read() if store is not None else None
        review = None
        if store is not None and snapshot is not None:
            # Analysts' files first (STATE/inbox/): checked now, recorded in the decision log
            # and moved to inbox/done/ only after the night published. A bad file never stops
            # the night: its rows are refused with reasons, the night warns.
            import dataclasses

            from pipeline.review.inbox import prepare as prepare_review

            review = prepare_review(store.root, snapshot.history, as_of)
            snapshot = dataclasses.replace(snapshot, decisions=review.decisions)
        inputs = stages.Inputs(union=list(request.union), civil=list(request.civil),
                               members=list(request.members or []))
        # Every temporary file of the night that can hold personal data (the GX project, the
        # roster's spilled chunks and hashes, a local Dask cluster's spill) is in one private
        # folder beside DIR: removed when the night ends, and by the next night's
        # `sweep_orphans` if this one is killed.
        with scratch_folder(out) as scratch:
            roster_pass = checks = None
            try:
                with _executor(request.engine, request.dask_address, scratch) as executor:
                    # on a Dask cluster the civil side is read, normalised and validated in
                    # chunks on the workers (pipeline/civil/on_dask.py)
                    loaded = stage("ingest", stages.ingest, inputs, executor,
                                   stages.civil_chunk_rows(config))
                    normalised = stage("normalise", stages.normalise, loaded, as_of)
                    checks = stage("validate", stages.validate, loaded, normalised, as_of,
                                   config, request.state_dir, bool(inputs.members), scratch)
                    loaded = stages.without_rows(loaded)  # read by normalise and validate only
                    normalised = stages.for_later_stages(normalised)  # read from here
                    roster_pass = stage("roster", stages.roster, inputs, normalised, as_of,
                                        config, checks, executor, loaded, request.state_dir,
                                        scratch)
                    links, normalised = stage("link", stages.link_and_civil_rows,
                                              normalised, config, snapshot, executor,
                                              roster_pass)
                if roster_pass is not None:
                    roster_pass.release_chunks()  # linked: not needed; its rejects are, by report
                normalised = stages.without_features(normalised)  # read by link only
                tracked = stage("detect", stages.detect, normalised, links, as_of, config,
                                snapshot)
                with staging_folder(out) as staging:
                    manifest = stage("report", _report, staging, loaded, normalised, links,
                                     tracked, checks, as_of, config, dict(timings),
                                     request.pseudonymise, request.key_file, review,
                                     roster_pass)
                    begun = time.perf_counter()
                    publish(staging, out)
                    timings["publish"] = time.perf_counter() - begun
            except BaseException:
                if checks is not None:
                    checks.close()  # the temporary GX project (report closes it when done)
                raise
            finally:
                if roster_pass is not None:
                    roster_pass.close()
        if store is not None:  # only after publishing: a failed night never advances state
            from pipeline.detect.tracking import save as save_history

            save_history(store, tracked)
            store.record_good_night(manifest)
            if review is not None:
                review.commit(store.root)
    timings["night"] = time.perf_counter() - started
    return NightResult(manifest=manifest, out=out, timings=timings)


@contextlib.contextmanager
def _executor(engine: str, dask_address: str | None, scratch: Path | None = None
              ) -> Iterator[Any]:
    """None for the local engine; for `--engine dask`, a Dask executor that connects when a
    stage first uses it (the ingest stage, which reads the civil side onto the workers; so a
    scheduler that cannot be reached fails that stage) and is closed once the link stage is
    done (a local cluster is stopped). A local cluster's
    workers spill into `scratch`."""
    if engine != "dask":
        yield None
        return
    from pipeline.link.distributed import LazyDaskExecutor

    executor = LazyDaskExecutor(dask_address, local_directory=scratch)
    try:
        yield executor
    finally:
        executor.close()


def _report(staging: Path, loaded: Any, normalised: Any, links: Any, tracked: Any, checks: Any,
            as_of: dt.date, config: dict, timings: dict[str, float], pseudonymise: bool,
            key_file: Path | None, review: Any = None, roster_pass: Any = None) -> dict:
    """`stages.report` into the staging folder (its arguments positional, for the runner)."""
    from pipeline import stages

    return stages.report(staging, loaded=loaded, normalised=normalised, links=links,
                         tracked=tracked, checks=checks, as_of=as_of, config=config,
                         timings=timings, pseudonymise=pseudonymise, key_file=key_file,
                         review=review, roster_pass=roster_pass)

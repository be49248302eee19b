"""The night's stages as plain functions: ingest → normalise → link → validate → detect → report.

`pipeline.night.run_night` runs them in order (the lock, the state, staging and publishing
around them); the Prefect flow in `flows/` only hands it a runner that makes each a task. Any
other caller (a test, a notebook) can call them the same way. Only `ingest` and `report` touch
files; `validate` reads the last good manifest from the state folder it is given.

`link` and `detect` take the state as a `StateSnapshot` (read once by the night) or, as before,
a `StateStore` they read themselves.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from pipeline.config import config_hash
from pipeline.detect import DetectContext, detect_all
from pipeline.detect.common import CIVIL_COLUMNS
from pipeline.detect.tracking import (
    TrackedFindings,
    review_labels,
    review_labels_from,
    track,
    track_frames,
)
from pipeline.ingest import Loaded, load_source
from pipeline.link.engine import PairExecutor
from pipeline.link.features import INPUTS
from pipeline.link.people import PeopleLinks, link_people
from pipeline.link.remote import RemoteChunks
from pipeline.masking import mask_ids, mask_names
from pipeline.normalise.sources import NormalisedSource, normalise_source
from pipeline.pseudonymise import link_tokens, load_key, pseudonymise_quarantine
from pipeline.report import manifest as manifest_lib
from pipeline.report import outputs, rejected
from pipeline.report.html_report import render_report
from pipeline.report.xlsx_export import write_findings_xlsx
from pipeline.roster.first_pass import RosterPass
from pipeline.schema import SOURCE_FILE, SOURCE_ROW, SOURCE_SHEET, Source
from pipeline.state import StateSnapshot, StateStore

if TYPE_CHECKING:  # Great Expectations is imported when the validate stage runs
    from pipeline.validate.runner import ValidationRun


@dataclass
class Inputs:
    union: list[Path]
    civil: list[Path]
    members: list[Path] = field(default_factory=list)


Links = PeopleLinks


def ingest(inputs: Inputs, executor: PairExecutor | None = None, chunk_rows: int | None = None
           ) -> dict[Source, Loaded]:
    """The roll and civil affairs read whole; the roster's files are only checked here (that
    they exist and are what their extension says: InputError, exit 2, before any work) and
    read by the roster stage, in chunks.

    With a Dask executor the civil-affairs files are read into chunks of `chunk_rows` rows
    on the workers instead (`civil.on_dask.read_on_dask`; config `linking.civil_chunk_rows`):
    their entry is a `CivilChunks`, which `normalise` and `validate` work on there."""
    from pipeline.ingest.readers import input_kind

    for path in [*inputs.members, *inputs.civil]:
        input_kind(Path(path))
    loaded = {Source.UNION: load_source(inputs.union, Source.UNION)}
    client = _client(executor, "ingest")
    if client is None:
        loaded[Source.CIVIL] = load_source(inputs.civil, Source.CIVIL)
    else:
        from pipeline.civil.on_dask import CHUNK_ROWS, read_on_dask

        with _cluster_failures("ingest", executor):
            loaded[Source.CIVIL] = read_on_dask(client, inputs.civil, chunk_rows or CHUNK_ROWS)
    return loaded


def _on_cluster(stage: str, loaded: dict[Source, Loaded]) -> contextlib.AbstractContextManager:
    """`distributed.cluster_failures(stage)` when a source is held on a Dask cluster."""
    if not any(getattr(item, "client", None) is not None for item in loaded.values()):
        return contextlib.nullcontext()
    from pipeline.link.distributed import cluster_failures

    return cluster_failures(stage)


def _client(executor: PairExecutor | None, stage: str) -> Any:
    """The Dask client of a Dask executor (connecting a lazy one), else None."""
    if type(executor).__module__ != "pipeline.link.distributed":
        return None
    with _cluster_failures(stage, executor):
        return getattr(executor, "client", None)


def normalise(loaded: dict[Source, Loaded], as_of: dt.date) -> dict[Source, NormalisedSource]:
    """Each source normalised (`normalise_source`); a source read in chunks on the Dask
    workers (`CivilChunks`) is normalised there and its linking features are built and kept
    there (`NormalisedSource.features`: a `RemoteFrame`), and the columns later stages read
    besides them (`CIVIL_KEPT_BESIDE_FEATURES`) stay there in their chunks
    (`NormalisedSource.frame`: a `RemoteChunks`); its quarantine and field issues come
    here."""
    out = {}
    for source, item in loaded.items():
        if hasattr(item, "normalise"):
            with _on_cluster("normalise", loaded):
                out[source] = item.normalise(as_of, CIVIL_KEPT_BESIDE_FEATURES, features=True)
        else:
            out[source] = normalise_source(item.frame, source, as_of)
    return out


def without_rows(loaded: dict[Source, Loaded]) -> dict[Source, Loaded]:
    """The sources as read, without their raw rows (an empty frame with the same columns and
    dtypes; the files, sheets and headers kept). After `validate` nothing reads the raw rows:
    the roster's night-over-night check and the report read only the files. The night drops
    them there, so their memory (about as much as the normalised frames') is free before the
    roster and the linkage run."""
    return {source: Loaded(source, item.frame.iloc[:0].copy(), item.files)
            for source, item in loaded.items()}


# The civil-affairs columns that the stages after `validate` read: the linking features'
# inputs (`link.features.INPUTS`), the columns detection carries next to a matched roll row
# (`detect.common.CIVIL_COLUMNS`, which NOT_ON_HARDSHIP_ROLL's are among), the links' keys,
# masked display and method (`link.people`: name, id_norm, id_valid) and the report's
# accounting by file and pseudonymised tokens (source_file, id_norm). Checked against a night
# on the whole frame by tests/test_later_columns.py.
CIVIL_READ_LATER = tuple(dict.fromkeys((
    "row_key", SOURCE_FILE, "case_id", "member_no", "name", "id_norm", "id_valid",
    *INPUTS, *CIVIL_COLUMNS)))


# Of those, the ones read by something other than the linking features (`INPUTS` that are
# not also the keys, the display, detection's or the report's): the civil frame the Dask
# driver keeps when the workers built the features (`normalise`). Its birth dates, sex,
# street, address, phone and employer (long text) never reach the driver: only the features
# read them, and those stay on a worker.
CIVIL_KEPT_BESIDE_FEATURES = tuple(c for c in CIVIL_READ_LATER if c not in INPUTS or c in (
    "name", "id_norm", "id_valid", *CIVIL_COLUMNS))


def for_later_stages(normalised: dict[Source, NormalisedSource]
                     ) -> dict[Source, NormalisedSource]:
    """The normalised sources with the civil-affairs frame cut to `CIVIL_READ_LATER` (its
    rows, quarantine and field issues unchanged; the roll's frame whole: it is small and the
    rules read most of it). After `validate`, nothing reads the other civil columns (the raw
    name and number, relation, benefit, the ID's flags…), so the night drops them there,
    before the roster and the linkage run: 0.27 GiB of RSS for 767,712 civil persons
    (measured alone, 2026-11-30), about 0.15 GiB off the Dask driver's peak in a night
    (docs/scale.md). Never KeyError: a listed column the frame lacks is not asked for."""
    civil = normalised.get(Source.CIVIL)
    if civil is None or isinstance(civil.frame, RemoteChunks):  # cut on the workers
        return normalised
    kept = [c for c in CIVIL_READ_LATER if c in civil.frame.columns]
    return {**normalised, Source.CIVIL: dataclasses.replace(civil, frame=civil.frame[kept])}


def linked_civil_rows(normalised: dict[Source, NormalisedSource], links: PeopleLinks,
                      executor: PairExecutor | None = None
                      ) -> dict[Source, NormalisedSource]:
    """The normalised sources with the civil side's frame, when it is held on the workers
    (`link.remote.RemoteChunks`: `--engine dask`), brought here as its linked rows only
    (`linked_row_keys`: those of a roll link or a member link), in row order, with its
    usable rows per file (`NormalisedSource.usable_per_file`, for the manifest's
    accounting); then its chunks are freed on the workers. Detection reads only linked
    civil persons (`detect.common.matched_roll`, NOT_ON_HARDSHIP_ROLL's member links) and the
    report only theirs and the counts, so the night's outputs are the local engine's.
    A frame here already is left whole. A lost worker: `ClusterError`."""
    civil = normalised.get(Source.CIVIL)
    if civil is None or not isinstance(civil.frame, RemoteChunks):
        return normalised
    held = civil.frame
    with _cluster_failures("link", executor):
        keys = pd.DataFrame({"row_key": sorted(linked_row_keys(Source.CIVIL, links))},
                            dtype=object)
        rows = held.matching(keys)
        per_file = held.value_counts(SOURCE_FILE)
    held.release()
    rows = rows.reset_index(drop=True)
    return {**normalised, Source.CIVIL: dataclasses.replace(civil, frame=rows,
                                                            usable_per_file=per_file)}


def without_features(normalised: dict[Source, NormalisedSource]
                     ) -> dict[Source, NormalisedSource]:
    """The normalised sources without the linking features the workers built
    (`NormalisedSource.features`): after `link` nothing reads them. Held on the workers
    (`RemoteFrame`), they are freed there once nothing here refers to them (a future
    dropped is released)."""
    return {source: dataclasses.replace(item, features=None) if item.features is not None
            else item for source, item in normalised.items()}


State = StateSnapshot | StateStore | None


def roster(inputs: Inputs, normalised: dict[Source, NormalisedSource], as_of: dt.date,
           config: dict, checks: ValidationRun | None = None,
           executor: PairExecutor | None = None, loaded: dict[Source, Loaded] | None = None,
           state_dir: Path | None = None, scratch: Path | None = None,
           chunk_rows: int | None = None) -> RosterPass | None:
    """`_roster`; on a Dask cluster, its failures (a worker lost) as `ClusterError`."""
    with _cluster_failures("roster", executor):
        return _roster(inputs, normalised, as_of, config, checks, executor, loaded,
                       state_dir, scratch, chunk_rows)


def _cluster_failures(stage: str, executor: PairExecutor | None
                      ) -> contextlib.AbstractContextManager:
    """`distributed.cluster_failures(stage)` for a Dask executor (not connecting a lazy one),
    else nothing."""
    if type(executor).__module__ != "pipeline.link.distributed":
        return contextlib.nullcontext()
    from pipeline.link.distributed import cluster_failures

    return cluster_failures(stage)


def _roster(inputs: Inputs, normalised: dict[Source, NormalisedSource], as_of: dt.date,
            config: dict, checks: ValidationRun | None = None,
            executor: PairExecutor | None = None, loaded: dict[Source, Loaded] | None = None,
            state_dir: Path | None = None, scratch: Path | None = None,
            chunk_rows: int | None = None) -> RosterPass | None:
    """The roster's first pass, chunk by chunk (`pipeline.roster`): read, normalise, validate
    (the roster suite per chunk, merged into `checks`), and the member linkage's first pass
    against the civil-affairs persons (on the Dask workers with a Dask executor,
    `pipeline.roster.on_dask`); then the member model's training on the sample. None
    without `--members`. GateError (nothing is published) if a critical roster
    expectation fails; InputError for an unreadable file.

    With `loaded` (the other inputs), the night-over-night suite runs here, over all inputs
    (the validate stage left it for now). `scratch`: a private folder for the spilled chunks
    and the validation hashes (the night's, beside DIR; default: $BIDUI_SPILL_DIR or the
    system's temporary folder)."""
    if not inputs.members:
        return None
    from pipeline.link.features import person_features
    from pipeline.link.spec import load_spec
    from pipeline.roster.first_pass import stream_roster
    from pipeline.roster.validation import RosterValidation

    spec = load_spec(config["linking"]["specs"]["civil_members"])
    civil = normalised[Source.CIVIL]
    civil_f = civil.features if civil.features is not None else person_features(civil.frame)
    validation = RosterValidation(checks, scratch) if checks is not None else None
    try:
        client = getattr(executor, "client", None)
        if client is not None:
            from pipeline.roster.on_dask import stream_roster_on_dask

            result = stream_roster_on_dask(client, list(inputs.members), civil_f, spec, as_of,
                                           chunk_rows=chunk_rows or roster_chunk_rows(config),
                                           validation=validation,
                                           join=config["linking"].get("dask_join", "auto"),
                                           scratch=scratch)
        else:
            result = stream_roster(list(inputs.members), civil_f, spec, as_of,
                                   chunk_rows=chunk_rows or roster_chunk_rows(config),
                                   validate=validation.add if validation else None,
                                   spill_dir=scratch)
    except BaseException:
        if validation is not None:
            validation.close()
        raise
    if validation is not None:
        try:
            if loaded is not None:
                from pipeline.validate.stage import night_over_night

                night_over_night(validation.run, {**loaded, Source.MEMBERS: result}, state_dir)
            validation.finish(result.files)
            summary = validation.run.summary()
            result.validation = {"suites": len(summary["suites"]),
                                 "critical_failed": summary["critical_failed"],
                                 "warnings": summary["warnings"]}
        except BaseException:
            result.close()
            raise
        finally:
            validation.close()
    try:  # train on the sample now: it is freed before the roll is linked
        if client is not None:  # on a worker, where the sample's records are
            from pipeline.roster.on_dask import fit_roster_on_dask

            fit_roster_on_dask(client, result)
        else:
            result.linkage.fit()
    except BaseException:
        result.close()
        raise
    return result


def civil_chunk_rows(config: dict) -> int:
    """Config `linking.civil_chunk_rows` (the civil side's chunks on a Dask cluster)."""
    from pipeline.civil.on_dask import CHUNK_ROWS

    return int((config.get("linking") or {}).get("civil_chunk_rows") or CHUNK_ROWS)


def roster_chunk_rows(config: dict) -> int:
    """Config `linking.roster_chunk_rows` (the roster's chunks, on both engines)."""
    from pipeline.roster.first_pass import CHUNK_ROWS

    return int((config.get("linking") or {}).get("roster_chunk_rows") or CHUNK_ROWS)


class Linked(NamedTuple):
    """What the night's link stage gives: the links, and the normalised sources as the
    stages after it read them (`linked_civil_rows`)."""

    links: Links
    normalised: dict[Source, NormalisedSource]


def link_and_civil_rows(normalised: dict[Source, NormalisedSource], config: dict,
                        state: State = None, executor: PairExecutor | None = None,
                        roster_pass: RosterPass | None = None) -> Linked:
    """The night's link stage: `link`, then the sources as the stages after it read them
    (`linked_civil_rows`: on a Dask cluster, the civil side's linked rows brought here)."""
    links = link(normalised, config, state, executor, roster_pass)
    return Linked(links, linked_civil_rows(normalised, links, executor))


def link(normalised: dict[Source, NormalisedSource], config: dict,
         state: State = None, executor: PairExecutor | None = None,
         roster_pass: RosterPass | None = None) -> Links:
    """`_link`; on a Dask cluster, its failures (a worker lost) as `ClusterError`."""
    with _cluster_failures("link", executor):
        return _link(normalised, config, state, executor, roster_pass)


def _link(normalised: dict[Source, NormalisedSource], config: dict,
          state: State = None, executor: PairExecutor | None = None,
          roster_pass: RosterPass | None = None) -> Links:
    """Link the three sources; analysts' decisions on possible matches act as labels.

    `executor` runs features and candidate levels elsewhere (a Dask cluster); default here.
    `roster_pass`: the roster after its first pass (`roster`), linked here in its second."""
    links = link_people(normalised[Source.UNION].frame, normalised[Source.CIVIL].frame,
                        None, config["linking"]["specs"], labels=_review_labels(state),
                        executor=executor, civil_features=normalised[Source.CIVIL].features
                        if roster_pass is None else roster_pass.linkage.left)
    client = _client(executor, "link")
    if client is not None:
        links.engine = "dask"
    if roster_pass is not None:
        from pipeline.roster.second_pass import link_roster

        civil = normalised[Source.CIVIL].frame
        if client is not None:
            from pipeline.roster.partitioned_on_dask import link_roster_dask

            member_links, model, stats, join = link_roster_dask(client, civil, roster_pass)
            links.roster_join = join.as_dict()
        else:
            member_links, model, stats = link_roster(civil, roster_pass)
        links.member_links = member_links
        links.models["civil_members"], links.blocking["civil_members"] = model, stats
    return links


def validate(loaded: dict[Source, Loaded], normalised: dict[Source, NormalisedSource],
             as_of: dt.date, config: dict, state_dir: Path | None = None,
             roster_given: bool = False, scratch: Path | None = None) -> ValidationRun:
    """Run the input suites (and, with a last good night in state_dir, the night-over-night
    suite: after the roster stage when a roster is given, so that it compares the roster
    too); raise GateError (nothing is published) if a critical expectation fails.
    `scratch`: the night's private folder, where the temporary GX project goes."""
    from pipeline.validate.stage import validate_inputs

    with _on_cluster("validate", loaded):
        return validate_inputs(loaded, normalised, as_of, config, state_dir,
                               streamed_later=roster_given, workdir=scratch)


def detect(normalised: dict[Source, NormalisedSource], links: Links, as_of: dt.date,
           config: dict, state: State = None) -> TrackedFindings:
    """Every rule's findings, then their lifecycle against the state (if any). The roster's
    rows are not held (it is streamed): rules see its links (`links.member_links`)."""
    members = None if links.member_links is None else links.member_links[
        ["member_row_key", "member_id"]].drop_duplicates().rename(
            columns={"member_row_key": "row_key"})
    ctx = DetectContext(
        union=normalised[Source.UNION].frame, civil=normalised[Source.CIVIL].frame,
        members=members, links=links.links,
        member_links=links.member_links, roll_duplicates=links.roll_duplicates, as_of=as_of,
        config=config)
    from pipeline.review.apply import with_reviewed_pairs

    # A possible match an analyst decided is no longer found by its rule: its finding is
    # re-created (same id, same evidence) so the decision stays visible.
    return _track(with_reviewed_pairs(detect_all(ctx), ctx, links.evidence), state, as_of)


def _review_labels(state: State) -> pd.DataFrame:
    """Analysts' decisions on possible matches as linker labels: from the snapshot the night
    read, or (a `StateStore`) from the folder now."""
    if isinstance(state, StateSnapshot):
        return review_labels_from(state.decisions, state.history)
    return review_labels(state)


def _track(findings: pd.DataFrame, state: State, as_of: dt.date) -> TrackedFindings:
    """Tonight's findings through the decisions and the history: from the snapshot the night
    read, or (a `StateStore`) from the folder now."""
    if isinstance(state, StateSnapshot):
        return track_frames(findings, state.decisions, state.history, as_of)
    return track(findings, state, as_of)


def _people_masked(union: pd.DataFrame) -> pd.DataFrame:
    """Roll id → masked name and ID, for the people-facing report, and `location`: where the
    roll id's rows are (`roll_locations`), for the review workbook."""
    people = pd.DataFrame({"union_roll_id": union["roll_id"].astype("string"),
                           "name_masked": mask_names(union["name"]),
                           "id_masked": mask_ids(union["id_norm"])})
    people["location"] = people["union_roll_id"].map(roll_locations(union))
    return people


def roll_locations(union: pd.DataFrame) -> dict[str, str]:
    """Roll id → where its rows are in the files as filed: `文件名 › 工作表 › 第 N 行` (no sheet
    for a CSV or Parquet file; several rows, as a worker filed twice, joined by `；`), so an
    analyst finds the entry in a roll split over sheets. Names, not paths; no cell value."""
    if union.empty:
        return {}
    sheets = union[SOURCE_SHEET].astype("string") if SOURCE_SHEET in union.columns \
        else pd.Series(pd.NA, index=union.index, dtype="string")
    files = union[SOURCE_FILE].astype(str).map(lambda path: Path(path).name)
    text = files + sheets.map(lambda s: "" if pd.isna(s) else f" › {s}").astype(str) \
        + " › 第 " + union[SOURCE_ROW].astype(str) + " 行"
    grouped = pd.DataFrame({"roll_id": union["roll_id"].astype(str), "text": text})
    return grouped.groupby("roll_id", sort=False)["text"].agg("；".join).to_dict()


def _civil_people_masked(findings: pd.DataFrame, civil: pd.DataFrame) -> pd.DataFrame:
    """(case id, member no) → masked name and ID of the civil persons named by findings
    without a roll entry (NOT_ON_HARDSHIP_ROLL), for the review workbook."""
    wanted = findings.loc[findings["union_roll_id"].isna() & findings["civil_case_id"].notna(),
                          ["civil_case_id", "civil_member_no"]].astype(str).drop_duplicates()
    keys = pd.DataFrame({"civil_case_id": civil["case_id"].astype(str).to_numpy(),
                         "civil_member_no": civil["member_no"].astype(str).to_numpy(),
                         "position": range(len(civil))})
    hit = wanted.merge(keys, on=["civil_case_id", "civil_member_no"])
    rows = civil.iloc[hit["position"].to_numpy()]
    return pd.DataFrame({"civil_case_id": hit["civil_case_id"].to_numpy(),
                         "civil_member_no": hit["civil_member_no"].to_numpy(),
                         "name_masked": mask_names(rows["name"]).to_numpy(),
                         "id_masked": mask_ids(rows["id_norm"]).to_numpy()})


def linked_row_keys(source: Source, links: Links) -> set[str]:
    """Rows of a source that take part in at least one link (for the manifest's accounting)."""
    if source is Source.UNION:
        return set(links.links["union_row_key"])
    member_links = links.member_links
    if source is Source.CIVIL:
        keys = set(links.links["civil_row_key"])
        if member_links is not None:
            keys |= set(member_links["civil_row_key"])
        return keys
    return set(member_links["member_row_key"]) if member_links is not None else set()


def _links_output(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.drop(columns=["union_row_key", "civil_row_key"])
    return frame.sort_values(["union_roll_id", "civil_case_id", "civil_member_no"],
                             kind="mergesort").reset_index(drop=True)


def _member_links_output(links: Links) -> pd.DataFrame | None:
    if links.member_links is None:
        return None
    frame = links.member_links.drop(columns=["civil_row_key", "member_row_key"])
    return frame.sort_values(["civil_case_id", "civil_member_no", "member_id"],
                             kind="mergesort").reset_index(drop=True)


def report(folder: Path, *, loaded: dict[Source, Loaded],
           normalised: dict[Source, NormalisedSource], links: Links,
           tracked: TrackedFindings, checks: ValidationRun, as_of: dt.date, config: dict,
           timings: dict[str, float], pseudonymise: bool = False,
           key_file: Path | None = None, review: Any = None,
           roster_pass: RosterPass | None = None) -> dict:
    """Write every output file into folder (the staging folder) and return the manifest.

    `review`: the analysts' decisions imported tonight (`pipeline.review.inbox.ImportPlan`),
    or None without a state folder. The output suites run on the frames written here; a
    critical failure raises GateError and the staging folder is discarded (nothing
    published)."""
    from pipeline.detect.tracking import review_counts
    from pipeline.review import inbox as review_inbox
    from pipeline.review.workbook import write_review_workbook
    from pipeline.validate.stage import validate_outputs

    started = time.perf_counter()
    findings = tracked.findings
    if roster_pass is not None:  # its files; its rejected rows are streamed below
        loaded = {**loaded, Source.MEMBERS: Loaded(Source.MEMBERS, pd.DataFrame(),
                                                   roster_pass.files)}
    links_with_keys = links.links
    shown = None
    if pseudonymise:  # the key is loaded here, never passed around as a parameter
        key = load_key(key_file)
        links_with_keys = link_tokens(links.links, normalised[Source.UNION].frame,
                                      normalised[Source.CIVIL].frame, key)
        shown = functools.partial(pseudonymise_quarantine, key=key)
    rejects = roster_pass.rejects if roster_pass is not None else None  # streamed from disk
    quarantine = rejected.quarantine_frames(normalised, rejects and rejects.quarantine, shown)
    field_issues = rejected.field_issue_frames(loaded, normalised,
                                               rejects and rejects.field_issues)
    links_frame = _links_output(links_with_keys)
    people = _people_masked(normalised[Source.UNION].frame)  # the workbook's and the page's
    written = {
        "links.parquet": outputs.write_parquet(links_frame, folder / "links.parquet"),
        "link_evidence.parquet": outputs.write_parquet(_links_output(links.evidence),
                                                       folder / "link_evidence.parquet"),
        "discrepancies.parquet": outputs.write_findings_parquet(
            findings, folder / "discrepancies.parquet"),
        "quarantine.parquet": outputs.write_parquet_stream(quarantine,
                                                           folder / "quarantine.parquet"),
        "field_issues.parquet": outputs.write_parquet_stream(field_issues,
                                                             folder / "field_issues.parquet"),
        "review.xlsx": write_review_workbook(
            findings, folder / "review.xlsx",
            people=people,
            decisions=review.decisions if review is not None else None,
            civil_people=_civil_people_masked(findings, normalised[Source.CIVIL].frame)),
        "review_import.parquet": review_inbox.write_review_import(
            review, folder / "review_import.parquet"),
    }
    member_links = _member_links_output(links)
    if member_links is not None:
        written["member_links.parquet"] = outputs.write_parquet(
            member_links, folder / "member_links.parquet")
    if (config.get("report") or {}).get("xlsx_export"):
        written["discrepancies.xlsx"] = write_findings_xlsx(findings,
                                                            folder / "discrepancies.xlsx")
    inputs = []
    for source, item in loaded.items():
        if source is Source.MEMBERS and roster_pass is not None:
            inputs.extend(manifest_lib.account_counts(
                item.files, roster_pass.usable_per_file, roster_pass.linked_per_file,
                dict(roster_pass.rejects.quarantine.per_file)))
            continue
        inputs.extend(manifest_lib.account_rows(
            item.files, normalised[source].frame, normalised[source].quarantine,
            linked_row_keys(source, links), normalised[source].usable_per_file))
    decisions = links.links.groupby(["method", "decision"]).size()
    linking = {
        "union_civil": {f"{m}/{d}": int(n) for (m, d), n in decisions.items()},
        "member_links": 0 if links.member_links is None else len(links.member_links),
        "roll_duplicate_rows": len(links.roll_duplicates),
        "blocking": links.blocking,
    }
    # Which engine ran, and the chunks the inputs read in chunks were cut into (the civil
    # side's only on Dask), so an analyst can tell the nights apart by their manifests.
    linking["engine"] = links.engine
    linking["chunk_rows"] = {**({"members": roster_chunk_rows(config)} if roster_pass else {}),
                             **({"civil": civil_chunk_rows(config)}
                                if links.engine == "dask" else {})}
    if links.roster_join is not None:  # --engine dask: how the roster joined the civil side
        linking["roster_join"] = links.roster_join
    outputs.write_json({"models": links.models, "specs": config["linking"]["specs"]},
                       folder / "link_model.json")
    findings_by_type = {str(k): int(v) for k, v in findings.groupby("type").size().items()}
    timings = {**timings, "report": time.perf_counter() - started}
    manifest = manifest_lib.build_manifest(
        as_of=as_of, inputs=inputs, outputs=written, timings=timings,
        config_hash=config_hash(config), linking=linking, findings=findings_by_type)
    manifest["findings_lifecycle"] = {
        "new": int((findings["status"] == "new").sum()),
        "persisting": int((findings["status"] == "persisting").sum()),
        "resolved_since_last_night": sorted(tracked.resolved["discrepancy_id"].astype(str)),
        "suppressed_by_review": tracked.suppressed,
    }
    manifest["findings_lifecycle"].update(review_counts(tracked))
    manifest["review"] = review.manifest() if review is not None else review_inbox.no_import()
    validate_outputs(checks, links_frame, findings, manifest)
    # The Data Docs and the validation summary first: the report shows them.
    outputs.write_validation_docs(checks, folder / "validation")
    manifest["validation"] = checks.summary()
    (folder / "report.html").write_text(render_report(
        manifest, findings, people, tracked.resolved,
        dismissed=getattr(tracked, "dismissed", None)), encoding="utf-8")
    outputs.write_json(manifest, folder / "manifest.json")
    checks.close()
    return manifest

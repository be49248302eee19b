"""The roster's first pass: chunk by chunk, read, normalise, validate, observe, spill.

`stream_roster` returns a `RosterPass`: the records that could pair (spilled to a private
folder here, or held on the Dask workers, `on_dask.py`), the streamed linkage after its first
pass (`pipeline.link.streamed.StreamedLinkage`), and what the report needs of the roster
without its rows (files read, usable rows per file, and its quarantined rows and field
issues, written to disk as they come: `rejects.RosterRejects`).

The work on one chunk is one pure function, `first_pass_chunk`, so the local loop here and a
Dask worker run the same code on the same chunks and give the same night."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from pipeline.ingest.load import FileInfo
from pipeline.ingest.stream import raw_chunks_with_offsets
from pipeline.link.features import person_features
from pipeline.link.spec import ModelSpec
from pipeline.link.streamed import POSITION, ChunkObservation, LeftIndex, StreamedLinkage
from pipeline.normalise.shared_numbers import SharedNumbers
from pipeline.normalise.sources import finish_source, normalise_source, prepare_source
from pipeline.roster.rejects import RosterRejects
from pipeline.roster.shared_numbers import find_shared
from pipeline.roster.spill import Spill
from pipeline.schema import SOURCE_FILE, Source
from pipeline.validate.chunk_check import CheckedChunk, ChunkChecks

CHUNK_ROWS = 200_000  # roster rows per chunk (about 0.5 GB at the peak of normalising one)
CARRIED = ("row_key", "member_id", SOURCE_FILE)  # kept beside the features, for the outputs


class CouldPair(Protocol):
    """Where the records that could pair are kept between the passes: an iterable of feature
    chunks (in order) with `rows` and `close()` (`Spill`, or futures on Dask workers)."""

    rows: int

    def __iter__(self) -> Iterator[pd.DataFrame]: ...

    def close(self) -> None: ...


@dataclass
class RosterPass:
    """The roster after its first pass."""

    linkage: StreamedLinkage
    could_pair: CouldPair
    files: list[FileInfo]
    usable_per_file: dict[str, int]
    rejects: RosterRejects  # its quarantined rows and field issues, on disk
    chunks: int = 0
    rows_usable: int = 0
    linked_per_file: dict[str, int] = field(default_factory=dict)  # set by the second pass
    seconds: dict[str, float] = field(default_factory=dict)
    join: Any = None  # on Dask: how both passes join the civil side (`roster.join.JoinChoice`)
    # the night's checks once the roster's suite is merged (for the stage's log line):
    # suites, critical_failed, warnings (counts); None when not validating
    validation: dict[str, int] | None = None
    shared_numbers: int = 0  # numbers shared by different people over the whole roster

    @property
    def rows_quarantined(self) -> int:
        return self.rejects.quarantine.rows

    def release_chunks(self) -> None:
        """Once linked, free what only linking reads: the records that could pair and the
        linkage's civil side (`StreamedLinkage.release`). The files, the counts and the
        rejects stay for the report."""
        self.could_pair.close()
        self.linkage.release()

    def close(self) -> None:
        self.could_pair.close()
        self.rejects.close()


@dataclass
class FirstPassContext:
    """What every chunk's first pass needs (shipped once to each Dask worker). `index` None:
    the civil side's keys are in parts on the workers (the partitioned join,
    `on_dask.stream_roster_on_dask`), which count the chunk's keys and say which of its
    members could pair; the chunk keeps all its members until then."""

    index: LeftIndex | None
    spec: ModelSpec
    columns: list[str]  # the feature columns the linkage reads
    sample_size: int
    as_of: dt.date
    validating: bool
    tf_columns: list[str] = field(default_factory=list)  # the term-frequency columns
    # the numbers shared by different people over the whole roster (`shared_numbers`);
    # None: decided within each chunk (`normalise_source`)
    shared: SharedNumbers | None = None


@dataclass
class ChunkPart:
    """One chunk after its first pass: small parts for the driver, and the records that
    could pair (features, `CARRIED` and `POSITION`) for the second pass."""

    rows: int
    view: pd.DataFrame | None  # the roster suite's validation view (None: not validating)
    quarantine: pd.DataFrame
    field_issues: pd.DataFrame | None
    usable_per_file: dict[str, int]
    observation: ChunkObservation
    could_pair: pd.DataFrame
    seconds: dict[str, float]
    checked: CheckedChunk | None = None  # the view checked where the chunk is (then no view)

    def small(self) -> ChunkPart:
        """The same without the records that could pair (what travels to the driver)."""
        return ChunkPart(self.rows, self.view, self.quarantine, self.field_issues,
                         self.usable_per_file, self.observation, self.could_pair.iloc[:0],
                         self.seconds, self.checked)


def first_pass_chunk(raw: pd.DataFrame, first_row: int, context: FirstPassContext,
                     sample_bound: int | None = None) -> ChunkPart:
    """Normalise one raw chunk (`first_row`: its first row's ordinal over the roster, for
    unique row keys), its validation view, features, and the linkage's observation
    (`sample_bound`: `StreamedLinkage.sample_bound()` when the chunk was sent); a pure
    function of its arguments. `POSITION` is the row's ordinal over the roster (int64; file
    order, quarantined rows included)."""
    seconds: dict[str, float] = {}
    begun = time.perf_counter()
    raw = raw.reset_index(drop=True)
    if context.shared is None:
        normalised = normalise_source(raw, Source.MEMBERS, context.as_of, first_row=first_row)
    else:
        prepared = prepare_source(raw, Source.MEMBERS, context.as_of, first_row=first_row)
        normalised = finish_source(prepared, context.shared.rows(prepared.frame))
    seconds["normalise"] = time.perf_counter() - begun
    view = None
    if context.validating:
        from pipeline.validate.stage import input_view

        begun = time.perf_counter()
        view = input_view(raw, normalised.frame, Source.MEMBERS)
        seconds["validation_view"] = time.perf_counter() - begun
    frame = normalised.frame
    begun = time.perf_counter()
    features = person_features(frame)[context.columns]
    for column in CARRIED:
        features[column] = frame[column].astype("string").fillna("").astype(object).to_numpy()
    features[POSITION] = frame["row_key"].astype(str).str.slice(1).astype(np.int64).to_numpy()
    seconds["features"] = time.perf_counter() - begun
    begun = time.perf_counter()
    linker = _linker(context.spec)
    from pipeline.link.streamed import observe_chunk

    observation = observe_chunk(context.index, linker, features, context.sample_size,
                                sample_bound, context.tf_columns)
    could = features[observation.could_pair].reset_index(drop=True)
    seconds["observe"] = time.perf_counter() - begun
    usable = {str(k): int(v) for k, v in frame[SOURCE_FILE].astype(str).value_counts().items()}
    issues = normalised.field_issues
    return ChunkPart(len(raw), view, normalised.quarantine,
                     issues if issues is not None and len(issues) else None, usable,
                     observation, could, seconds)


_LINKERS: dict[str, object] = {}


def _linker(spec: ModelSpec):
    """The spec's linker, built once per process (a Dask worker runs many chunks)."""
    from pipeline.link.engine import Linker

    key = spec.model_dump_json()
    if key not in _LINKERS:
        _LINKERS.clear()
        _LINKERS[key] = Linker(spec, threads=1)
    return _LINKERS[key]


class ChunkValidation(Protocol):
    """The roster suite run chunk by chunk (`roster.validation.RosterValidation`): `add` a
    chunk's view here, or `add_checked` a chunk checked elsewhere with `checks`."""

    checks: ChunkChecks

    def add(self, view: pd.DataFrame) -> None: ...

    def add_checked(self, checked: CheckedChunk) -> None: ...


class Collected:
    """The driver's side of the first pass: chunk parts added in order. `validate(view)`
    gets each chunk's view; `add_checked(checked)` each chunk checked where it is."""

    def __init__(self, linkage: StreamedLinkage,
                 validate: Callable[[pd.DataFrame], None] | None,
                 add_checked: Callable[[CheckedChunk], None] | None = None,
                 scratch: Path | None = None) -> None:
        self.linkage = linkage
        self.validate = validate
        self.add_checked = add_checked
        self.usable: dict[str, int] = {}
        self.rejects = RosterRejects(scratch)  # `scratch`: where its private folder goes
        self.rows_usable = self.chunks = 0
        self.seconds: dict[str, float] = {}

    def add(self, part: ChunkPart) -> None:
        begun = time.perf_counter()
        if self.add_checked is not None and part.checked is not None:
            self.add_checked(part.checked)
            part.seconds["validate_merge"] = time.perf_counter() - begun
        elif self.validate is not None and part.view is not None:
            self.validate(part.view)
            part.seconds["validate"] = time.perf_counter() - begun
        self.linkage.merge(part.observation)
        self.rejects.add(part.quarantine, part.field_issues)
        for path, count in part.usable_per_file.items():
            self.usable[path] = self.usable.get(path, 0) + count
        self.rows_usable += part.rows - len(part.quarantine)
        self.chunks += 1
        for name, value in part.seconds.items():
            self.seconds[name] = self.seconds.get(name, 0.0) + value

    def result(self, could_pair: CouldPair, files: list[FileInfo]) -> RosterPass:
        return RosterPass(self.linkage, could_pair, files, self.usable, self.rejects,
                          chunks=self.chunks, rows_usable=self.rows_usable,
                          seconds=self.seconds)

    def close(self) -> None:
        """Remove the rejects' folder (the pass failed before `result`)."""
        self.rejects.close()


ChunkSource = tuple[Iterable[pd.DataFrame], Callable[[], list[FileInfo]]]


def roster_chunks(paths: list[Path], chunk_rows: int) -> ChunkSource:
    """The roster's raw chunks (`pipeline.ingest.stream`: `load_source`'s frame, cut in
    order) and, once they are all read, its files' `FileInfo`s. InputError (exit 2) for a
    file that cannot be read, before the first chunk where it can be known then."""
    from pipeline.ingest.stream import iter_source_chunks

    stream = iter_source_chunks(list(paths), Source.MEMBERS, chunk_rows)
    return stream, lambda: list(stream.files)


def feature_columns(linkage: StreamedLinkage) -> list[str]:
    """The feature columns the streamed linkage reads: comparisons, deterministic rules,
    blocking rules, EM sessions' rules, term frequencies."""
    spec = linkage.spec
    wanted = set(linkage.linker.inputs(linkage.left.iloc[:0]))
    for rule in spec.blocking:
        wanted |= set(rule.columns)
    for session in spec.training.em_sessions:
        wanted |= set(session.block.columns)
    wanted |= {c for c in linkage.index.tf_columns if c}
    return sorted(wanted)


def context_for(linkage: StreamedLinkage, as_of: dt.date, validating: bool,
                partitioned: bool = False, shared: SharedNumbers | None = None
                ) -> FirstPassContext:
    """The chunks' context; `partitioned`: without the civil side's index (its keys are in
    parts on the workers); `shared`: the roster's shared numbers (`shared_numbers`). When
    the civil side is held on a worker (`linkage.index` is its `LeftCounts`), without its
    index too: `on_dask` adds it there (`with_index`)."""
    index = linkage.index if isinstance(linkage.index, LeftIndex) else None
    return FirstPassContext(None if partitioned else index, linkage.spec,
                            feature_columns(linkage), linkage.sample_size, as_of, validating,
                            list(linkage.index.tf_sizes), shared)


def with_index(context: FirstPassContext, index: LeftIndex) -> FirstPassContext:
    """`context` with the civil side's index (a pure function: a Dask task adds it where the
    index is)."""
    return dataclasses.replace(context, index=index)


def roster_reads(paths: list[Path], chunk_rows: int, chunks: ChunkSource | None
                 ) -> Callable[[], ChunkSource]:
    """A fresh read of the roster's raw chunks at each call (`roster_chunks`): the roster is
    read twice, once for its shared numbers and once for the first pass. `chunks` given
    (tests): given back at each call, so it must not be a one-shot iterator (TypeError)."""
    if chunks is None:
        return lambda: roster_chunks(paths, chunk_rows)
    if iter(chunks[0]) is chunks[0]:
        raise TypeError("chunks: the roster is read twice; give a list, not an iterator")
    return lambda: chunks


def stream_roster(paths: list[Path], civil_features: pd.DataFrame, spec: ModelSpec,
                  as_of: dt.date, *, chunk_rows: int = CHUNK_ROWS,
                  validate: Callable[[pd.DataFrame], None] | None = None,
                  chunks: ChunkSource | None = None, spill_dir: Path | None = None
                  ) -> RosterPass:
    """Read the roster in chunks of `chunk_rows` rows and run the first pass on each, here.

    `civil_features`: the left side (`person_features` of the normalised civil frame);
    `validate(view)`: called per chunk with its validation view (the roster suite's chunked
    run); `chunks`: the raw chunks and their files (default: `roster_chunks`; read twice,
    the first time for the numbers shared by different people over the whole roster,
    `shared_numbers.find_shared`). Raises `InputError` (exit 2) for a roster file that
    cannot be read, as `load_source`."""
    read = roster_reads(paths, chunk_rows, chunks)
    begun = time.perf_counter()
    shared = find_shared(read()[0], as_of, spill_dir)
    shared_seconds = time.perf_counter() - begun
    linkage = StreamedLinkage(spec, civil_features)
    context = context_for(linkage, as_of, validate is not None, shared=shared)
    collected = Collected(linkage, validate, scratch=spill_dir)
    collected.seconds["shared_numbers"] = shared_seconds
    spill = Spill(spill_dir)
    raw_chunks, files_of = read()
    try:
        for raw, first_row in raw_chunks_with_offsets(raw_chunks):
            part = first_pass_chunk(raw, first_row, context, linkage.sample_bound())
            del raw
            begun = time.perf_counter()
            spill.write(part.could_pair)
            part.seconds["spill"] = time.perf_counter() - begun
            collected.add(part.small())
        result = collected.result(spill, files_of())
        result.shared_numbers = len(shared)
        return result
    except BaseException:
        spill.close()
        collected.close()
        raise


"""The roster's first pass: chunk by chunk, read, normalise, validate, observe, spill.

`stream_roster` returns a `RosterPass`: the spilled records that could pair, the streamed
linkage after its first pass (`pipeline.link.streamed.StreamedLinkage`), and what the report
needs of the roster without its rows (files read, usable rows per file, quarantined rows,
field issues)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.ingest.load import FileInfo
from pipeline.link.features import person_features
from pipeline.link.spec import ModelSpec
from pipeline.link.streamed import POSITION, StreamedLinkage
from pipeline.normalise.sources import NormalisedSource, normalise_source
from pipeline.roster.spill import Spill
from pipeline.schema import SOURCE_FILE, Source

CHUNK_ROWS = 200_000  # roster rows per chunk (about 0.4 GB at the peak of normalising one)
CARRIED = ("row_key", "member_id", SOURCE_FILE)  # kept beside the features, for the outputs


@dataclass
class RosterPass:
    """The roster after its first pass."""

    linkage: StreamedLinkage
    spill: Spill
    files: list[FileInfo]
    usable_per_file: dict[str, int]
    quarantine: pd.DataFrame
    field_issues: pd.DataFrame | None
    chunks: int = 0
    rows_usable: int = 0
    linked_per_file: dict[str, int] = field(default_factory=dict)  # set by the second pass
    seconds: dict[str, float] = field(default_factory=dict)

    def as_normalised(self) -> NormalisedSource:
        """The roster as the report sees a source: no usable rows (they were never held),
        its quarantined rows and field issues."""
        return NormalisedSource(Source.MEMBERS, pd.DataFrame(columns=["row_key", SOURCE_FILE]),
                                self.quarantine, self.field_issues)

    def close(self) -> None:
        self.spill.close()


ChunkSource = tuple[Iterable[pd.DataFrame], Callable[[], list[FileInfo]]]


def roster_chunks(paths: list[Path], chunk_rows: int) -> ChunkSource:
    """The roster's raw chunks (as `load_source` frames, cut in order) and, once they are all
    read, its files' `FileInfo`s."""
    from pipeline.ingest.stream import iter_source_chunks

    stream = iter_source_chunks(list(paths), Source.MEMBERS, chunk_rows)
    return stream, lambda: list(stream.files)


def feature_columns(linkage: StreamedLinkage) -> list[str]:
    """The feature columns the streamed linkage reads: comparisons, deterministic rules,
    blocking rules, EM sessions' rules, term frequencies."""
    spec = linkage.spec
    wanted = set(linkage.linker.inputs(linkage.left))
    for rule in spec.blocking:
        wanted |= set(rule.columns)
    for session in spec.training.em_sessions:
        wanted |= set(session.block.columns)
    wanted |= {c for c in linkage.index.tf_columns if c}
    return sorted(wanted)


def stream_roster(paths: list[Path], civil_features: pd.DataFrame, spec: ModelSpec,
                  as_of: dt.date, *, chunk_rows: int = CHUNK_ROWS,
                  validate: Callable[[pd.DataFrame, pd.DataFrame], None] | None = None,
                  chunks: ChunkSource | None = None, spill_dir: Path | None = None
                  ) -> RosterPass:
    """Read the roster in chunks of `chunk_rows` rows and run the first pass on each.

    `civil_features`: the left side (`person_features` of the normalised civil frame);
    `validate(raw, typed)`: called per chunk with the raw and normalised frames (the roster
    suite's chunked run); `chunks`: the raw chunks and their files (default: `roster_chunks`).
    Raises `InputError` (exit 2) for a roster file that cannot be read, as `load_source`."""
    import time

    linkage = StreamedLinkage(spec, civil_features)
    columns = feature_columns(linkage)
    spill = Spill(spill_dir)
    raw_chunks, files_of = chunks or roster_chunks(paths, chunk_rows)
    usable: dict[str, int] = {}
    quarantine, issues = [], []
    raw_rows = usable_rows = n_chunks = 0
    seconds = {"normalise": 0.0, "validate": 0.0, "features": 0.0, "observe": 0.0}
    try:
        for raw in _nonempty(raw_chunks):
            begun = time.perf_counter()
            normalised = normalise_source(raw, Source.MEMBERS, as_of, first_row=raw_rows)
            seconds["normalise"] += time.perf_counter() - begun
            raw_rows += len(raw)
            if validate is not None:
                begun = time.perf_counter()
                validate(raw, normalised.frame)
                seconds["validate"] += time.perf_counter() - begun
            del raw
            frame = normalised.frame
            quarantine.append(normalised.quarantine)
            if normalised.field_issues is not None and len(normalised.field_issues):
                issues.append(normalised.field_issues)
            for path, count in frame[SOURCE_FILE].astype(str).value_counts().items():
                usable[path] = usable.get(path, 0) + int(count)
            begun = time.perf_counter()
            features = person_features(frame)[columns]
            for column in CARRIED:
                features[column] = frame[column].astype("string").fillna("").astype(
                    object).to_numpy()
            features[POSITION] = np.arange(usable_rows, usable_rows + len(frame),
                                           dtype=np.int64)
            seconds["features"] += time.perf_counter() - begun
            usable_rows += len(frame)
            begun = time.perf_counter()
            could = linkage.observe(features)
            spill.write(features[could])
            seconds["observe"] += time.perf_counter() - begun
            n_chunks += 1
    except BaseException:
        spill.close()
        raise
    quarantine_frame = pd.concat(quarantine, ignore_index=True) if quarantine else \
        no_quarantine()
    issues_frame = pd.concat(issues, ignore_index=True) if issues else None
    return RosterPass(linkage, spill, files_of(), usable, quarantine_frame, issues_frame,
                      n_chunks, usable_rows, seconds)


def no_quarantine() -> pd.DataFrame:
    """The roster's quarantine frame when it has no rows (the columns `normalise_source`
    gives)."""
    from pipeline.schema import FIELDS, SOURCE_ROW, SOURCE_SHEET

    columns = ["source", SOURCE_FILE, SOURCE_SHEET, SOURCE_ROW, "reason_code", "reason",
               *(f"raw_{f.name}" for f in FIELDS[Source.MEMBERS])]
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == SOURCE_ROW else "string")
                         for c in columns})


def _nonempty(chunks: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    for chunk in chunks:
        if len(chunk):
            yield chunk.reset_index(drop=True)

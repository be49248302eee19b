"""The night's rejected rows as written: `quarantine.parquet` and `field_issues.parquet`.

Both hold every source's rows, sorted by (source, file, sheet, row[, field]). The roll's and
the civil side's are in memory (`NormalisedSource`); the roster's are on disk
(`roster.rejects.RosterRejects`), as many as its bad rows, so they are given here as a
stream of frames in output order, which `outputs.write_parquet_stream` writes one row group
at a time: "civil" rows, then the roster's ("members"), then "union" rows (the sources'
names in code-point order, as the sort puts them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import pandas as pd

from pipeline.ingest.load import Loaded
from pipeline.normalise.sources import NormalisedSource
from pipeline.roster.rejects import RejectParts, sheets_or_none
from pipeline.schema import FIELDS, SOURCE_FILE, SOURCE_ROW, SOURCE_SHEET, Source

QUARANTINE_HEAD = ["source", SOURCE_FILE, SOURCE_SHEET, SOURCE_ROW, "reason_code", "reason"]
QUARANTINE_ORDER = ["source", SOURCE_FILE, SOURCE_SHEET, SOURCE_ROW]
FIELD_ISSUE_ORDER = ["source", SOURCE_FILE, SOURCE_SHEET, SOURCE_ROW, "field"]


def quarantine_frames(normalised: dict[Source, NormalisedSource],
                      roster: RejectParts | None = None,
                      shown: Callable[[pd.DataFrame], pd.DataFrame] | None = None
                      ) -> Iterator[pd.DataFrame]:
    """The quarantine output in order: `QUARANTINE_HEAD` then every `raw_*` column (sorted;
    text, `<NA>` where a source has no such field), `source_row` int64.

    `roster`: the roster's quarantined rows (their raw columns are the roster's fields,
    `schema.FIELDS`, as `normalise_source` makes them, rows or none); `shown`: applied to
    every frame before it is given (`pseudonymise.pseudonymise_quarantine` with the night's
    key)."""
    frame = pd.concat([n.quarantine for n in normalised.values()], ignore_index=True,
                      sort=False)
    raw = {c for c in frame.columns if c.startswith("raw_")}
    if roster is not None:
        raw |= {f"raw_{f.name}" for f in FIELDS[Source.MEMBERS]}
    columns = [*QUARANTINE_HEAD, *sorted(raw)]

    def shaped(part: pd.DataFrame) -> pd.DataFrame:
        part = part.reindex(columns=columns)
        for column in columns:
            part[column] = part[column].astype("int64" if column == SOURCE_ROW else "string")
        return shown(part) if shown is not None else part

    whole = shaped(frame).sort_values(QUARANTINE_ORDER, kind="mergesort")
    yield from _around_roster(whole, None if roster is None else map(shaped, roster.frames()))


def field_issue_frames(loaded: dict[Source, Loaded],
                       normalised: dict[Source, NormalisedSource],
                       roster: RejectParts | None = None) -> Iterator[pd.DataFrame]:
    """The field issues output in order (`normalise.field_issues.COLUMNS`, typed), each row
    under the header its file really has (the files' headers in `loaded`, the roster's
    included). `roster`: the roster's field issues."""
    from pipeline.normalise.field_issues import typed

    written = {(info.path, sheet.name, name): header
               for item in loaded.values() for info in item.files for sheet in info.sheets
               for name, header in sheet.headers.items()}

    def shaped(part: pd.DataFrame) -> pd.DataFrame:
        part = typed(part)
        if written and len(part):
            own = [written.get((file, sheet, field)) for file, sheet, field in
                   zip(part[SOURCE_FILE], sheets_or_none(part), part["field"], strict=True)]
            part["header"] = pd.array([o or h for o, h in zip(own, part["header"], strict=True)],
                                      dtype="string")
        return part

    frames = [n.field_issues for n in normalised.values() if n.field_issues is not None]
    whole = shaped(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())
    whole = whole.sort_values(FIELD_ISSUE_ORDER, kind="mergesort")
    yield from _around_roster(whole, None if roster is None else map(shaped, roster.frames()))


def _around_roster(whole: pd.DataFrame, roster: Iterable[pd.DataFrame] | None
                   ) -> Iterator[pd.DataFrame]:
    """`whole` (sorted, no roster rows) split where the roster's rows go, the roster's frames
    between; the first frame is always given, empty or not (it fixes the file's schema)."""
    before = whole["source"].astype(str) < Source.MEMBERS.value
    yield whole[before].reset_index(drop=True)
    yield from roster or ()
    after = whole[~before].reset_index(drop=True)
    if len(after):
        yield after

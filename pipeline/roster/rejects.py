"""The roster's quarantined rows and field issues, kept on disk as its chunks give them.

A roster's rejected rows grow with the roster (a 30 M-member roster with 2 % of its rows
quarantined has 600 k of them, each with its raw cells), so the first pass does not hold
them: each chunk's quarantined rows and field issues are written here as Parquet parts, one
per chunk and (file, sheet), in a private folder (0700, `tempfile.mkdtemp`, in the night's
scratch folder), and read back one part at a time when the outputs are written
(`stages.report`, `outputs.write_parquet_stream`). Only their counts stay in memory.

Order: the outputs sort rows by (source, file, sheet, row) (`report.rejected`).
The chunks come in roster order (file by file, a file's rows in order; on Dask too: the
driver merges the chunks' results in order), so the parts of one (file, sheet) are already
in row order, and `frames()` gives them by (file, sheet) sorted as pandas sorts them (text
in code-point order, a missing sheet, as in CSV, last).
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import weakref
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from pipeline.schema import SOURCE_FILE, SOURCE_ROW, SOURCE_SHEET

SheetKey = tuple[str, str | None]  # (source_file, source_sheet; None for CSV or Parquet)


def sheets_or_none(frame: pd.DataFrame) -> pd.Series:
    """`frame`'s `source_sheet` as objects, None where missing (a CSV or Parquet row): the
    sheet of a `SheetKey`, and of the files' headers as ingest records them."""
    return frame[SOURCE_SHEET].astype(object).where(frame[SOURCE_SHEET].notna(), None)


def sheet_order(key: SheetKey) -> tuple[str, bool, str]:
    """The sort key pandas gives (file, sheet) (`sort_values`, missing last)."""
    file, sheet = key
    return file, sheet is None, sheet or ""


class RejectParts:
    """One kind of rejected rows (quarantine or field issues) as ordered Parquet parts.

    `order`: the columns a part is sorted by (mergesort) before it is written, after
    (file, sheet): (`source_row`,) for the quarantine, (`source_row`, `field`) for the field
    issues. Frames keep their columns and dtypes (strings, int64 `source_row`)."""

    def __init__(self, root: Path, kind: str, order: tuple[str, ...]) -> None:
        self.root, self.kind, self.order = root, kind, order
        self.parts: dict[SheetKey, list[Path]] = {}
        self.per_file: Counter[str] = Counter()  # rows per source file
        self.columns: list[str] | None = None
        self._numbers = itertools.count()  # the parts' file names

    @property
    def rows(self) -> int:
        return sum(self.per_file.values())

    def add(self, frame: pd.DataFrame | None) -> None:
        """Append one chunk's rows (None or empty: nothing)."""
        if frame is None or not len(frame):
            return
        if self.columns is None:
            self.columns = list(frame.columns)
        files = frame[SOURCE_FILE].astype(str)
        for (file, sheet), rows in frame.groupby([files, sheets_or_none(frame)], sort=False,
                                                 dropna=False):
            key: SheetKey = (str(file), None if sheet is None or sheet != sheet else str(sheet))
            part = rows.sort_values(list(self.order), kind="mergesort").reset_index(drop=True)
            path = self.root / f"{self.kind}-{next(self._numbers):06d}.parquet"
            part.to_parquet(path, index=False)
            self.parts.setdefault(key, []).append(path)
            self.per_file[key[0]] += len(part)

    def frames(self) -> Iterator[pd.DataFrame]:
        """The parts, sorted by (file, sheet) and, within one, in the order they came."""
        for key in sorted(self.parts, key=sheet_order):
            for path in self.parts[key]:
                yield pd.read_parquet(path)

    def frame(self) -> pd.DataFrame:
        """All the parts as one frame, in `frames()` order (a small roster's, or a test's:
        this holds them all). No rows: an empty frame (no columns if none ever came)."""
        parts = list(self.frames())
        if not parts:
            return pd.DataFrame(columns=self.columns or [])
        return pd.concat(parts, ignore_index=True)


class RosterRejects:
    """The roster's quarantined rows and field issues (`RejectParts` each) in one private
    folder, removed by `close()` (also at interpreter exit, by a finalizer). `parent`: where
    the folder is made (the night's scratch folder; default the system's temporary one)."""

    def __init__(self, parent: Path | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="bidui-rejects-", dir=parent))
        self.quarantine = RejectParts(self.root, "quarantine", (SOURCE_ROW,))
        self.field_issues = RejectParts(self.root, "field-issues", (SOURCE_ROW, "field"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.root, True)

    def add(self, quarantine: pd.DataFrame | None, field_issues: pd.DataFrame | None) -> None:
        """One chunk's quarantined rows and field issues (either may be None or empty)."""
        self.quarantine.add(quarantine)
        self.field_issues.add(field_issues)

    def close(self) -> None:
        self._cleanup()

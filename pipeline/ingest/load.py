"""Load the files of one source into a frame of SPEC fields, with provenance on every row."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputError
from pipeline.ingest.headers import (
    HEADER_SEARCH_ROWS,
    HeaderMap,
    find_header_row,
    fold_header,
    map_headers,
)
from pipeline.ingest.readers import RawTable, cell_to_id_text, read_raw
from pipeline.normalise.vocab import SPACE_CLASS
from pipeline.schema import FIELDS, SOURCE_FILE, SOURCE_LABELS, SOURCE_ROW, Source
from pipeline.textops import is_text

BLANK_PATTERN = f"^[{SPACE_CLASS}]*$"


@dataclass
class FileInfo:
    """What was read from one input file (feeds the manifest)."""

    path: str
    source: str
    sha256: str
    size_bytes: int
    encoding: str | None
    sheet: str | None
    header_row: int
    rows_read: int
    blank_rows_skipped: int
    extra_columns: list[str] = field(default_factory=list)
    duplicate_columns: list[str] = field(default_factory=list)


@dataclass
class Loaded:
    """All rows of one source: one column per SPEC field present, extras, provenance."""

    source: Source
    frame: pd.DataFrame
    files: list[FileInfo]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_source(paths: list[Path], source: Source) -> Loaded:
    """Read every file of a source; their rows are stacked in the order given."""
    frames: list[pd.DataFrame] = []
    infos: list[FileInfo] = []
    for path in paths:
        frame, info = load_file(path, source)
        frames.append(frame)
        infos.append(info)
    if paths and sum(info.rows_read for info in infos) == 0:
        raise InputError(f"the {SOURCE_LABELS[source]} has a header but no data rows.",
                         "check that the export finished (a header-only file is a failed "
                         "export), then run again.", file=", ".join(str(p) for p in paths))
    columns = [f.name for f in FIELDS[source]]
    if frames:
        combined = pd.concat(frames, ignore_index=True, sort=False)
    else:
        combined = pd.DataFrame(columns=[*columns, SOURCE_FILE, SOURCE_ROW])
    for name in columns:
        if name not in combined.columns:
            combined[name] = None
    combined[SOURCE_ROW] = combined[SOURCE_ROW].astype("int64")
    return Loaded(source=source, frame=combined, files=infos)


def load_file(path: Path, source: Source) -> tuple[pd.DataFrame, FileInfo]:
    """One file → (frame of fields + extras + provenance, FileInfo)."""
    fields = FIELDS[source]
    table = read_raw(path)
    if not len(table.cells):
        raise InputError(f"the file is empty; expected the {SOURCE_LABELS[source]} with a "
                         "header row.", "check that the export finished, then run again.",
                         file=str(path))
    header_index = find_header_row(table.head(HEADER_SEARCH_ROWS), fields)
    header_map = map_headers(table.cells[header_index].tolist(), fields)
    if header_map.missing_required:
        raise InputError(_missing_columns_text(header_map, source),
                         "rename the column in the file to one of the names shown (or add it), "
                         "then run again.", file=str(path), row=header_index + 1)
    frame, blank = _frame_from_rows(table, header_index, header_map, fields, str(path))
    info = FileInfo(
        path=str(path), source=source.value, sha256=sha256_of(path),
        size_bytes=path.stat().st_size, encoding=table.encoding, sheet=table.sheet,
        header_row=header_index + 1, rows_read=len(frame),
        blank_rows_skipped=blank, extra_columns=[c.removeprefix("extra:")
                                                 for c in header_map.extra_columns],
        duplicate_columns=list(header_map.duplicate_fields),
    )
    return frame, info


def _missing_columns_text(header_map: HeaderMap, source: Source) -> str:
    parts = []
    for missing in header_map.missing_required:
        aliases = "、".join(missing.headers)
        parts.append(f"required column '{missing.canonical_header}' (accepted headers: {aliases})")
    return (f"this {SOURCE_LABELS[source]} file has no " + "; no ".join(parts) + ".")


def _frame_from_rows(table: RawTable, header_index: int, header_map: HeaderMap,
                     fields: tuple, path: str) -> tuple[pd.DataFrame, int]:
    """The data records below the header as a frame, a column at a time.

    A record is blank (skipped, counted) when none of its cells is present. Blank text becomes
    None; other cells pass through (CSV cells are text; XLSX cells keep their type so dates
    and Excel serials survive), except ID-like cells, which become text (`cell_to_id_text`)."""
    id_like = {f.name for f in fields if f.id_like}
    body = table.cells[header_index + 1:]
    columns = [pd.Series(body[:, c], dtype=object) for c in range(body.shape[1])]
    present = [_present_cells(column) for column in columns]
    keep = np.logical_or.reduce(present) if present else np.zeros(len(body), dtype=bool)
    rows = np.flatnonzero(keep)
    positions = {**header_map.field_columns, **header_map.extra_columns}
    data: dict[str, pd.Series] = {}
    for name, position in positions.items():
        if position >= len(columns):
            data[name] = pd.Series([None] * len(rows), dtype=object)
            continue
        column = columns[position].where(present[position], None)
        if name in id_like:
            column = _id_text(column)
        data[name] = column.iloc[rows].reset_index(drop=True)
    frame = pd.DataFrame(data, dtype=object) if data else pd.DataFrame(index=range(len(rows)))
    frame[SOURCE_FILE] = path
    frame[SOURCE_ROW] = pd.Series(header_index + 2 + rows, dtype="int64")
    return frame, int(len(body) - len(rows))


def _present_cells(column: pd.Series) -> np.ndarray:
    """True where a cell holds something: not None/NaN/NaT and not blank text (only white
    space, as Python's `str.strip` sees it; checked in Arrow for all cells at once)."""
    values = column.to_numpy(dtype=object)
    text = is_text(values)
    present = column.notna().to_numpy() if not text.all() else np.ones(len(column), bool)
    if text.any():
        present[text] = ~blank_texts(values[text])
    return present


def blank_texts(texts: np.ndarray) -> np.ndarray:
    """True for strings that are empty or white space only."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        array = pa.array(texts, type=pa.large_string())
    except (pa.ArrowException, UnicodeError):  # e.g. lone surrogates
        return np.fromiter((not t.strip() for t in texts), dtype=bool, count=len(texts))
    return pc.match_substring_regex(array, BLANK_PATTERN).to_numpy(zero_copy_only=False)


def _id_text(column: pd.Series) -> pd.Series:
    """ID-like cells as text: present text unchanged, numbers as Excel shows them."""
    other = ~is_text(column.to_numpy(dtype=object)) & column.notna().to_numpy()
    if other.any():
        column = column.copy()
        column[other] = column[other].map(cell_to_id_text)
    return column


__all__ = ["FileInfo", "Loaded", "fold_header", "load_file", "load_source"]

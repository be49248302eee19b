"""Load the files of one source into a frame of SPEC fields, with provenance on every row."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.errors import InputError
from pipeline.ingest.headers import HeaderMap, find_header_row, fold_header, map_headers
from pipeline.ingest.readers import RawTable, cell_to_id_text, read_raw
from pipeline.schema import FIELDS, SOURCE_FILE, SOURCE_LABELS, SOURCE_ROW, Source


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
    if not table.rows:
        raise InputError(f"the file is empty; expected the {SOURCE_LABELS[source]} with a "
                         "header row.", "check that the export finished, then run again.",
                         file=str(path))
    header_index = find_header_row(table.rows, fields)
    header_map = map_headers(table.rows[header_index], fields)
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
    id_like = {f.name for f in fields if f.id_like}
    body = table.rows[header_index + 1:]
    keep = [i for i, row in enumerate(body) if any(_present(c) for c in row)]
    blank = len(body) - len(keep)
    columns: dict[str, list[object]] = {}
    positions = {**header_map.field_columns, **header_map.extra_columns}
    for name, position in positions.items():
        convert = cell_to_id_text if name in id_like else _plain_cell
        columns[name] = [
            convert(body[i][position]) if position < len(body[i]) else None for i in keep
        ]
    frame = pd.DataFrame(columns, dtype=object) if keep else pd.DataFrame(
        {name: pd.Series(dtype=object) for name in positions})
    frame[SOURCE_FILE] = path
    frame[SOURCE_ROW] = pd.Series([header_index + 2 + i for i in keep], dtype="int64")
    return frame, blank


def _present(cell: object) -> bool:
    if cell is None:
        return False
    if isinstance(cell, float) and cell != cell:
        return False
    return not (isinstance(cell, str) and not cell.strip())


def _plain_cell(cell: object) -> object:
    """Blank text becomes None; other cells (dates, numbers, text) pass through unchanged."""
    if not _present(cell):
        return None
    return cell


__all__ = ["FileInfo", "Loaded", "fold_header", "load_file", "load_source"]

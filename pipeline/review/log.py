"""The append-only decision log, `STATE/review_log.csv`.

One row per decision an analyst recorded, in the order it was recorded: the decision
(`discrepancy_id`, `decision` as a code, `note`, `decided_by`, `decided_at` as given — blank
when the analyst left 处理日期 empty —, `evidence`), where it came from (`source_file`,
`source_sheet`, `source_row`) and when it was recorded (`imported_at`, ISO with the offset).
Rows are never changed or removed: a changed mind is a later row, and the latest decision of a
finding counts (`pipeline.detect.lifecycle.latest_decisions`).

UTF-8 with a BOM (it opens in Excel as it is), file mode 0600. Appending rewrites the file
through a temporary file and a rename (a killed night never leaves a torn row) while holding
`STATE/.review.lock` (flock), so a night and `bidui review import` never lose each other's rows.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from pipeline.detect.lifecycle import DECISION_COLUMNS
from pipeline.state import atomic_write_bytes, private_folder

LOG = "review_log.csv"
LOCK = ".review.lock"
LOG_COLUMNS = (*DECISION_COLUMNS, "source_file", "source_sheet", "source_row", "imported_at")
# What makes two rows the same decision (a file dropped twice, a prefilled 待核实 row).
KEY_COLUMNS = DECISION_COLUMNS

logger = logging.getLogger(__name__)


def log_path(root: Path) -> Path:
    return Path(root) / LOG


def empty_log() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in LOG_COLUMNS})


def read_log(root: Path) -> tuple[pd.DataFrame, str | None]:
    """(the log's rows, a warning when it exists but cannot be read). Never raises."""
    path = log_path(root)
    if not path.exists():
        return empty_log(), None
    try:
        text = path.read_bytes().decode("utf-8-sig")
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                            na_filter=False) if text.strip() else empty_log()
    except Exception as error:  # never the text: it holds names and notes
        logger.warning("the review decision log %s cannot be read (%s); the night goes on "
                       "without the decisions it holds", path, type(error).__name__)
        return empty_log(), (f"处理记录 {path.name} 无法读取（{type(error).__name__}），"
                             "本夜未使用其中的处理结果；请联系运维检查该文件。")
    for column in LOG_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    return frame[list(LOG_COLUMNS)].astype("string"), None


def as_decisions(log: pd.DataFrame) -> pd.DataFrame:
    """The log as decisions: `decided_at` is the analyst's date, or the day it was recorded
    when they left it blank (so the latest decision is well defined)."""
    out = log.copy()
    given = out["decided_at"].fillna("").astype(str).str.strip()
    recorded = out["imported_at"].fillna("").astype(str).str.slice(0, 10)
    out["decided_at"] = given.where(given != "", recorded).astype("string")
    return out.reset_index(drop=True)


def row_keys(frame: pd.DataFrame) -> pd.Series:
    """One text per row: the decision as given (see KEY_COLUMNS)."""
    if frame.empty:
        return pd.Series([], dtype=object, index=frame.index)
    parts = frame[list(KEY_COLUMNS)].astype("string").fillna("")
    return parts.agg("\x1f".join, axis=1)


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold `STATE/.review.lock` (waits for the other holder: appends are short)."""
    private_folder(Path(root))
    fd = os.open(Path(root) / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def append(root: Path, rows: pd.DataFrame) -> int:
    """Append decisions (LOG_COLUMNS) to the log; rows already in it (same KEY_COLUMNS) are
    skipped. Returns how many rows were appended. The existing bytes are kept as they are,
    even if they cannot be parsed."""
    if rows.empty:
        return 0
    path = log_path(root)
    with locked(root):
        existing = path.read_bytes() if path.exists() else b""
        logged, _ = read_log(root)
        seen = set(row_keys(logged))
        fresh = rows.reindex(columns=list(LOG_COLUMNS)).astype("string").fillna("")
        keys = row_keys(fresh)
        fresh = fresh[~keys.isin(seen) & ~keys.duplicated()]
        if fresh.empty:
            return 0
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        if not existing:
            writer.writerow(LOG_COLUMNS)
        writer.writerows(fresh.itertuples(index=False, name=None))
        head = existing if not existing or existing.endswith(b"\n") else existing + b"\r\n"
        data = (b"\xef\xbb\xbf" if not existing else b"") + head + buffer.getvalue().encode(
            "utf-8")
        atomic_write_bytes(path, data)
        os.chmod(path, 0o600)
    return len(fresh)

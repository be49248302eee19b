"""On-disk state of a chunked validation (`chunked.py`): what must see the whole column.

`expect_column_values_to_be_unique` and `expect_column_unique_value_count_to_be_between` need
every value of a column, but a roster of 5–30 million rows arrives in chunks and must not be
held in memory. Per chunk, each such column's non-null values become 64-bit keyed hashes
(`pandas.util.hash_pandas_object`, SipHash-2-4 for text, with a random key per suite run), which
are appended to `BUCKETS` bucket files by their top bits; at the end the files are counted one
bucket at a time (sort, then run lengths). Equal values always land in the same bucket, so the
per-bucket counts add up to the exact column-wide ones.

Costs, per row read:
- `ColumnHashes` without rows: 8 bytes on disk (uint64 hash) per non-null value;
- `ColumnHashes` with rows (a uniqueness check, to list where duplicates are): 16 bytes on disk
  (hash, int64 row position in the stream);
- `RowsSpill` (the same uniqueness check's failing values): the row's provenance and value in
  a zstd-compressed Arrow IPC file, about 7 bytes per row for the roster's member_id;
- the roster suite in all (member_id unique and counted, name and id_number counted): about
  39 bytes per row on disk (1 and 5 million synthetic rows);
- memory: nothing per row while chunks arrive (a bucket file is opened, appended and closed per
  chunk); while counting, one bucket at a time, under 50 bytes per record held in it, i.e.
  roughly 50 × rows / BUCKETS bytes (30 million rows, 64 buckets: about 25 MB). Measured with
  100,000-row chunks: 44 MB above the baseline at 1 million rows, 47 MB at 5 million (the
  chunk itself included).

Hash collisions: two different values with the same 64-bit hash would count as one value (one
distinct value fewer, two rows reported as duplicated). With a random key the chance is about
n² / 2⁶⁵ for n distinct values: 2.4 × 10⁻⁵ at 30 million. Dates and numbers hash by a bijective
mix of their 64-bit value: no collisions at all.

Everything lives in a private temporary folder (mode 0700, `SpillFolder`), removed when the
chunked run finishes or is closed (or, failing both, when the object is garbage collected).
"""

from __future__ import annotations

import bisect
import datetime as dt
import os
import secrets
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

BUCKETS = 64
HASH = np.dtype("<u8")
HASH_AND_ROW = np.dtype([("hash", "<u8"), ("row", "<i8")])


class SpillFolder:
    """A private temporary folder (mode 0700) under `parent` (default: the system temp
    folder), removed by `close()` or, at the latest, when the object is collected."""

    def __init__(self, parent: Path | None = None, prefix: str = "bidui-chunks-") -> None:
        self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        os.chmod(self.path, 0o700)
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.path, ignore_errors=True)

    def close(self) -> None:
        self._cleanup()


def new_hash_key() -> str:
    """A random 16-character key for `hash_pandas_object` (one per chunked run: hashes are
    compared within the run only, and nobody can craft values that collide)."""
    return secrets.token_hex(8)


@dataclass(frozen=True)
class HashCounts:
    """A column over all chunks: `distinct` non-null values, `duplicated_rows` rows whose
    value occurs more than once (every occurrence counted, as pandas'
    `duplicated(keep=False)`), and `first_duplicated`: the smallest stream positions of those
    rows, ascending (int64, at most the number asked for; empty without rows)."""

    distinct: int
    duplicated_rows: int
    first_duplicated: np.ndarray


def hash_values(values: pd.Series, key: str) -> tuple[np.ndarray, np.ndarray]:
    """The keyed 64-bit hashes (uint64) of a column's non-null values and those values'
    positions in `values` (int64): what `ColumnHashes` stores, computable anywhere that has
    the key (a Dask worker)."""
    present = values.notna().to_numpy(dtype=bool)
    if not present.any():
        return np.empty(0, dtype=HASH), np.empty(0, dtype=np.int64)
    hashes = pd.util.hash_pandas_object(values[present], index=False,
                                        hash_key=key).to_numpy(dtype=HASH)
    return hashes, np.flatnonzero(present).astype(np.int64)


class ColumnHashes:
    """Keyed 64-bit hashes of one column's non-null values, in `buckets` files under
    `folder`, with each value's stream position when `with_rows`.

    The values of every chunk must have the same dtype (a date hashes as its int64 nanoseconds,
    text by its UTF-8 bytes): `ChunkedSuite` checks it."""

    def __init__(self, folder: Path, name: str, key: str, with_rows: bool = False,
                 buckets: int = BUCKETS) -> None:
        if buckets < 1 or buckets & (buckets - 1):
            raise ValueError(f"buckets must be a power of two, not {buckets}")
        self.key = key
        self.with_rows = with_rows
        self.record = HASH_AND_ROW if with_rows else HASH
        self.bits = buckets.bit_length() - 1
        self.paths = [folder / f"{name}.{b:03d}.bin" for b in range(buckets)]
        self._counts: dict[int, HashCounts] = {}

    def add(self, values: pd.Series, first_row: int) -> None:
        """Append a chunk: `values` (one column, any dtype), whose first row is at stream
        position `first_row` (int). Missing values are skipped, as GX skips them."""
        hashes, positions = hash_values(values, self.key)
        self.add_hashes(hashes, first_row + positions)

    def add_hashes(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        """Append a chunk's hashes (`hash_values` with this key: uint64) and their values'
        stream positions (int64, used `with_rows`)."""
        self._counts.clear()
        if not len(hashes):
            return
        records = np.empty(len(hashes), dtype=self.record)
        if self.with_rows:
            records["hash"] = hashes
            records["row"] = rows
        else:
            records[:] = hashes
        bucket = (hashes >> np.uint64(64 - self.bits)).astype(np.intp) if self.bits else \
            np.zeros(len(hashes), dtype=np.intp)
        order = np.argsort(bucket, kind="stable")
        records, bucket = records[order], bucket[order]
        bounds = np.searchsorted(bucket, np.arange(len(self.paths) + 1))
        for b, path in enumerate(self.paths):
            if bounds[b] < bounds[b + 1]:
                with path.open("ab") as handle:
                    records[bounds[b]:bounds[b + 1]].tofile(handle)

    def count(self, first: int = 0) -> HashCounts:
        """Count every bucket, one at a time; with rows, also the `first` smallest positions of
        duplicated rows. Cached until the next `add`."""
        if first in self._counts:
            return self._counts[first]
        distinct = duplicated = 0
        chosen = np.empty(0, dtype=np.int64)
        for path in self.paths:
            if not path.exists():
                continue
            records = np.fromfile(path, dtype=self.record)
            hashes = records["hash"] if self.with_rows else records
            order = np.argsort(hashes, kind="stable")
            ordered = hashes[order]
            starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
            distinct += len(starts)
            if not self.with_rows:
                continue
            sizes = np.diff(np.r_[starts, len(ordered)])
            repeated = np.repeat(sizes > 1, sizes)
            duplicated += int(repeated.sum())
            if first and repeated.any():
                rows = records["row"][order[repeated]]
                if len(rows) > first:
                    rows = np.partition(rows, first - 1)[:first]
                chosen = np.sort(np.concatenate([chosen, rows]))[:first]
        counts = HashCounts(distinct=distinct, duplicated_rows=duplicated,
                            first_duplicated=chosen)
        self._counts[first] = counts
        return counts


class RowsSpill:
    """Some columns of every row (provenance and the checked value), one Arrow record batch per
    chunk in a zstd-compressed IPC file, so rows found failing only at the end (duplicates
    across chunks) can be listed with their file, sheet and row."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.columns = list(columns)
        self._writer = None
        self._schema = None
        self._starts: list[int] = []  # stream position of each batch's first row

    def add(self, frame: pd.DataFrame, first_row: int) -> None:
        """Append a chunk's rows (`columns` of `frame`; the first is at `first_row`)."""
        import pyarrow as pa

        if frame.empty:
            return
        part = frame[self.columns]
        if self._writer is None:
            batch = pa.RecordBatch.from_pandas(part, preserve_index=False)
            self._schema = batch.schema
            self._writer = pa.ipc.new_file(
                str(self.path), self._schema,
                options=pa.ipc.IpcWriteOptions(compression="zstd"))
        else:
            batch = pa.RecordBatch.from_pandas(part, schema=self._schema, preserve_index=False)
        self._writer.write_batch(batch)
        self._starts.append(first_row)

    def rows(self, positions: np.ndarray) -> list[dict]:
        """The stored rows at stream `positions` (int, each added before), in the order given:
        one dict per row, column -> value (text as str, missing as None, dates as
        pd.Timestamp, integers as int)."""
        import pyarrow as pa

        self._close_writer()
        if not len(positions):
            return []
        found = []
        with pa.memory_map(str(self.path)) as source:
            reader = pa.ipc.open_file(source)
            for position in (int(p) for p in positions):
                index = bisect.bisect_right(self._starts, position) - 1
                batch = reader.get_batch(index)
                row = batch.slice(position - self._starts[index], 1).to_pylist()[0]
                found.append({k: _python(v) for k, v in row.items()})
        return found

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def close(self) -> None:
        self._close_writer()


def _python(value: object) -> object:
    """A stored value as pandas would hand it to GX (dates as pd.Timestamp)."""
    if isinstance(value, dt.datetime | dt.date):
        return pd.Timestamp(value)
    return value

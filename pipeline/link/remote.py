"""Frames that live on the Dask workers: the civil-affairs side's features and columns.

On `--engine dask` the civil side's features are built on the workers, chunk by chunk
(`civil.on_dask.CivilChunks.normalise`), and stay there. The driver holds only a
`RemoteFrame`: the chunks' futures, their numbers of rows and a zero-row frame with the
columns and dtypes. Both linkages run on the chunks where they are: the roll ↔ civil
linkage's candidates, levels and scores per chunk, its model trained on a worker from their
levels (`link.over_chunks`); the roster linkage's index, member model, scoring context and
partitioned join's parts made from the chunks (`roster.remote_left`,
`link.over_left_chunks`). Nothing in the night joins them. Only counts, codes, levels,
models and scored pairs come back (docs/scale.md, "The Dask engine").

The columns the stages after the linkage read of the civil side (`stages.
CIVIL_KEPT_BESIDE_FEATURES`) stay where each chunk was normalised: a `RemoteChunks`, spread
over the workers. The linkage fetches the rows of its pairs (`rows_at`), the analysts'
labels the rows they name (`rows_matching`), and after the linkage the night fetches the
linked rows only (`stages.linked_civil_rows`): detection and the report read no other.

Both are duck-typed where the driver's code only asks a frame's shape: `len(remote)`,
`remote.columns`, `remote.iloc[:0]` (the zero-row frame). Anything else is an error: the
rows are not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from distributed import Future


class _Shaped:
    """What a frame whose rows are elsewhere answers here: its columns and its first zero
    rows (`empty`: the columns and dtypes)."""

    empty: pd.DataFrame

    @property
    def columns(self) -> pd.Index:
        return self.empty.columns

    @property
    def iloc(self) -> Any:
        """The zero-row frame's `iloc` (for `remote.iloc[:0]`: the columns and dtypes)."""
        return self.empty.iloc


@dataclass
class RemoteFrame(_Shaped):
    """A frame of `rows` rows (a RangeIndex) on the workers, in row chunks, each where it
    was made (`parts`: one future per chunk, in row order, `lengths` rows each, and the
    `client` that made them: the night's); `empty`: its first zero rows (its columns and
    dtypes). Nothing joins the chunks: what reads the frame reads `chunks()`. `index`: the
    future of the roster linkage's `streamed.LeftIndex` of this frame, on a worker, once
    built (`roster.remote_left.remote_linkage`), else None; `codes`: then each chunk's
    records' codes in it (`streamed.ChunkCodes`, one future per chunk, beside it)."""

    rows: int
    empty: pd.DataFrame
    parts: list[Future]
    lengths: list[int]
    client: Any = None
    index: Future | None = None
    codes: list[Future] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.parts) != len(self.lengths) or sum(self.lengths) != self.rows:
            raise ValueError(f"{len(self.parts)} chunks of {sum(self.lengths)} rows given "
                             f"for {self.rows} rows in {len(self.lengths)} chunks")

    def __len__(self) -> int:
        return self.rows

    @classmethod
    def of_keys(cls, client: Any, keys: Sequence[str], lengths: Sequence[int],
                empty: pd.DataFrame) -> RemoteFrame:
        """The frame whose chunks are the data of `keys` (in row order, `lengths` rows each),
        as a task seen through its worker's client (`worker_client`) names them: a future
        passed to a task would be sent to it whole."""
        from distributed import Future

        return cls(int(sum(lengths)), empty, [Future(key, client=client) for key in keys],
                   list(lengths), client)

    def chunks(self) -> tuple[list[Future], list[int]]:
        """The frame's row chunks and their numbers of rows, in row order."""
        return list(self.parts), list(self.lengths)

    def chunk_starts(self) -> np.ndarray:
        """Each of `chunks()`' first row's position (int64, one more: the total)."""
        return np.cumsum([0, *self.chunks()[1]]).astype(np.int64)

    def fetch(self) -> pd.DataFrame:
        """The whole frame brought here, a fresh RangeIndex (tests; the night never)."""
        return _fetched(self.client, self.parts, self.empty)

    def release(self) -> None:
        """Free the chunks, the index and the codes on the workers (idempotent)."""
        for future in (self.index, *self.parts, *self.codes):
            if future is not None:
                future.release()
        self.parts, self.lengths, self.codes = [], [], []


def _fetched(client: Any, chunks: list[Future], empty: pd.DataFrame) -> pd.DataFrame:
    """The chunks gathered here and joined in row order, a fresh RangeIndex (`empty`, the
    zero-row frame, when there are none): both frames' `fetch`."""
    frames = client.gather(chunks)
    return pd.concat(frames, ignore_index=True) if frames else empty.copy()


def is_remote(frame: object) -> bool:
    """Whether `frame` is a `RemoteFrame` (its rows on a worker)."""
    return isinstance(frame, RemoteFrame)


@dataclass
class RemoteChunks(_Shaped):
    """A frame held on the workers in row chunks, each where it was made. `futures`: one
    Dask future of a `pd.DataFrame` per chunk, in row order, `lengths` rows each; `empty`:
    their first zero rows (columns and dtypes). A row's position is its ordinal over the
    chunks (the frame `pd.concat(chunks, ignore_index=True)` would be, as its index).

    What a driver reads of it comes as rows asked for: `take` (by position), `matching` (by
    key values), `value_counts`; never the whole frame (`fetch` is for tests)."""

    client: Any
    futures: list[Future]
    lengths: list[int]
    empty: pd.DataFrame

    def __len__(self) -> int:
        return int(sum(self.lengths))

    def _starts(self) -> np.ndarray:
        return np.cumsum([0, *self.lengths]).astype(np.int64)

    def _gathered(self, parts: list[Future]) -> pd.DataFrame:
        frames = self.client.gather(parts)
        if not frames:
            return self.empty.set_axis(pd.Index([], dtype="int64"))
        return pd.concat(frames)

    def take(self, positions: np.ndarray | Sequence[int]) -> pd.DataFrame:
        """The rows at `positions` (int, any order, repeats allowed) in that order, indexed
        by their positions: what `frame.iloc[positions]` gives of the whole frame. Each chunk
        sends only its rows asked for."""
        positions = np.asarray(positions, dtype=np.int64)
        starts = self._starts()
        if len(positions) and (positions.min() < 0 or positions.max() >= starts[-1]):
            raise IndexError(f"positions outside the {int(starts[-1])} rows held")
        wanted = np.unique(positions)
        chunk = np.searchsorted(starts, wanted, side="right") - 1
        parts = []
        for k in np.unique(chunk):
            local = wanted[chunk == k] - starts[k]
            parts.append(self.client.submit(_rows_at, self.futures[k], local, int(starts[k]),
                                            pure=False))
        return self._gathered(parts).loc[positions]

    def matching(self, keys: pd.DataFrame) -> pd.DataFrame:
        """The rows whose values in `keys`' columns, as text, equal one of `keys`' rows, in
        row order, indexed by their positions (`rows_matching` on each chunk)."""
        keys = keys.astype(str).drop_duplicates()
        if keys.empty:
            return self._gathered([])
        sent = self.client.scatter(keys, broadcast=True, hash=False)
        starts = self._starts()
        parts = [self.client.submit(_matching_task, future, sent, int(starts[k]), pure=False)
                 for k, future in enumerate(self.futures)]
        return self._gathered(parts)

    def value_counts(self, column: str) -> dict[str, int]:
        """Rows per value of `column` (as text) over every chunk; missing values apart."""
        parts = [self.client.submit(_value_counts, future, column, pure=False)
                 for future in self.futures]
        total: dict[str, int] = {}
        for counts in self.client.gather(parts):
            for value, count in counts.items():
                total[value] = total.get(value, 0) + count
        return total

    def fetch(self) -> pd.DataFrame:
        """The whole frame brought here, a fresh RangeIndex (tests; the night never)."""
        return _fetched(self.client, self.futures, self.empty)

    def release(self) -> None:
        """Free the chunks on the workers (idempotent)."""
        for future in self.futures:
            future.release()
        self.futures, self.lengths = [], []


def rows_matching(frame: pd.DataFrame, keys: pd.DataFrame, offset: int = 0) -> pd.DataFrame:
    """The rows of `frame` whose values in `keys`' columns, compared as text, equal those of
    one of `keys`' rows, in `frame`'s order, indexed by position (+ `offset`: the first
    row's position over a chunked frame). Pure: the same on a worker's chunk and on a frame
    here."""
    columns = list(keys.columns)
    if frame.empty or keys.empty:
        return frame.iloc[:0].set_axis(pd.Index([], dtype="int64"))
    values = frame[columns].astype(str).reset_index(drop=True)
    values["position"] = np.arange(len(frame), dtype=np.int64)
    hit = values.merge(keys.astype(str).drop_duplicates(), on=columns)["position"]
    rows = np.sort(hit.to_numpy(dtype=np.int64))
    return frame.iloc[rows].set_axis(pd.Index(rows + offset, dtype="int64"))


def rows_of(frame: pd.DataFrame | RemoteChunks, keys: pd.DataFrame) -> pd.DataFrame:
    """`rows_matching` of a frame here or of one held in chunks (`RemoteChunks.matching`)."""
    if isinstance(frame, RemoteChunks):
        return frame.matching(keys)
    return rows_matching(frame, keys)


def rows_at(frame: pd.DataFrame | RemoteChunks, positions: np.ndarray) -> pd.DataFrame:
    """`frame.iloc[positions]` of a frame here or of one held in chunks
    (`RemoteChunks.take`: only those rows come here)."""
    if isinstance(frame, RemoteChunks):
        return frame.take(positions)
    return frame.iloc[positions]


# -- worker tasks (each through `distributed._sanitised`: no record in an error) -------------

def _rows_at(frame: pd.DataFrame, local: np.ndarray, offset: int) -> pd.DataFrame:
    from pipeline.link.distributed import _sanitised

    return _sanitised(lambda: frame.iloc[local].set_axis(
        pd.Index(local + offset, dtype="int64")))


def _matching_task(frame: pd.DataFrame, keys: pd.DataFrame, offset: int) -> pd.DataFrame:
    from pipeline.link.distributed import _sanitised

    return _sanitised(rows_matching, frame, keys, offset)


def _value_counts(frame: pd.DataFrame, column: str) -> dict[str, int]:
    from pipeline.link.distributed import _sanitised

    def counts() -> dict[str, int]:
        values = frame[column].dropna().astype(str)
        return {str(k): int(v) for k, v in values.value_counts(sort=False).items()}

    return _sanitised(counts)

"""A frame that lives on a Dask worker: the civil-affairs side's linking features.

On `--engine dask` the civil side's features are built on the workers, chunk by chunk
(`civil.on_dask.CivilChunks.normalise`), and joined there into one frame on one worker. The
driver holds only a `RemoteFrame`: the future of that frame, its number of rows and a
zero-row frame with its columns and dtypes. Everything that reads the rows (the roll ↔
civil linkage's candidates, training and scoring; the roster linkage's index, parts,
training and scoring context) runs as a task beside it, and only counts, codes, models and
scored pairs come back (docs/scale.md, "The Dask engine": the civil side's features stay on
a worker).

Duck-typed where the driver's code only asks a frame's shape: `len(remote)`,
`remote.columns`, `remote.iloc[:0]` (the zero-row frame). Anything else is an error: the
rows are not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from distributed import Future


@dataclass
class RemoteFrame:
    """`future`: a Dask future of a `pd.DataFrame` of `rows` rows (a RangeIndex); `empty`:
    that frame's first zero rows (its columns and dtypes). `index`: the future of the
    roster linkage's `streamed.LeftIndex` of this frame, on the same worker, once built
    (`roster.remote_left.remote_linkage`), else None."""

    future: Future
    rows: int
    empty: pd.DataFrame
    index: Future | None = None

    def __len__(self) -> int:
        return self.rows

    @property
    def columns(self) -> pd.Index:
        return self.empty.columns

    @property
    def iloc(self) -> Any:
        """The zero-row frame's `iloc` (for `remote.iloc[:0]`: the columns and dtypes)."""
        return self.empty.iloc

    def fetch(self) -> pd.DataFrame:
        """The frame itself, brought here (tests; nothing in the night calls it)."""
        return self.future.result()

    def release(self) -> None:
        """Free the frame and its index on the workers (idempotent)."""
        for future in (self.future, self.index):
            if future is not None:
                future.release()


def is_remote(frame: object) -> bool:
    """Whether `frame` is a `RemoteFrame` (its rows on a worker)."""
    return isinstance(frame, RemoteFrame)

"""A private temporary folder of Parquet chunks (the roster records that could pair).

Records of people are written there, so the folder is created 0700 (`tempfile.mkdtemp`) and
removed by `close()` (also at interpreter exit, by a finalizer). `BIDUI_SPILL_DIR` chooses
where it is created (default: the system's temporary folder)."""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

SPILL_ENV = "BIDUI_SPILL_DIR"


class Spill:
    """Chunks written in order and read back in the same order."""

    def __init__(self, parent: Path | None = None) -> None:
        where = parent or os.environ.get(SPILL_ENV) or None
        self.root = Path(tempfile.mkdtemp(prefix="bidui-roster-", dir=where))
        self.files: list[Path] = []
        self.rows = 0
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.root, True)

    def write(self, frame: pd.DataFrame) -> None:
        """Append one chunk (object columns are written as text)."""
        path = self.root / f"chunk-{len(self.files):06d}.parquet"
        frame.reset_index(drop=True).to_parquet(path, index=False)
        self.files.append(path)
        self.rows += len(frame)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        """The chunks as written, text columns back as object arrays."""
        for path in self.files:
            frame = pd.read_parquet(path)
            for column in frame.columns:
                if frame[column].dtype != "int64":
                    frame[column] = frame[column].astype(object)
            yield frame

    def close(self) -> None:
        self._cleanup()

"""What lasts across nights, in the `--state` folder.

Layout (documented in the README; the scheduled deployment always passes one):
- `last_good_manifest.json`: the manifest of the last night that published (what it read:
  paths, sha256, rows per source), for the row-drop and stale-feed gates;
- `findings_history.parquet`: every finding ever raised, with `first_seen` and `last_seen`;
- `review_decisions.csv`: analysts' decisions on findings (confirmed / dismissed).
Writes are atomic (temporary file + rename), so a killed night never leaves a torn state.

A night reads the history and the decisions once, at its start (`StateStore.read()`, called by
`pipeline.night.run_night` under the output lock): the stages get that `StateSnapshot`, never
the folder, so a decision an analyst saves while the night runs counts from the next night on,
for linking and detection alike. The night writes the state only after it published.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

LAST_GOOD = "last_good_manifest.json"
HISTORY = "findings_history.parquet"
DECISIONS = "review_decisions.csv"


def private_folder(path: Path) -> Path:
    """`path` made when missing, with every missing parent, owner only (`0700`: the state
    holds the findings' history and the analysts' decisions); an existing folder keeps the
    modes the operator gave it (a group that may drop files into `inbox/`,
    docs/security.md). Returns `path`."""
    missing, folder = [], path
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):  # parents first, each one 0700
        made.mkdir(mode=0o700, exist_ok=True)
    return path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    private_folder(path.parent)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class StateStore:
    root: Path

    def last_good_manifest(self) -> dict | None:
        path = self.root / LAST_GOOD
        if not path.exists():
            return None
        return json.loads(path.read_text("utf-8"))

    def record_good_night(self, manifest: dict) -> None:
        text = json.dumps(manifest, ensure_ascii=False, indent=2, default=str)
        atomic_write_bytes(self.root / LAST_GOOD, text.encode("utf-8"))

    def read(self) -> StateSnapshot:
        """The findings history and the review decisions as they are now, each file read once
        (with the reading rules of `pipeline.detect.tracking`)."""
        from pipeline.detect.tracking import read_decisions, read_history

        return StateSnapshot(root=self.root, history=read_history(self),
                             decisions=read_decisions(self))

    @property
    def history_path(self) -> Path:
        return self.root / HISTORY

    @property
    def decisions_path(self) -> Path:
        return self.root / DECISIONS


@dataclass(frozen=True)
class StateSnapshot:
    """What a night's stages see of the state folder: read once when the night started.

    `history` is `findings_history.parquet` (empty when there is none yet); `decisions` the
    confirmed / dismissed rows of `review_decisions.csv`. The last good manifest is not here:
    the validate stage reads it (and only it) from the folder; see `pipeline.stages.validate`.
    """

    root: Path
    history: pd.DataFrame
    decisions: pd.DataFrame

"""What lasts across nights, in the `--state` folder.

Layout (documented in the README; the scheduled deployment always passes one):
- `last_good_manifest.json`: the manifest of the last night that published (what it read:
  paths, sha256, rows per source), for the row-drop and stale-feed gates;
- `findings_history.parquet`: every finding ever raised, with `first_seen` and `last_seen`;
- `review_decisions.csv`: analysts' decisions on findings (confirmed / dismissed).
Writes are atomic (temporary file + rename), so a killed night never leaves a torn state.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

LAST_GOOD = "last_good_manifest.json"
HISTORY = "findings_history.parquet"
DECISIONS = "review_decisions.csv"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
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

    @property
    def history_path(self) -> Path:
        return self.root / HISTORY

    @property
    def decisions_path(self) -> Path:
        return self.root / DECISIONS

"""The roster suite, run chunk by chunk and merged (`pipeline.validate.chunked`), so the Data
Docs describe the whole roster although it is never held whole."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.ingest.load import FileInfo
from pipeline.schema import Source
from pipeline.validate.chunk_check import CheckedChunk, ChunkChecks
from pipeline.validate.runner import ValidationRun


class RosterValidation:
    """`add(view)` per chunk (its validation view, `validate.stage.input_view`), or
    `add_checked(checked)` per chunk checked on a Dask worker (with `checks`), then
    `finish(files)`: the merged outcome is in the night's `ValidationRun`, and a critical
    failure raises `GateError` (nothing is published), as for the other inputs."""

    def __init__(self, run: ValidationRun, scratch: Path | None = None) -> None:
        from pipeline.validate import INPUT_SUITES
        from pipeline.validate.chunked import ChunkedSuite

        self.run = run
        self.suite = ChunkedSuite(run, INPUT_SUITES[Source.MEMBERS], spill_dir=scratch)

    @property
    def checks(self) -> ChunkChecks:
        """What checking a chunk needs where the chunk is (a Dask worker)."""
        return self.suite.checks

    def add(self, view: pd.DataFrame) -> None:
        """One chunk's validation view (`validate.stage.input_view`)."""
        self.suite.add(view)

    def add_checked(self, checked: CheckedChunk) -> None:
        """One chunk's view checked where it is (`chunk_check.check_chunk` with `checks`)."""
        self.suite.add_checked(checked)

    def finish(self, files: list[FileInfo]) -> None:
        from pipeline.validate.runner import raise_on_critical
        from pipeline.validate.stage import describe, input_labels

        self.suite.labels = input_labels(Source.MEMBERS, files)
        self.suite.finish()
        raise_on_critical(self.run, lambda f: describe(f, self.run), "inputs")

    def close(self) -> None:
        """Remove the suite's temporary hash folder (also when the night failed)."""
        self.suite.close()

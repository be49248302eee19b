"""Errors a person can act on.

Every error the pipeline raises on purpose is a `BiduiError`: its message is one paragraph that
says what is wrong, where (file, row, column), and what to do. It never contains personal data.
Anything else escaping the pipeline is a bug.
"""

from __future__ import annotations


class BiduiError(Exception):
    """An expected failure with a message meant for the operator or data steward."""

    exit_code = 2

    def __init__(self, what: str, fix: str = "", *, file: str | None = None,
                 row: int | None = None, sheet: str | None = None) -> None:
        self.what = what
        self.fix = fix
        self.file = file
        self.row = row
        self.sheet = sheet  # a workbook's sheet name (never a cell value)
        super().__init__(self.paragraph())

    def paragraph(self) -> str:
        where = ""
        if self.file:
            where = f"File {self.file}"
            if self.sheet is not None:
                where += f", sheet '{self.sheet}'"
            if self.row is not None:
                where += f", row {self.row}"
            where += ": "
        text = f"{where}{self.what}"
        if self.fix:
            text += f" To fix: {self.fix}"
        return text


class InputError(BiduiError):
    """An input file cannot be read or does not meet the contract of SPEC §1."""


class ClusterError(BiduiError):
    """The Dask cluster could not be used or failed during the night (`--engine dask`)."""


class GateError(BiduiError):
    """A validation gate failed: the night stops before anything is published."""

    exit_code = 3


class OutputError(BiduiError):
    """The output folder cannot be written safely."""

    exit_code = 4

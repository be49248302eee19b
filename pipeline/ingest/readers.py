"""Read one CSV or XLSX file into rows of cells, with each row's number in the file.

This is the I/O edge: everything after it works on in-memory frames. Readers return raw
cells (text for CSV; typed cells for XLSX, so that Excel date cells and serials survive);
mapping headers onto fields happens in `pipeline.ingest.load`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputError
from pipeline.ingest.encoding import detect_encoding

XLSX_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".txt"}
# A city's civil-affairs file is ~20 MB, a national roster a few GB split into files; a single
# input above this is refused rather than risk exhausting memory mid-night.
MAX_INPUT_BYTES = 4 * 1024**3


@dataclass
class RawTable:
    """Cells of one sheet or CSV file, every record from the top: record i is row i + 1 of the
    file (readers keep blank and title rows, so the numbering matches what stewards see).

    `cells` is a 2-D object array (records × widest record); a short record is padded with
    None, which reads as a blank cell. One array, not a list of lists, so that loading can
    work a column at a time at 10^6 rows."""

    cells: np.ndarray
    encoding: str | None
    sheet: str | None

    def head(self, count: int) -> list[list[object]]:
        return self.cells[:count].tolist()


def grid(rows: list[list[object]]) -> np.ndarray:
    """Ragged records → a rectangular object array, short records padded with None."""
    width = max((len(row) for row in rows), default=0)
    out = np.full((len(rows), width), None, dtype=object)
    for index, row in enumerate(rows):
        out[index, :len(row)] = row
    return out


def read_raw(path: Path) -> RawTable:
    """Read a CSV or XLSX file; raise InputError naming the file when it cannot be read."""
    if not path.exists():
        raise InputError("the file does not exist.", "check the path given on the command line.",
                         file=str(path))
    if not path.is_file():
        raise InputError("this is not a regular file.", "pass a CSV or XLSX file.", file=str(path))
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise InputError(f"the file is {size / 1024**3:.1f} GiB, above the limit of "
                         f"{MAX_INPUT_BYTES / 1024**3:.0f} GiB for one input.",
                         "split it into several files and pass them all (F...).", file=str(path))
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return _read_xlsx(path)
    if suffix in CSV_SUFFIXES:
        return _read_csv(path)
    if suffix == ".xls":
        raise InputError("the legacy .xls format is not supported.",
                         "open it in Excel or WPS and save it as .xlsx or CSV.", file=str(path))
    raise InputError(f"unknown file type '{suffix}'.", "pass a .csv or .xlsx file.",
                     file=str(path))


def _read_csv(path: Path) -> RawTable:
    raw = path.read_bytes()
    # Anywhere in the file, not only at its start: a NUL in a cell would reach the linker,
    # whose hashing (pandas') stops reading text at it.
    nul = raw.find(b"\x00")
    if nul >= 0 and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        line = raw.count(b"\n", 0, nul) + 1
        raise InputError(f"the file contains NUL bytes (the first on line {line}): it is not "
                         "a CSV text file.",
                         "export the sheet again as CSV (UTF-8 or GB18030) or XLSX.",
                         file=str(path))
    encoding = detect_encoding(raw)
    if encoding is None:
        raise InputError("the text is neither UTF-8 nor GB18030/GBK.",
                         "save the file as UTF-8 or GB18030 CSV.", file=str(path))
    text = raw.decode(encoding)
    if encoding == "utf-16" and text.startswith("\ufeff"):
        text = text[1:]
    return RawTable(cells=_parse_csv_text(text, path), encoding=encoding, sheet=None)


def _parse_csv_text(text: str, path: Path) -> np.ndarray:
    """Parse CSV records. pandas' C parser for speed; the csv module if records are ragged."""
    try:
        frame = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False,
                            skip_blank_lines=False, engine="c", na_filter=False)
        return frame.to_numpy(dtype=object)
    except (pd.errors.ParserError, ValueError):
        pass  # ragged rows (a title row above the header, or a stray comma): parse record by record
    except pd.errors.EmptyDataError:
        return grid([])
    try:
        return grid([list(record) for record in csv.reader(io.StringIO(text))])
    except csv.Error as error:
        raise InputError(f"the CSV cannot be parsed ({error}).",
                         "check the quoting of the row named, or export the file again.",
                         file=str(path)) from None


def _read_xlsx(path: Path) -> RawTable:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        visible = [m.name for m in workbook.sheets_metadata if str(m.visible).endswith("Visible")]
        names = visible or workbook.sheet_names
        if not names:
            raise InputError("the workbook has no sheets.", "pass the exported roll as XLSX.",
                             file=str(path))
        # The first visible sheet with any content holds the data.
        for name in names:
            sheet = workbook.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            if any(any(cell not in ("", None) for cell in row) for row in rows):
                break
        else:
            rows, name = [], names[0]
    except InputError:
        raise
    except (CalamineError, OSError, ValueError) as error:
        raise InputError(f"the workbook cannot be read ({type(error).__name__}).",
                         "check that it is a complete .xlsx file; open it in Excel and save again.",
                         file=str(path)) from None
    except Exception as error:  # calamine raises a variety of zip/xml errors on damaged files
        raise InputError(f"the workbook cannot be read ({type(error).__name__}).",
                         "check that it is a complete .xlsx file; open it in Excel and save again.",
                         file=str(path)) from None
    return RawTable(cells=grid(rows), encoding=None, sheet=name)


def cell_to_id_text(value: object) -> str | None:
    """Text of an ID-like cell. Numeric cells are what Excel does to long numbers.

    Excel keeps 15 significant digits of a number, so an 18-digit ID typed into a numeric cell
    is stored as 1.10108199001011E+17. We round to 15 significant digits, as Excel displays
    it, and let the ID check see the `…000` damage; a whole number keeps all its digits.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        try:
            if value.is_integer():
                if abs(value) >= 1e15:
                    return str(int(Decimal(format(value, ".15g"))))
                return str(int(value))
            return format(Decimal(repr(value)), "f")
        except (InvalidOperation, OverflowError, ValueError):
            return repr(value)
    text = str(value)
    return text if text.strip() else None

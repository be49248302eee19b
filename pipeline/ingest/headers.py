"""Map the Chinese headers of a real file onto the fields of SPEC §1.

Headers are compared after folding: NFKC (full-width parentheses and letters become ASCII),
all white space removed, a trailing `(必填)` or `*` marker removed. Unknown columns are kept as
extra columns; a header row is found even below a title row or two.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pipeline.schema import Field

_REQUIRED_MARK = re.compile(r"(\(必填\)|\*|＊)+$")
_SPACE = re.compile(r"\s+")
HEADER_SEARCH_ROWS = 10


def fold_header(header: object) -> str:
    """The comparable form of a header cell."""
    if header is None:
        return ""
    text = unicodedata.normalize("NFKC", str(header))
    text = _SPACE.sub("", text)
    text = text.lstrip("*")
    return _REQUIRED_MARK.sub("", text)


@dataclass(frozen=True)
class HeaderMap:
    """Which column position feeds which field, and what else the file has."""

    field_columns: dict[str, int]
    extra_columns: dict[str, int]
    missing_required: tuple[Field, ...]
    duplicate_fields: tuple[str, ...]  # fields named by more than one column: first one wins


def map_headers(headers: list[object], fields: tuple[Field, ...]) -> HeaderMap:
    """Assign each field the first column whose folded header is one of its aliases."""
    alias_to_field: dict[str, str] = {}
    for field in fields:
        for alias in field.headers:
            alias_to_field.setdefault(fold_header(alias), field.name)
    field_columns: dict[str, int] = {}
    extra_columns: dict[str, int] = {}
    duplicates: list[str] = []
    for position, header in enumerate(headers):
        folded = fold_header(header)
        field_name = alias_to_field.get(folded)
        if field_name is None:
            if folded:
                name = f"extra:{folded}"
                if name in extra_columns:
                    name = f"{name}#{position + 1}"
                extra_columns[name] = position
            continue
        if field_name in field_columns:
            duplicates.append(field_name)
            extra_columns[f"extra:{folded}#{position + 1}"] = position
            continue
        field_columns[field_name] = position
    missing = tuple(f for f in fields if f.required and f.name not in field_columns)
    return HeaderMap(field_columns, extra_columns, missing, tuple(duplicates))


def find_header_row(rows: list[list[object]], fields: tuple[Field, ...]) -> int:
    """Index of the row (among the first few) that names the most required fields.

    Spreadsheets often carry a title row ("2024年困难职工档案") above the header. Ties go to
    the earliest row; with no recognisable row, row 0 is the header and the missing-column
    error names what was expected.
    """
    best_index, best_score = 0, -1
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        header_map = map_headers(row, fields)
        score = len(header_map.field_columns) + 10 * sum(
            1 for f in fields if f.required and f.name in header_map.field_columns
        )
        if score > best_score:
            best_index, best_score = index, score
    return best_index

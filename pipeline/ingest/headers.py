"""Find the header of a sheet and map its Chinese headers onto the fields of SPEC §1.

Headers are compared after folding: NFKC (full-width parentheses and letters become ASCII),
all white space removed, a trailing `(必填)` or `*` marker removed. Unknown columns are kept as
extra columns.

Real exports put title rows, a note row ("填报单位：…") and blank rows above the header, and
many use a two-row header whose group cells are merged: `职工基本信息` merged across over
`职工姓名 公民身份号码 …`, while `档案号` and `档案状态` are merged down over both rows. The
header is searched among the first HEADER_SEARCH_ROWS rows as one row or two adjacent rows,
after filling every merged cell from its anchor cell (the workbook's merge list); two rows are
combined per column as "the lower cell if it has text, else the upper one", which also reads a
two-row header whose merges were lost (CSV, ODS, a copy pasted as values).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.schema import Field

_REQUIRED_MARK = re.compile(r"(\(必填\)|\*|＊)+$")
_SPACE = re.compile(r"\s+")
HEADER_SEARCH_ROWS = 15
# A merged range as (first_row, first_col, last_row, last_col), 0-based and inclusive, in the
# coordinates of the sheet's cell grid (row 0 is the sheet's row 1).
Merge = tuple[int, int, int, int]


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


def map_headers(headers: Sequence[object], fields: tuple[Field, ...]) -> HeaderMap:
    """Assign each field the first column whose folded header is one of its aliases."""
    alias_to_field = _aliases(fields)
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


def _aliases(fields: tuple[Field, ...]) -> dict[str, str]:
    """Folded alias → field name (the first field naming an alias keeps it)."""
    alias_to_field: dict[str, str] = {}
    for field in fields:
        for alias in field.headers:
            alias_to_field.setdefault(fold_header(alias), field.name)
    return alias_to_field


@dataclass(frozen=True)
class Header:
    """The header found on a sheet: rows `first_row`..`last_row` (0-based indexes into the
    sheet's grid, inclusive; data start at `last_row + 1`), the header text of each column as
    written (after merges and combining rows) and its mapping onto the fields."""

    first_row: int
    last_row: int
    cells: list[object]
    header_map: HeaderMap

    @property
    def rows(self) -> list[int]:
        """The header's rows as numbered in the file (1-based, as Excel shows them)."""
        return list(range(self.first_row + 1, self.last_row + 2))

    def written(self, position: int) -> str:
        """The header text of a column as written in the file (outer spaces removed)."""
        if position >= len(self.cells) or self.cells[position] is None:
            return ""
        return str(self.cells[position]).strip()


def header_score(header_map: HeaderMap, fields: tuple[Field, ...]) -> tuple[int, int]:
    """(required fields named, all fields named): a header is better the more it names."""
    required = sum(1 for f in fields if f.required and f.name in header_map.field_columns)
    return required, len(header_map.field_columns)


def fill_merged(rows: list[list[object]], merges: Sequence[Merge]) -> list[list[object]]:
    """A copy of `rows` (a list of equally long rows) in which every cell of a merged range
    holds the anchor (top-left) cell's value. Ranges reaching past the rows are clipped."""
    filled = [list(row) for row in rows]
    if not filled:
        return filled
    width = len(filled[0])
    for first_row, first_col, last_row, last_col in merges:
        if first_row >= len(filled) or first_col >= width:
            continue
        anchor = filled[first_row][first_col]
        for r in range(first_row, min(last_row, len(filled) - 1) + 1):
            for c in range(first_col, min(last_col, width - 1) + 1):
                filled[r][c] = anchor
    return filled


def combine_rows(rows: Sequence[Sequence[object]]) -> list[object]:
    """One header from stacked header rows: per column the lowest cell that has text."""
    width = max((len(row) for row in rows), default=0)
    out: list[object] = [None] * width
    for row in rows:
        for position, cell in enumerate(row):
            if fold_header(cell):
                out[position] = cell
    return out


def find_header(rows: list[list[object]], fields: tuple[Field, ...],
                merges: Sequence[Merge] = (), *, search_rows: int = HEADER_SEARCH_ROWS) -> Header:
    """The best header among the first `search_rows` rows: one row, or two adjacent rows.

    Rows are first filled from their merged ranges. Candidates are scored by
    `header_score`; a tie goes to a single row over two, then to the earlier row. The span
    found is widened to the merged ranges that cross it (a row merged down from the row above
    belongs to the header), so data start below the last row any header cell covers.
    With nothing recognisable, row 0 is returned (its map names what is missing)."""
    top = rows[:search_rows + 1]
    filled = fill_merged(top, [m for m in merges if m[0] < len(top)])
    best: tuple[tuple[int, int, int, int], int, int] | None = None
    for index in range(min(search_rows, len(filled))):
        for height in (1, 2):
            if index + height > len(filled):
                continue
            cells = combine_rows(filled[index:index + height])
            required, total = header_score(map_headers(cells, fields), fields)
            key = (required, total, -height, -index)
            if best is None or key > best[0]:
                best = (key, index, index + height - 1)
    if best is None:
        return Header(0, 0, [], map_headers([], fields))
    first, last = _widen_by_merges(best[1], best[2], merges, len(filled))
    cells = combine_rows(filled[first:last + 1])
    return Header(first, last, cells, map_headers(cells, fields))


def _widen_by_merges(first: int, last: int, merges: Sequence[Merge],
                     limit: int) -> tuple[int, int]:
    """Grow [first, last] by every merged range (within the first `limit` rows) crossing it."""
    changed = True
    while changed:
        changed = False
        for top, _, bottom, _ in merges:
            if bottom >= limit or bottom < first or top > last:
                continue
            if top < first or bottom > last:
                first, last = min(first, top), max(last, bottom)
                changed = True
    return first, last


def alias_cells(rows: list[list[object]], fields: tuple[Field, ...]) -> list[tuple[int, int]]:
    """(row, column) of every cell among `rows` whose text is a header of one of `fields`."""
    alias_to_field = _aliases(fields)
    return [(r, c) for r, row in enumerate(rows) for c, cell in enumerate(row)
            if fold_header(cell) in alias_to_field]


def is_field_list(rows: list[list[object]], header: Header, fields: tuple[Field, ...]) -> bool:
    """True when the field names found stand one below the other in one column and no row
    names two of them: a 填表说明 sheet describing the columns (字段 | 填写要求), not data."""
    if len(header.header_map.field_columns) >= 2:
        return False
    cells = alias_cells(rows, fields)
    return len(cells) >= 2 and len({c for _, c in cells}) == 1 and \
        len({r for r, _ in cells}) == len(cells)

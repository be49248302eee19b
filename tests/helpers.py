"""Small builders shared by tests: valid IDs and raw frames as ingest produces them."""

from __future__ import annotations

import pandas as pd

from pipeline.normalise.id_number import check_char
from pipeline.schema import FIELDS, SOURCE_FILE, SOURCE_ROW, Source


def valid_id(first17: str) -> str:
    return first17 + check_char(first17)


def raw_frame(source: Source, rows: list[dict], file: str = "in.csv") -> pd.DataFrame:
    """A frame shaped like `load_source` output: every field column, provenance."""
    frame = pd.DataFrame(rows, dtype=object)
    for field in FIELDS[source]:
        if field.name not in frame.columns:
            frame[field.name] = None
    frame = frame.astype(object).where(frame.notna(), None)
    frame[SOURCE_FILE] = file
    frame[SOURCE_ROW] = pd.Series(range(2, len(rows) + 2), dtype="int64")
    return frame

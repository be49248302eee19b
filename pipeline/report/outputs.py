"""Write a night's output files into a (staging) folder: Parquet, manifest, report, validation.

Parquet is written with zstd compression and rows in a deterministic order, so the same night
on the same inputs gives the same content.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def write_parquet(frame: pd.DataFrame, path: Path,
                  casts: dict[str, pa.DataType] | None = None) -> int:
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    for column, data_type in (casts or {}).items():
        index = table.schema.get_field_index(column)
        table = table.set_column(index, column, table[column].cast(data_type))
    pq.write_table(table, path, compression="zstd")
    return len(frame)


def write_parquet_stream(frames: Iterable[pd.DataFrame], path: Path) -> int:
    """`frames` written to one Parquet file at `path` (zstd), a row group or more each, in
    order, without holding them together: the first frame (empty or not; there must be one)
    fixes the schema, and the others are converted to it (same columns, same dtypes; an
    all-missing text column is text). Read back, the file equals `write_parquet` of the
    frames concatenated. Returns the rows written. ValueError without a frame."""
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    rows = 0
    try:
        for frame in frames:
            frame = frame.reset_index(drop=True)
            if writer is None:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                schema = table.schema
                writer = pq.ParquetWriter(path, schema, compression="zstd")
            else:
                table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
            writer.write_table(table)
            rows += len(frame)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise ValueError("write_parquet_stream needs at least one frame (its schema)")
    return rows


# Findings as analysts want them in pandas, DuckDB or Excel (docs/analysts.md, whose recipes
# tests/test_analyst_recipes.py runs on a sample night):
# - `type` and `status` as categories (dictionary-encoded; DuckDB reads them as VARCHAR);
# - `severity` as an *ordered* category high < medium < low, so pandas sorts it by urgency,
#   and `severity_rank` (int8: 1 high, 2 medium, 3 low) beside it, because DuckDB reads any
#   dictionary column as plain VARCHAR and would sort the text alphabetically (high, low,
#   medium): `ORDER BY severity_rank` there;
# - money (`amount_at_risk_yuan`) as a double: pandas reads float64 and DuckDB DOUBLE, both
#   plain numbers. The amounts are whole yuan (12 × a whole-yuan monthly standard), which a
#   double holds exactly, sums included. A decimal(12,2) would be exact in DuckDB but reaches
#   pandas as Python Decimal objects in an object column (Decimal * float raises, an empty
#   group sums to the int 0), which surprises more than it helps;
# - days as dates (`first_seen`, `as_of`: DATE in DuckDB, datetime.date in pandas), and
#   `reviewed_at` as a timestamp without zone (Asia/Shanghai local time).
FINDING_CATEGORIES = ("type", "status")
FINDING_CASTS = {"first_seen": pa.date32(), "as_of": pa.date32(),
                 "reviewed_at": pa.timestamp("us")}


def write_findings_parquet(findings: pd.DataFrame, path: Path) -> int:
    from pipeline.detect.finding import SEVERITIES, severity_rank

    typed = findings.copy()
    for column in FINDING_CATEGORIES:
        typed[column] = typed[column].astype("category")
    typed["severity_rank"] = severity_rank(typed["severity"])
    typed["severity"] = pd.Categorical(typed["severity"].astype("string"),
                                       categories=list(SEVERITIES), ordered=True)
    typed["amount_at_risk_yuan"] = typed["amount_at_risk_yuan"].astype("float64").round(2)
    casts = {c: t for c, t in FINDING_CASTS.items() if c in typed.columns}
    return write_parquet(typed, path, casts)


def write_json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False,
                               default=str) + "\n", encoding="utf-8")


def write_validation_docs(validation, folder: Path) -> Path:
    """The run's Great Expectations Data Docs in `folder`, opening offline (every asset local;
    see pipeline/validate/docs_assets.py). `validation` is the night's ValidationRun."""
    return validation.build_docs(folder)

"""Write a night's output files into a (staging) folder: Parquet, manifest, report, validation.

Parquet is written with zstd compression and rows in a deterministic order, so the same night
on the same inputs gives the same content.
"""

from __future__ import annotations

import json
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


# Findings as analysts want them in pandas, DuckDB or Excel: codes, severities and statuses as
# categories (dictionary-encoded), money as a decimal, days as dates.
FINDING_CATEGORIES = ("type", "severity", "status")
FINDING_CASTS = {"amount_at_risk_yuan": pa.decimal128(12, 2), "first_seen": pa.date32(),
                 "as_of": pa.date32()}


def write_findings_parquet(findings: pd.DataFrame, path: Path) -> int:
    typed = findings.copy()
    for column in FINDING_CATEGORIES:
        typed[column] = typed[column].astype("category")
    typed["amount_at_risk_yuan"] = typed["amount_at_risk_yuan"].round(2)
    return write_parquet(typed, path, FINDING_CASTS)


def write_json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False,
                               default=str) + "\n", encoding="utf-8")


def write_validation_docs(validation, folder: Path) -> Path:
    """The run's Great Expectations Data Docs in `folder`, opening offline (every asset local;
    see pipeline/validate/docs_assets.py). `validation` is the night's ValidationRun."""
    return validation.build_docs(folder)

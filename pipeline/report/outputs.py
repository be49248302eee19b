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


def write_parquet(frame: pd.DataFrame, path: Path) -> int:
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    pq.write_table(table, path, compression="zstd")
    return len(frame)


def write_json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False,
                               default=str) + "\n", encoding="utf-8")


def write_validation_docs(validation, folder: Path) -> Path:
    """The run's Great Expectations Data Docs in `folder`, opening offline (every asset local;
    see pipeline/validate/docs_assets.py). `validation` is the night's ValidationRun."""
    return validation.build_docs(folder)

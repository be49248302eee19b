"""Write a night's output files into a (staging) folder: Parquet, manifest, report, validation.

Parquet is written with zstd compression and rows in a deterministic order, so the same night
on the same inputs gives the same content.
"""

from __future__ import annotations

import html
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


def _table(rows: list[tuple[object, ...]], header: tuple[str, ...]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .8em}
th{background:#f0f0f0}h1{font-size:1.5em}.bad{color:#b00}.ok{color:#070}"""


def write_report_html(manifest: dict, findings: pd.DataFrame, path: Path) -> None:
    """A self-contained summary for people (no external references, no personal data)."""
    by_type = findings.groupby("type").size().sort_values(ascending=False) if len(findings) else []
    type_rows = [(t, int(n)) for t, n in by_type.items()] if len(findings) else []
    accounting = [(s, v["rows_read"], v["rows_linked"], v["rows_unlinked"], v["rows_quarantined"])
                  for s, v in manifest["accounting"].items()]
    page = f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<title>bidui 比对结果 {html.escape(manifest['as_of'])}</title><style>{_STYLE}</style></head><body>
<h1>困难职工档案与民政救助数据比对 — {html.escape(manifest['as_of'])}</h1>
<h2>各类问题数量</h2>{_table(type_rows, ("问题类型", "数量"))}
<h2>数据核算</h2>{_table(accounting, ("来源", "读入行数", "已关联", "未关联", "隔离"))}
</body></html>"""
    path.write_text(page, encoding="utf-8")


def write_validation_docs(validation, folder: Path) -> Path:
    """The run's Great Expectations Data Docs in `folder`, opening offline (every asset local;
    see pipeline/validate/docs_assets.py). `validation` is the night's ValidationRun."""
    return validation.build_docs(folder)

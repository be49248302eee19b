"""The run manifest (SPEC §3): what was read, how every row was accounted for, what was written.

Pure functions over the night's frames; writing it is the caller's job. The manifest carries
no personal data: paths, hashes, counts, check results and timings only.
"""

from __future__ import annotations

import datetime as dt
from importlib import metadata

import pandas as pd

from pipeline.ingest import FileInfo
from pipeline.schema import SOURCE_FILE, Source

PACKAGES = ("bidui", "pandas", "numpy", "pyarrow", "recordlinkage", "great-expectations",
            "prefect", "python-calamine", "opencc", "pypinyin", "python-stdnum")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def account_rows(files: list[FileInfo], usable: pd.DataFrame, quarantined: pd.DataFrame,
                 linked_keys: set[str], usable_per_file: dict[str, int] | None = None
                 ) -> list[dict]:
    """One manifest entry per input file: what it is, every sheet read or skipped (and why),
    and its rows: read = linked + unlinked + quarantined + non-data, `balanced` if that holds.

    `usable_per_file` (path → count): the usable rows per file when `usable` holds only some
    of them (at least the linked ones: the civil side after a Dask night's linkage).
    `sheet` and `header_row` are those of the first sheet read (kept for older readers);
    `sheets` lists them all. Blank rows are counted apart, outside the accounting."""
    usable_counts = usable.groupby(usable[SOURCE_FILE].astype(str)).size().to_dict() \
        if usable_per_file is None else usable_per_file
    linked = usable[usable["row_key"].isin(linked_keys)]
    linked_counts = linked.groupby(linked[SOURCE_FILE].astype(str)).size()
    quarantined_counts = quarantined.groupby(quarantined[SOURCE_FILE].astype(str)).size()
    return account_counts(files, usable_counts, linked_counts.to_dict(),
                          quarantined_counts.to_dict())


def account_counts(files: list[FileInfo], usable: dict[str, int], linked: dict[str, int],
                   quarantined: dict[str, int]) -> list[dict]:
    """`account_rows` from counts per file path (usable rows, linked rows among them,
    quarantined rows), as a streamed input (the roster) counts them chunk by chunk."""
    out = []
    for info in files:
        n_linked = int(linked.get(info.path, 0))
        quarantine_count = int(quarantined.get(info.path, 0))
        unlinked = int(usable.get(info.path, 0)) - n_linked
        out.append({
            "source": info.source, "path": info.path, "sha256": info.sha256,
            "size_bytes": info.size_bytes, "format": info.format, "encoding": info.encoding,
            "sheet": info.sheet, "header_row": info.header_row,
            "sheets": [sheet.manifest() for sheet in info.sheets],
            "rows_read": info.rows_read,
            "rows_linked": n_linked, "rows_unlinked": unlinked,
            "rows_quarantined": quarantine_count,
            "rows_non_data": info.rows_non_data, "non_data": dict(info.non_data),
            "blank_rows_skipped": info.blank_rows_skipped,
            "extra_columns": info.extra_columns, "duplicate_columns": info.duplicate_columns,
            "balanced": info.rows_read == n_linked + unlinked + quarantine_count
            + info.rows_non_data,
        })
    return out


COUNTS = ("rows_read", "rows_linked", "rows_unlinked", "rows_quarantined", "rows_non_data")


def totals_by_source(inputs: list[dict]) -> dict[str, dict]:
    """Per source: the files' counts added up (non-data rows by kind too), and whether rows
    read = linked + unlinked + quarantined + non-data."""
    totals: dict[str, dict] = {}
    for source in Source:
        rows = [i for i in inputs if i["source"] == source.value]
        if not rows:
            continue
        total: dict = {k: sum(int(r.get(k, 0)) for r in rows) for k in COUNTS}
        non_data: dict[str, int] = {}
        for row in rows:
            for kind, count in (row.get("non_data") or {}).items():
                non_data[kind] = non_data.get(kind, 0) + int(count)
        total["non_data"] = non_data
        total["balanced"] = total["rows_read"] == (
            total["rows_linked"] + total["rows_unlinked"] + total["rows_quarantined"]
            + total["rows_non_data"])
        totals[source.value] = total
    return totals


def build_manifest(*, as_of: dt.date, inputs: list[dict], outputs: dict[str, int],
                   timings: dict[str, float], config_hash: str, linking: dict,
                   findings: dict[str, int]) -> dict:
    """The manifest without its `validation` key, which the report stage adds once the output
    suites have run and the Data Docs are built."""
    return {
        "tool": "bidui",
        "as_of": as_of.isoformat(),
        "inputs": inputs,
        "accounting": totals_by_source(inputs),
        "outputs": {name: {"rows": rows} for name, rows in sorted(outputs.items())},
        "linking": linking,
        "findings_by_type": findings,
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
        "packages": package_versions(),
        "config_hash": config_hash,
    }

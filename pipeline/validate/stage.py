"""What the validate and report stages call: which suite runs on which frame, and the gates.

Input suites (validate stage, before detection and publishing) run on a *validation view* per
source: one row per row read (quarantined rows included), the required fields as filed (text,
spaces trimmed, as the linker sees keys), the typed fields from normalisation (dates,
household sizes, amounts, vocabularies) and each row's provenance (source_file, source_sheet,
source_row), so the Data Docs can say where a failing value is. Each input suite also gets the
input's *labels* (`input_labels`): the headers as the files write them and the files' names,
which the Data Docs show instead of internal field names. With `--state` and a last good night, the
`night_over_night` suite runs on one row per source (rows tonight / then, same bytes or not).
Output suites (report stage) run on the frames about to be published and on the manifest's
accounting. See expectations/README.md.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.normalise.sources import ISSUES
from pipeline.schema import (
    FIELDS,
    SOURCE_FILE,
    SOURCE_LABELS,
    SOURCE_NAMES,
    SOURCE_ROW,
    SOURCE_SHEET,
    Source,
)
from pipeline.validate import INPUT_SUITES
from pipeline.validate.runner import Failure, ValidationRun, raise_on_critical
from pipeline.validate.sentences import UNREADABLE_COLUMN, file_names

NIGHT_OVER_NIGHT = "night_over_night"
OUTPUT_SUITES = ("links", "discrepancies", "manifest")
# What the output suites check, as the Data Docs name it.
OUTPUT_LABELS = {"links": {"input": "输出 links.parquet", "files": ["links.parquet"]},
                 "discrepancies": {"input": "输出 discrepancies.parquet",
                                   "files": ["discrepancies.parquet"]},
                 "manifest": {"input": "输出 manifest.json 的行数核对",
                              "files": ["manifest.json"]},
                 NIGHT_OVER_NIGHT: {"input": "今晚与上一个正常夜晚的输入文件对比"}}
# Why night over night did not run: (manifest, Data Docs).
NO_STATE = ("no --state given: row-drop and stale-feed checks need the last good night",
            "没有给出 --state：行数骤减和数据未更新两项检查需要上一个正常夜晚的记录")
NO_GOOD_NIGHT = ("no good night recorded in --state yet",
                 "--state 中还没有正常夜晚的记录")

# Typed columns taken from the normalised frame (not required fields, which stay as filed).
UNREADABLE = UNREADABLE_COLUMN  # the view's column of fields filed but not understood
TYPED = {
    Source.UNION: ("employer_uscc", "birth_date", "filed_date", "household_size",
                   "claimed_assistance", "income_per_capita"),
    Source.CIVIL: ("approved_date", "deceased_date", "household_size", "covered_size",
                   "monthly_benefit"),
    Source.MEMBERS: ("join_date",),
}


def input_labels(source: Source, files: list) -> dict:
    """What the Data Docs show for an input: its name, its files' names and, per field, the
    header as the files write it (several, joined with ／, when files or sheets differ; the
    canonical header for a field no file has). `files` are ingest's `FileInfo`s."""
    columns = {}
    for spec in FIELDS[source]:
        written: list[str] = []
        for info in files:
            sheets = [s for s in getattr(info, "sheets", []) or [] if s.status == "read"]
            for header in [s.headers.get(spec.name) for s in sheets] or [
                    (getattr(info, "headers", None) or {}).get(spec.name)]:
                if header and str(header).strip() and str(header).strip() not in written:
                    written.append(str(header).strip())
        columns[spec.name] = "／".join(written) if written else spec.canonical_header
    columns[UNREADABLE] = "不能识别的字段"
    return {"input": SOURCE_NAMES[source], "files": file_names(info.path for info in files),
            "columns": columns}


def input_view(raw: pd.DataFrame, typed: pd.DataFrame, source: Source) -> pd.DataFrame:
    """One row per row read: required fields as filed (text), typed fields from normalisation
    (missing for quarantined rows), and where the row is (source_file, source_sheet,
    source_row)."""
    from pipeline.normalise.vocab import clean_text, map_unique

    view = pd.DataFrame(index=raw.index)
    for spec in FIELDS[source]:
        if spec.required:
            view[spec.name] = pd.Series(map_unique(raw[spec.name], clean_text,
                                                   identity_when_clean=True),
                                        index=raw.index, dtype="string")
    # A row is (file, sheet, row): one file's sheets share row numbers.
    keys = pd.MultiIndex.from_arrays([raw[SOURCE_FILE].astype(str), _sheet_key(raw),
                                      raw[SOURCE_ROW]])
    by_key = typed.set_index([typed[SOURCE_FILE].astype(str), _sheet_key(typed),
                              typed[SOURCE_ROW]])
    for column in TYPED[source]:
        if column in by_key.columns:
            view[column] = by_key[column].reindex(keys).to_numpy()
            view[column] = view[column].astype(by_key[column].dtype)
    view[UNREADABLE] = _unreadable(by_key, keys, source)
    view[SOURCE_FILE] = raw[SOURCE_FILE].astype("string") if SOURCE_FILE in raw.columns \
        else pd.Series(pd.NA, index=raw.index, dtype="string")
    sheets = _sheet_key(raw)
    view[SOURCE_SHEET] = sheets.where(sheets != "", None).astype("string")
    view[SOURCE_ROW] = raw[SOURCE_ROW].astype("Int64") if SOURCE_ROW in raw.columns \
        else pd.Series(pd.NA, index=raw.index, dtype="Int64")
    return view.reset_index(drop=True)


def _unreadable(by_key: pd.DataFrame, keys: pd.MultiIndex, source: Source) -> np.ndarray:
    """Per row read, the fields whose value was filed but not understood (a name in 出生日期,
    a word in 家庭人口: blank for the typed checks, which then pass), by their canonical
    Chinese headers joined with 、; "" when every value was understood; missing for a
    quarantined row. What the `values_understood` check of each input suite reads, so the
    Data Docs count and show these rows (each value is in field_issues.parquet)."""
    known = keys.isin(by_key.index)  # False: quarantined (not typed)
    out = np.where(known, "", None).astype(object)
    if ISSUES not in by_key.columns:
        return out
    headers = {f.name: f.canonical_header for f in FIELDS[source]}
    issues = by_key[ISSUES].reindex(keys)
    for at in np.flatnonzero(issues.notna().to_numpy()):
        out[at] = "、".join(headers.get(name, name) for name in str(issues.iloc[at]).split(";"))
    return out


def _sheet_key(frame: pd.DataFrame) -> pd.Series:
    """The sheet of each row as text ("" for CSV and Parquet rows, or no sheet column)."""
    if SOURCE_SHEET not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    sheets = frame[SOURCE_SHEET].astype(object)
    missing = sheets.isna()
    if missing.all():
        return pd.Series("", index=frame.index, dtype=object)
    return sheets.where(~missing, "").astype(str)


def night_over_night_frame(loaded: dict, last_good: dict) -> pd.DataFrame:
    """One row per source read tonight and on the last good night: counts and hashes only."""
    rows = []
    before = {s: [i for i in last_good.get("inputs", []) if i.get("source") == s]
              for s in {i.get("source") for i in last_good.get("inputs", [])}}
    for source, item in loaded.items():
        then = before.get(source.value)
        if not then:
            continue
        rows_now = sum(f.rows_read for f in item.files)
        rows_then = last_good.get("accounting", {}).get(source.value, {}).get(
            "rows_read", sum(int(i.get("rows_read", 0)) for i in then))
        same = sorted(f.sha256 for f in item.files) == sorted(i.get("sha256") for i in then)
        rows.append({"source": source.value, "rows_read": rows_now,
                     "last_rows_read": int(rows_then),
                     "row_ratio": rows_now / rows_then if rows_then else 1.0,
                     "same_bytes_as_last_night": same})
    return pd.DataFrame(rows, columns=["source", "rows_read", "last_rows_read", "row_ratio",
                                       "same_bytes_as_last_night"])


def validate_inputs(loaded: dict, normalised: dict, as_of: dt.date, config: dict,
                    state_dir: Path | None = None, streamed_later: bool = False,
                    workdir: Path | None = None) -> ValidationRun:
    """The validate stage: input suites, then night over night; GateError on a critical
    failure (nothing is published). `streamed_later`: a source is still to be streamed (the
    roster): night over night runs after it (`night_over_night`, from the roster stage), so
    it compares every input. `workdir`: the folder for the temporary GX project
    (`ValidationRun`) and a chunked suite's hashes. A source read in chunks on a Dask cluster
    (`civil.on_dask.CivilChunks`) is validated there, chunk by chunk, and merged."""
    run = ValidationRun(config, as_of, workdir=workdir)
    try:
        for source, item in loaded.items():
            labels = input_labels(source, item.files)
            in_chunks = getattr(item, "validate_in_chunks", None)  # on a Dask cluster
            if in_chunks is not None:
                in_chunks(run, INPUT_SUITES[source], labels, workdir)
                continue
            view = input_view(item.frame, normalised[source].frame, source)
            run.run_suite(INPUT_SUITES[source], view, labels=labels)
        if not streamed_later:
            night_over_night(run, loaded, state_dir)
    except BaseException:
        run.close()
        raise
    raise_on_critical(run, lambda f: describe(f, run), "inputs")
    return run


def night_over_night(run: ValidationRun, loaded: dict, state_dir: Path | None) -> None:
    """The night-over-night suite on every input read tonight (`loaded`: source → anything
    with `.files`), against the last good night in state_dir; skipped, with the reason, when
    there is none. A critical failure is left for the caller's `raise_on_critical`."""
    last_good = None
    if state_dir is None:
        run.skipped[NIGHT_OVER_NIGHT], run.skipped_zh[NIGHT_OVER_NIGHT] = NO_STATE
    else:
        from pipeline.state import StateStore

        last_good = StateStore(Path(state_dir)).last_good_manifest()
        if last_good is None:
            run.skipped[NIGHT_OVER_NIGHT], run.skipped_zh[NIGHT_OVER_NIGHT] = NO_GOOD_NIGHT
    if last_good is not None:
        feeds = night_over_night_frame(loaded, last_good)
        run.run_suite(NIGHT_OVER_NIGHT, feeds, labels=OUTPUT_LABELS[NIGHT_OVER_NIGHT])
        run.feeds = feeds
        run.last_good_as_of = last_good.get("as_of", "the last good night")


def outputs_frames(links: pd.DataFrame, findings: pd.DataFrame,
                   manifest: dict) -> dict[str, pd.DataFrame]:
    rows = []
    for level, items in (("file", manifest["inputs"]),
                         ("source", [{"source": s, "path": "", **v}
                                     for s, v in manifest["accounting"].items()])):
        for item in items:
            rows.append({"level": level, "source": item["source"], "path": item["path"],
                         "rows_read": item["rows_read"], "rows_linked": item["rows_linked"],
                         "rows_unlinked": item["rows_unlinked"],
                         "rows_quarantined": item["rows_quarantined"],
                         "rows_non_data": item.get("rows_non_data", 0)})
    accounting = pd.DataFrame(rows, columns=["level", "source", "path", "rows_read",
                                             "rows_linked", "rows_unlinked",
                                             "rows_quarantined", "rows_non_data"])
    # Footers and template rows were read but are no data: they close the accounting.
    accounting["rows_accounted"] = (accounting["rows_linked"] + accounting["rows_unlinked"]
                                    + accounting["rows_quarantined"]
                                    + accounting["rows_non_data"])
    return {"links": links, "discrepancies": findings, "manifest": accounting}


def validate_outputs(run: ValidationRun, links: pd.DataFrame, findings: pd.DataFrame,
                     manifest: dict) -> None:
    """The report stage's output suites; GateError (nothing published) on a critical one."""
    try:
        for name, frame in outputs_frames(links, findings, manifest).items():
            run.run_suite(name, frame, labels=OUTPUT_LABELS.get(name))
    except BaseException:
        run.close()
        raise
    raise_on_critical(run, lambda f: describe(f, run), "outputs")


# -- messages (no personal data: sources, column headers, counts) --------------------------------

_SUITE_SOURCE = {v: k for k, v in INPUT_SUITES.items()}


def _header(source: Source, column: str | None) -> str:
    for spec in FIELDS[source]:
        if spec.name == column:
            return f"'{spec.canonical_header}'"
    return f"'{column}'"


ROWS_NAMED = 5  # failing rows a gate message names (file, sheet, row: never values)


def describe(failure: Failure, run: ValidationRun) -> str:
    """One clause for the gate message: which input, which column, what is wrong, and, for a
    check with failing rows, where the first `ROWS_NAMED` are (file, sheet, row)."""
    return _what(failure, run) + _where(failure, run)


def _where(failure: Failure, run: ValidationRun) -> str:
    at = run.failing_at.get((failure.suite, failure.check)) or []
    if not at:
        return ""
    from pipeline.validate.sentences import NO_SHEET

    shown = ", ".join(f"{file}{'' if sheet in ('', NO_SHEET) else ' › ' + sheet} row {row}"
                      for file, sheet, row in at[:ROWS_NAMED])
    more = ", …" if (failure.unexpected_count or 0) > len(at[:ROWS_NAMED]) else ""
    return f" [rows: {shown}{more}]"


def _what(failure: Failure, run: ValidationRun) -> str:
    source = _SUITE_SOURCE.get(failure.suite)
    label = SOURCE_LABELS[source] if source else failure.suite
    count = f"{failure.unexpected_count} of {failure.element_count} rows" \
        if failure.unexpected_count is not None else ""
    if failure.check.startswith("required_filled:") and source:
        return (f"{label}: the required column {_header(source, failure.column)} is present "
                f"but entirely empty (check {failure.check})")
    if failure.check == "rows_present":
        return f"{label}: the file has no data rows (check rows_present)"
    if failure.check == "person_key_unique":
        return (f"{label}: {count} share a (家庭编号, 成员序号) person key, so links would be "
                f"ambiguous (check person_key_unique)")
    if failure.check == "row_count_not_halved":
        feeds = getattr(run, "feeds", None)
        parts = []
        minimum = float(run.settings.parameters.get("min_row_ratio", 0.5))
        if feeds is not None:
            for row in feeds.itertuples():
                if row.row_ratio < minimum:
                    parts.append(f"{SOURCE_LABELS[Source(row.source)]} has {row.rows_read} rows "
                                 f"tonight against {row.last_rows_read} on the last good night "
                                 f"({run.last_good_as_of})")
        detail = "; ".join(parts) or count
        return (f"an input shrank to fewer than {minimum:.0%} of the rows of the last good night, "
                f"a truncated or partial export: {detail} (check row_count_not_halved)")
    error = f", the check itself failed: {failure.error}" if failure.error else ""
    return f"{label}: check {failure.check} on {failure.column or 'the table'} failed " \
           f"({count}{error})"


def markdown_summary(summary: dict) -> str:
    """The Prefect artifact: per suite success and counts, failed checks with severity."""
    lines = [f"# bidui validation — {summary.get('run_name', '')}", "",
             f"**{'passed' if summary['success'] else 'FAILED'}** — "
             f"{summary['critical_failed']} critical failed, {summary['warnings']} warnings", "",
             "| suite | success | rows | expectations | failed |", "|---|---|---|---|---|"]
    for name, suite in summary["suites"].items():
        lines.append(f"| {name} | {'✅' if suite['success'] else '❌'} | {suite['rows']} | "
                     f"{suite['evaluated']} | {suite['unsuccessful']} |")
    failed = [f for s in summary["suites"].values() for f in s["failed"]]
    if failed:
        lines += ["", "| suite | check | severity | unexpected | of |", "|---|---|---|---|---|"]
        lines += [f"| {f['suite']} | {f['check']} | {f['severity']} | "
                  f"{'' if f['unexpected_count'] is None else f['unexpected_count']} | "
                  f"{'' if f['element_count'] is None else f['element_count']} |"
                  for f in failed]
    for name, reason in summary.get("skipped", {}).items():
        lines.append(f"\n_{name} skipped: {reason}_")
    return "\n".join(lines) + "\n"

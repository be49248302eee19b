"""Normalise each source's rows by a declarative plan, and quarantine the rows that cannot be used.

A plan says which kind of normaliser each field gets; quarantine rules say when a row is
unusable and why (in Chinese, with the fix, for the data steward). Every row ends up either in
the normalised frame or in quarantine, never nowhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipeline.normalise.field_issues import (
    NUMBER_PROBLEMS,
    field_issue_rows,
    number_rows,
    shared_number_rows,
)
from pipeline.normalise.fields import KINDS, Normalised, id_column
from pipeline.normalise.shared_ids import mark_shared, shared_id_rows
from pipeline.schema import FIELDS, SOURCE_FILE, SOURCE_ROW, SOURCE_SHEET, Source

if TYPE_CHECKING:
    from pipeline.link.remote import RemoteChunks, RemoteFrame

PLANS: dict[Source, dict[str, str]] = {
    Source.UNION: {
        "roll_id": "key", "name": "name", "sex": "sex", "birth_date": "date", "phone": "phone",
        "employer": "text", "employer_uscc": "uscc", "district": "district", "street": "text",
        "address": "text", "household_size": "int", "income_per_capita": "money",
        "category": "category", "cause": "text", "claimed_assistance": "assistance",
        "filed_date": "date", "roll_status": "roll_status", "exit_date": "date",
        "filing_union": "text",
    },
    Source.CIVIL: {
        "case_id": "key", "member_no": "key", "name": "name", "relation": "relation",
        "assistance_type": "assistance", "district_code": "district", "street": "text",
        "address": "text", "household_size": "int", "covered_size": "int",
        "monthly_benefit": "money", "approved_date": "date", "case_status": "case_status",
        "exit_date": "date", "person_status": "person_status", "deceased_date": "date",
    },
    Source.MEMBERS: {
        "member_id": "key", "name": "name", "employer": "text", "grassroots_union": "text",
        "district": "district", "join_date": "date",
    },
}


@dataclass(frozen=True)
class QuarantineRule:
    code: str
    reason: str  # Chinese, for the data steward: what is wrong and what to do
    applies: Callable[[pd.DataFrame], pd.Series]


def _blank(column: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda frame: frame[column].isna()


MAX_CELL_CHARS = 1000  # no field of SPEC §1 is near this; longer is a broken or hostile row


def _too_long(frame: pd.DataFrame) -> pd.Series:
    """Any raw text cell longer than MAX_CELL_CHARS (checked on the raw values)."""
    return frame["_max_cell_chars"] > MAX_CELL_CHARS


def _no_name_no_id(frame: pd.DataFrame) -> pd.Series:
    """No name, and no ID number or only a placeholder typed for an unknown one."""
    return frame["name"].isna() & (frame["id_missing"] | frame["id_placeholder"])


NO_NAME_NO_ID = QuarantineRule(
    "no_name_no_id", "姓名为空，身份证号也为空或为占位号码（如全为 1 或 0），无法识别此人："
    "请补填姓名和真实身份证号后重新报送", _no_name_no_id)
TOO_LONG = QuarantineRule(
    "value_too_long", f"某个单元格超过 {MAX_CELL_CHARS} 个字符，疑为损坏或异常数据：请检查该行",
    _too_long)

QUARANTINE_RULES: dict[Source, tuple[QuarantineRule, ...]] = {
    Source.UNION: (
        TOO_LONG,
        QuarantineRule("missing_roll_id", "档案编号为空，无法引用此档案：请补填档案编号",
                       _blank("roll_id")),
        NO_NAME_NO_ID,
        QuarantineRule("bad_roll_status", "档案状态为空或无法识别（应为 在档/已脱困）：请更正",
                       _blank("roll_status")),
    ),
    Source.CIVIL: (
        TOO_LONG,
        QuarantineRule("missing_case_id", "家庭编号为空：请补填家庭编号", _blank("case_id")),
        QuarantineRule("missing_member_no", "成员序号为空：请补填成员序号", _blank("member_no")),
        NO_NAME_NO_ID,
        QuarantineRule("bad_assistance_type",
                       "救助类别为空或无法识别（应为 低保/低收入/特困）：请更正",
                       _blank("assistance_type")),
        QuarantineRule("bad_case_status", "保障状态为空或无法识别（应为 在保/停保/退出）：请更正",
                       _blank("case_status")),
    ),
    Source.MEMBERS: (
        TOO_LONG,
        QuarantineRule("missing_member_id", "会员编号为空：请补填会员编号", _blank("member_id")),
        NO_NAME_NO_ID,
    ),
}

ROW_KEY = "row_key"
ISSUES = "field_issues"
REASON = "reason"
REASON_CODE = "reason_code"


@dataclass
class NormalisedSource:
    source: Source
    # usable rows, typed; on a Dask cluster, the civil side's stay on the workers in chunks
    # (`link.remote.RemoteChunks`) and, after the linkage, only the linked ones are here
    frame: pd.DataFrame | RemoteChunks
    quarantine: pd.DataFrame  # unusable rows: provenance, reason, raw values as text
    # values present but not understood, one row each (field_issues.COLUMNS)
    field_issues: pd.DataFrame | None = None
    # The linking features of `frame`, row for row (`link.features.person_features`), when
    # they were built where the rows were (the civil side's chunks on the Dask workers,
    # where they stay: a `link.remote.RemoteFrame`); None: built from `frame` by the stage
    # that links.
    features: pd.DataFrame | RemoteFrame | None = None
    # Usable rows per source file (path → count) when `frame` holds only some of them (the
    # linked rows, `stages.linked_civil_rows`); None: `frame` holds them all.
    usable_per_file: dict[str, int] | None = None


def normalise_source(raw: pd.DataFrame, source: Source,
                     as_of: dt.date | None = None, first_row: int = 0) -> NormalisedSource:
    """Typed, normalised columns for every row, then split off the unusable rows.

    `first_row`: the position of raw's first row in the whole source, when raw is one chunk
    of it (the streamed roster): row keys stay unique over the source. Numbers shared by
    different people (`shared_ids.mark_shared`) are found within the frame given; for a file
    in chunks, `prepare_source` each chunk, decide over all of them (`shared_ids`), and
    `finish_source` each with its rows to mark."""
    prepared = prepare_source(raw, source, as_of, first_row)
    return finish_source(prepared, shared_id_rows(prepared.frame))


@dataclass
class Prepared:
    """A frame normalised up to the shared numbers (`prepare_source`): the raw rows, the typed
    columns (ID fields not yet marked, birth date and sex not yet filled from the ID) and each
    field's cells not understood."""

    source: Source
    raw: pd.DataFrame
    frame: pd.DataFrame
    issues: list[tuple[str, pd.Series]]


def prepare_source(raw: pd.DataFrame, source: Source, as_of: dt.date | None = None,
                   first_row: int = 0) -> Prepared:
    """The first half of `normalise_source`: every column typed, nothing depending on other
    rows. `prepared.frame` is what `shared_ids.shared_id_rows` (or, over chunks,
    `number_hashes` and `people`) reads."""
    prefix = source.value[0].upper()
    index = raw.index
    columns: dict[str, pd.Series] = {
        ROW_KEY: pd.Series([f"{prefix}{i}" for i in range(first_row, first_row + len(raw))],
                           index=index,
                           dtype="string"),
        SOURCE_FILE: raw[SOURCE_FILE].astype("string"),
        SOURCE_SHEET: _sheets(raw),
        SOURCE_ROW: raw[SOURCE_ROW].astype("int64"),
    }
    issues: list[tuple[str, pd.Series]] = []
    for field, kind in PLANS[source].items():
        result: Normalised = KINDS[kind](field, raw[field])
        columns.update(result.columns)
        issues.append((field, result.not_understood))
    ids = id_column("id_number", raw["id_number"], as_of)
    columns.update(ids.columns)
    # a number of no ID's shape (a name, a note, digits missing): no one's evidence, and the
    # steward's to fix; the other problems (check digit, Excel damage, placeholders) are
    # the findings' (INVALID_ID) and the shared numbers' own rows
    issues.append(("id_number", ids.columns["id_problem"] == "format"))
    frame = pd.DataFrame(columns, index=index)
    frame["_max_cell_chars"] = _max_cell_chars(raw, source)
    frame[ISSUES] = _join_issues(issues, index)
    return Prepared(source, raw, frame, issues)


NUMBER_FIELDS = ("name", "birth_date")  # what deciding a shared number reads, with the ID


def number_frame(raw: pd.DataFrame, source: Source, as_of: dt.date | None = None
                 ) -> pd.DataFrame:
    """Only the columns `shared_ids` reads, typed as `prepare_source` types them: the file
    (`source_file`), `name` and, where the source states one, `birth_date` (the plan's
    normalisers), `id_norm` and `id_placeholder` (`fields.id_column`); same index as raw.
    For a first read of a large file that looks only for shared numbers
    (`pipeline.roster.shared_numbers`): about a third of `prepare_source`'s work."""
    columns: dict[str, pd.Series] = {SOURCE_FILE: raw[SOURCE_FILE].astype("string")}
    for field in NUMBER_FIELDS:
        if field in PLANS[source]:
            columns[field] = KINDS[PLANS[source][field]](field, raw[field]).columns[field]
    ids = id_column("id_number", raw["id_number"], as_of).columns
    columns.update({name: ids[name] for name in ("id_norm", "id_placeholder")})
    return pd.DataFrame(columns, index=raw.index)


def finish_source(prepared: Prepared, shared: np.ndarray) -> NormalisedSource:
    """The second half of `normalise_source`: the rows in `shared` (n-long bool) marked as
    carrying a shared number, the birth date and sex filled from the ID, the extra columns
    added, and the unusable rows split off. `prepared.frame` is changed in place."""
    raw, frame, source = prepared.raw, prepared.frame, prepared.source
    index = raw.index
    mark_shared(frame, shared)  # before the birth date and sex are taken from the ID
    _fill_from_id(frame)
    frame = pd.concat([frame, raw[[c for c in raw.columns if c.startswith("extra:")]]], axis=1)

    reason_code = pd.Series(pd.NA, index=index, dtype="string")
    reason = pd.Series(pd.NA, index=index, dtype="string")
    for rule in QUARANTINE_RULES[source]:
        hit = rule.applies(frame).fillna(False).astype(bool) & reason_code.isna()
        reason_code = reason_code.mask(hit, rule.code)
        reason = reason.mask(hit, rule.reason)
    bad = reason_code.notna()
    quarantine = _quarantine_frame(raw[bad], reason_code[bad], reason[bad], source)
    frame = frame.drop(columns="_max_cell_chars")
    # Issues of the rows used only: a quarantined row is listed, whole, in the quarantine
    # (so the field issues, the Data Docs' count of values not understood and the report's
    # agree, and a shifted row's cells are not spread over the shared file).
    used = ~bad.to_numpy(dtype=bool)
    issues = field_issue_rows(raw, source, PLANS[source],
                              [(field, mask & used) for field, mask in prepared.issues])
    shared_used = np.asarray(shared, dtype=bool) & used
    if shared_used.any():  # after the plan's fields, by row: the steward's rows to check
        issues = pd.concat([issues, shared_number_rows(raw, source, shared_used)],
                           ignore_index=True)
    if source != Source.UNION:  # the roll's are INVALID_ID findings (`excel_damage` …)
        unshared_used = used & ~np.asarray(shared, dtype=bool)
        for problem, why in NUMBER_PROBLEMS.items():
            hit = (prepared.frame["id_problem"] == problem).fillna(False).to_numpy(
                dtype=bool) & unshared_used
            if hit.any():
                issues = pd.concat([issues, number_rows(raw, source, hit, why)],
                                   ignore_index=True)
    return NormalisedSource(source, frame[~bad].reset_index(drop=True),
                            quarantine.reset_index(drop=True), issues)


def _sheets(raw: pd.DataFrame) -> pd.Series:
    """Each row's workbook sheet (string dtype; <NA> for CSV rows or frames without one)."""
    if SOURCE_SHEET in raw.columns:
        return raw[SOURCE_SHEET].astype("string")
    return pd.Series(pd.NA, index=raw.index, dtype="string")


def _max_cell_chars(raw: pd.DataFrame, source: Source) -> pd.Series:
    lengths = [_text_lengths(raw[f.name]) for f in FIELDS[source]]
    return pd.concat(lengths, axis=1).max(axis=1) if lengths else pd.Series(0, index=raw.index)


def _text_lengths(values: pd.Series) -> pd.Series:
    """Characters of each text cell; 0 for other cells (numbers, dates, blanks)."""
    try:
        lengths = values.str.len()
    except AttributeError:  # no text cell in the column
        return pd.Series(0, index=values.index, dtype="int64")
    return pd.Series(pd.to_numeric(lengths, errors="coerce").fillna(0).to_numpy(dtype="int64"),
                     index=values.index)


def _join_issues(issues: list[tuple[str, pd.Series]], index: pd.Index) -> pd.Series:
    """`field_issues`: the fields whose non-blank value was not understood, `;`-joined."""
    joined = pd.Series("", index=index, dtype="string")
    for field, mask in issues:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            joined = joined.mask(mask, joined + field + ";")
    return joined.str.rstrip(";").replace("", pd.NA)


def _fill_from_id(frame: pd.DataFrame) -> None:
    """Birth date and sex: the stated value, else the one derived from the ID number.

    `birth_date_source` says which ('stated' / 'id'), so the linker never counts the ID's
    birth digits twice (once in the ID comparison, once as the birth date)."""
    stated = frame["birth_date"] if "birth_date" in frame.columns else pd.Series(
        pd.NaT, index=frame.index, dtype="datetime64[ns]")
    frame["birth_date_source"] = pd.Series(
        pd.NA, index=frame.index, dtype="string").mask(frame["id_birth_date"].notna(), "id") \
        .mask(stated.notna(), "stated")
    frame["birth_date"] = stated.fillna(frame["id_birth_date"])
    if "sex" in frame.columns:
        frame["sex"] = frame["sex"].fillna(frame["id_sex"])
    else:
        frame["sex"] = frame["id_sex"]


def _quarantine_frame(raw: pd.DataFrame, codes: pd.Series, reasons: pd.Series,
                      source: Source) -> pd.DataFrame:
    """Provenance, reason and every raw value as text (`raw_<field>`), for the steward."""
    out = pd.DataFrame({
        "source": pd.Series(source.value, index=raw.index, dtype="string"),
        SOURCE_FILE: raw[SOURCE_FILE].astype("string"),
        SOURCE_SHEET: _sheets(raw),
        SOURCE_ROW: raw[SOURCE_ROW].astype("int64"),
        REASON_CODE: codes,
        REASON: reasons,
    })
    for field in FIELDS[source]:
        out[f"raw_{field.name}"] = raw[field.name].map(_as_text).astype("string")
    return out


def _as_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS] + "…(truncated)"

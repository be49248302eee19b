"""Input checks and the gates built on them.

Each check is a small function over an ingested frame returning a `CheckResult`. A `critical`
failure stops the night before anything is published (GateError, with what to fix); a
`warning` is published in the manifest and the validation docs. The Great Expectations suites
of `expectations/` take these over as they land; the gate semantics stay here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from pipeline.errors import GateError
from pipeline.schema import FIELDS, SOURCE_LABELS, Source

CRITICAL = "critical"
WARNING = "warning"


@dataclass(frozen=True)
class CheckResult:
    source: str
    check: str
    severity: str
    passed: bool
    detail: str  # no personal data: counts, column names, row numbers only

    def as_dict(self) -> dict:
        return asdict(self)


def required_columns_not_empty(frame: pd.DataFrame, source: Source) -> list[CheckResult]:
    """A required column that is present but entirely blank is a broken export."""
    results = []
    for field in FIELDS[source]:
        if not field.required:
            continue
        filled = int(frame[field.name].notna().sum()) if len(frame) else 0
        passed = len(frame) == 0 or filled > 0
        results.append(CheckResult(
            source.value, f"required_column_filled:{field.name}", CRITICAL, passed,
            f"column '{field.canonical_header}': {filled} of {len(frame)} rows filled"))
    return results


def civil_person_key_unique(frame: pd.DataFrame) -> CheckResult:
    """(家庭编号, 成员序号) identifies a civil person; duplicates make links ambiguous."""
    keys = frame[["case_id", "member_no"]].dropna()
    dup = keys.duplicated(keep=False)
    rows = frame.loc[keys.index[dup], "source_row"].head(5).tolist()
    return CheckResult(Source.CIVIL.value, "person_key_unique", CRITICAL, not dup.any(),
                       f"{int(dup.sum())} rows share a (家庭编号, 成员序号); first rows: {rows}")


def roll_id_unique(frame: pd.DataFrame) -> CheckResult:
    """Roll ids should be unique as filed; duplicates are reported, not dropped (SPEC §1.1)."""
    ids = frame["roll_id"].dropna()
    dup = ids.duplicated(keep=False)
    rows = frame.loc[ids.index[dup], "source_row"].head(5).tolist()
    return CheckResult(Source.UNION.value, "roll_id_unique", WARNING, not dup.any(),
                       f"{int(dup.sum())} rows share a 档案编号; first rows: {rows}")


def run_input_checks(raw: dict[Source, pd.DataFrame]) -> list[CheckResult]:
    results: list[CheckResult] = []
    for source, frame in raw.items():
        results.extend(required_columns_not_empty(frame, source))
    if Source.CIVIL in raw:
        results.append(civil_person_key_unique(normalised_keys(raw[Source.CIVIL])))
    if Source.UNION in raw:
        results.append(roll_id_unique(normalised_keys(raw[Source.UNION])))
    return results


def normalised_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """Key columns compared as the linker will see them (text, spaces out)."""
    from pipeline.normalise.vocab import clean_text

    out = frame.copy()
    for column in ("case_id", "member_no", "roll_id"):
        if column in out.columns:
            out[column] = out[column].map(clean_text)
    return out


def enforce_gates(results: list[CheckResult]) -> None:
    """Raise GateError describing every failed critical check."""
    failed = [r for r in results if r.severity == CRITICAL and not r.passed]
    if not failed:
        return
    parts = [f"{SOURCE_LABELS[Source(r.source)]}: {r.check} failed ({r.detail})" for r in failed]
    raise GateError("the night was stopped before publishing because critical input checks "
                    "failed: " + "; ".join(parts) + ".",
                    "correct the named file upstream (or ask the data provider to re-export it) "
                    "and run the night again; nothing was published and the previous outputs "
                    "are unchanged.")

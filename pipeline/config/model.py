"""The run configuration as validated data: a pydantic model of `defaults.yaml`.

`load_config` validates the defaults with the user's `--config` merged over them against
`Config` and then returns the merged plain dict (the rest of the code reads dicts). Unknown
keys are refused; validation severities and `mostly` shares are checked against the suites in
`pipeline/validate/suites/` (suite names, check names, and that a severity pattern matches some
check) when those files are present.
"""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import functools
import json
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StrictBool, StringConstraints, field_validator, model_validator

from pipeline.config.checked import Problem, Strict, suggest

# The same folder as pipeline.validate.runner.SUITES_DIR (not imported: that loads GX).
SUITES_DIR = Path(__file__).resolve().parents[1] / "validate" / "suites"  # package data

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Severity = Literal["critical", "warning"]
Share = Annotated[float, Field(ge=0, le=1, strict=True)]


class DibaoStandard(Strict):
    """The 低保 standard in force from a date (yuan per person per month)."""

    WHAT: ClassVar[str] = "a key of a dibao_standards entry (from, yuan_per_month)"
    from_: dt.date = Field(alias="from")
    yuan_per_month: Annotated[float, Field(gt=0, strict=True)]


class LinkingSpecs(Strict):
    """The linking spec of each linkage: a shipped name or a path to a YAML spec."""

    WHAT: ClassVar[str] = "a linkage (linking.specs names one spec per linkage)"
    union_civil: Name
    roll_dedupe: Name
    civil_members: Name


class Linking(Strict):
    WHAT: ClassVar[str] = "a key of linking"
    specs: LinkingSpecs
    # Roster rows per chunk (pipeline/roster/): memory grows with it, not with the roster.
    roster_chunk_rows: Annotated[int, Field(ge=1_000, le=5_000_000, strict=True)] = 200_000
    # --engine dask: civil-affairs rows per chunk, read, normalised and validated on the
    # workers (pipeline/civil/on_dask.py).
    civil_chunk_rows: Annotated[int, Field(ge=1_000, le=5_000_000, strict=True)] = 100_000
    # --engine dask: how the roster's chunks meet the civil side (roster/join.py).
    dask_join: Literal["auto", "broadcast", "partitioned"] = "auto"


class ValidationParameters(Strict):
    """Suite parameters (`{"$PARAMETER": name}` in the suite JSON; `as_of` is the night's)."""

    WHAT: ClassVar[str] = "a suite parameter"
    min_row_ratio: Share = 0.5


class ValidationConfig(Strict):
    WHAT: ClassVar[str] = "a key of validation"
    default_severity: Severity = "warning"
    severity: dict[Name, dict[Name, Severity]] = Field(default_factory=dict)
    mostly: dict[Name, dict[Name, Share]] = Field(default_factory=dict)
    parameters: ValidationParameters = ValidationParameters()

    @model_validator(mode="after")
    def _against_suites(self) -> ValidationConfig:
        suites = suite_checks()
        if not suites:  # installed without the repository's expectations/: nothing to check
            return self
        for section, table in (("severity", self.severity), ("mostly", self.mostly)):
            for suite, entries in table.items():
                if suite not in suites:
                    raise Problem((section, suite), f"there is no validation suite '{suite}'",
                                  suggest(suite, suites, noun="suites"))
                checks = suites[suite]
                for pattern in entries:
                    if section == "mostly" and pattern not in checks:
                        raise Problem((section, suite, pattern), f"suite {suite} has no check "
                                      f"'{pattern}'", suggest(pattern, checks, noun="its checks"))
                    if section == "severity" and not any(
                            fnmatch.fnmatchcase(c, pattern) for c in checks):
                        raise Problem((section, suite, pattern), f"the pattern '{pattern}' "
                                      f"matches no check of suite {suite}",
                                      suggest(pattern, checks, noun="its checks"))
        return self


class ReportConfig(Strict):
    WHAT: ClassVar[str] = "a key of report"
    xlsx_export: StrictBool = False


class Config(Strict):
    WHAT: ClassVar[str] = "a configuration key"
    dibao_standards: tuple[DibaoStandard, ...] = Field(min_length=1)
    linking: Linking
    timezone: str
    validation: ValidationConfig
    report: ReportConfig

    @model_validator(mode="before")
    @classmethod
    def _spec_keys_belong_in_specs(cls, data: Any) -> Any:
        """`max_block_pairs: 10` here is a linking spec's setting put in the wrong file."""
        if isinstance(data, dict):
            from pipeline.link.spec import ModelSpec

            spec_keys = ModelSpec.allowed_keys()
            for key in data:
                if key not in cls.allowed_keys():
                    close = difflib.get_close_matches(str(key), spec_keys, n=1)
                    if close:
                        raise Problem((str(key),), f"'{key}' is not a configuration key; "
                                      f"{close[0]} is a setting of a linking spec",
                                      f"set {close[0]} in a spec YAML (copy one from "
                                      "pipeline/link/specs/) and name that file in "
                                      "linking.specs.")
        return data

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            close = difflib.get_close_matches(value, sorted(available_timezones()), n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise Problem((), f"'{value}' is not an IANA time zone",
                          f"{hint}write a zone name such as Asia/Shanghai.") from None
        return value

    @field_validator("dibao_standards")
    @classmethod
    def _one_standard_a_date(cls, value: tuple[DibaoStandard, ...]
                             ) -> tuple[DibaoStandard, ...]:
        seen: set[dt.date] = set()
        for k, row in enumerate(value):
            if row.from_ in seen:
                raise Problem((k, "from"), f"two standards start on {row.from_}",
                              "keep one entry per date.")
            seen.add(row.from_)
        return value


@functools.cache
def suite_checks(suites_dir: Path = SUITES_DIR) -> dict[str, list[str]]:
    """Each suite's check names (`meta.check` of its expectations), from its JSON file."""
    if not suites_dir.is_dir():
        return {}
    out: dict[str, list[str]] = {}
    for path in sorted(suites_dir.glob("*.json")):
        suite: dict[str, Any] = json.loads(path.read_text("utf-8"))
        out[path.stem] = sorted({str((e.get("meta") or {}).get("check"))
                                 for e in suite.get("expectations", [])
                                 if (e.get("meta") or {}).get("check")})
    return out

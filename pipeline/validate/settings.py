"""The `validation:` section of the configuration: severities, `mostly` thresholds, parameters.

Every expectation in `pipeline/validate/suites/*.json` carries a stable check name in `meta.check`
(e.g. `required_filled:id_number`). Its severity comes from `validation.severity.<suite>`, a
mapping of shell-style patterns to `critical` / `warning`, first match wins (unmatched:
`validation.default_severity`). `validation.mostly.<suite>.<check>` overrides an expectation's
`mostly`; `validation.parameters` are the suite parameters (`{"$PARAMETER": name}` in the JSON,
e.g. `min_row_ratio`); `as_of` is always the night's date.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from pipeline.errors import InputError

CRITICAL = "critical"
WARNING = "warning"
SEVERITIES = (CRITICAL, WARNING)


@dataclass(frozen=True)
class ValidationSettings:
    severity: dict[str, dict[str, str]] = field(default_factory=dict)
    default_severity: str = WARNING
    mostly: dict[str, dict[str, float]] = field(default_factory=dict)
    parameters: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: dict) -> ValidationSettings:
        section = config.get("validation") or {}
        settings = cls(severity=section.get("severity") or {},
                       default_severity=section.get("default_severity", WARNING),
                       mostly=section.get("mostly") or {},
                       parameters=section.get("parameters") or {})
        settings.check()
        return settings

    def check(self) -> None:
        values = [self.default_severity, *(s for suite in self.severity.values()
                                           for s in (suite or {}).values())]
        bad = sorted({str(v) for v in values if v not in SEVERITIES})
        if bad:
            raise InputError(f"validation severities must be 'critical' or 'warning', not {bad}.",
                             "fix the validation: section of the configuration.")
        for suite, checks in self.mostly.items():
            for check, value in (checks or {}).items():
                if not isinstance(value, int | float) or not 0 <= value <= 1:
                    raise InputError(f"validation.mostly.{suite}.{check} must be a number "
                                     "from 0 to 1.", "fix the validation: section of the "
                                     "configuration.")

    def severity_of(self, suite: str, check: str) -> str:
        for pattern, severity in (self.severity.get(suite) or {}).items():
            if fnmatch.fnmatchcase(check, pattern):
                return severity
        return self.default_severity

    def mostly_of(self, suite: str, check: str) -> float | None:
        value = (self.mostly.get(suite) or {}).get(check)
        return None if value is None else float(value)

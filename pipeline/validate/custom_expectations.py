"""Great Expectations custom expectations for this domain (GX 1.x, pandas engine).

Each is a `ColumnMapMetricProvider` (the per-row condition) plus a `ColumnMapExpectation` (the
suite entry, `mostly` included). Defining a class registers it with GX, so this module must be
imported before any suite is loaded: GX silently drops expectation types it does not know (and
a later save would erase them). `pipeline.validate.gx_run` imports it first; the suite tests
check that every expectation of every JSON suite survives loading.

The conditions reuse the pipeline's own validators, so GX and the linker agree on what a valid
ID, USCC or admin code is:

| expectation | condition |
|---|---|
| `expect_column_values_to_be_valid_gb11643_id` | `pipeline.normalise.id_number.check_id(v).valid` |
| `expect_column_values_to_be_valid_uscc` | `pipeline.normalise.uscc.uscc_valid(v)` (GB 32100) |
| `expect_column_values_to_be_known_admin_code` | `pipeline.normalise.districts.admin_code_known` |
| `expect_column_values_to_be_plausible_dates` | `min_date <= v <= max_date` (pd.Timestamp bounds) |
| `expect_column_values_to_be_plausible_household_size` | `1 <= v <= 20` (integers) |

Missing values are not judged (GX map expectations skip nulls); required columns have their own
expectations.

Each renders in Chinese in the Data Docs through GX's renderer methods (`ChineseRendering`
below: `_prescriptive_template` for the atomic SUMMARY renderer, `_prescriptive_renderer` for the
legacy one Data Docs use, and the diagnostic ones): "身份证号应为有效的公民身份号码（至少 98%）",
with the column under the input file's own header, and up to 20 failing values, masked, with
their file, sheet and row. The sentences and the masking are in `sentences.py`, shared with
GX's built-in expectations.
"""

from __future__ import annotations

from typing import ClassVar

import pandas as pd
from great_expectations.compatibility import pydantic
from great_expectations.core.suite_parameters import SuiteParameterDict
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics import (
    ColumnMapMetricProvider,
    column_condition_partial,
)
from great_expectations.render import LegacyDiagnosticRendererType, LegacyRendererType
from great_expectations.render.renderer_configuration import (
    RendererConfiguration,
    RendererValueType,
)

from pipeline.normalise.districts import admin_code_known
from pipeline.normalise.id_number import check_ids
from pipeline.normalise.uscc import uscc_valid
from pipeline.validate import sentences
from pipeline.validate.sentences import bidui_renderer

EARLIEST_DATE = "1900-01-01"
HOUSEHOLD_MIN = 1
HOUSEHOLD_MAX = 20


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


class ChineseRendering:
    """GX renderer methods of bidui's expectations: the Chinese sentence and the diagnostics
    (status icon, failing count, failing values masked with file/sheet/row, observed value).
    A mixin ahead of `ColumnMapExpectation`; GX registers the methods for each subclass."""

    @classmethod
    def _prescriptive_template(
            cls, renderer_configuration: RendererConfiguration) -> RendererConfiguration:
        configuration = renderer_configuration.configuration or sentences.config_of(
            None, renderer_configuration.result)
        made = sentences.sentence(configuration) if configuration is not None else None
        if made is None:
            return super()._prescriptive_template(renderer_configuration)  # type: ignore[misc]
        template, params = made
        for name, value in params.items():
            renderer_configuration.add_param(name=name, param_type=RendererValueType.STRING,
                                             value=value)
        renderer_configuration.template_str = template
        return renderer_configuration

    @classmethod
    @bidui_renderer(renderer_type=LegacyRendererType.PRESCRIPTIVE)
    def _prescriptive_renderer(cls, configuration=None, result=None,
                               runtime_configuration=None, **kwargs):
        return sentences.prescriptive(configuration=configuration, result=result,
                                      runtime_configuration=runtime_configuration)

    @classmethod
    @bidui_renderer(renderer_type=LegacyDiagnosticRendererType.STATUS_ICON)
    def _diagnostic_status_icon_renderer(cls, configuration=None, result=None,
                                         runtime_configuration=None, **kwargs):
        return sentences.status_icon(configuration=configuration, result=result)

    @classmethod
    @bidui_renderer(renderer_type=LegacyDiagnosticRendererType.UNEXPECTED_STATEMENT)
    def _diagnostic_unexpected_statement_renderer(cls, configuration=None, result=None,
                                                  runtime_configuration=None, **kwargs):
        return sentences.unexpected_statement(configuration=configuration, result=result)

    @classmethod
    @bidui_renderer(renderer_type=LegacyDiagnosticRendererType.UNEXPECTED_TABLE)
    def _diagnostic_unexpected_table_renderer(cls, configuration=None, result=None,
                                              runtime_configuration=None, **kwargs):
        return sentences.unexpected_table(configuration=configuration, result=result)

    @classmethod
    @bidui_renderer(renderer_type=LegacyDiagnosticRendererType.OBSERVED_VALUE)
    def _diagnostic_observed_value_renderer(cls, configuration=None, result=None,
                                            runtime_configuration=None, **kwargs):
        return sentences.observed_value(configuration=configuration, result=result)


# --- GB 11643 citizen ID ------------------------------------------------------------------------

class ColumnValuesValidGb11643Id(ColumnMapMetricProvider):
    condition_metric_name = "column_values.bidui_valid_gb11643_id"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs) -> pd.Series:
        return pd.Series(check_ids(column)["id_valid"].to_numpy(dtype=bool),
                         index=column.index)


class ExpectColumnValuesToBeValidGb11643Id(ChineseRendering, ColumnMapExpectation):
    """Expect ID numbers to be valid GB 11643 citizen IDs (18 digits with check character, or a
    legacy 15-digit number with a valid date); Excel damage and bad checksums fail."""

    map_metric = "column_values.bidui_valid_gb11643_id"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"tags": ["bidui", "identity"], "contributors": ["bidui"]}


# --- GB 32100 unified social credit code --------------------------------------------------------

class ColumnValuesValidUscc(ColumnMapMetricProvider):
    condition_metric_name = "column_values.bidui_valid_uscc"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs) -> pd.Series:
        return column.map(lambda v: bool(uscc_valid(v))).astype(bool)


class ExpectColumnValuesToBeValidUscc(ChineseRendering, ColumnMapExpectation):
    """Expect employer codes to be valid GB 32100 unified social credit codes (mod-31 check)."""

    map_metric = "column_values.bidui_valid_uscc"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"tags": ["bidui", "identity"], "contributors": ["bidui"]}


# --- GB/T 2260 administrative division code -----------------------------------------------------

class ColumnValuesKnownAdminCode(ColumnMapMetricProvider):
    condition_metric_name = "column_values.bidui_known_admin_code"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs) -> pd.Series:
        return column.map(lambda v: bool(admin_code_known(_text(v).strip()))).astype(bool)


class ExpectColumnValuesToBeKnownAdminCode(ChineseRendering, ColumnMapExpectation):
    """Expect six-digit administrative division codes that existed in some GB/T 2260 edition
    (codes no longer current, such as 110103 崇文, are known)."""

    map_metric = "column_values.bidui_known_admin_code"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"tags": ["bidui", "geography"], "contributors": ["bidui"]}


# --- dates ---------------------------------------------------------------------------------------

def _timestamp(value: object) -> pd.Timestamp:
    """A bound as pd.Timestamp (string bounds on datetime columns fail quietly in GX, NOTES)."""
    return pd.Timestamp(value)


class ColumnValuesPlausibleDates(ColumnMapMetricProvider):
    condition_metric_name = "column_values.bidui_plausible_dates"
    condition_value_keys = ("min_date", "max_date")

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, min_date=EARLIEST_DATE, max_date=None,
                **kwargs) -> pd.Series:
        values = pd.to_datetime(column, errors="coerce")
        upper = _timestamp(max_date) if max_date is not None else pd.Timestamp.now().normalize()
        ok = (values >= _timestamp(min_date or EARLIEST_DATE)) & (values <= upper)
        return ok.fillna(False).astype(bool)


class ExpectColumnValuesToBePlausibleDates(ChineseRendering, ColumnMapExpectation):
    """Expect dates not before `min_date` (default 1900-01-01) and not after `max_date` (the
    night's as-of date, usually the suite parameter `{"$PARAMETER": "as_of"}`; today if
    unset)."""

    min_date: str | SuiteParameterDict | None = pydantic.Field(default=EARLIEST_DATE)
    max_date: str | SuiteParameterDict | None = pydantic.Field(default=None)

    map_metric = "column_values.bidui_plausible_dates"
    success_keys = ("min_date", "max_date", "mostly")
    library_metadata: ClassVar[dict] = {"tags": ["bidui", "dates"], "contributors": ["bidui"]}


# --- household size -----------------------------------------------------------------------------

class ColumnValuesPlausibleHouseholdSize(ColumnMapMetricProvider):
    condition_metric_name = "column_values.bidui_plausible_household_size"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs) -> pd.Series:
        numbers = pd.to_numeric(column, errors="coerce").astype("Float64")
        ok = (numbers >= HOUSEHOLD_MIN) & (numbers <= HOUSEHOLD_MAX) & (numbers % 1 == 0)
        return ok.fillna(False).astype(bool)


class ExpectColumnValuesToBePlausibleHouseholdSize(ChineseRendering, ColumnMapExpectation):
    """Expect household sizes to be whole numbers from 1 to 20 people."""

    map_metric = "column_values.bidui_plausible_household_size"
    success_keys = ("mostly",)
    library_metadata: ClassVar[dict] = {"tags": ["bidui", "household"], "contributors": ["bidui"]}


CUSTOM_EXPECTATIONS = {
    "expect_column_values_to_be_valid_gb11643_id": ExpectColumnValuesToBeValidGb11643Id,
    "expect_column_values_to_be_valid_uscc": ExpectColumnValuesToBeValidUscc,
    "expect_column_values_to_be_known_admin_code": ExpectColumnValuesToBeKnownAdminCode,
    "expect_column_values_to_be_plausible_dates": ExpectColumnValuesToBePlausibleDates,
    "expect_column_values_to_be_plausible_household_size":
        ExpectColumnValuesToBePlausibleHouseholdSize,
}

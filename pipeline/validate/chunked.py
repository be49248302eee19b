"""Validate a suite chunk by chunk and record one merged result, as if it ran on the whole frame.

The union membership roster (5–30 million rows) is read, normalised and linked in chunks; its
validation view arrives the same way. `ChunkedSuite` validates each chunk and merges, so the
manifest, the gate and the Data Docs describe the whole file:

    with ChunkedSuite(run, "roster", labels=input_labels(Source.MEMBERS, files)) as suite:
        for view in views:            # input_view(...) of each chunk, in row order
            suite.add(view)
        outcome = suite.finish()      # == run.run_suite("roster", whole_view, labels)

How each expectation merges is decided by its type (`MERGE_RULES`); a suite with a type the
table does not know is refused when the `ChunkedSuite` is made (`UnsupportedExpectation`), so
an expectation added to a suite cannot be merged wrong silently:

- `RowCount` (`expect_table_row_count_to_be_between`): rows summed; GX's own between test
  (`_validate_metric_value_between`) on the sum.
- `DistinctCount` (`expect_column_unique_value_count_to_be_between`): the non-null values'
  hashes go to disk (`spill.py`); the exact distinct count over all chunks; GX's between test.
- `Unique` (`expect_column_values_to_be_unique`): hashes with stream positions, and each row's
  provenance and value, go to disk; every row whose value occurs twice or more anywhere in the
  column (across chunks too, as `duplicated(keep=False)`) is unexpected; `mostly` as GX.
- `CompoundUnique` (`expect_compound_columns_to_be_unique`, rows with a missing column
  ignored): `Unique` over each row's compound of the columns (`chunk_check.compound_values`).
- `ColumnMap` (per-row checks: `…_to_be_between`, `…_to_be_in_set`,
  `expect_column_pair_values_a_to_be_greater_than_b` and the custom
  expectations of `custom_expectations.py`): GX validates each chunk (not stored); element,
  missing and unexpected counts summed; percentages and success (`mostly`) recomputed as GX's
  `ColumnMapExpectation` does.

An expectation with a `row_condition` is refused as well (no rule is tested with one).

Failing values: the first `sentences.FAILING_SHOWN` failing rows in row order (chunks in the
order added, rows in each chunk's order), as GX lists them on a whole frame; for uniqueness,
the first duplicated rows in row order, wherever their twin is. They are masked by the
runner's own `mask_failing_values`.

A chunk can be checked where it is (`chunk_check.py`: on a Dask worker, GX in the worker's
own context) and merged here (`ChunkedSuite.add_checked`); `add(view)` checks it here with
the same function, in the night's context.

Nothing per chunk reaches the results store: chunks are validated with `Batch.validate` (GX
does not store those results). `finish` runs the suite's checkpoint once, on the first row
read (for GX's result shape, its renderers and the run's identifiers), replaces every
expectation's result by the merged one and hands it to `ValidationRun.record`: masked, stored
once, summarised into a `SuiteOutcome`, its failed checks' sentences recorded, exactly as
`run_suite` does. Data Docs therefore list one result for the suite.

Costs: memory holds one chunk (and the first row, and at most FAILING_SHOWN failing rows per
expectation); disk and the final count are described in `spill.py` (16 bytes per row for each
uniqueness column, 8 per distinct-count column, plus the rows spill of uniqueness columns).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pandas as pd

from pipeline.validate import custom_expectations, sentences
from pipeline.validate.chunk_check import (
    RULE_KEY,
    CheckedChunk,
    ChunkChecks,
    ChunkItem,
    check_chunk,
    validate_batch,
)
from pipeline.validate.runner import (
    PROVENANCE,
    RESULT_FORMAT,
    ROWS_RESULT_FORMAT,
    SuiteOutcome,
    ValidationRun,
    suite_document,
)
from pipeline.validate.spill import (
    BUCKETS,
    ColumnHashes,
    RowsSpill,
    SpillFolder,
    new_hash_key,
)

NOT_RAISED = {"raised_exception": False, "exception_traceback": None, "exception_message": None}


class UnsupportedExpectation(ValueError):
    """A suite holds an expectation type (or option) `ChunkedSuite` cannot merge exactly."""


# -- merge rules -----------------------------------------------------------------------------------

@dataclass
class Merged:
    """One expectation's merged outcome: GX's `success`, `result` body and `exception_info`."""

    success: bool
    result: dict
    exception_info: dict = field(default_factory=lambda: dict(NOT_RAISED))


class Rule:
    """How one expectation is merged. `gx_per_chunk`: GX validates it on each chunk and
    `add` receives that chunk's result (`chunk_check.ChunkItem`, else None); `hashed`: the
    column whose values must be hashed over all chunks, and whether with row positions;
    `counted`: the column whose element and missing counts `add` needs."""

    gx_per_chunk: ClassVar[bool] = False
    with_rows: ClassVar[bool] = False

    def __init__(self, config: dict, limit: int) -> None:
        self.kwargs = config.get("kwargs") or {}
        self.limit = limit  # failing rows kept

    @property
    def hashed(self) -> str | None:
        return None

    @property
    def counted(self) -> str | None:
        return None

    @property
    def compound(self) -> tuple[str, tuple[str, ...]] | None:
        """(name, columns) when `hashed` and `counted` name a compound of columns."""
        return None

    def add(self, chunk: CheckedChunk, first_row: int, item: ChunkItem | None) -> None:
        raise NotImplementedError

    def merge(self, config, hashes: ColumnHashes | None, rows: RowsSpill | None) -> Merged:
        """`config`: the expectation's configuration with parameters resolved (from the final
        checkpoint run)."""
        raise NotImplementedError


class RowCount(Rule):
    """`expect_table_row_count_to_be_between`: rows summed."""

    metric = "table.row_count"

    def __init__(self, config: dict, limit: int) -> None:
        super().__init__(config, limit)
        self.rows = 0

    def add(self, chunk: CheckedChunk, first_row: int, item: ChunkItem | None) -> None:
        self.rows += chunk.rows

    def observed(self, hashes: ColumnHashes | None) -> int:
        return self.rows

    def merge(self, config, hashes, rows) -> Merged:
        outcome = config.to_domain_obj()._validate_metric_value_between(
            metric_name=self.metric, metrics={self.metric: self.observed(hashes)})
        return Merged(success=bool(outcome["success"]), result=dict(outcome["result"]))


class DistinctCount(RowCount):
    """`expect_column_unique_value_count_to_be_between`: exact distinct count of the
    non-null values over all chunks (hashes, counted at the end)."""

    metric = "column.distinct_values.count"

    @property
    def hashed(self) -> str | None:
        return self.kwargs["column"]

    def observed(self, hashes: ColumnHashes | None) -> int:
        assert hashes is not None
        return hashes.count().distinct


class ColumnMap(Rule):
    """A per-row check (GX `ColumnMapExpectation` skipping missing values): GX runs on each
    chunk; counts summed, failing rows concatenated in row order."""

    gx_per_chunk = True

    def __init__(self, config: dict, limit: int) -> None:
        super().__init__(config, limit)
        self.element = self.missing = self.unexpected = 0
        self.has_missing = True
        self.index_rows: list = []
        self.values: list = []
        self.index_columns = None
        self.raised: dict | None = None

    def add(self, chunk: CheckedChunk, first_row: int, item: ChunkItem | None) -> None:
        assert item is not None
        info = item.exception_info or {}
        if info.get("raised_exception"):
            self.raised = self.raised or dict(info)
            return
        body = item.result or {}
        self.element += int(body.get("element_count") or 0)
        self.unexpected += int(body.get("unexpected_count") or 0)
        if "missing_count" in body:
            self.missing += int(body["missing_count"] or 0)
        else:
            self.has_missing = False
        self.index_columns = body.get("unexpected_index_column_names", self.index_columns)
        room = self.limit - len(self.index_rows)
        self.index_rows += list(body.get("partial_unexpected_index_list") or [])[:max(room, 0)]
        room = self.limit - len(self.values)
        self.values += list(body.get("partial_unexpected_list") or [])[:max(room, 0)]

    def merge(self, config, hashes, rows) -> Merged:
        if self.raised:
            return Merged(success=False, result={}, exception_info=self.raised)
        body = map_body(self.element, self.missing if self.has_missing else None,
                        self.unexpected, self.values, self.index_rows, self.index_columns)
        return Merged(success=map_success(self.element, self.missing if self.has_missing
                                          else 0, self.unexpected,
                                          config.kwargs.get("mostly", 1)), result=body)


class Unique(ColumnMap):
    """`expect_column_values_to_be_unique`: every row whose value occurs more than once in
    the whole column (across chunks too), as pandas' `duplicated(keep=False)`."""

    gx_per_chunk = False
    with_rows = True

    @property
    def key(self) -> str:
        """The hashed, counted and listed name: the column checked."""
        return self.kwargs["column"]

    def shown(self, row: dict) -> object:
        """A failing row's value as GX lists it."""
        return row[self.key]

    @property
    def hashed(self) -> str | None:
        return self.key

    @property
    def counted(self) -> str | None:
        return self.key

    def add(self, chunk: CheckedChunk, first_row: int, item: ChunkItem | None) -> None:
        element, missing = chunk.counts[self.key]
        self.element += element
        self.missing += missing

    def merge(self, config, hashes, rows) -> Merged:
        assert hashes is not None
        counts = hashes.count(self.limit)
        self.unexpected = counts.duplicated_rows
        if rows is not None:
            self.index_columns = list(PROVENANCE)
            self.index_rows = rows.rows(counts.first_duplicated)
            self.values = [self.shown(row) for row in self.index_rows]
        return super().merge(config, hashes, rows)


class CompoundUnique(Unique):
    """`expect_compound_columns_to_be_unique` with `ignore_row_if="any_value_is_missing"`
    (the only option tested): `Unique` over each row's compound of the columns
    (`chunk_check.compound_values`: missing where any column is), so a row is unexpected when
    its whole combination occurs twice or more anywhere in the file."""

    def __init__(self, config: dict, limit: int) -> None:
        super().__init__(config, limit)
        ignore = self.kwargs.get("ignore_row_if", "all_values_are_missing")
        if ignore != "any_value_is_missing":
            raise UnsupportedExpectation(
                f"expect_compound_columns_to_be_unique with ignore_row_if={ignore!r} has no "
                "merge rule (only 'any_value_is_missing' is tested)")
        self.columns = tuple(self.kwargs["column_list"])

    @property
    def compound(self) -> tuple[str, tuple[str, ...]]:
        return self.key, self.columns

    @property
    def key(self) -> str:
        return f"({', '.join(self.columns)})"

    def shown(self, row: dict) -> object:
        return {c: row[c] for c in self.columns}


MAP_TYPES = ("expect_column_values_to_be_between", "expect_column_values_to_be_in_set",
             # per row, as a column map: GX's ColumnPairMapExpectation counts the same way
             "expect_column_pair_values_a_to_be_greater_than_b",
             *custom_expectations.CUSTOM_EXPECTATIONS)
# Expectation type -> how it merges. A type missing here is refused (UnsupportedExpectation):
# add it only with a test comparing chunked and whole-frame results (test_validate_chunked.py).
MERGE_RULES: dict[str, type[Rule]] = {
    "expect_table_row_count_to_be_between": RowCount,
    "expect_column_unique_value_count_to_be_between": DistinctCount,
    "expect_column_values_to_be_unique": Unique,
    "expect_compound_columns_to_be_unique": CompoundUnique,
    **dict.fromkeys(MAP_TYPES, ColumnMap),
}


def map_success(element: int, missing: int, unexpected: int, mostly: float | None) -> bool:
    """GX's `ColumnMapExpectation` success: vacuously true without non-missing values, else
    the share of non-missing values that pass is at least `mostly`."""
    nonmissing = element - missing
    if element == 0 or nonmissing == 0:
        return True
    return (nonmissing - unexpected) / nonmissing >= (1 if mostly is None else mostly)


def map_body(element: int, missing: int | None, unexpected: int, values: list,
             index_rows: list, index_columns) -> dict:
    """A map expectation's SUMMARY result body as GX's `_format_map_output` builds it (the
    raw failing lists are replaced by `bidui_failing_values` when the runner records it)."""
    total = unexpected / element * 100 if element > 0 else None
    nonmissing = element - missing if missing is not None else None
    if missing is None:
        of_nonmissing = total
    else:
        of_nonmissing = unexpected / nonmissing * 100 if element > 0 and nonmissing else None
    body: dict = {"element_count": element, "unexpected_count": unexpected,
                  "unexpected_percent": of_nonmissing, "partial_unexpected_list": values}
    if index_columns is not None:
        body["unexpected_index_column_names"] = index_columns
    if missing is not None:
        body.update(missing_count=missing,
                    missing_percent=missing / element * 100 if element > 0 else None,
                    unexpected_percent_total=total, unexpected_percent_nonmissing=of_nonmissing)
    if index_columns is not None:
        body["partial_unexpected_index_list"] = index_rows
    return body


def rule_for(suite: str, expectation: dict, limit: int) -> Rule:
    """The merge rule of one expectation (its JSON), or UnsupportedExpectation."""
    kind = expectation.get("type")
    rule = MERGE_RULES.get(kind)
    check = (expectation.get("meta") or {}).get("check", kind)
    if rule is None:
        raise UnsupportedExpectation(
            f"suite {suite!r} cannot be validated chunk by chunk: expectation type {kind!r} "
            f"(check {check!r}) has no merge rule. Add one to MERGE_RULES in "
            f"pipeline/validate/chunked.py, with a test that chunked and whole-frame results "
            f"agree, or validate this suite on the whole frame (ValidationRun.run_suite).")
    if (expectation.get("kwargs") or {}).get("row_condition"):
        raise UnsupportedExpectation(
            f"suite {suite!r} cannot be validated chunk by chunk: {kind!r} (check {check!r}) "
            f"has a row_condition, which no merge rule is tested with.")
    return rule(expectation, limit)


# -- the chunked suite -----------------------------------------------------------------------------

class ChunkedSuite:
    """One suite validated chunk by chunk, recorded once as if run on the whole frame.

    `add(view)` takes each chunk of the validation view in row order (a DataFrame with the
    same columns and dtypes every time, e.g. `stage.input_view` of a chunk; with the
    provenance columns its failing rows are listed). `add_checked(checked)` takes instead a
    chunk checked elsewhere (`chunk_check.check_chunk(view, suite.checks)`, on the Dask
    worker that holds the chunk): `add(view)` is exactly that, checked here. `labels`
    (`stage.input_labels`: headers as written, file names) may be given at construction or
    assigned to `.labels` any time before `finish`, when the files read are known.
    `finish()` returns the merged `SuiteOutcome`, appended to `run.outcomes`; the merged GX
    result is in the night's results store (one per suite, for the Data Docs). `close()` (or
    leaving a `with` block) removes the temporary hash folder; `finish` does too.

    Raises UnsupportedExpectation at construction when the suite holds an expectation type
    without a merge rule (`MERGE_RULES`); ValueError when a chunk's columns or a hashed
    column's dtype differ from the first chunk's, on `add` after `finish`, and on `finish`
    without any chunk. A suite runs once per night: whole (`run_suite`) or chunked.
    """

    def __init__(self, run: ValidationRun, name: str, labels: dict | None = None,
                 spill_dir: Path | None = None, buckets: int = BUCKETS) -> None:
        import great_expectations as gx

        document = suite_document(name, run.suites_dir)
        limit = sentences.FAILING_SHOWN
        self.rules = [rule_for(name, e, limit) for e in document["expectations"]]
        self.run, self.name = run, name
        self.labels = labels  # may be set later, before finish (files known at the end)
        self.suite = run.load_suite(name, labels)
        if [e.expectation_type for e in self.suite.expectations] != \
                [e["type"] for e in document["expectations"]]:
            raise RuntimeError(f"suite {name!r} did not load every expectation of its JSON")
        # GX orders results by domain, not as the suite: each copy carries its rule's index.
        copies = []
        for index, (expectation, rule) in enumerate(zip(self.suite.expectations, self.rules,
                                                        strict=True)):
            if rule.gx_per_chunk:
                duplicate = copy.copy(expectation)
                duplicate.meta = {**(expectation.meta or {}), RULE_KEY: index}
                copies.append(duplicate)
        self.chunk_suite = gx.ExpectationSuite(name=f"{name}-chunk", expectations=copies)
        self.folder = SpillFolder(spill_dir)
        key = new_hash_key()
        with_rows: dict[str, bool] = {}  # hashed column -> whether positions are kept
        for rule in self.rules:
            if rule.hashed is not None:
                with_rows[rule.hashed] = with_rows.get(rule.hashed, False) or rule.with_rows
        self.hashes = {column: ColumnHashes(self.folder.path, f"h{i}", key, with_rows=rows,
                                            buckets=buckets)
                       for i, (column, rows) in enumerate(with_rows.items())}
        self.checks = ChunkChecks(
            suite=name,
            expectations=tuple(e.configuration.to_json_dict() for e in copies),
            parameters=run.expectation_parameters(), result_format=RESULT_FORMAT,
            rows_result_format=ROWS_RESULT_FORMAT, hashed=tuple(with_rows.items()),
            counted=tuple(dict.fromkeys(r.counted for r in self.rules if r.counted)),
            listed=tuple(column for column, rows in with_rows.items() if rows),
            provenance=tuple(PROVENANCE), hash_key=key,
            compounds=tuple(dict.fromkeys(r.compound for r in self.rules if r.compound)))
        self.samples: dict[str, RowsSpill] = {}
        self.rows = 0
        self.template: pd.DataFrame | None = None
        self.dtypes: dict[str, str] = {}
        self.finished = False

    @property
    def spill_path(self) -> Path:
        """The private temporary folder of the hashes (gone after finish/close)."""
        return self.folder.path

    def add(self, view: pd.DataFrame) -> None:
        """Validate one chunk of the view (rows in order, after every chunk added before)."""
        if self.finished:
            raise ValueError(f"suite {self.name!r}: add() after finish()")
        self._check_columns(list(view.columns))
        self.add_checked(check_chunk(view, self.checks, self._validate_here))

    def add_checked(self, checked: CheckedChunk) -> None:
        """Merge one chunk checked elsewhere (`chunk_check.check_chunk` with `self.checks`,
        e.g. on the Dask worker that holds the chunk), in row order as `add`."""
        if self.finished:
            raise ValueError(f"suite {self.name!r}: add() after finish()")
        self._check_columns(checked.columns)
        self._check_dtypes(checked)
        if self.template is None or (self.template.empty and checked.rows):
            self.template = checked.template
        for index, rule in enumerate(self.rules):
            rule.add(checked, self.rows, checked.items[index] if rule.gx_per_chunk else None)
        for column, hashes in self.hashes.items():
            values, positions = checked.hashes[column]
            hashes.add_hashes(values, self.rows + positions)
            if hashes.with_rows and column in checked.listing:
                if column not in self.samples:
                    self.samples[column] = RowsSpill(
                        self.folder.path / f"rows-{len(self.samples)}.arrow",
                        [*PROVENANCE, *self.checks.listed_columns(column)])
                self.samples[column].add(checked.listing[column], self.rows)
        self.rows += checked.rows

    def finish(self) -> SuiteOutcome:
        """Merge, store the merged result once, record and return the suite's outcome."""
        if self.finished:
            raise ValueError(f"suite {self.name!r}: finish() called twice")
        if self.template is None:
            raise ValueError(f"suite {self.name!r}: finish() without any chunk added")
        try:
            if self.labels is not None and self.run.labels.get(self.name) != self.labels:
                self.suite = self.run.load_suite(self.name, self.labels)  # labels set late
            key, validation = self.run.run_checkpoint(self.name, self.suite, self.template)
            # GX orders results by domain: match them to the suite's expectations by id.
            position = {e.id: i for i, e in enumerate(self.suite.expectations)}
            for item in validation.results:
                rule = self.rules[position[item.expectation_config.id]]
                column = rule.hashed
                merged = rule.merge(item.expectation_config, self.hashes.get(column),
                                    self.samples.get(column) if column else None)
                item.success = merged.success
                item.result = merged.result
                item.exception_info = merged.exception_info
            _restate(validation)
            self.finished = True
            return self.run.record(self.name, self.rows, key, validation, rewrite=True)
        finally:
            self.close()

    def close(self) -> None:
        """Remove the temporary folder (idempotent)."""
        for sample in self.samples.values():
            sample.close()
        self.folder.close()

    def __enter__(self) -> ChunkedSuite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers ---------------------------------------------------------------------------------

    def _check_columns(self, columns: list[str]) -> None:
        if self.template is not None and columns != list(self.template.columns):
            raise ValueError(f"suite {self.name!r}: a chunk's columns {columns} "
                             f"differ from the first chunk's {list(self.template.columns)}")
        for name in self.hashes:
            for column in self.checks.listed_columns(name):
                if column not in columns:
                    raise ValueError(f"suite {self.name!r}: a chunk has no column {column!r}")

    def _check_dtypes(self, checked: CheckedChunk) -> None:
        for column, dtype in checked.dtypes.items():  # columns with a value: an empty one
            if self.dtypes.setdefault(column, dtype) != dtype:  # hashes nothing
                raise ValueError(
                    f"suite {self.name!r}: column {column!r} is {dtype} in this chunk but "
                    f"{self.dtypes[column]} before; give every chunk the same dtypes "
                    "(equal values of different dtypes would hash differently)")

    def _validate_here(self, view: pd.DataFrame, checks: ChunkChecks, listing: bool) -> list:
        """GX's results for the per-row expectations on one chunk (not stored), in the night's
        own context (`chunk_check.Validator`)."""
        batch = self.run.batch_definition(self.name).get_batch(
            batch_parameters={"dataframe": view})
        return validate_batch(batch, self.chunk_suite, checks, listing)


def validate_chunks(run: ValidationRun, source, chunks: Iterable[tuple[pd.DataFrame,
                                                                        pd.DataFrame]],
                    files: list, spill_dir: Path | None = None) -> SuiteOutcome:
    """The input suite of `source` (a `schema.Source`) over a file read in chunks: `chunks`
    yields (raw, typed) per chunk, in row order (`load_source`'s frame and
    `normalise_source(...).frame` of the same rows); `files` are ingest's `FileInfo`s (for
    the Data Docs' headers and file names). The merged outcome, as `validate_inputs` records
    for a whole source; the gate (`raise_on_critical`) is the caller's, as there."""
    from pipeline.validate.stage import INPUT_SUITES, input_labels, input_view

    with ChunkedSuite(run, INPUT_SUITES[source], labels=input_labels(source, files),
                      spill_dir=spill_dir) as suite:
        for raw, typed in chunks:
            suite.add(input_view(raw, typed, source))
        return suite.finish()


def _restate(validation) -> None:
    """The suite result's success and statistics from its (merged) expectation results."""
    from great_expectations.validator.validation_statistics import calc_validation_statistics

    stats = calc_validation_statistics(validation.results)
    validation.success = stats.success
    validation.statistics = {"evaluated_expectations": stats.evaluated_expectations,
                             "successful_expectations": stats.successful_expectations,
                             "unsuccessful_expectations": stats.unsuccessful_expectations,
                             "success_percent": stats.success_percent}


__all__ = ["MERGE_RULES", "ChunkedSuite", "UnsupportedExpectation", "validate_chunks"]

"""One chunk's validation, reduced to what a chunked suite merges (`chunked.ChunkedSuite`).

`check_chunk(view, checks)` turns a chunk of a validation view into a `CheckedChunk`: its row
count and columns, GX's per-row results of the per-chunk expectations (counts and at most
`sentences.FAILING_SHOWN` failing values each, as GX reports them), the keyed hashes of the
columns whose distinct values or duplicates need the whole file, each checked column's
element and missing counts, its first row (GX's result shape at the end), and, for the
uniqueness listing, the provenance and value of its rows. `ChunkedSuite.add_checked` merges
it. The view itself goes nowhere.

So the check can run where the chunk is. On a Dask worker (`roster/on_dask.py`) GX runs in
the worker's own ephemeral context (`worker_validator`: one per process, the chunk suite
rebuilt from its configurations); the driver's ChunkedSuite passes its night's context instead
(a process has one current GX project, and the night's file context must stay current on the
driver). Both validate the same expectations with the same parameters and result format.

`ChunkChecks` is what travels: plain data (the expectations as JSON configurations, the
parameters, the hashed and counted columns, the hash key). The hash key is the suite run's
random key: a worker's hashes and the driver's are comparable, and no value is recoverable
from them without it (`spill.py`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.validate.spill import hash_values

RULE_KEY = "bidui_chunk_rule"  # meta key: which rule a per-chunk result belongs to


@dataclass(frozen=True)
class ChunkChecks:
    """What checking a chunk needs (picklable): the per-chunk expectations' configurations
    (`ExpectationConfiguration.to_json_dict()`, each with its rule's index under `RULE_KEY`
    in `meta`), the run's expectation parameters, the result formats with and without the
    failing rows' provenance, the hashed columns (column, with row positions), the columns
    whose element and missing counts are needed, the columns listed with provenance, and the
    hash key."""

    suite: str
    expectations: tuple[dict, ...]
    parameters: dict
    result_format: dict
    rows_result_format: dict
    hashed: tuple[tuple[str, bool], ...]
    counted: tuple[str, ...]
    listed: tuple[str, ...]
    provenance: tuple[str, ...]
    hash_key: str
    # A hashed, counted or listed name that is no column of the view but a compound of some
    # (`chunked.CompoundUnique`): name -> its columns, valued by `compound_values`.
    compounds: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def values(self, view: pd.DataFrame, name: str) -> pd.Series:
        """The view's column `name`, or the compound of that name (`compound_values`)."""
        columns = dict(self.compounds).get(name)
        return view[name] if columns is None else compound_values(view, columns)

    def listed_columns(self, name: str) -> list[str]:
        """The view's columns a listed name shows: itself, or a compound's columns."""
        return list(dict(self.compounds).get(name, (name,)))


def compound_values(view: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    """One text per row that is equal for two rows exactly when all `columns` are (each value
    written with its length, so no separator can make two different tuples equal); missing
    (<NA>) where any of them is missing, as GX's `ignore_row_if="any_value_is_missing"`.
    A `string` Series on the view's index."""
    missing = view[list(columns)].isna().any(axis=1).to_numpy(dtype=bool)
    parts = [view[c].astype(object).map(str).to_numpy(dtype=object) for c in columns]
    joined = ["".join(f"{len(v)}:{v}" for v in values) for values in zip(*parts, strict=True)]
    out = pd.Series(joined, index=view.index, dtype="string")
    return out.mask(missing)


@dataclass
class ChunkItem:
    """GX's result of one per-chunk expectation: its `result` body and `exception_info`."""

    result: dict
    exception_info: dict


@dataclass
class CheckedChunk:
    """A chunk of a validation view as a chunked suite merges it (see the module).

    `hashes`: per hashed column, (uint64 keyed hashes of its non-null values, int64 positions
    of those values within the chunk); `counts`: per counted column, (element, missing);
    `listing`: per listed column, the provenance columns and the column (every row), or none
    when the view has no provenance; `dtypes`: per hashed column with a value, its dtype."""

    rows: int
    columns: list[str]
    template: pd.DataFrame
    items: dict[int, ChunkItem] = field(default_factory=dict)
    hashes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    listing: dict[str, pd.DataFrame] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)


Validator = Callable[[pd.DataFrame, ChunkChecks, bool], list]
"""`validator(view, checks, listing)`: GX's ExpectationValidationResults of the per-chunk
expectations on `view` (with the failing rows' provenance when `listing`)."""


def has_provenance(view: pd.DataFrame, checks: ChunkChecks) -> bool:
    return all(column in view.columns for column in checks.provenance)


def check_chunk(view: pd.DataFrame, checks: ChunkChecks,
                validator: Validator | None = None) -> CheckedChunk:
    """The chunk's `CheckedChunk` (see the module). `validator`: how GX runs here (default:
    `worker_validator`, this process's own ephemeral context)."""
    listing = has_provenance(view, checks)
    items: dict[int, ChunkItem] = {}
    if checks.expectations:
        results = (validator or worker_validator)(view, checks, listing)
        for item in results:
            items[int(item.expectation_config.meta[RULE_KEY])] = ChunkItem(
                dict(item.result or {}), dict(item.exception_info or {}))
    checked = CheckedChunk(len(view), list(view.columns), view.head(1).copy(), items)
    for column in checks.counted:
        values = checks.values(view, column)
        checked.counts[column] = (len(values), int(values.isna().sum()))
    for column, _rows in checks.hashed:
        values = checks.values(view, column)
        if values.notna().any():
            checked.dtypes[column] = str(values.dtype)
        checked.hashes[column] = hash_values(values, checks.hash_key)
    if listing:
        for column in checks.listed:
            checked.listing[column] = view[[*checks.provenance,
                                            *checks.listed_columns(column)]].copy()
    return checked


_WORKER_GX: dict[tuple, tuple] = {}
_WORKER_GX_LOCK = threading.Lock()  # GX keeps one current project per process


def worker_validator(view: pd.DataFrame, checks: ChunkChecks, listing: bool) -> list:
    """GX in this process's own ephemeral context (made once per process and suite): for a
    process that has no night's context, such as a Dask worker. Never call it in the process
    that holds the night's file context (it would become GX's current project there). One
    call at a time per process (a worker started with several threads runs them in turn)."""
    with _WORKER_GX_LOCK:
        return _validate_in_worker_context(view, checks, listing)


def _validate_in_worker_context(view: pd.DataFrame, checks: ChunkChecks, listing: bool
                                ) -> list:
    key = (checks.suite, repr(checks.expectations))
    if key not in _WORKER_GX:
        import great_expectations as gx
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        import pipeline.validate.custom_expectations  # noqa: F401  (registers them)

        _WORKER_GX.clear()
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = context.data_sources.add_pandas("bidui").add_dataframe_asset(checks.suite)
        definition = asset.add_batch_definition_whole_dataframe(checks.suite)
        expectations = [ExpectationConfiguration(**config).to_domain_obj()
                        for config in checks.expectations]
        suite = gx.ExpectationSuite(name=f"{checks.suite}-chunk", expectations=expectations)
        _WORKER_GX[key] = (context, definition, suite)
    _context, definition, suite = _WORKER_GX[key]
    return validate_batch(definition.get_batch(batch_parameters={"dataframe": view}), suite,
                          checks, listing)


def validate_batch(batch, suite, checks: ChunkChecks, listing: bool) -> list:
    """GX's results of the per-chunk `suite` on one chunk's `batch`, not stored: the result
    format (with the failing rows' provenance when `listing`) and parameters of `checks`.
    Every `Validator` runs this, whatever its GX context."""
    result = batch.validate(suite, result_format=checks.rows_result_format if listing
                            else checks.result_format,
                            expectation_parameters=checks.parameters)
    return list(result.results)


__all__ = ["RULE_KEY", "CheckedChunk", "ChunkChecks", "ChunkItem", "check_chunk",
           "compound_values", "validate_batch", "worker_validator"]

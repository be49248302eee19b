"""bidui's comparisons as recordlinkage `Compare` features.

`as_recordlinkage(comparison, left_on, right_on)` wraps any `LevelComparison` in a
`recordlinkage.base.BaseCompareFeature`, so it can be added to `recordlinkage.Compare` beside
the stock features. It takes what `Compare.compute(pairs, df_a, df_b)` passes to a feature (the
records' raw columns at each candidate pair), derives the per-record inputs the comparison
reads once per distinct record (a raw name is normalised and read in pinyin, a raw ID number
checked, as the nightly run does: `normalise/`, `features.py`), evaluates the levels with the
comparison's own `compare()`, and returns recordlinkage's orientation, higher = more similar:

    score = (number of levels - 1) - level index

so the first, strongest level scores highest, the last ("else") scores 0, and the null level
(a value missing or unusable on either side) scores `missing_value`: recordlinkage's
convention, default 0.0 (like its stock features), which reads "no agreement"; pass
`missing_value=np.nan` to keep "no evidence" apart from "else".

The nightly engine does not go through this module: it calls `compare()` on chunks of its own
candidate pairs (engine.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from recordlinkage.base import BaseCompareFeature

from pipeline.link.comparisons.base import NULL_LEVEL, ComparisonLevel, LevelComparison
from pipeline.link.comparisons.generic import DateYmd, EditDistance, Exact, _Thresholds
from pipeline.link.comparisons.id_gb11643 import ResidentId
from pipeline.link.comparisons.name_zh import ChineseName
from pipeline.link.comparisons.pairs import Encoded, Pairs

Inputs = dict[str, np.ndarray]
# Raw columns (one Series per raw label, one value per record) -> the comparison's inputs.
Preparer = Callable[[LevelComparison, Sequence[pd.Series]], Inputs]


def scores(levels: Sequence[ComparisonLevel]) -> dict[str, int]:
    """Each level's score in recordlinkage's orientation: the last level 0, the first highest."""
    return {level.name: len(levels) - 1 - k for k, level in enumerate(levels)}


def similarity(codes: np.ndarray, n_levels: int, missing_value: float = 0.0) -> np.ndarray:
    """Level codes (0 = strongest, NULL_LEVEL = no evidence) as recordlinkage scores."""
    out = (n_levels - 1 - codes.astype(np.int64)).astype(np.float64)
    out[codes == NULL_LEVEL] = missing_value
    return out


# -- preparers: raw record columns -> the inputs a comparison reads -------------------------

def text(values: pd.Series) -> np.ndarray:
    """Text with '' for missing, stripped, as the engine's features are; datetimes as YYYYMMDD
    (what `DateYmd` reads)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values.dt.strftime("%Y%m%d")
    else:
        out = values.astype("string").str.strip()
    return out.fillna("").to_numpy(dtype=object)


def _person_features(n: int, **columns: pd.Series) -> pd.DataFrame:
    """`person_features` (the nightly run's) of n records that have only the given normalised
    columns (Series indexed 0 … n-1)."""
    from pipeline.link.features import person_features

    frame = pd.DataFrame({
        "name": pd.array([None] * n, dtype="string"),
        "id_norm": pd.array([None] * n, dtype="string"),
        "id_valid": np.zeros(n, dtype=bool),
        "id_excel_damaged": np.zeros(n, dtype=bool),
        "id_placeholder": np.zeros(n, dtype=bool),
        "birth_date": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]"),
    })
    for column, values in columns.items():
        frame[column] = values
    return person_features(frame)


def _renamed(features: pd.DataFrame, prefix: str, comparison: LevelComparison) -> Inputs:
    """The comparison's inputs from features named with `prefix` instead of its column."""
    c = comparison.column
    return {column: features[prefix + column[len(c):]].to_numpy(dtype=object)
            for column in comparison.inputs()}


def name_inputs(comparison: LevelComparison, raw: Sequence[pd.Series]) -> Inputs:
    """A raw name column: normalised (traditional characters, separators, full width …),
    then without the minority separator and in pinyin with and without tones."""
    from pipeline.normalise.names import normalise_names

    (values,) = raw
    return _renamed(_person_features(len(values), name=normalise_names(values)), "name",
                    comparison)


def id_inputs(comparison: LevelComparison, raw: Sequence[pd.Series]) -> Inputs:
    """A raw ID number column: checked (`check_ids`: 15-digit numbers converted, Excel damage,
    placeholders, check digit), then the 18-character form, validity and damage flags.
    IDs shared by several people are not detected here (that needs the whole file)."""
    from pipeline.normalise.id_number import check_ids

    (values,) = raw
    checks = check_ids(values)
    features = _person_features(len(values), **{
        column: checks[column] for column in
        ("id_norm", "id_valid", "id_excel_damaged", "id_placeholder")})
    return _renamed(features, "id", comparison)


def text_inputs(comparison: LevelComparison, raw: Sequence[pd.Series]) -> Inputs:
    """Raw columns read as text, one per input of the comparison."""
    return {column: text(values) for column, values in zip(comparison.inputs(), raw,
                                                            strict=True)}


# How a comparison's inputs derive from raw columns; looked up along its class hierarchy.
PREPARERS: dict[type, Preparer] = {
    ChineseName: name_inputs,
    ResidentId: id_inputs,
    DateYmd: text_inputs,
    Exact: text_inputs,
    _Thresholds: text_inputs,
    EditDistance: text_inputs,
}
ONE_RAW_COLUMN = (name_inputs, id_inputs)  # all of the comparison's inputs from one column


def _preparer(comparison: LevelComparison) -> Preparer:
    for cls in type(comparison).__mro__:
        if cls in PREPARERS:
            return PREPARERS[cls]
    raise TypeError(f"{type(comparison).__name__} has no preparer for recordlinkage: add one "
                    "to PREPARERS in pipeline/link/comparisons/recordlinkage_feature.py")


def raw_columns(comparison: LevelComparison) -> tuple[str, ...]:
    """The raw record columns the comparison reads by default (its own column names)."""
    if _preparer(comparison) in ONE_RAW_COLUMN:
        return (comparison.column,)
    return tuple(comparison.inputs())


def _labels(given: str | Sequence[str] | None, default: tuple[str, ...]) -> list[str]:
    if given is None:
        return list(default)
    labels = [given] if isinstance(given, str) else list(given)
    if len(labels) != len(default):
        raise ValueError(f"expected {len(default)} column label(s) like {list(default)}, "
                         f"got {labels}")
    return labels


def _distinct(columns: Sequence[pd.Series]) -> tuple[list[pd.Series], np.ndarray]:
    """The distinct records among the rows (one row per pair; dtypes kept), indexed 0 … n-1,
    and each row's position among them."""
    frame = pd.DataFrame({k: pd.Series(c).reset_index(drop=True)
                          for k, c in enumerate(columns)})
    codes = frame.groupby(list(frame.columns), dropna=False, sort=False).ngroup().to_numpy()
    first = np.unique(codes, return_index=True)[1]
    distinct = frame.iloc[first].reset_index(drop=True)
    return [distinct[k] for k in frame.columns], codes.astype(np.int64)


class RecordLinkageFeature(BaseCompareFeature):
    """A bidui comparison as a `recordlinkage.Compare` feature (see the module docstring).

    `left_on` / `right_on`: the raw column label(s) in the first / second DataFrame (default:
    the comparison's own column names; `right_on` defaults to `left_on`). `label`: the
    feature's column in `Compare.compute`'s result (default: the comparison's name)."""

    def __init__(self, comparison: LevelComparison, left_on: str | Sequence[str] | None = None,
                 right_on: str | Sequence[str] | None = None, *, missing_value: float = 0.0,
                 label: str | None = None) -> None:
        self.comparison = comparison
        self.prepare = _preparer(comparison)
        default = raw_columns(comparison)
        left = _labels(left_on, default)
        right = _labels(right_on, default) if right_on is not None else left
        self.missing_value = missing_value
        super().__init__(left, right, label=comparison.name if label is None else label)

    @property
    def levels(self) -> tuple[ComparisonLevel, ...]:
        return self.comparison.levels

    @property
    def scores(self) -> dict[str, int]:
        """Level name -> score; the null level scores `missing_value`."""
        return scores(self.levels)

    def level_codes(self, left: Sequence[pd.Series], right: Sequence[pd.Series]
                    ) -> np.ndarray:
        """The comparison's level codes for aligned raw columns (row k of left against row k
        of right), from per-record inputs derived once per distinct record."""
        if not len(left[0]):
            return np.zeros(0, dtype=np.int8)
        left_records, li = _distinct(left)
        right_records, ri = _distinct(right)
        encoded = Encoded(self.prepare(self.comparison, left_records),
                          self.prepare(self.comparison, right_records))
        return self.comparison.compare(Pairs(encoded, li, ri))

    # recordlinkage's `Compare` (and `compute`) call this with the left columns at each pair,
    # then the right columns.
    def _compute_vectorized(self, *columns: pd.Series) -> np.ndarray:
        n = len(self.labels_left)
        codes = self.level_codes(columns[:n], columns[n:])
        return similarity(codes, len(self.levels), self.missing_value)


def as_recordlinkage(comparison: LevelComparison, left_on: str | Sequence[str] | None = None,
                     right_on: str | Sequence[str] | None = None, *,
                     missing_value: float = 0.0, label: str | None = None
                     ) -> RecordLinkageFeature:
    """`comparison` as a recordlinkage `Compare` feature (`Compare.add(...)`)."""
    return RecordLinkageFeature(comparison, left_on, right_on, missing_value=missing_value,
                                label=label)

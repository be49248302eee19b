"""The comparison library: each kind a small class; a model spec names them by kind.

Adding a comparison: write a `LevelComparison` subclass (its LEVELS as `ComparisonLevel`s,
`inputs()`, `compare()`), register it in KINDS, add its test beside the others; to use it
inside recordlinkage, give it a preparer in recordlinkage_feature.py.
"""

from __future__ import annotations

from pipeline.link.comparisons.base import NULL_LEVEL, ComparisonLevel, LevelComparison
from pipeline.link.comparisons.generic import (
    DateYmd,
    EditDistance,
    Exact,
    JaroWinkler,
    Similarity,
)
from pipeline.link.comparisons.id_gb11643 import ResidentId
from pipeline.link.comparisons.name_zh import ChineseName

KINDS: dict[str, type[LevelComparison]] = {
    "exact": Exact,
    "date_ymd": DateYmd,
    "jaro_winkler": JaroWinkler,
    "similarity": Similarity,
    "edit_distance": EditDistance,
    "name_zh": ChineseName,
    "id_gb11643": ResidentId,
}

__all__ = ["KINDS", "NULL_LEVEL", "ComparisonLevel", "LevelComparison"]

"""bidui's comparisons for recordlinkage users: features for `recordlinkage.Compare`.

    import recordlinkage
    from pipeline.link.comparison_library import ChineseName
    pairs = recordlinkage.Index().block("birth_date").index(df_a, df_b)
    compare = recordlinkage.Compare([ChineseName("name")])
    features = compare.compute(pairs, df_a, df_b)  # 5 完全一致 … 0 不一致; missing → 0

Each class takes the raw column label(s) of the two DataFrames (`left_on`, `right_on`, default
the same), derives what it needs from each record as bidui's nightly run does (a raw name is
normalised and read in pinyin, a raw ID number checked), and scores each candidate pair in
recordlinkage's orientation, higher = more similar: the first level listed scores highest,
`else` scores 0, and a value missing on either side scores `missing_value` (default 0.0, as
recordlinkage's stock features; `np.nan` keeps "no evidence" apart from "else"). `feature.scores`
gives level name -> score, `feature.levels` the levels with their Chinese labels.

The parameters are those of the comparison kinds in bidui's model specs
(`pipeline/link/specs/*.yaml`); any other comparison object can be wrapped with
`as_recordlinkage(comparison, left_on, right_on)`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipeline.link.comparisons import generic, id_gb11643, name_zh
from pipeline.link.comparisons.recordlinkage_feature import RecordLinkageFeature, as_recordlinkage

__all__ = ["ChineseName", "DateYmd", "EditDistance", "Exact", "JaroWinkler", "ResidentId",
           "Similarity", "as_recordlinkage"]


class ChineseName(RecordLinkageFeature):
    """Chinese personal names, raw (traditional characters, minority-name separators, full
    width and invisible characters are normalised first).

    Scores: 5 `exact` 完全一致 (after normalisation, separator removed: 張偉 / 张伟,
    买买提·艾力 / 买买提艾力); 4 `pinyin_tone` 读音相同 (张伟 / 章伟); 3 `pinyin` 拼音相同
    (王芳 / 汪芳); 2 `one_edit` 相差一个字 (张伟 / 张强); 1 `jaro_winkler` 拼音相近 (toneless
    pinyin's Jaro–Winkler ≥ `jaro_winkler`); 0 `else` 不一致."""

    def __init__(self, left_on: str = "name", right_on: str | None = None, *,
                 jaro_winkler: float = 0.88, missing_value: float = 0.0,
                 label: str | None = None) -> None:
        comparison = name_zh.ChineseName(label or left_on, "name", jaro_winkler=jaro_winkler)
        super().__init__(comparison, left_on, right_on, missing_value=missing_value)


class ResidentId(RecordLinkageFeature):
    """Chinese resident ID numbers (GB 11643), raw, read as the nightly run reads them:
    15-digit numbers converted, lower-case x, spaces; Excel's `1.10105E+17` is unreadable
    (missing), its `…000` damage is recognised.

    Scores: 5 `exact` 完全一致; 4 `one_edit` 相差一位或相邻两位互换; 3 `first15` 前15位相同
    (Excel damage); 2 `birth_part` 出生日期码相同; 1 `differs_unverified` 不同（至少一方未通过
    校验）; 0 `differs_valid` 不同（双方均有效）. Levels 4 to 1 need at least one side that is
    not a valid number; an unreadable number is missing."""

    def __init__(self, left_on: str = "id_number", right_on: str | None = None, *,
                 missing_value: float = 0.0, label: str | None = None) -> None:
        comparison = id_gb11643.ResidentId(label or left_on, "id")
        super().__init__(comparison, left_on, right_on, missing_value=missing_value)


class DateYmd(RecordLinkageFeature):
    """Dates as YYYYMMDD text (or datetime64 columns).

    Scores: 3 `exact` 完全一致; 2 `near` 日月互换或相差一处 (day and month swapped, one of
    year / month / day different, or one digit or one swap of neighbours apart); 1 `year`
    同年; 0 `else` 不一致. `null_when_both: {column: value}` scores a pair as missing when
    both records have that value in that column (a column of both DataFrames)."""

    def __init__(self, left_on: str, right_on: str | None = None, *,
                 null_when_both: Mapping[str, object] | None = None,
                 missing_value: float = 0.0, label: str | None = None) -> None:
        extra = list(null_when_both or {})
        comparison = generic.DateYmd(label or left_on, left_on,
                                     null_when_both=dict(null_when_both or {}))
        super().__init__(comparison, [left_on, *extra],
                         None if right_on is None else [right_on, *extra],
                         missing_value=missing_value)


class Exact(RecordLinkageFeature):
    """Scores: 1 `exact` 完全一致; 0 `else` 不一致 (text compared after stripping spaces)."""

    def __init__(self, left_on: str, right_on: str | None = None, *,
                 missing_value: float = 0.0, label: str | None = None) -> None:
        super().__init__(generic.Exact(label or left_on, left_on), left_on, right_on,
                         missing_value=missing_value)


class JaroWinkler(RecordLinkageFeature):
    """Latin-script names and words. Scores, with k thresholds (descending, default
    [0.92, 0.8]): k + 1 `exact` 完全一致; k … 1 `>=t` 相似度≥t for each threshold t in turn;
    0 `else` 不一致."""

    def __init__(self, left_on: str, right_on: str | None = None, *,
                 thresholds: Sequence[float] = (0.92, 0.8), missing_value: float = 0.0,
                 label: str | None = None) -> None:
        comparison = generic.JaroWinkler(label or left_on, left_on, thresholds=list(thresholds))
        super().__init__(comparison, left_on, right_on, missing_value=missing_value)


class Similarity(RecordLinkageFeature):
    """Character similarity (Indel ratio): Chinese streets, addresses, employers. Scores, with
    k thresholds (descending, default [0.92, 0.8]): k + 1 `exact` 完全一致; k … 1 `>=t`
    相似度≥t for each threshold t in turn; 0 `else` 不一致."""

    def __init__(self, left_on: str, right_on: str | None = None, *,
                 thresholds: Sequence[float] = (0.92, 0.8), missing_value: float = 0.0,
                 label: str | None = None) -> None:
        comparison = generic.Similarity(label or left_on, left_on, thresholds=list(thresholds))
        super().__init__(comparison, left_on, right_on, missing_value=missing_value)


class EditDistance(RecordLinkageFeature):
    """Numbers typed by hand. Scores, with k distances (ascending, default [1, 2]): k + 1
    `exact` 完全一致; k … 1 `<=d` 相差不超过d个字符 for each distance d in turn (optimal
    string alignment: a swap of neighbours is one edit); 0 `else` 不一致."""

    def __init__(self, left_on: str, right_on: str | None = None, *,
                 distances: Sequence[int] = (1, 2), missing_value: float = 0.0,
                 label: str | None = None) -> None:
        comparison = generic.EditDistance(label or left_on, left_on, distances=list(distances))
        super().__init__(comparison, left_on, right_on, missing_value=missing_value)

"""Controlled vocabularies, phone numbers, integers and money amounts.

Every ``canon_*`` function returns the canonical value, ``None`` for a blank input and
:data:`UNRECOGNISED` for a non-blank value outside the vocabulary, so callers can report it
instead of silently treating it as blank.

The module also holds the helpers shared by the other normalisers: :func:`is_blank`, the
placeholder convention, and :func:`map_unique` (compute over unique values, map back).
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from pipeline.normalise.cell_text import ZERO_WIDTH, unprotect
from pipeline.textops import is_text as text_mask

UNRECOGNISED = "?"

# Cell contents that people type to mean "nothing here" / "not applicable". They are treated
# as blank, not as a value: a "/" in 享受民政救助 is not a claim of 无.
PLACEHOLDERS: frozenset[str] = frozenset(
    {"/", "／", "\\", "-", "--", "—", "——", "－", "_", "NULL", "NONE", "NAN", "NAT", "#N/A", "N/A"}
)

_WHITESPACE = re.compile(r"\s+")


# --------------------------------------------------------------------------- shared helpers
def _is_missing_scalar(value: object) -> bool:
    """True for None, NaN, pd.NA and NaT (without raising on arbitrary objects)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):  # array-likes: not a scalar missing marker
        return False


def clean_text(value: object) -> str | None:
    """Protection marks removed (:func:`~pipeline.normalise.cell_text.unprotect`: a leading
    apostrophe, ``="…"``, tabs, NBSP, zero-width characters), NFKC, every whitespace character
    removed; None when missing, empty or a placeholder.

    Integer-valued floats (Excel turns ``1`` into ``1.0``) are rendered without the ``.0``.
    """
    if _is_missing_scalar(value):
        return None
    if isinstance(value, float | np.floating) and math.isfinite(value) and value == int(value):
        value = int(value)
    text = _WHITESPACE.sub("", unicodedata.normalize("NFKC", unprotect(str(value))))
    if not text or text.upper() in PLACEHOLDERS:
        return None
    return text


def is_blank(value: object) -> bool:
    """True for None/NaN/NA/NaT, whitespace-only strings and placeholders such as '/'."""
    return clean_text(value) is None


# Every character Python's `str.isspace()` (and so the `\s` of `_WHITESPACE`) calls white space,
# as a regex class for Arrow's RE2, whose own `\s` is ASCII-only.
SPACE_CLASS = "".join(f"\\x{{{c:x}}}" for c in range(0x110000) if chr(c).isspace())
_CJK = "[\\x{3400}-\\x{4dbf}\\x{4e00}-\\x{9fff}\\x{20000}-\\x{2ffff}]"
_PLACEHOLDER_MAX = max(len(p) for p in PLACEHOLDERS)
# Values `unprotect` may change: a leading apostrophe or `=`, or a zero-width character.
_PROTECTED = "^['\\x{2018}\\x{2019}\\x{ff07}`=\\x{ff1d}]|[" + "".join(
    f"\\x{{{ord(c):x}}}" for c in ZERO_WIDTH) + "]"


def already_clean(uniques: np.ndarray) -> np.ndarray:
    """True for the values that `clean_text` and `fields._text` return unchanged: text that
    NFKC leaves as it is, with no white space, no protection mark (`cell_text`), not empty and
    not a placeholder.

    Checked in Arrow's C++ kernels for all values at once, so a column of 10^6 distinct, clean
    ID numbers or names costs no Python call per value. A short value without a CJK character
    might be a placeholder in another case (`null`), so it is left to the Python path."""
    import pyarrow as pa
    import pyarrow.compute as pc

    is_text = text_mask(uniques)
    out = np.zeros(len(uniques), dtype=bool)
    if not is_text.any():
        return out
    try:
        texts = pa.array(uniques[is_text].tolist(), type=pa.large_string())
    except (pa.ArrowException, UnicodeError):  # e.g. lone surrogates: let Python decide
        return out
    length = pc.utf8_length(texts)
    ok = pc.and_(pc.equal(pc.utf8_normalize(texts, "NFKC"), texts),
                 pc.invert(pc.match_substring_regex(texts, f"[{SPACE_CLASS}]")))
    maybe_placeholder = pc.and_(pc.less_equal(length, _PLACEHOLDER_MAX),
                                pc.invert(pc.match_substring_regex(texts, _CJK)))
    ok = pc.and_(ok, pc.and_(pc.greater(length, 0), pc.invert(maybe_placeholder)))
    ok = pc.and_(ok, pc.invert(pc.match_substring_regex(texts, _PROTECTED)))
    out[is_text] = ok.to_numpy(zero_copy_only=False)
    return out


def map_unique(values: pd.Series, fn: Callable[[Any], Any], *,
               identity_when_clean: bool = False) -> np.ndarray:
    """Apply ``fn`` once per distinct value of ``values``; return results in row order.

    Missing values (NaN/None/NA/NaT) are passed to ``fn`` as ``None``. With
    ``identity_when_clean``, values that :func:`already_clean` accepts are taken as they are
    (only for functions that return such values unchanged: `clean_text`, `fields._text`)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
    results = np.empty(len(uniques) + 1, dtype=object)
    clean = already_clean(uniques) if identity_when_clean else np.zeros(len(uniques), bool)
    results[:-1][clean] = uniques[clean]
    for i in np.flatnonzero(~clean):
        results[i] = fn(uniques[i])
    results[-1] = fn(None)  # code -1 (missing) indexes the last slot
    return results[codes]


def canon_series(values: pd.Series, fn: Callable[[object], str | None]) -> pd.Series:
    """Vectorised form of any ``canon_*`` function: string dtype, same index."""
    return pd.Series(map_unique(values, fn), index=values.index, dtype="string")


# --------------------------------------------------------------------------- vocabularies
def _table(groups: dict[str, str | Iterable[str]]) -> dict[str, str]:
    """Build alias -> canonical lookup (aliases: a list or one space-separated string).

    The canonical value is always its own alias; keys are upper-cased for Latin codes.
    """
    table: dict[str, str] = {}
    for canonical, aliases in groups.items():
        words = aliases.split() if isinstance(aliases, str) else list(aliases)
        for alias in (canonical, *words):
            table[alias.upper()] = canonical
    return table


# 是/否 come from the 是否低保 header. Numeric codes (1/0, 1/2/3) are deliberately *not*
# mapped: the same column is also 民政救助类别, where local code lists differ, so a code is
# reported as unrecognised rather than guessed.
ASSISTANCE = _table(
    {
        "低保": (
            "城乡低保 城市低保 农村低保 城镇低保 "
            "最低生活保障 城市最低生活保障 农村最低生活保障 "
            "城市居民最低生活保障 城乡居民最低生活保障 "
            "低保户 低保家庭 低保对象 低保人员 城市低保户 "
            "农村低保户 是 Y YES"
        ),
        # 低保边缘 households are part of the 低收入人口 group (2021 reform).
        "低收入": (
            "低收入家庭 低收入户 低收入人口 低收入对象 "
            "低收入人员 低收入困难家庭 低保边缘 低保边缘户 "
            "低保边缘家庭"
        ),
        # 五保 (rural) and 三无 (urban) were merged into 特困人员供养 in 2014.
        "特困": (
            "特困供养 特困人员 特困供养人员 特困供养对象 "
            "特困人员供养 特困户 五保 五保户 五保供养 "
            "农村五保 三无人员 城市三无"
        ),
        "无": "否 没有 未享受 不享受 未享受救助 无救助 非低保 N NO",
    }
)

# 退出/销档 on the roll means the entry left the roll, i.e. history like 已脱困.
ROLL_STATUS = _table(
    {
        "在档": ["在册", "正常", "在档案", "建档", "已建档"],
        "已脱困": ["脱困", "已解困", "解困", "已退出", "退出", "销档", "已销档", "脱困销档"],
    }
)

CASE_STATUS = _table(
    {
        "在保": ["正常", "保障中", "正常保障", "在册"],
        "停保": ["暂停", "已停保", "暂停保障", "停发", "暂停发放"],
        "退出": ["已退出", "注销", "已注销", "退保", "终止", "终止保障", "取消", "已取消"],
    }
)

PERSON_STATUS = _table(
    {
        "正常": ["健在", "在世", "存活"],
        "死亡": ["已死亡", "去世", "已去世", "已故", "身故", "亡故", "死亡注销"],
    }
)

# GB/T 2261.1 codes: 1 男, 2 女 (0 未知 / 9 未说明 stay unrecognised).
SEX = _table({"男": ["男性", "M", "MALE", "1"], "女": ["女性", "F", "FEMALE", "2"]})

CATEGORY = _table(
    {
        "深度困难": ["深困", "深度困难职工", "深度困难家庭", "深度"],
        "相对困难": ["相困", "相对困难职工", "相对困难家庭", "相对"],
        "意外致困": ["意外致困职工", "意外致困家庭", "意外"],
    }
)

RELATION = _table(
    {
        "户主": ["本人", "申请人", "户主本人"],
        "配偶": ["妻子", "丈夫", "妻", "夫", "夫妻", "爱人", "老婆", "老公"],
        "父母": ["父亲", "母亲", "父", "母", "继父", "继母", "养父", "养母"],
        "子女": ["子", "女", "儿", "儿子", "女儿", "独生子", "独生女"],
    }
)
# 长子, 次女, 三子, 养女, 继子, 独子 ... (ordinal or adoptive prefix + 子/女/儿子/女儿)
_DIGIT = re.compile(r"[0-9]")
_CHILD = re.compile(r"^(长|次|二|三|四|五|六|七|八|九|十|幼|小|独|养|继)(子|女|儿子|女儿)$")


def _lookup(table: dict[str, str], value: object) -> str | None:
    text = clean_text(value)
    if text is None:
        return None
    return table.get(text.upper(), UNRECOGNISED)


def canon_assistance(value: object) -> str | None:
    """低保 / 低收入 / 特困 / 无 (是→低保, 否→无)."""
    return _lookup(ASSISTANCE, value)


def canon_roll_status(value: object) -> str | None:
    """在档 / 已脱困."""
    return _lookup(ROLL_STATUS, value)


def canon_case_status(value: object) -> str | None:
    """在保 / 停保 / 退出."""
    return _lookup(CASE_STATUS, value)


def canon_person_status(value: object) -> str | None:
    """正常 / 死亡."""
    return _lookup(PERSON_STATUS, value)


def canon_sex(value: object) -> str | None:
    """男 / 女."""
    return _lookup(SEX, value)


def canon_category(value: object) -> str | None:
    """深度困难 / 相对困难 / 意外致困."""
    return _lookup(CATEGORY, value)


def canon_relation(value: object) -> str | None:
    """户主 / 配偶 / 子女 / 父母 / 其他.

    The vocabulary is open-ended (孙子, 兄弟, 儿媳, 外孙女 ...) and 其他 is its catch-all, so
    any non-blank value outside the first four groups is 其他; only a value with a digit in
    it (a phone or ID number typed in the wrong column) is :data:`UNRECOGNISED`.
    """
    text = clean_text(value)
    if text is None:
        return None
    if _CHILD.match(text):
        return "子女"
    if _DIGIT.search(text):  # a number is no relation: another column's (a phone, an ID)
        return UNRECOGNISED
    return RELATION.get(text.upper(), "其他")


# --------------------------------------------------------------------------- phone
_PHONE_PUNCT = re.compile(r"[\s\-()（）+—－.]")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_FLOAT_TAIL = re.compile(r"\.0+$")


def canon_phone(value: object) -> str | None:
    """Digits only: an 11-digit mobile (1[3-9]…) or a 7–12 digit landline.

    +86 / 0086 / 86 country prefixes are dropped in front of mobiles; ``13812345678.0`` (Excel
    float) becomes ``13812345678``. Anything else (extensions, two numbers in one cell,
    Excel scientific notation) is :data:`UNRECOGNISED`.
    """
    text = clean_text(value)
    if text is None:
        return None
    digits = _PHONE_PUNCT.sub("", _FLOAT_TAIL.sub("", text))
    if not digits.isascii() or not digits.isdigit():
        return UNRECOGNISED
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and _MOBILE.match(digits[len(prefix) :]):
            return digits[len(prefix) :]
    if _MOBILE.match(digits):
        return digits
    if 7 <= len(digits) <= 12 and not digits.startswith("1"):
        return digits
    return UNRECOGNISED


# --------------------------------------------------------------------------- numbers
_INT = re.compile(r"^([+-]?\d+)(?:\.0*)?(?:人|口|口人|个|名)?$")
_MONEY = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_MONEY_AFFIX = re.compile(r"^(?:¥|RMB|CNY)|(?:元|RMB|CNY)$", re.IGNORECASE)


# The largest count of people a household size cell can mean (家庭人口, 保障人数): anything
# larger is another field's number typed there (an ID or bank card number, a phone), not a
# count; the Data Docs' plausibility check (1–20) still flags the unusual sizes below it.
MAX_COUNT = 999
# The largest monthly amount in yuan a benefit or income cell can mean: an ID or phone
# number typed there is larger by orders of magnitude (the 低保 standard is about 1,000 yuan a
# person a month).
MAX_AMOUNT_YUAN = 1_000_000


def parse_count(value: object) -> int | None:
    """`parse_int` between 0 and `MAX_COUNT`; None otherwise (never an int64 overflow)."""
    number = parse_int(value)
    return number if number is not None and 0 <= number <= MAX_COUNT else None


def parse_amount(value: object) -> float | None:
    """`parse_money` whose size is at most `MAX_AMOUNT_YUAN`; None otherwise."""
    number = parse_money(value)
    return number if number is not None and abs(number) <= MAX_AMOUNT_YUAN else None


def parse_int(value: object) -> int | None:
    """Integer such as a household size: 3, 3.0, '3', '3人', '３', '1,200'. None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        real = float(value)
        return int(real) if math.isfinite(real) and real == int(real) else None
    text = clean_text(value)
    if text is None:
        return None
    match = _INT.match(text.replace(",", ""))
    return int(match.group(1)) if match else None


def parse_money(value: object) -> float | None:
    """Yuan amount: 1320, '1,320.50', '¥1320', '￥1320元', full-width digits. None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        real = float(value)
        return real if math.isfinite(real) else None
    text = clean_text(value)
    if text is None:
        return None
    text = _MONEY_AFFIX.sub("", text.replace(",", ""))  # prefix and suffix: '¥1320元'
    if not _MONEY.match(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _parse_frame(values: pd.Series, fn: Callable[[object], Any], dtype: str) -> pd.DataFrame:
    def parse_one(value: object) -> tuple[Any, bool]:
        result = fn(value)
        return result, result is None and not is_blank(value)

    parsed = map_unique(values, parse_one)
    return pd.DataFrame(
        {
            "value": pd.array([p[0] for p in parsed], dtype=dtype),
            "unparseable": np.array([p[1] for p in parsed], dtype=bool),
        },
        index=values.index,
    )


def parse_ints(values: pd.Series) -> pd.DataFrame:
    """Columns ``value`` (Int64) and ``unparseable`` (non-blank but not a count of people,
    `parse_count`)."""
    return _parse_frame(values, parse_count, "Int64")


def parse_moneys(values: pd.Series) -> pd.DataFrame:
    """Columns ``value`` (Float64, yuan) and ``unparseable`` (non-blank but not an amount,
    `parse_amount`)."""
    return _parse_frame(values, parse_amount, "Float64")

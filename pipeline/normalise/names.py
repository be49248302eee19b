"""Person-name normalisation and pinyin keys.

``normalise_name`` makes the two sides' spellings of one name identical: the private-use code
points of GBK-era systems mapped to their standard characters (:mod:`gb18030_pua`, e.g. U+E863
→ 䶮), NFKC (full-width letters and digits), traditional -> simplified (OpenCC ``t2s`` plus
:data:`VARIANTS`), no whitespace or zero-width characters, one minority-name separator ``·``
(whatever dot or dash was typed between the parts), Latin letters upper-cased. It never drops
other characters: unexpected punctuation stays visible for review.

Note that t2s is context-free for single names, so it also folds a few characters that are
legitimately distinct in names (於→于, 乾→干). Both sides go through the same function,
so this only ever merges spellings; it never splits them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

import pandas as pd
from pypinyin import Style, lazy_pinyin

from pipeline.normalise.gb18030_pua import PUA_TO_STANDARD
from pipeline.normalise.vocab import is_blank, map_unique

SEPARATOR = "\u00b7"  # · MIDDLE DOT, the GB 18030 / GB 2312 A1A4 character read correctly

# Characters seen as minority-name separators (after NFKC, which already folds U+FF65 to
# U+30FB, U+0387 to U+00B7 and the full-width full stop U+FF0E to '.'):
#   U+00B7 ·  U+2022 •  U+2027 ‧  U+30FB ・ (what gb2312 makes of A1A4)  '.'
#   U+2219 ∙ and U+22C5 ⋅ (picked from symbol palettes)  U+2E31 ⸱ WORD SEPARATOR MIDDLE DOT
# and the dashes typed between the parts where the dot is hard to find (阿依古丽-买买提):
#   '-' (also what NFKC makes of the full-width U+FF0D －)  U+2010 ‐  U+2011 ‑  U+2012 ‒
#   U+2013 –  U+2014 —  U+2015 ―  U+2212 −
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
SEPARATORS = "\u00b7\u2022\u2027\u30fb.\u2219\u22c5\u2e31" + DASHES
_SEPARATOR_RUN = re.compile("[" + re.escape(SEPARATORS) + "]+")

# Whitespace, plus invisible format characters that ride along from Excel/web copies.
_INVISIBLE = re.compile("[\\s\u200b\u200c\u200d\u2060\ufeff]+")

# Variants applied after OpenCC t2s. Checked against opencc 1.1 (t2s): 囯 衞 锺 凃 塲 菓
# are left unmapped by t2s; 峯 羣 綫 裡 are mapped by t2s already and are listed so the result
# does not depend on the OpenCC dictionary version. 锺 is a valid 通用规范汉字 but registration
# systems mix it with 钟 for the same surname, so both sides are folded to 钟.
VARIANTS: dict[str, str] = {
    "囯": "国",
    "衞": "卫",
    "锺": "钟",
    "凃": "涂",
    "塲": "场",
    "峯": "峰",
    "裡": "里",
    "菓": "果",
    "羣": "群",
    "綫": "线",
}
_VARIANT_TABLE = str.maketrans(VARIANTS)

_COMPOUND_SURNAME_TEXT = """
    欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 令狐 夏侯 长孙 宇文 司徒 轩辕 端木 申屠
    独孤 南宫 万俟 闻人 司空 西门 百里 呼延 赫连 澹台 公冶 宗政 濮阳 太史 仲孙 钟离 淳于
    单于 太叔 公羊 亓官 司寇 左丘 东郭 拓跋 第五 梁丘 乐正 漆雕 壤驷 公良 谷梁 段干
    """
COMPOUND_SURNAMES: frozenset[str] = frozenset(_COMPOUND_SURNAME_TEXT.split())

# Surname readings where pypinyin (0.55, no surname mode) gives the everyday reading.
# Values are TONE3 syllables.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "单": ("shan4",),
    "曾": ("zeng1",),
    "解": ("xie4",),
    "仇": ("qiu2",),
    "区": ("ou1",),
    "查": ("zha1",),
    "朴": ("piao2",),
    "翟": ("zhai2",),
    "盖": ("ge3",),
    "尉迟": ("yu4", "chi2"),
    "万俟": ("mo4", "qi2"),
    "单于": ("chan2", "yu2"),
    "乐": ("yue4",),
    "缪": ("miao4",),
    "朝": ("chao2",),
    "覃": ("qin2",),
    "种": ("chong2",),
    "员": ("yun4",),
    "黑": ("he4",),
    "繁": ("po2",),
    "秘": ("bi4",),
    "句": ("gou1",),
}


@cache
def _t2s() -> Any:  # opencc ships no type information
    """The OpenCC converter, created on first use (loading dictionaries takes ~50 ms)."""
    import opencc

    return opencc.OpenCC("t2s")


def normalise_name(raw: object) -> str | None:
    """Canonical form of a person's name, or None when blank."""
    if is_blank(raw):
        return None
    text = unicodedata.normalize("NFKC", str(raw).translate(PUA_TO_STANDARD))
    text = _t2s().convert(text).translate(_VARIANT_TABLE)
    text = _INVISIBLE.sub("", text)
    text = _SEPARATOR_RUN.sub(SEPARATOR, text).strip(SEPARATOR)
    return text.upper() or None


def normalise_names(values: pd.Series) -> pd.Series:
    """Vectorised :func:`normalise_name` (string dtype, same index)."""
    return pd.Series(map_unique(values, normalise_name), index=values.index, dtype="string")


def name_without_separator(name: str | None) -> str | None:
    """A normalised name with its ``·`` removed (for comparing 买买提·艾力 with 买买提艾力)."""
    if name is None or pd.isna(name):
        return None
    return name.replace(SEPARATOR, "") or None


def surname(name: str | None) -> str | None:
    """Surname of a normalised name.

    Minority names: the part before the first ``·``. A compound surname counts only when at
    least one character follows it (a two-character 欧阳 is 欧 + 阳).
    """
    if name is None or pd.isna(name) or not name:
        return None
    if SEPARATOR in name:
        return name.split(SEPARATOR, 1)[0]
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    return name[0]


_TONED_SYLLABLE = re.compile(r"[a-z]+[1-5]")


@cache
def _char_pinyin(char: str) -> tuple[str, str]:
    """(TONE3, toneless) reading of one character; other characters lower-cased as they are."""
    reading = lazy_pinyin(char, style=Style.TONE3, neutral_tone_with_five=True)
    tone = "".join(reading)
    if _TONED_SYLLABLE.fullmatch(tone):
        return tone, tone[:-1]
    return tone.lower(), tone.lower()


def pinyin_keys(name: object) -> tuple[str, str] | None:
    """(tone-numbered pinyin, toneless pinyin), e.g. ('zhang1wei3', 'zhangwei').

    The name is normalised first. Heteronym surnames take their surname reading
    (:data:`SURNAME_READINGS`). Every other character gets its single default reading,
    independent of its neighbours: a name is not a word, pypinyin's phrase dictionary would
    read 曾经 as "ceng jing", and per-character readings are cached, which makes a million
    names take seconds instead of minutes. Minority names are read without the separator and
    without surname readings. None for a blank name.
    """
    normal = normalise_name(name)
    if normal is None:
        return None
    tone: list[str] = []
    plain: list[str] = []
    given = normal.replace(SEPARATOR, "")
    family = surname(normal) if SEPARATOR not in normal else None
    if family in SURNAME_READINGS:
        tone += SURNAME_READINGS[family]
        plain += [syllable.rstrip("12345") for syllable in SURNAME_READINGS[family]]
        given = normal[len(family) :]
    for char in given:
        char_tone, char_plain = _char_pinyin(char)
        tone.append(char_tone)
        plain.append(char_plain)
    return "".join(tone), "".join(plain)


def pinyin_columns(names: pd.Series) -> pd.DataFrame:
    """Columns ``name_pinyin_tone`` and ``name_pinyin`` (string dtype, same index)."""
    keys = map_unique(names, pinyin_keys)
    return pd.DataFrame(
        {
            "name_pinyin_tone": pd.array([k[0] if k else None for k in keys], dtype="string"),
            "name_pinyin": pd.array([k[1] if k else None for k in keys], dtype="string"),
        },
        index=names.index,
    )

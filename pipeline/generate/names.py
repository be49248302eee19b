"""Name pools with Beijing-like frequencies, and name generation (scalar and vectorised)."""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Sequence

import numpy as np

# Surname -> share in percent (Beijing-like; 王 and 张 lead).
SURNAMES: dict[str, float] = {
    "王": 10.3, "张": 9.5, "李": 7.0, "刘": 6.5, "赵": 2.8, "杨": 2.6, "陈": 2.5, "孙": 1.9,
    "马": 1.8, "高": 1.6, "周": 1.5, "郭": 1.5, "吴": 1.3, "徐": 1.3, "黄": 1.2, "于": 1.2,
    "朱": 1.1, "胡": 1.1, "韩": 1.0, "宋": 0.9, "田": 0.9, "董": 0.9, "何": 0.8, "郑": 0.8,
    "梁": 0.8, "冯": 0.8, "曹": 0.8, "杜": 0.8, "崔": 0.8, "魏": 0.7, "任": 0.7, "姜": 0.7,
    "贾": 0.7, "林": 0.6, "罗": 0.6, "唐": 0.6, "许": 0.6, "程": 0.6, "苏": 0.6, "吕": 0.6,
    "丁": 0.6, "石": 0.6, "白": 0.6, "孟": 0.6, "谢": 0.5, "肖": 0.5, "袁": 0.5, "姚": 0.5,
    "卢": 0.5, "范": 0.5, "金": 0.5, "付": 0.5, "闫": 0.5, "侯": 0.5, "史": 0.5, "郝": 0.5,
    "武": 0.5, "邓": 0.4, "彭": 0.4, "潘": 0.4, "蒋": 0.4, "蔡": 0.4, "沈": 0.4, "夏": 0.4,
    "方": 0.4, "秦": 0.4, "尹": 0.4, "薛": 0.4, "段": 0.4, "余": 0.3, "叶": 0.3, "谭": 0.3,
    "陆": 0.3, "汪": 0.3, "邹": 0.3, "邱": 0.3, "江": 0.3, "雷": 0.3, "陶": 0.3, "贺": 0.3,
    "毛": 0.3, "邵": 0.3, "万": 0.3, "戴": 0.3, "曾": 0.3, "钟": 0.2, "廖": 0.2, "韦": 0.2,
    "熊": 0.2, "龙": 0.2, "顾": 0.2, "龚": 0.2, "章": 0.2, "翟": 0.15, "单": 0.1, "黎": 0.1,
    "柳": 0.1, "解": 0.05, "仇": 0.05, "查": 0.05, "朴": 0.05, "覃": 0.05, "欧阳": 0.05,
    "区": 0.02, "司马": 0.02, "上官": 0.02, "阳": 0.03,
}

# Given names in rough order of frequency (a Zipf weight is applied, so the first recur often).
MALE_GIVEN: tuple[str, ...] = (
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华",
    "飞", "鑫", "波", "斌", "宇", "建国", "建华", "国强", "志强", "建军", "浩", "凯", "健",
    "俊", "海涛", "志明", "晓东", "永刚", "文斌", "帆", "旭", "宁", "龙", "峰", "亮", "国华",
    "建平", "卫东", "红军", "立新", "俊杰", "子豪", "浩然", "宇轩", "成", "博", "坤", "家豪",
    "振国", "国庆", "长江", "保国", "德明", "永利", "志刚",
)
FEMALE_GIVEN: tuple[str, ...] = (
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "秀英", "桂英", "霞", "燕", "玲", "秀兰", "丹",
    "萍", "红", "玉兰", "桂兰", "淑珍", "秀珍", "丽娟", "海燕", "晓红", "雪梅", "婷", "琳",
    "雪", "颖", "倩", "慧", "晶", "梅", "莉", "洁", "婷婷", "欣怡", "子涵", "雨桐", "晓燕",
    "秀梅", "丽华", "淑英", "玉梅", "凤英", "桂芳", "玉珍", "淑兰", "秀荣", "建英", "国英",
)

MINORITY_MALE: tuple[str, ...] = (
    "买买提", "艾力", "阿不都", "吐尔逊", "艾买提", "阿卜杜拉", "热合曼", "努尔", "伊力哈木",
    "库尔班", "艾则孜", "玉素甫",
)
MINORITY_FEMALE: tuple[str, ...] = (
    "阿依古丽", "古丽米拉", "热依拉", "帕提古丽", "迪丽努尔", "米日古丽", "努尔古丽", "阿依努尔",
    "祖丽皮亚",
)
MINORITY_FATHER: tuple[str, ...] = (
    "艾力", "吐尔逊", "阿不都", "买买提", "热合曼", "玉素甫", "库尔班", "艾买提", "司马义", "依明",
)
MINORITY_RATE = 0.015

# Same-sounding given-name characters (a clerk typed the wrong one): a real name difference.
HOMOPHONES: dict[str, str] = {
    "伟": "玮", "静": "婧", "杰": "洁", "军": "君", "明": "铭", "华": "骅", "娟": "鹃",
    "芳": "方", "红": "虹", "英": "瑛", "涛": "韬", "敏": "珉", "磊": "垒", "勇": "永",
    "燕": "艳", "婷": "亭", "斌": "彬", "峰": "锋", "辉": "晖", "鹏": "朋", "丽": "俪",
    "娜": "哪", "强": "墙", "洋": "阳", "平": "萍", "霞": "侠", "兰": "岚", "梅": "玫",
    "玲": "琳", "刚": "钢", "波": "博", "飞": "菲", "亮": "良", "超": "朝", "宇": "雨",
}

# Compatibility ideographs that NFKC folds back (old systems / IME output): "full-width" names.
COMPAT_CHARS: dict[str, str] = {"金": "\uf90a", "李": "\uf9e1", "林": "\uf9f4", "呂": "\uf980"}

MINORITY_SEPARATORS: tuple[str, ...] = ("·", "•", "‧", "・", ".")


def _zipf(n: int, s: float = 0.9) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


_SURNAME_LIST = list(SURNAMES)
_SURNAME_P = np.array(list(SURNAMES.values()), dtype=float)
_SURNAME_P = _SURNAME_P / _SURNAME_P.sum()
_SURNAME_CUM = np.cumsum(_SURNAME_P).tolist()
_MALE_P = _zipf(len(MALE_GIVEN))
_FEMALE_P = _zipf(len(FEMALE_GIVEN))
_MALE_CUM = np.cumsum(_MALE_P).tolist()
_FEMALE_CUM = np.cumsum(_FEMALE_P).tolist()


def _pick(r: random.Random, items: tuple[str, ...] | list[str], cum: list[float]) -> str:
    i = bisect.bisect_right(cum, r.random() * cum[-1])
    return items[min(i, len(items) - 1)]


def surname(r: random.Random) -> str:
    return _pick(r, _SURNAME_LIST, _SURNAME_CUM)


def given(r: random.Random, male: bool) -> str:
    if male:
        return _pick(r, MALE_GIVEN, _MALE_CUM)
    return _pick(r, FEMALE_GIVEN, _FEMALE_CUM)


def minority_name(r: random.Random, male: bool, father: str | None = None) -> str:
    first = r.choice(MINORITY_MALE if male else MINORITY_FEMALE)
    return f"{first}·{father or r.choice(MINORITY_FATHER)}"


def person_name(r: random.Random, male: bool, family_surname: str | None = None) -> str:
    """One Han name; uses ``family_surname`` when given."""
    return (family_surname or surname(r)) + given(r, male)


NameDraw = Callable[[np.random.Generator, int], np.ndarray]
# The draws names_vectorised makes, in order, each over the n people: surname, male given name,
# female given name, minority (< MINORITY_RATE), minority male, female and father's names.
NAME_DRAWS: tuple[NameDraw, ...] = (
    lambda g, n: g.choice(len(_SURNAME_LIST), size=n, p=_SURNAME_P),
    lambda g, n: g.choice(len(MALE_GIVEN), size=n, p=_MALE_P),
    lambda g, n: g.choice(len(FEMALE_GIVEN), size=n, p=_FEMALE_P),
    lambda g, n: g.random(n),
    lambda g, n: g.integers(0, len(MINORITY_MALE), n),
    lambda g, n: g.integers(0, len(MINORITY_FEMALE), n),
    lambda g, n: g.integers(0, len(MINORITY_FATHER), n),
)
MINORITY_DRAW = 3  # index in NAME_DRAWS of the draw deciding a minority name


def names_vectorised(rng: np.random.Generator, male: np.ndarray) -> list[str]:
    """Names for many unrelated people at once (roster-only members)."""
    return names_from_draws(male, [draw(rng, len(male)) for draw in NAME_DRAWS])


def names_from_draws(male: np.ndarray, draws: Sequence[np.ndarray]) -> list[str]:
    """The names NAME_DRAWS' values (one array per draw, each of len(male)) make."""
    s_idx, m_idx, f_idx, u, mm_idx, mf_idx, fa_idx = draws
    minority = u < MINORITY_RATE
    sur = np.array(_SURNAME_LIST, dtype=object)[s_idx]
    giv = np.where(male, np.array(MALE_GIVEN, dtype=object)[m_idx],
                   np.array(FEMALE_GIVEN, dtype=object)[f_idx])
    han = sur + giv
    mfirst = np.where(male, np.array(MINORITY_MALE, dtype=object)[mm_idx],
                      np.array(MINORITY_FEMALE, dtype=object)[mf_idx])
    mino = mfirst + "·" + np.array(MINORITY_FATHER, dtype=object)[fa_idx]
    return np.where(minority, mino, han).tolist()


def is_minority(name: str) -> bool:
    return "·" in name


def split_surname(name: str) -> tuple[str, str]:
    """(surname, given) of a Han name; compound surnames recognised."""
    if name[:2] in ("欧阳", "司马", "上官"):
        return name[:2], name[2:]
    return name[:1], name[1:]

"""Realistic corruptions of *written* values (SPEC §1.4). Truth is never corrupted.

Scalar helpers take a ``random.Random``; the roster uses the vectorised paths.
"""

from __future__ import annotations

import bisect
import random
from datetime import date

import numpy as np
import opencc

from . import names as nm
from .constants import (
    DISTRICTS,
    INVISIBLE_FORMS,
    OLD_CODES,
    PROTECTION_KINDS,
    ROLL_ID_RATES,
    ROLL_LOWER_X_SHARE,
    ROLL_PROTECTION_RATES,
)
from .dates import EXCEL_OFFSET, to_date
from .identity import id_check_char, to_legacy15

_S2T = opencc.OpenCC("s2t")
FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
BENIGN_KINDS = ("valid", "lowercase_x", "fullwidth", "spaces", "legacy15", *PROTECTION_KINDS)
_ROLL_RATES = {**ROLL_ID_RATES, **ROLL_PROTECTION_RATES}
_INVISIBLE_CUM = np.cumsum([w for _, _, w in INVISIBLE_FORMS]).tolist()


# ---------------------------------------------------------------- IDs


def roll_id_kind(r: random.Random, id18: str, birth_year: int, force_valid: bool) -> str:
    """How the roll writes a plain resident ID: one draw over ROLL_ID_RATES, then the text
    protection marks; ``force_valid`` keeps it benign."""
    u = r.random()
    kind = "valid"
    acc = 0.0
    for k, rate in _ROLL_RATES.items():
        acc += rate
        if u < acc:
            kind = k
            break
    if force_valid and kind not in BENIGN_KINDS:
        kind = "valid"
    if kind == "legacy15" and birth_year >= 2000:
        kind = "valid"
    if kind in ("excel_e17", "excel_000") and id18.endswith("X"):
        kind = "valid"
    if kind == "valid" and id18.endswith("X") and r.random() < ROLL_LOWER_X_SHARE:
        kind = "lowercase_x"
    return kind


def apply_id_kind(r: random.Random, id18: str, kind: str) -> tuple[str | float, str]:
    """Written value for ``id18`` under ``kind``; returns (value, kind actually applied)."""
    if kind == "valid":
        return id18, kind
    if kind == "lowercase_x":
        return id18[:17] + "x", kind
    if kind == "fullwidth":
        return id18.translate(FULLWIDTH), kind
    if kind == "spaces":
        if r.random() < 0.5:
            return f"{id18[:6]} {id18[6:14]} {id18[14:]}", kind
        i = r.randint(1, 17)
        return id18[:i] + " " + id18[i:], kind
    if kind == "legacy15":
        return to_legacy15(id18), kind
    if kind == "typo":
        i = r.randrange(17)
        d = r.choice([c for c in "0123456789" if c != id18[i]])
        return id18[:i] + d + id18[i + 1:], kind
    if kind == "transposition":
        cands = [i for i in range(16) if id18[i] != id18[i + 1]]
        i = r.choice(cands)
        return id18[:i] + id18[i + 1] + id18[i] + id18[i + 2:], kind
    if kind == "excel_e17":
        return f"{int(id18):.5E}", kind
    if kind == "excel_000":
        damaged = id18[:15] + "000"
        if id_check_char(damaged[:17]) == damaged[17]:
            return apply_id_kind(r, id18, "typo")
        return damaged, kind
    if kind == "blank":
        return "", kind
    if kind in PROTECTION_KINDS:
        return protect(r, id18, kind), kind
    raise ValueError(kind)


def protect(r: random.Random, text: str, kind: str) -> str:
    """``text`` with a protection mark (SPEC §1.4): a leading apostrophe, Excel's text-formula
    wrapper ``="…"``, or an invisible character (tab, NBSP, zero-width) around or inside."""
    if kind == "apostrophe":
        return "'" + text
    if kind == "text_formula":
        return f'="{text}"'
    if kind == "invisible_chars":
        i = min(bisect.bisect_right(_INVISIBLE_CUM, r.random() * _INVISIBLE_CUM[-1]),
                len(INVISIBLE_FORMS) - 1)
        where, chars, _ = INVISIBLE_FORMS[i]
        if where == "start":
            return chars + text
        if where == "inner":
            j = r.randint(1, len(text) - 1)
            return text[:j] + chars + text[j:]
        return text + chars
    raise ValueError(kind)


def protection_marks(rng: np.random.Generator, n: int, rates: dict[str, float]) -> list[str]:
    """For ``n`` cells at once: the protection mark each gets ('' for none)."""
    cum = np.cumsum(list(rates.values()))
    which = np.searchsorted(cum, rng.random(n), side="right")  # len(rates): no mark
    return np.array([*rates, ""], dtype=object)[which].tolist()


def side_id(r: random.Random, id18: str, birth_year: int, typo: float, legacy: float,
            lower_x: float, spaces: float = 0.0) -> tuple[str, str]:
    """Cleaner corruption for civil and roster IDs."""
    u = r.random()
    if u < typo:
        return apply_id_kind(r, id18, "typo")  # type: ignore[return-value]
    if u < typo + legacy and birth_year < 2000:
        return to_legacy15(id18), "legacy15"
    if u < typo + legacy + spaces:
        return apply_id_kind(r, id18, "spaces")  # type: ignore[return-value]
    if id18.endswith("X") and r.random() < lower_x:
        return id18[:17] + "x", "lowercase_x"
    return id18, "valid"


# ---------------------------------------------------------------- names


def to_traditional(name: str) -> str:
    return _S2T.convert(name)


def corrupt_name(r: random.Random, name: str, *, trad: float, space: float, full: float,
                 homophone: float, guo: float, separators: tuple[str, ...]) -> str:
    if nm.is_minority(name):
        sep = r.choice(separators)
        return name.replace("·", sep)
    u = r.random()
    if u < trad:
        out = to_traditional(name)
        if out != name:
            return out
    elif u < trad + space:
        sur, giv = nm.split_surname(name)
        return sur + r.choice((" ", "\u3000", "  ")) + giv
    elif u < trad + space + full:
        for ch, compat in nm.COMPAT_CHARS.items():
            if ch in name:
                return name.replace(ch, compat)
    elif u < trad + space + full + homophone:
        sur, giv = nm.split_surname(name)
        last = giv[-1:]
        if last in nm.HOMOPHONES:
            return sur + giv[:-1] + nm.HOMOPHONES[last]
    if "国" in name and r.random() < guo:
        return name.replace("国", "囯")
    return name


def name_variant(r: random.Random, name: str, variant: str) -> str:
    """Deliberate spelling variant of a duplicate roll entry (never a real name change)."""
    if nm.is_minority(name):
        return name
    if variant == "trad":
        return to_traditional(name)
    if variant == "space":
        sur, giv = nm.split_surname(name)
        return f"{sur} {giv}"
    return name


# ---------------------------------------------------------------- dates, districts, phones

ROLL_DATE_STYLES = (("cell", 40), ("iso", 25), ("slash", 10), ("dot", 5), ("compact", 8),
                    ("cn", 7), ("serial", 5))
CIVIL_DATE_STYLES = (("iso", 80), ("compact", 10), ("slash", 5), ("serial", 5))


def fmt_date(r: random.Random, day_n, styles) -> object:
    if day_n is None or (isinstance(day_n, float) and np.isnan(day_n)):
        return ""
    d = to_date(int(day_n))
    style = r.choices([s for s, _ in styles], weights=[w for _, w in styles])[0]
    return render_date(d, style, int(day_n))


def render_date(d: date, style: str, day_n: int) -> object:
    if style == "cell":
        return d
    if style == "iso":
        return d.isoformat()
    if style == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if style == "dot":
        return f"{d.year}.{d.month:02d}.{d.day:02d}"
    if style == "compact":
        return f"{d.year}{d.month:02d}{d.day:02d}"
    if style == "cn":
        return f"{d.year}年{d.month}月{d.day}日"
    if style == "serial":
        return day_n + EXCEL_OFFSET
    raise ValueError(style)


def fmt_dates_vectorised(rng: np.random.Generator, days: np.ndarray) -> list[object]:
    """Roster join dates in mixed formats, vectorised."""
    from .dates import ymd

    y, m, d = ymd(days)
    style = rng.choice(6, size=len(days), p=[0.5, 0.15, 0.05, 0.1, 0.1, 0.1])
    out: list[object] = []
    for yy, mm, dd, s, n in zip(y.tolist(), m.tolist(), d.tolist(), style.tolist(),
                                days.tolist(), strict=True):
        if s == 0:
            out.append(f"{yy}-{mm:02d}-{dd:02d}")
        elif s == 1:
            out.append(f"{yy}/{mm}/{dd}")
        elif s == 2:
            out.append(f"{yy}.{mm:02d}.{dd:02d}")
        elif s == 3:
            out.append(f"{yy}{mm:02d}{dd:02d}")
        elif s == 4:
            out.append(f"{yy}年{mm}月{dd}日")
        else:
            out.append(int(n) + EXCEL_OFFSET)
    return out


def fmt_district(r: random.Random, code: str) -> str:
    u = r.random()
    if u < 0.02 and code in OLD_CODES:
        old_code, old_name, _ = OLD_CODES[code]
        return old_name if r.random() < 0.5 else old_code
    if u < 0.22:
        return code
    return DISTRICTS[code][0]


def fmt_phone(r: random.Random, phone: str) -> str:
    u = r.random()
    if u < 0.05:
        return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    if u < 0.08:
        return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    if u < 0.10:
        return f"+86 {phone}"
    if u < 0.11:
        return f"+86{phone}"
    return phone

"""Identity numbers: GB 11643 citizen IDs, GB 32100 USCC codes, mobile phones.

Vectorised where the generator makes many (roster scale); scalar helpers for validation.
"""

from __future__ import annotations

import random

import numpy as np

from .idcheck import check_id

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK = "10X98765432"

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "170", "176", "177", "180", "181", "182",
    "183", "184", "185", "186", "187", "188", "189", "198", "199",
)


def id_check_char(body17: str) -> str:
    s = sum(int(c) * int(w) for c, w in zip(body17, ID_WEIGHTS, strict=True))
    return ID_CHECK[s % 11]


def id_bodies(prefix: np.ndarray, ymd: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """17-digit ID bodies as int64 from 6-digit prefix, yyyymmdd and 3-digit sequence."""
    return prefix.astype(np.int64) * 10**11 + ymd.astype(np.int64) * 1000 + seq.astype(np.int64)


def id_strings(body: np.ndarray) -> list[str]:
    """Full 18-character IDs (check character appended) for int64 bodies."""
    digits = np.stack([(body // 10 ** (16 - i)) % 10 for i in range(17)], axis=1)
    checks = (digits @ ID_WEIGHTS) % 11
    chk = np.array(list(ID_CHECK))[checks]
    return [f"{b:017d}{c}" for b, c in zip(body.tolist(), chk.tolist(), strict=True)]


def normalise_id(raw: object) -> str | None:
    """Canonical 18-char number if ``raw`` is a valid ID after cleaning, else None.

    Cleaning and validity as the truth decides them (:func:`idcheck.check_id`): protection
    marks, NFKC, white space, hyphens, lower-case x and legacy 15 digits are benign; a bad
    check character, Excel damage, an impossible date, an unpublished prefix, a placeholder or
    a blank is not. Residence permits and foreigners' permanent-residence numbers are valid.
    """
    verdict = check_id(raw if raw is None or isinstance(raw, str) else str(raw))
    return verdict.canonical if verdict.status == "valid" else None


def to_legacy15(id18: str) -> str:
    return id18[:6] + id18[8:17]


# ---------------------------------------------------------------- USCC (GB 32100)


def _org_code(r_vals: list[int]) -> str:
    """8 body chars (values 0..30 in the USCC charset, digits mostly) + GB 11714 check."""
    body = "".join(USCC_CHARSET[v] for v in r_vals)
    total = 0
    for ch, w in zip(body, ORG_WEIGHTS, strict=True):
        total += (int(ch) if ch.isdigit() else ord(ch) - 55) * w
    c = 11 - total % 11
    check = "X" if c == 10 else ("0" if c == 11 else str(c))
    return body + check


def uscc_check_char(body17: str) -> str:
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(body17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    if len(code) != 18 or any(c not in USCC_CHARSET for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def make_uscc(r: random.Random, district_code: str) -> str:
    """A valid USCC: 9 (market regulator), 1 (enterprise), admin code, org code, check."""
    vals = [r.randrange(10) for _ in range(8)]
    if r.random() < 0.3:  # newer codes often carry letters
        vals[r.randrange(8)] = r.randrange(10, 31)
    body = "91" + district_code + _org_code(vals)
    return body + uscc_check_char(body)


def break_uscc(code: str) -> str:
    """Same code with a wrong check character."""
    i = USCC_CHARSET.index(code[17])
    return code[:17] + USCC_CHARSET[(i + 7) % 31]


# ---------------------------------------------------------------- phones


def phones(rng: np.random.Generator, n: int) -> list[str]:
    pre = np.array(MOBILE_PREFIXES)[rng.integers(0, len(MOBILE_PREFIXES), n)]
    rest = rng.integers(0, 10**8, n)
    return [f"{p}{x:08d}" for p, x in zip(pre.tolist(), rest.tolist(), strict=True)]

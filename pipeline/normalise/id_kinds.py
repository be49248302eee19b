"""Kinds of number written in the GB 11643 format, and placeholders typed for an unknown one.

Kinds (the ``id_kind`` column; all valid numbers link like resident IDs):

* ``resident``: a resident ID (公民身份号码, GB 11643-1999); its first six digits are the
  issuing place, a code of some published GB/T 2260 list (``districts.known_admin_codes``);
* ``permit_hk`` / ``permit_mo`` / ``permit_tw``: residence permits for Hong Kong, Macau and
  Taiwan residents (港澳台居民居住证, State Council General Office, 国办发〔2018〕81号), issued
  since 2018 in the GB 11643 format with the prefix 810000 / 820000 / 830000;
* ``foreign_permanent``: the foreigners' permanent-residence number of the 2023 card
  (外国人永久居留身份证, National Immigration Administration announcement of 2023): first
  digit 9, digits 2–3 the issuing province, digits 4–6 a three-digit nationality code
  (GB/T 2659), digits 7–14 the birth date, 15–17 a sequence, 18 the MOD 11-2 check character
  computed as for resident IDs.

Placeholders (``id_problem == 'placeholder'``) are numbers clerks type when the real one is
unknown. They are never evidence: not an exact-ID link, not a blocking key, not a comparison
level, and their "birth date" is not used. Recognised, on the 18 characters:

* the first 17 digits all the same digit (``111111111111111111``, ``000000000000000000``);
* the first 17 digits an ascending or descending run, wrapping at 9/0
  (``123456789012345678``, ``987654321098765432``);
* a prefix followed by zeros: digits 7–17 all 0 (``110105000000000000``);
* an all-zero birth-date part (digits 7–14) or an all-zero sequence (digits 15–17) — but
  not when digits 16–18 are ``000``, which is Excel's 15-significant-digit damage;
* on a legacy 15-digit number, the same patterns on its 15 digits;
* a cell holding only a word for "unknown" (不详, 未知, 无, 待补 …).

A number shared in one file by several people with different names and birth dates is also
treated as a placeholder (``id_problem == 'shared'``); that needs the whole file, so it is
decided in :mod:`pipeline.normalise.shared_ids`.
"""

from __future__ import annotations

import numpy as np

from pipeline.normalise.districts import admin_code_known

RESIDENT = "resident"
FOREIGN_PERMANENT = "foreign_permanent"
PERMIT_PREFIXES: dict[str, str] = {
    "810000": "permit_hk",
    "820000": "permit_mo",
    "830000": "permit_tw",
}
KINDS = (RESIDENT, *PERMIT_PREFIXES.values(), FOREIGN_PERMANENT)
# Chinese labels for people (reports, Data Docs).
KIND_LABELS: dict[str, str] = {
    RESIDENT: "居民身份证号码",
    "permit_hk": "港澳居民居住证（香港）",
    "permit_mo": "港澳居民居住证（澳门）",
    "permit_tw": "台湾居民居住证",
    FOREIGN_PERMANENT: "外国人永久居留身份证号码",
}

# Words typed into an ID cell for "unknown"; compared after NFKC and upper-casing.
UNKNOWN_WORDS = frozenset({
    "不详", "未知", "无", "暂无", "待补", "待查", "待核实", "不明", "无证", "无身份证", "未提供",
    "UNKNOWN", "N/A", "NA",
})


def id_kind(first6: str) -> str:
    """The kind of number from its first six characters (any text of length ≥ 6)."""
    if first6 in PERMIT_PREFIXES:
        return PERMIT_PREFIXES[first6]
    if first6[:1] == "9":
        return FOREIGN_PERMANENT
    return RESIDENT


def issuer_code(first6: str) -> str:
    """The GB/T 2260 code that must be known for the number's issuer to be recognised:
    the prefix itself for a resident ID, the province (``NN0000``) for a foreigners' number,
    the permit prefix (which is its own rule) for residence permits."""
    if first6[:1] == "9":
        return first6[1:3] + "0000"
    return first6


def issuer_known(first6: str) -> bool:
    """True when the first six characters name a known issuer (see :func:`id_kind`)."""
    if first6 in PERMIT_PREFIXES:
        return True
    return admin_code_known(issuer_code(first6))


def _runs(digits: np.ndarray) -> np.ndarray:
    """Rows whose digits (n × k ints) are one digit repeated or a ±1 run (mod 10)."""
    if digits.shape[1] < 2:
        return np.zeros(len(digits), dtype=bool)
    steps = (digits[:, 1:] - digits[:, :-1]) % 10
    return (steps == 0).all(axis=1) | (steps == 1).all(axis=1) | (steps == 9).all(axis=1)


def placeholder_18(digits: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Placeholders among 18-character numbers, all at once.

    ``digits``: n × 17 int array of the first 17 digits; ``last``: n characters' codes (the
    check character as uint8, ``ord('0')`` for a zero). Returns an n-long bool array."""
    zero = digits == 0
    excel_tail = zero[:, 15:17].all(axis=1) & (last == ord("0"))
    return (_runs(digits) | zero[:, 6:17].all(axis=1) | zero[:, 6:14].all(axis=1)
            | (zero[:, 14:17].all(axis=1) & ~excel_tail))


def is_placeholder_18(text: str) -> bool:
    """:func:`placeholder_18` for one clean 18-character number (17 digits + digit or X)."""
    digits = np.frombuffer(text[:17].encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
    last = np.frombuffer(text[17:].encode("ascii"), dtype=np.uint8)
    return bool(placeholder_18(digits[None, :], last)[0])


def is_placeholder_15(text: str) -> bool:
    """A legacy 15-digit number that is a run or repeated digit, or whose birth part (digits
    7–12) or sequence (digits 13–15) is all zeros."""
    digits = np.frombuffer(text.encode("ascii"), dtype=np.uint8).astype(np.int64)[None, :] - 48
    return bool(_runs(digits)[0] or text[6:12] == "000000" or text[12:15] == "000")


def is_placeholder_text(text: str) -> bool:
    """A cleaned cell that is a word for "unknown", or digits only and all one digit (``0``,
    ``000000``) at a length that is no ID (an 18- or 15-digit number is judged by its own
    rules)."""
    if text in UNKNOWN_WORDS:
        return True
    return text.isascii() and text.isdigit() and len(set(text)) == 1

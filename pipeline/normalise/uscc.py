"""GB 32100 unified social credit codes (统一社会信用代码), mod-31 check character."""

from __future__ import annotations

import re
import unicodedata

from pipeline.normalise.cell_text import unprotect

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {ch: i for i, ch in enumerate(CHARSET)}
_SHAPE = re.compile(f"^[{CHARSET}]{{18}}$")
_WHITESPACE = re.compile(r"\s+")


def uscc_check_char(first17: str) -> str:
    """Check character for the first 17 characters of a code (upper-case, GB 32100 charset)."""
    if len(first17) != 17 or any(ch not in _VALUE for ch in first17):
        raise ValueError("expected 17 characters from the GB 32100 character set")
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def clean_uscc(value: object) -> str | None:
    """NFKC, upper-case, whitespace removed; ``None`` for non-text or blank cells."""
    if not isinstance(value, str):
        return None
    text = _WHITESPACE.sub("", unicodedata.normalize("NFKC", unprotect(value))).upper()
    return text or None


def uscc_valid(value: object) -> bool:
    """True if ``value`` is an 18-character code with a correct check character."""
    text = clean_uscc(value)
    if text is None or not _SHAPE.match(text):
        return False
    return uscc_check_char(text[:17]) == text[17]

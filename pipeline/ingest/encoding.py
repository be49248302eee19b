"""Text encoding of CSV exchange files.

The exchange platform delivers UTF-8 (with or without BOM) and GB18030/GBK. GBK is a subset of
GB18030, so GB text is always decoded as `gb18030`: the `gb2312` codec maps the name separator
`·` (A1A4) to `・` and cannot decode many rare name characters at all.
"""

from __future__ import annotations

import codecs

UTF8_SIG = "utf-8-sig"
UTF8 = "utf-8"
GB18030 = "gb18030"


def detect_encoding(raw: bytes) -> str | None:
    """Return the codec that decodes `raw` strictly, or None if neither UTF-8 nor GB18030 does.

    UTF-8 is tried before GB18030 because a valid UTF-8 multi-byte text is practically never
    valid GB18030 of the same meaning, while GB18030 accepts almost any byte sequence.
    UTF-16 is detected by its BOM (some tools export it) and accepted.
    """
    if raw.startswith(codecs.BOM_UTF8):
        return UTF8_SIG
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for codec in (UTF8, GB18030):
        try:
            raw.decode(codec)
        except UnicodeDecodeError:
            continue
        return codec
    return None

"""Marks that systems and people add to a cell to protect its text, removed in one place.

Excel turns a long digit string into a number and loses digits, so people and export systems
protect ID numbers and codes as text:

* a leading apostrophe ``'110105…`` (Excel's "this is text" prefix, written literally by WPS
  and by CSV exports of it);
* the text-formula wrapper ``="110105…"`` (the classic "keep it text in Excel" CSV export);
* tabs (``\\t110105…``: another export trick), NBSP (U+00A0) and ideographic spaces pasted
  from web pages;
* zero-width characters: U+200B ZERO WIDTH SPACE, U+200C/U+200D (non-)joiners, U+2060 WORD
  JOINER and U+FEFF (a byte-order mark inside a cell, or ZERO WIDTH NO-BREAK SPACE).

:func:`unprotect` is used by every ID-like and code-like field (ID numbers, 档案编号, 家庭编号,
成员序号, 会员编号, district codes, USCC, phone numbers, vocabulary words, integers and amounts)
through :func:`pipeline.normalise.vocab.clean_text` and :func:`pipeline.normalise.id_number.
clean_id`; each normaliser keeps the raw value beside its result (``id_raw``, quarantine
``raw_*``), so nothing is lost. Names are not passed through it (an apostrophe is no name
protection); they drop zero-width characters in :mod:`pipeline.normalise.names`.
"""

from __future__ import annotations

import re

# U+200B–U+200D, U+2060, U+FEFF: invisible, never part of an ID or a code.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_ZERO_WIDTH = re.compile(f"[{ZERO_WIDTH}]")
# Apostrophes people type or systems write in front of text: ASCII, and the typographic and
# full-width forms that Chinese input methods produce for the same key.
_APOSTROPHES = "'\u2018\u2019\uff07`"
# ="…" with ASCII or full-width equals sign and quotes (NFKC folds the full-width forms later,
# but the wrapper is removed first, so both spellings are matched here).
_FORMULA = re.compile(r'^[=＝]\s*["“”＂](.*)["“”＂]$', re.DOTALL)
# Characters that make a value possibly protected: the fast paths send such values to Python.
PROTECTION_CHARS = ZERO_WIDTH + _APOSTROPHES + "=＝\t\u00a0\u3000"


def unprotect(text: str) -> str:
    """``text`` without protection marks: zero-width characters anywhere; surrounding white
    space (tabs, NBSP, U+3000 included); then one ``="…"`` wrapper and one leading apostrophe.

    Inner spaces are left to the caller (an ID's cleaner removes them; a code's keeps its
    own rules). Never raises; returns ``''`` for a cell holding only marks.

    >>> unprotect("'110105199001011234")
    '110105199001011234'
    >>> unprotect('="110105199001011234"')
    '110105199001011234'
    >>> unprotect("\\u200b110105199001011234\\t")
    '110105199001011234'
    """
    text = _ZERO_WIDTH.sub("", text).strip()
    if match := _FORMULA.match(text):
        text = match.group(1).strip()
    if text[:1] in _APOSTROPHES:
        text = text[1:].strip()
    return text


def maybe_protected(text: str) -> bool:
    """True when :func:`unprotect` might change ``text`` (cheap pre-check for fast paths)."""
    return any(ch in PROTECTION_CHARS for ch in text) or text != text.strip()

"""Per-record encodings of text columns built from their code points, in numpy.

What comparisons read of each record (pairs.py): codes of character slices (the year of a
date, the birth part of an ID), lengths, and the characters the compiled scorers read
(kernels.py), computed over whole columns at once rather than one Python string at a time. At
10^5–10^6 records per side that is milliseconds instead of tenths of seconds, and it is paid
once per record, not per pair. Each function gives exactly what its plain-Python definition
gives (tests/test_comparison_kernels.py checks them against it), or says it cannot (None)
and the caller takes the plain path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

MAX_SPAN_WIDTH = 32  # wider values (addresses) are coded from the strings themselves


def text_lengths(values: np.ndarray) -> np.ndarray:
    """len() of every value (int64)."""
    try:
        return np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    except TypeError:  # not all text: pandas' rule (NaN length → 0)
        lengths = pd.Series(values, dtype=object).str.len()
        return lengths.fillna(0).to_numpy(dtype=np.int64)


class Texts:
    """One side's values of a column, with what the encodings below check of them, each
    worked out once, when first asked for."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = np.asarray(values, dtype=object)
        self._fixed: dict[int, np.ndarray] = {}

    def fixed_width(self, width: int) -> np.ndarray:
        """(n, width) code points: each value's first `width` characters, 0 after its end
        (so read a longer value's length from `lengths`)."""
        if width not in self._fixed:
            fixed = np.asarray(self.values, dtype=f"U{width}")
            self._fixed[width] = fixed.view(np.uint32).reshape(len(fixed), width)
        return self._fixed[width]

    @cached_property
    def lengths(self) -> np.ndarray:
        """len() of each value (int64)."""
        return text_lengths(self.values)

    @cached_property
    def joined(self) -> str | None:
        """All values one after another (None unless all are str)."""
        try:
            return "".join(self.values)
        except TypeError:
            return None

    @cached_property
    def plain(self) -> bool:
        """All str, none holding U+0000 (which fixed-width text cannot tell from padding)."""
        return self.joined is not None and "\x00" not in self.joined

    @property
    def longest(self) -> int:
        return int(self.lengths.max(initial=0))


def _alphabet(points: np.ndarray) -> tuple[np.ndarray, int]:
    """A table from code point to 1…k (0 stays 0: padding) for the points present, and the
    bits one symbol takes."""
    present = np.flatnonzero(np.bincount(points.ravel()))
    present = present[present > 0]
    table = np.zeros(int(points.max(initial=0)) + 1, dtype=np.uint64)
    table[present] = np.arange(1, len(present) + 1, dtype=np.uint64)
    return table, max(len(present).bit_length(), 1)


def _joint_codes(parts: list[list[np.ndarray]]) -> list[np.ndarray]:
    """int64 codes, in one code space, of values given as equally many uint64 words each
    (equal words ⇔ equal codes): the word itself when there is one, else the words
    factorised one after another over all the parts together."""
    if all(len(words) == 1 for words in parts):
        return [words[0].astype(np.int64) for words in parts]
    sizes = [len(words[0]) for words in parts]
    codes = np.zeros(sum(sizes), dtype=np.int64)
    for k in range(len(parts[0])):
        word_codes = pd.factorize(np.concatenate([words[k] for words in parts]))[0]
        codes = pd.factorize(codes * (int(word_codes.max(initial=0)) + 1) + word_codes)[0]
    return np.split(codes, np.cumsum(sizes)[:-1])


def span_codes(texts: Sequence[Texts], spans: Sequence[tuple[int | None, int | None]]
               ) -> list[np.ndarray] | None:
    """Codes of value[start:stop] for each side and each span (sides outer, spans inner),
    all in one code space (equal slices ⇔ equal codes), -1 where the slice is empty. The
    codes only test equality: a date's slices are its digits packed into an integer.

    The same as factorising the sliced strings, from fixed-width code points instead; None
    when the values are too wide (a span reaching past `MAX_SPAN_WIDTH`), are not all text,
    or hold U+0000."""
    if not all(side.plain for side in texts):
        return None
    longest = max((side.longest for side in texts), default=0)
    stops = [longest if stop is None else stop for _, stop in spans]
    starts = [min(start or 0, stop) for (start, _), stop in zip(spans, stops, strict=True)]
    reach = max([*stops, 1])
    if reach > MAX_SPAN_WIDTH:
        return None
    # Positions × records: each position of every record is one contiguous row.
    points = [np.ascontiguousarray(side.fixed_width(reach).T) for side in texts]
    table, bits = _alphabet(np.concatenate(points, axis=1) if points else
                            np.zeros((1, 0), dtype=np.uint32))
    per_word = 63 // bits
    n_words = -(-max([b - a for a, b in zip(starts, stops, strict=True)] + [1]) // per_word)
    parts, empty = [], []
    for symbols in (table[p] for p in points):
        for a, b in zip(starts, stops, strict=True):
            words = [np.zeros(symbols.shape[1], dtype=np.uint64) for _ in range(n_words)]
            for k in range(a, b):
                word, slot = divmod(k - a, per_word)
                words[word] |= symbols[k] << np.uint64(bits * slot)
            parts.append(words)
            empty.append(words[0] == 0)  # no first character: an empty slice
    codes = _joint_codes(parts)
    for part, none in zip(codes, empty, strict=True):
        part[none] = -1
    return codes


@dataclass(frozen=True)
class CodePoints:
    """Each record's characters as symbols 1…`alphabet`: record k is
    `points[offsets[k]:offsets[k + 1]]` (what the compiled scorers read, kernels.py)."""

    points: np.ndarray  # uint8, uint16 or uint32: the narrowest that holds them
    offsets: np.ndarray  # int64, one more than records
    alphabet: int
    longest: int  # the longest record (the kernels' scratch rows are this long)


def code_points(texts: Sequence[Texts]) -> list[CodePoints] | None:
    """Every side's values as `CodePoints`, all in one alphabet: each distinct character
    becomes a symbol 1…k. Equal characters stay equal and different ones different, so any
    measure that only tests characters for equality (Levenshtein, OSA, Indel, Jaro–Winkler)
    gives the same result on symbols as on the text; a small alphabet keeps the scorers'
    per-symbol tables small. None unless the values are plain text (`Texts.plain`)."""
    if not all(side.plain for side in texts):
        return None
    try:
        points = np.frombuffer("".join(side.joined for side in texts).encode("utf-32-le"),
                               dtype=np.uint32)
    except UnicodeError:  # lone surrogates
        return None
    present = np.flatnonzero(np.bincount(points)) if len(points) else np.zeros(0, np.int64)
    # The narrowest type that holds the symbols: the scorers read them pair after pair in
    # random order, and a quarter of the bytes stays in cache (measured: 3× faster).
    n = len(present)
    kind = np.uint8 if n < 1 << 8 else np.uint16 if n < 1 << 16 else np.uint32
    table = np.zeros(int(points.max(initial=0)) + 1, dtype=kind)
    table[present] = np.arange(1, n + 1, dtype=kind)
    symbols = table[points]
    out, start = [], 0
    for side in texts:
        offsets = np.zeros(len(side.values) + 1, dtype=np.int64)
        np.cumsum(side.lengths, out=offsets[1:])
        stop = start + int(offsets[-1])
        out.append(CodePoints(symbols[start:stop], offsets, n, side.longest))
        start = stop
    return out

"""Per-record work done once, and candidate pairs that read it: what comparisons compare.

A comparison asks of a chunk of pairs for integer codes (equal values ⇔ equal codes, -1 for
missing), character slices as codes, lengths, or the characters themselves (for the pairs a
string measure still has to score: as code points for the compiled kernels, as strings for
rapidfuzz). `Encoded` derives those once per record, on both sides in one code space, and
keeps them (codepoints.py does the work); `Pairs` gathers them at the pairs' positions.
Integer comparisons over 10^6 pairs cost milliseconds; Python string comparisons cost seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from pipeline.link.comparisons.codepoints import CodePoints, Texts, code_points, span_codes
from pipeline.textops import joint_codes, slice_text

MISSING = ""  # features are text with '' for missing (features.py)


class Encoded:
    """Both sides' per-record inputs (text arrays) and what is derived from them, cached.

    `left is right` for deduplication: one side, encoded once."""

    def __init__(self, left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> None:
        self.left, self.right = left, right
        self._cache: dict[tuple, object] = {}
        self._lock = threading.RLock()  # chunks of pairs are compared on several threads

    @property
    def dedupe(self) -> bool:
        return self.left is self.right

    def _cached(self, key: tuple, derive):
        with self._lock:
            if key not in self._cache:
                self._cache[key] = derive()
            return self._cache[key]

    def texts(self, column: str) -> tuple[Texts, Texts]:
        """Both sides' values of a column with their lengths (`Texts`), described once."""
        def derive():
            left = Texts(self.left[column])
            return left, (left if self.dedupe else Texts(self.right[column]))
        return self._cached(("texts", column), derive)

    def _sides(self, column: str) -> list[Texts]:
        left, right = self.texts(column)
        return [left] if self.dedupe else [left, right]

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Dense codes of the values (equal ⇔ equal, below the number of values; -1 where
        missing). Factorised: hashing the strings is faster here than packing their code
        points (measured on the city's columns)."""
        def derive():
            sides = self._sides(column)
            coded = joint_codes([side.values for side in sides], MISSING,
                                nul_free=all(side.plain for side in sides))
            return coded[0], coded[-1]
        return self._cached(("codes", column), derive)

    def slice_codes(self, column: str, spans: Sequence[tuple[int, int]]
                    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Codes of the character slices [start:stop) of a column, all spans in one code space
        (so a day can be compared with a month); an empty slice is missing (-1). The codes
        only test equality."""
        def derive():
            sides = self._sides(column)
            coded = span_codes(sides, spans)
            if coded is None:
                coded = joint_codes([slice_text(side.values, start, stop) for side in sides
                                     for start, stop in spans], MISSING)
            n = len(spans)
            return [(coded[s], coded[-n + s]) for s in range(n)]
        return self._cached(("slices", column, tuple(spans)), derive)

    def lengths(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        left, right = self.texts(column)
        return left.lengths, right.lengths

    def characters(self, column: str, width: int) -> tuple[np.ndarray, np.ndarray]:
        """(n, width) code points of each value (0 pads short values; longer values are cut,
        so read them with `lengths`)."""
        def derive():
            left, right = self.texts(column)
            return left.fixed_width(width), right.fixed_width(width)
        return self._cached(("chars", column, width), derive)

    def packed(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Each value of exactly 8 characters, all below U+0100 (dates as YYYYMMDD), as one
        uint64 (character k in byte k); 0 for any other value (never a packed one)."""
        def derive():
            def of(lengths, chars):
                fits = (lengths == 8) & (chars < 256).all(axis=1)
                out = np.ascontiguousarray(chars.astype(np.uint8)).view("<u8").reshape(-1)
                return np.where(fits, out, np.uint64(0))
            left_chars, right_chars = self.characters(column, 8)
            left_len, right_len = self.lengths(column)
            left = of(left_len, left_chars)
            return left, (left if self.dedupe else of(right_len, right_chars))
        return self._cached(("packed", column), derive)

    def code_points(self, column: str) -> tuple[CodePoints, CodePoints] | None:
        """Both sides' characters as symbols in one alphabet, for the compiled scorers;
        None when a value is not text."""
        def derive():
            coded = code_points(self._sides(column))
            if coded is None:
                return None, None
            return coded[0], coded[-1]
        left, right = self._cached(("points", column), derive)
        return None if left is None else (left, right)

    def is_value(self, column: str, value: str) -> tuple[np.ndarray, np.ndarray]:
        def derive():
            left = np.asarray(self.left[column] == value, dtype=bool)
            return left, (left if self.dedupe else np.asarray(self.right[column] == value,
                                                              dtype=bool))
        return self._cached(("is", column, value), derive)


class Pairs:
    """A chunk of candidate pairs: left positions `li`, right positions `ri` into `Encoded`.

    What is gathered at the pairs' positions is kept for the chunk: several levels of one
    comparison read the same codes."""

    def __init__(self, encoded: Encoded, li: np.ndarray, ri: np.ndarray) -> None:
        self.encoded, self.li, self.ri = encoded, li, ri
        self._gathered: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.li)

    @classmethod
    def aligned(cls, left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> Pairs:
        """Pair k = left record k with right record k (arrays of equal length)."""
        n = len(next(iter(left.values()))) if left else 0
        index = np.arange(n)
        return cls(Encoded(left, right), index, index)

    def _take(self, key: tuple, both: tuple[np.ndarray, np.ndarray]
              ) -> tuple[np.ndarray, np.ndarray]:
        if key not in self._gathered:
            self._gathered[key] = both[0][self.li], both[1][self.ri]
        return self._gathered[key]

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        return self._take(("codes", column), self.encoded.codes(column))

    def slice_codes(self, column: str, spans: Sequence[tuple[int, int]]
                    ) -> list[tuple[np.ndarray, np.ndarray]]:
        return [self._take(("slice", column, span), both)
                for span, both in zip(spans, self.encoded.slice_codes(column, spans),
                                      strict=True)]

    def same(self, column: str) -> np.ndarray:
        a, b = self.codes(column)
        return a == b

    def both_present(self, column: str) -> np.ndarray:
        a, b = self.codes(column)
        return (a >= 0) & (b >= 0)

    def lengths(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        return self._take(("len", column), self.encoded.lengths(column))

    def is_value(self, column: str, value: str) -> tuple[np.ndarray, np.ndarray]:
        return self._take(("is", column, value), self.encoded.is_value(column, value))

    def packed(self, column: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        left, right = self.encoded.packed(column)
        return left[self.li[rows]], right[self.ri[rows]]

    def characters(self, column: str, width: int, rows: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        left, right = self.encoded.characters(column, width)
        return left[self.li[rows]], right[self.ri[rows]]

    def strings(self, column: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The text of the pairs at `rows` (indices into this chunk), for string scorers
        (the compiled ones read `Encoded.code_points` instead)."""
        return (self.encoded.left[column][self.li[rows]],
                self.encoded.right[column][self.ri[rows]])

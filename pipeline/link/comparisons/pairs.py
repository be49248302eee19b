"""Per-record work done once, and candidate pairs that read it: what comparisons compare.

A comparison asks of a chunk of pairs for integer codes (equal values ⇔ equal codes, -1 for
missing), character slices as codes, lengths, or the strings themselves (only for the pairs a
string scorer still has to look at). `Encoded` derives those arrays once per record, on both
sides in one code space, and keeps them; `Pairs` gathers them at the pairs' positions. Integer
comparisons over 10^6 pairs cost milliseconds; Python string comparisons cost seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from pipeline.link.comparisons.codepoints import (
    CodePoints,
    code_points,
    span_codes,
    text_lengths,
)
from pipeline.textops import joint_codes, slice_text

MISSING = ""  # features are text with '' for missing (features.py)


class Encoded:
    """Both sides' per-record inputs (text arrays) and what is derived from them, cached.

    `left is right` for deduplication: one side, encoded once."""

    def __init__(self, left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> None:
        self.left, self.right = left, right
        self._cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.RLock()  # chunks of pairs are compared on several threads

    @property
    def dedupe(self) -> bool:
        return self.left is self.right

    def _both(self, key: tuple, derive) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = derive()
            return self._cache[key]

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        return self.slice_codes(column, ((None, None),))[0]

    def slice_codes(self, column: str, spans: Sequence[tuple[int | None, int | None]]
                    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Codes of the character slices [start:stop) of a column, all spans in one code space
        (so a day can be compared with a month); a slice of a missing value is missing."""
        key = ("slices", column, tuple(spans))
        with self._lock:
            self._derive_slices(key, column, spans)
        codes = self._cache[key]
        n = len(spans)
        out = []
        for s in range(n):
            left = codes[s]  # type: ignore[index]
            right = left if self.dedupe else codes[n + s]  # type: ignore[index]
            out.append((left, right))
        return out

    def _derive_slices(self, key: tuple, column: str,
                       spans: Sequence[tuple[int | None, int | None]]) -> None:
        if key not in self._cache:
            sides = [self.left[column]] if self.dedupe else [self.left[column],
                                                             self.right[column]]
            whole = any(start is None and stop is None for start, stop in spans)
            coded = None if whole else span_codes(sides, spans)  # whole values: dense codes
            if coded is not None:
                self._cache[key] = coded  # type: ignore[assignment]
                return
            parts = []
            for values in sides:
                for start, stop in spans:
                    if start is None and stop is None:
                        parts.append(values)
                    else:
                        parts.append(slice_text(values, start or 0, stop))
            self._cache[key] = joint_codes(parts, MISSING)  # type: ignore[assignment]

    def lengths(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        def derive():
            left = text_lengths(self.left[column])
            return left, (left if self.dedupe else text_lengths(self.right[column]))
        return self._both(("len", column), derive)

    def characters(self, column: str, width: int) -> tuple[np.ndarray, np.ndarray]:
        """(n, width) code points of each value (0 pads short values; longer values are cut,
        so read them with `lengths`)."""
        def derive():
            def of(values):
                fixed = np.asarray(values, dtype=f"U{width}")
                return fixed.view(np.uint32).reshape(len(fixed), width)
            left = of(self.left[column])
            return left, (left if self.dedupe else of(self.right[column]))
        return self._both(("chars", column, width), derive)

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
        return self._both(("packed", column), derive)

    def code_points(self, column: str) -> tuple[CodePoints, CodePoints] | None:
        """Both sides' characters as symbols in one alphabet, for the compiled scorers;
        None when a value is not text."""
        def derive():
            sides = [self.left[column]] if self.dedupe else [self.left[column],
                                                             self.right[column]]
            coded = code_points(sides)
            if coded is None:
                return None, None
            return coded[0], coded[-1]
        left, right = self._both(("points", column), derive)
        return None if left is None else (left, right)

    def is_value(self, column: str, value: str) -> tuple[np.ndarray, np.ndarray]:
        def derive():
            left = np.asarray(self.left[column] == value, dtype=bool)
            return left, (left if self.dedupe else np.asarray(self.right[column] == value,
                                                              dtype=bool))
        return self._both(("is", column, value), derive)


class Pairs:
    """A chunk of candidate pairs: left positions `li`, right positions `ri` into `Encoded`."""

    def __init__(self, encoded: Encoded, li: np.ndarray, ri: np.ndarray) -> None:
        self.encoded, self.li, self.ri = encoded, li, ri

    def __len__(self) -> int:
        return len(self.li)

    @classmethod
    def aligned(cls, left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> Pairs:
        """Pair k = left record k with right record k (arrays of equal length)."""
        n = len(next(iter(left.values()))) if left else 0
        index = np.arange(n)
        return cls(Encoded(left, right), index, index)

    def _take(self, both: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return both[0][self.li], both[1][self.ri]

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        return self._take(self.encoded.codes(column))

    def slice_codes(self, column: str, spans: Sequence[tuple[int | None, int | None]]
                    ) -> list[tuple[np.ndarray, np.ndarray]]:
        return [self._take(both) for both in self.encoded.slice_codes(column, spans)]

    def same(self, column: str) -> np.ndarray:
        a, b = self.codes(column)
        return a == b

    def both_present(self, column: str) -> np.ndarray:
        a, b = self.codes(column)
        return (a >= 0) & (b >= 0)

    def lengths(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        return self._take(self.encoded.lengths(column))

    def is_value(self, column: str, value: str) -> tuple[np.ndarray, np.ndarray]:
        return self._take(self.encoded.is_value(column, value))

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

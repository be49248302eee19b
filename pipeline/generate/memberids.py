"""Member numbers (会员编号 "HY" + 10 digits) for roster-only members, unique without a table.

Filler ordinal i (0, 1, … in the order members.csv writes them) gets ``10**9 + P(i)``, P a
permutation of range(9 * 10**9) keyed by the seed (a four-round Feistel network on 34 bits,
cycle-walked into the range): distinct ordinals give distinct numbers, and nothing is kept per
member. A number that a required member already holds (their numbers come from the replayed
whole-roster draw, roster.py) is skipped by moving the ordinal to a spare slot
(``i + t * 10**9``, t = 1 … 8), which no other ordinal uses.
"""

from __future__ import annotations

import numpy as np

SPACE = 9 * 10**9  # numbers 10**9 … 10**10 - 1
SLOT = 10**9  # ordinals per slot: a roster of at most 10**9 fillers
_HALF = 17
_MASK = np.uint64((1 << _HALF) - 1)
_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)


def _mix(x: np.ndarray, key: np.uint64) -> np.ndarray:
    """A keyed 17-bit hash of each value of ``x`` (uint64)."""
    x = (x ^ key) * _M1
    x ^= x >> np.uint64(31)
    x *= _M2
    x ^= x >> np.uint64(29)
    return x & _MASK


def _encrypt(v: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """One pass of the Feistel network: a permutation of range(2**34) (uint64 in, out)."""
    left, right = v >> np.uint64(_HALF), v & _MASK
    for key in keys:
        left, right = right, left ^ _mix(right, key)
    return (left << np.uint64(_HALF)) | right


def permute(ordinals: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """P(ordinals): each value in range(SPACE) mapped to another, one to one (uint64)."""
    out = _encrypt(ordinals.astype(np.uint64), keys)
    while (outside := out >= np.uint64(SPACE)).any():
        out[outside] = _encrypt(out[outside], keys)
    return out


class MemberNumbers:
    """The filler members' numbers of one roster, avoiding the ``taken`` ones (int64 digits)."""

    def __init__(self, seed: int, taken: np.ndarray) -> None:
        self.keys = np.random.SeedSequence([seed, 4711]).generate_state(4, np.uint64)
        self.taken = np.unique(np.asarray(taken, dtype=np.int64) - SLOT)

    def digits(self, first: int, count: int) -> np.ndarray:
        """The numbers (int64, 10**9 … 10**10 - 1) of fillers ``first`` … ``first + count - 1``."""
        if first + count > SLOT:
            raise ValueError(f"a roster holds at most {SLOT:,} filler members")
        ordinals = np.arange(first, first + count, dtype=np.uint64)
        out = permute(ordinals, self.keys).astype(np.int64)
        for t in range(1, SPACE // SLOT):
            clash = np.isin(out, self.taken)
            if not clash.any():
                return out + SLOT
            out[clash] = permute(ordinals[clash] + np.uint64(t * SLOT), self.keys)
        raise RuntimeError("no free member number")  # pragma: no cover - ~1e-40

    def take(self, first: int, count: int) -> list[str]:
        """``digits`` as written: "HY" then the ten digits."""
        return [f"HY{x}" for x in self.digits(first, count).tolist()]

"""Compiled string measures over candidate pairs, reading per-record code points.

rapidfuzz scores one pair fast, but `process.cpdist` takes two Python strings apart for every
pair and builds the pattern's bit masks again each time; on a million pairs of Chinese
addresses that is most of the work. These kernels (numba, compiled on first use and cached in
`__pycache__`) read each record's characters from one flat array of symbols (`CodePoints`,
derived once per record), build a left record's bit masks once for its run of candidates
(candidate pairs come sorted by left record), and run without the GIL, so the engine's
threads score chunks side by side.

Each gives the value rapidfuzz gives; tests/test_comparison_kernels.py checks them pair by
pair on random text (short and long, ASCII, CJK, astral) against rapidfuzz:
* Indel similarity, 1 − (la + lb − 2·LCS) / (la + lb): bit-parallel LCS (Hyyrö) for values of
  up to 64 characters, dynamic programming beyond;
* Levenshtein and OSA distances: bit-parallel (Myers; Hyyrö 2003 for the swaps of
  neighbours) up to 64 characters, dynamic programming beyond;
* Jaro–Winkler: rapidfuzz's definition (each character of the second value takes the first
  free equal character of the first within the window; prefix weight 0.1, up to 4).
Similarities are float32 as cpdist's are, 0 below the cutoff; distances above the cutoff read
cutoff + 1.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit
from rapidfuzz import distance

NO_CUTOFF = -1  # distances: compute them in full
_ONE = np.uint64(1)


@njit(cache=True, nogil=True)
def _popcount(x: np.uint64) -> np.int64:
    x = x - ((x >> _ONE) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(cache=True, nogil=True)
def _set_masks(masks, pa, start, length) -> None:
    """masks[symbol] = the positions (bits) of `symbol` in pa[start:start + length] (≤ 64)."""
    bit = _ONE
    for p in range(length):
        masks[pa[start + p]] |= bit
        bit <<= _ONE


@njit(cache=True, nogil=True)
def _clear_masks(masks, pa, start, length) -> None:
    for p in range(length):
        masks[pa[start + p]] = np.uint64(0)


@njit(cache=True, nogil=True)
def _switch_pattern(masks, pa, oa, start, length, record) -> tuple:
    """Clear the masks of the pattern pa[start:start + length] and set those of `record`
    (patterns over 64 characters have none); returns the record's (start, length)."""
    if length <= 64:
        _clear_masks(masks, pa, start, length)
    start, length = oa[record], oa[record + 1] - oa[record]
    if length <= 64:
        _set_masks(masks, pa, start, length)
    return start, length


@njit(cache=True, nogil=True)
def _lcs_long(a, b, row) -> int:
    """Longest common subsequence by dynamic programming (patterns over 64 characters)."""
    lb = len(b)
    for q in range(lb + 1):
        row[q] = 0
    for p in range(len(a)):
        diagonal = 0
        for q in range(lb):
            above = row[q + 1]
            if a[p] == b[q]:
                row[q + 1] = diagonal + 1
            elif row[q] > above:
                row[q + 1] = row[q]
            diagonal = above
    return row[lb]


@njit(cache=True, nogil=True)
def indel_similarity(pa, oa, pb, ob, i, j, alphabet, longest, cutoff):
    """Indel normalized similarity, 1 − (la + lb − 2·LCS) / (la + lb), of the pairs
    (record i[k] of side a, record j[k] of side b). The LCS is bit-parallel (Hyyrö) with
    side a's record as the pattern; its bit masks are built once for consecutive pairs of
    the same left record, which is how candidate pairs come (sorted by left)."""
    out = np.zeros(len(i), dtype=np.float32)
    masks = np.zeros(alphabet + 1, dtype=np.uint64)  # per symbol: where it is in a
    row = np.zeros(longest + 1, dtype=np.int64)
    current, a0, la, full = -1, 0, 0, np.uint64(0)
    for k in range(len(i)):
        if i[k] != current:
            current = i[k]
            a0, la = _switch_pattern(masks, pa, oa, a0, la, current)
            full = ~np.uint64(0) if la >= 64 else (_ONE << np.uint64(la)) - _ONE
        b0, lb = ob[j[k]], ob[j[k] + 1] - ob[j[k]]
        total = la + lb
        if total == 0:
            out[k] = 1.0
            continue
        if la > 64:
            lcs = _lcs_long(pa[a0:a0 + la], pb[b0:b0 + lb], row)
        else:
            s = ~np.uint64(0)
            for q in range(lb):
                u = s & masks[pb[b0 + q]]
                s = (s + u) | (s - u)
            lcs = _popcount(~s & full)
        similarity = 1.0 - (total - 2 * lcs) / total
        out[k] = similarity if similarity >= cutoff else 0.0
    return out


@njit(cache=True, nogil=True)
def _edit_dp(a, b, before, previous, current, transpositions) -> int:
    """Levenshtein or OSA distance by dynamic programming (values over 64 characters)."""
    la, lb = len(a), len(b)
    for q in range(lb + 1):
        previous[q] = q
    for p in range(1, la + 1):
        current[0] = p
        for q in range(1, lb + 1):
            cost = 0 if a[p - 1] == b[q - 1] else 1
            best = min(previous[q] + 1, current[q - 1] + 1, previous[q - 1] + cost)
            if (transpositions and p > 1 and q > 1 and a[p - 1] == b[q - 2]
                    and a[p - 2] == b[q - 1]):
                best = min(best, before[q - 2] + 1)
            current[q] = best
        for q in range(lb + 1):
            before[q] = previous[q]
            previous[q] = current[q]
    return previous[lb]


@njit(cache=True, nogil=True)
def _edit_bits(b, masks, la, transpositions) -> int:
    """Levenshtein (Myers, Hyyrö) or OSA (Hyyrö 2003) distance, bit-parallel over a pattern
    of 1–64 characters whose positions per symbol are in `masks`."""
    vp = ~np.uint64(0) if la == 64 else (_ONE << np.uint64(la)) - _ONE
    vn = np.uint64(0)
    d0 = np.uint64(0)
    previous_match = np.uint64(0)
    last = _ONE << np.uint64(la - 1)
    distance = la
    for q in range(len(b)):
        match = masks[b[q]]
        swap = (((~d0) & match) << _ONE) & previous_match if transpositions else np.uint64(0)
        d0 = (((match & vp) + vp) ^ vp) | match | vn | swap
        hp = vn | ~(d0 | vp)
        hn = d0 & vp
        distance += np.int64((hp & last) != 0) - np.int64((hn & last) != 0)
        hp = (hp << _ONE) | _ONE
        hn = hn << _ONE
        vp = hn | ~(d0 | hp)
        vn = hp & d0
        previous_match = match
    return distance


@njit(cache=True, nogil=True)
def edit_distance(pa, oa, pb, ob, i, j, alphabet, longest, cutoff, transpositions):
    """Levenshtein distance, or OSA (optimal string alignment: a swap of neighbours is one
    edit) with `transpositions`, of the pairs (record i[k] of side a, record j[k] of side
    b); cutoff + 1 where it exceeds `cutoff` (unless NO_CUTOFF)."""
    out = np.zeros(len(i), dtype=np.int64)
    width = longest + 1
    before = np.zeros(width, dtype=np.int64)
    previous = np.zeros(width, dtype=np.int64)
    current = np.zeros(width, dtype=np.int64)
    masks = np.zeros(alphabet + 1, dtype=np.uint64)
    now, a0, la = -1, 0, 0
    for k in range(len(i)):
        if i[k] != now:
            now = i[k]
            a0, la = _switch_pattern(masks, pa, oa, a0, la, now)
        b0, lb = ob[j[k]], ob[j[k] + 1] - ob[j[k]]
        if cutoff >= 0 and abs(la - lb) > cutoff:
            out[k] = cutoff + 1
            continue
        if la == 0:
            distance = lb
        elif la <= 64:
            distance = _edit_bits(pb[b0:b0 + lb], masks, la, transpositions)
        else:
            distance = _edit_dp(pa[a0:a0 + la], pb[b0:b0 + lb], before, previous, current,
                                transpositions)
        out[k] = cutoff + 1 if 0 <= cutoff < distance else distance
    return out


@njit(cache=True, nogil=True)
def _jaro_bits(p, t, masks, bound) -> tuple:
    """Jaro's matching and transpositions for p and t of ≤ 64 characters, p's positions
    per symbol in `masks`: each character of t, in order, takes the first
    unmatched equal character of p within `bound` positions (bit-parallel over p). Returns
    (how many matched, how many matched pairs are out of order)."""
    lp, lt = len(p), len(t)
    p_flags = np.uint64(0)
    t_flags = np.uint64(0)
    window = (_ONE << np.uint64(bound + 1)) - _ONE  # p positions [q - bound, q + bound]
    for q in range(min(lt, lp + bound)):  # no branches: a mispredicted one costs more
        candidates = masks[t[q]] & window & ~p_flags
        lowest = candidates & (~candidates + _ONE)
        p_flags |= lowest
        t_flags |= np.uint64(lowest != 0) << np.uint64(q)
        window = (window << _ONE) | np.uint64(q < bound)
    common = _popcount(p_flags)
    swaps = 0
    for _ in range(common):
        t_first = t_flags & (~t_flags + _ONE)
        p_first = p_flags & (~p_flags + _ONE)
        swaps += (masks[t[_popcount(t_first - _ONE)]] & p_first) == 0
        t_flags ^= t_first
        p_flags ^= p_first
    return common, swaps


@njit(cache=True, nogil=True)
def _jaro_scan(p, t, p_matched, t_matched, bound) -> int:
    """`_jaro_bits`' matching by scanning, for values over 64 characters: marks the matched
    positions and returns how many."""
    lp, lt = len(p), len(t)
    for r in range(lp):
        p_matched[r] = False
    common = 0
    for q in range(lt):
        t_matched[q] = False
        low = q - bound if q >= bound else 0
        for r in range(low, min(q + bound, lp - 1) + 1):
            if not p_matched[r] and p[r] == t[q]:
                t_matched[q] = True
                p_matched[r] = True
                common += 1
                break
    return common


@njit(cache=True, nogil=True)
def _scan_swaps(p, t, p_matched, t_matched) -> int:
    """Matched characters of t whose partner, in order, in p differs (`_jaro_scan`)."""
    swaps = 0
    r = 0
    for q in range(len(t)):
        if t_matched[q]:
            while not p_matched[r]:
                r += 1
            if t[q] != p[r]:
                swaps += 1
            r += 1
    return swaps


@njit(cache=True, nogil=True)
def jaro_winkler_similarity(pa, oa, pb, ob, i, j, alphabet, longest, cutoff):
    """Jaro–Winkler similarity (prefix weight 0.1, up to 4 characters) with record i[k] of
    side a as the pattern, as rapidfuzz's JaroWinkler.normalized_similarity(a, b)."""
    out = np.zeros(len(i), dtype=np.float32)
    width = longest + 1
    p_matched = np.zeros(width, dtype=np.bool_)
    t_matched = np.zeros(width, dtype=np.bool_)
    masks = np.zeros(alphabet + 1, dtype=np.uint64)
    current, a0, lp = -1, 0, 0
    for k in range(len(i)):
        if i[k] != current:
            current = i[k]
            a0, lp = _switch_pattern(masks, pa, oa, a0, lp, current)
        b0, lt = ob[j[k]], ob[j[k] + 1] - ob[j[k]]
        p, t = pa[a0:a0 + lp], pb[b0:b0 + lt]
        if lp == 0 or lt == 0:
            similarity = 1.0 if lp == 0 and lt == 0 else 0.0
            out[k] = similarity if similarity >= cutoff else 0.0
            continue
        bound = max(lp, lt) // 2
        if bound > 0:
            bound -= 1
        if lp <= 64 and lt <= 64:
            common, swaps = _jaro_bits(p, t, masks, bound)
        else:
            common = _jaro_scan(p, t, p_matched, t_matched, bound)
            swaps = _scan_swaps(p, t, p_matched, t_matched)
        similarity = 0.0
        if common:
            swaps //= 2
            similarity = (common / lp + common / lt + (common - swaps) / common) / 3.0
            if similarity > 0.7:
                prefix = 0
                while prefix < min(lp, lt, 4) and p[prefix] == t[prefix]:
                    prefix += 1
                similarity += prefix * 0.1 * (1.0 - similarity)
        out[k] = similarity if similarity >= cutoff else 0.0
    return out


def _arguments(left, right, i, j) -> tuple:
    # One argument type per call (int64 positions): each new combination compiles anew.
    # `longest` sizes the scratch rows (either side's longest value, known per record set).
    return (left.points, left.offsets, right.points, right.offsets,
            np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64),
            max(left.alphabet, right.alphabet), max(left.longest, right.longest, 1))


def _indel(left, right, i, j, cutoff):
    return indel_similarity(*_arguments(left, right, i, j), float(cutoff or 0.0))


def _levenshtein(left, right, i, j, cutoff):
    return edit_distance(*_arguments(left, right, i, j),
                         NO_CUTOFF if cutoff is None else int(cutoff), False)


def _osa(left, right, i, j, cutoff):
    return edit_distance(*_arguments(left, right, i, j),
                         NO_CUTOFF if cutoff is None else int(cutoff), True)


def _jaro_winkler(left, right, i, j, cutoff):
    return jaro_winkler_similarity(*_arguments(left, right, i, j), float(cutoff or 0.0))


_COMPILED: dict[Callable, Callable] = {
    distance.Indel.normalized_similarity: _indel,
    distance.Levenshtein.distance: _levenshtein,
    distance.OSA.distance: _osa,
    distance.JaroWinkler.normalized_similarity: _jaro_winkler,
}


def compiled(scorer) -> Callable | None:
    """The kernel computing rapidfuzz's `scorer` (as `pairwise` calls it), if there is one:
    `(left CodePoints, right CodePoints, left positions, right positions, cutoff) → scores`."""
    return _COMPILED.get(scorer)


def compile_all() -> None:
    """Compile (or load from the cache) every kernel for one-byte and two-byte symbols, as
    runs call them; `make install` does this so that no run waits for the compiler."""
    from pipeline.link.comparisons.codepoints import Texts, code_points

    wide = "".join(chr(0x4E00 + k) for k in range(300))  # over 255 distinct: two bytes
    for text in ("abc", wide):
        coded = code_points([Texts(np.array([text, text[::-1]], dtype=object))])
        assert coded is not None
        left = coded[0]
        pairs = np.array([0, 1], dtype=np.int64), np.array([1, 0], dtype=np.int64)
        for kernel, cutoff in zip(_COMPILED.values(), (0.5, 1, 1, 0.5), strict=True):
            kernel(left, left, *pairs, cutoff)
            kernel(left, left, *pairs, None)

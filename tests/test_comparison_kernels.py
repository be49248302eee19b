"""The compiled scorers and per-record encodings give exactly what their plain definitions
give: rapidfuzz's scores, sliced strings' equalities, value counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rapidfuzz import distance, process

from pipeline.link.comparisons import kernels
from pipeline.link.comparisons.codepoints import Texts, code_points, span_codes, text_lengths
from pipeline.link.comparisons.pairs import Encoded, Pairs
from pipeline.link.estimate import term_frequencies
from pipeline.textops import joint_codes, slice_text

# Alphabets that reach every path: tiny (many equal characters), ASCII, CJK with digits
# (addresses), Latin-1 with an astral character (four-byte UTF-8, two UTF-16 units).
ALPHABETS = ["ab", "abcdefgh", "中文字号楼单元室12", "aé\U00020000x"]
# Lengths around the 64-character word the bit-parallel paths use, and far past it.
MAX_LENGTHS = [3, 9, 24, 63, 64, 65, 140]
SCORERS = [
    (distance.Indel.normalized_similarity, [None, 0.59, 0.79]),
    (distance.Levenshtein.distance, [None, 0, 1, 2]),
    (distance.OSA.distance, [None, 1, 2]),
    (distance.JaroWinkler.normalized_similarity, [None, 0.79, 0.87]),
]


def random_texts(rng: np.random.Generator, n: int, alphabet: str, longest: int) -> np.ndarray:
    letters = np.array(list(alphabet), dtype=object)
    return np.array(["".join(rng.choice(letters, rng.integers(0, longest + 1)))
                     for _ in range(n)], dtype=object)


def candidate_like(rng: np.random.Generator, alphabet: str, longest: int):
    """Two sides and pairs as candidates come: left records repeated in runs (sorted), right
    records anywhere; plus aligned near-copies (one change, a rotation) and equal values."""
    left = random_texts(rng, 400, alphabet, longest)
    right = random_texts(rng, 400, alphabet, longest)
    right[:100] = [v[:-1] + alphabet[0] if v else v for v in left[:100]]
    right[100:150] = [v[1:] + v[:1] for v in left[100:150]]
    right[150:170] = left[150:170]
    i = np.concatenate([np.arange(400), np.sort(rng.integers(0, 400, 1600))])
    j = np.concatenate([np.arange(400), rng.integers(0, 400, 1600)])
    return left, right, i, j


@pytest.mark.parametrize("alphabet", ALPHABETS)
def test_kernels_give_rapidfuzz_scores(alphabet: str) -> None:
    rng = np.random.default_rng(sum(map(ord, alphabet)))
    for longest in MAX_LENGTHS:
        left, right, i, j = candidate_like(rng, alphabet, longest)
        points = code_points([Texts(left), Texts(right)])
        assert points is not None
        for scorer, cutoffs in SCORERS:
            kernel = kernels.compiled(scorer)
            for cutoff in cutoffs:
                want = process.cpdist(left[i], right[j], scorer=scorer, score_cutoff=cutoff,
                                      workers=1)
                got = kernel(points[0], points[1], i, j, cutoff)
                if cutoff is not None and want.dtype.kind == "f":
                    # Levels test thresholds at least 0.01 above the cutoff; right at the
                    # cutoff rapidfuzz's rounding may drop a score (base.similarity_cutoff).
                    want = np.where(want >= cutoff + 0.01, want, 0)
                    got = np.where(got >= cutoff + 0.01, got, 0)
                np.testing.assert_array_equal(got, want, err_msg=f"{scorer} {cutoff} "
                                              f"{alphabet!r} ≤{longest}")
                assert got.dtype == want.dtype if want.dtype.kind == "f" else got.dtype.kind in "iu"


def test_code_points_keep_equality_in_the_narrowest_type() -> None:
    left = np.array(["张伟", "", "北京市朝阳区"], dtype=object)
    right = np.array(["张玮", "伟张", "a\U00020000"], dtype=object)
    a, b = code_points([Texts(left), Texts(right)])
    assert a.points.dtype == np.uint8 and a.alphabet == b.alphabet == 11
    texts = [*left, *right]
    symbols = [*(a.points[a.offsets[k]:a.offsets[k + 1]] for k in range(3)),
               *(b.points[b.offsets[k]:b.offsets[k + 1]] for k in range(3))]
    for text, coded in zip(texts, symbols, strict=True):
        assert len(coded) == len(text) and (coded >= 1).all()
        for x, y in zip(texts, symbols, strict=True):
            for p, q in [(p, q) for p in range(len(text)) for q in range(len(x))]:
                assert (text[p] == x[q]) == (coded[p] == y[q])
    wide = np.array(["".join(map(chr, range(0x4E00 + k * 300, 0x4E00 + (k + 1) * 300)))
                     for k in range(2)], dtype=object)
    assert code_points([Texts(wide)])[0].points.dtype == np.uint16
    assert code_points([Texts(np.array(["a", None], dtype=object))]) is None


@pytest.mark.parametrize("spans", [((0, 4), (4, 6), (6, 8)), ((0, 15), (6, 14)),
                                   ((2, 5),), ((5, 3),), ((0, 1), (1, 2)), ((0, 32),)])
def test_span_codes_equal_exactly_where_slices_do(spans) -> None:
    rng = np.random.default_rng(len(spans))
    for alphabet in ALPHABETS:
        sides = [random_texts(rng, 500, alphabet, 20), random_texts(rng, 300, alphabet, 20)]
        sides[1][:100] = sides[0][:100]
        coded = span_codes([Texts(side) for side in sides], spans)
        assert coded is not None
        sliced = joint_codes([slice_text(v, a, b) for v in sides for a, b in spans])
        for got, want in zip(coded, sliced, strict=True):
            assert np.array_equal(got == -1, want == -1)  # empty slices are missing
        got, want = np.concatenate(coded), np.concatenate(sliced)
        pairs = pd.DataFrame({"got": got, "want": want}).drop_duplicates()
        assert pairs["got"].is_unique and pairs["want"].is_unique  # a bijection


def test_whole_value_codes_are_dense_and_equal_where_values_are() -> None:
    rng = np.random.default_rng(3)
    for alphabet in ALPHABETS:
        sides = [random_texts(rng, 700, alphabet, 12), random_texts(rng, 500, alphabet, 12)]
        encoded = Encoded({"v": sides[0]}, {"v": sides[1]})
        got = np.concatenate(encoded.codes("v"))
        want = np.concatenate(joint_codes(sides))
        assert np.array_equal(got == -1, want == -1) and got.max() < 1200
        pairs = pd.DataFrame({"got": got, "want": want}).drop_duplicates()
        assert pairs["got"].is_unique and pairs["want"].is_unique


def test_span_codes_decline_what_fixed_width_text_cannot_hold() -> None:
    def coded(values: list[object], spans) -> list[np.ndarray] | None:
        return span_codes([Texts(np.array(values, dtype=object))], spans)

    assert coded(["ab\x00", "ab"], ((0, 3),)) is None
    assert coded(["ab", 12], ((0, 1),)) is None
    assert coded(["x" * 40], ((0, 33),)) is None
    assert coded(["x" * 33], ((None, None),)) is None


def test_encoded_slices_fall_back_and_agree_on_nul() -> None:
    values = np.array(["2020\x0001", "2020\x00", "20200101", ""], dtype=object)
    encoded = Encoded({"d": values}, {"d": values})
    (year, _), (rest, _) = encoded.slice_codes("d", ((0, 4), (4, 8)))
    assert list(year[0] == year[:3]) == [True, True, True] and year[3] == -1
    assert rest[0] != rest[1] and rest[1] != rest[2]


def test_text_lengths() -> None:
    values = np.array(["", "张伟", "a\U00020000"], dtype=object)
    assert list(text_lengths(values)) == [0, 2, 2]
    assert list(text_lengths(np.array(["ab", np.nan], dtype=object))) == [2, 0]


def test_term_frequencies_are_value_shares_over_both_sides() -> None:
    left = np.array(["王伟", "李娜", "", "王伟"], dtype=object)
    right = np.array(["王伟", "赵", ""], dtype=object)
    left_codes, right_codes = joint_codes([left, right])
    shares = term_frequencies(left_codes, right_codes)
    counts = pd.Series([*left, *right]).loc[lambda s: s != ""].value_counts(normalize=True)
    assert list(shares) == [counts["王伟"], counts["李娜"], 0.0, counts["王伟"]]
    assert list(term_frequencies(left_codes, None)) == [2 / 3, 1 / 3, 0.0, 2 / 3]


def test_scorers_read_code_points_in_dedupe_too() -> None:
    values = np.array(["铁路宿舍27号楼", "铁路宿舍72号楼", "翠微路6号楼"], dtype=object)
    encoded = Encoded({"a": values}, {"a": values})
    pairs = Pairs(encoded, np.array([0, 0, 1]), np.array([1, 2, 2]))
    from pipeline.link.comparisons.base import score_rows

    got = score_rows(pairs, "a", distance.Indel.normalized_similarity, np.arange(3))
    want = process.cpdist(values[[0, 0, 1]], values[[1, 2, 2]],
                          scorer=distance.Indel.normalized_similarity)
    assert np.array_equal(got, want) and encoded.code_points("a") is not None

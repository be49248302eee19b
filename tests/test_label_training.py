"""Analysts' decisions teach the model: confirmed pairs give m for the levels they show,
blended with EM's m in proportion to weight (`training.label_m`), and on a generated set,
labels on the clerical band raise recall at unchanged precision."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline import stages
from pipeline.config import load_config
from pipeline.generate import generate
from pipeline.generate.constants import REFERENCE_DATE
from pipeline.link.assign import MATCH, POSSIBLE
from pipeline.link.comparisons import NULL_LEVEL
from pipeline.link.engine import Linker
from pipeline.link.estimate import SMOOTHING, blend_m, labelled_m
from pipeline.link.people import label_positions, link_people
from pipeline.link.spec import load_spec
from pipeline.link.training import LABEL_WEIGHT, Labels, label_m, train
from tests.helpers import civil_without_ids_of

KEY = ["union_roll_id", "civil_case_id", "civil_member_no"]


# -- the blend ------------------------------------------------------------------------------

def test_labelled_m_is_the_share_with_a_pseudo_count() -> None:
    levels = np.array([0, 0, 0, 1, NULL_LEVEL], dtype=np.int8)
    m, n = labelled_m(levels, 3)
    assert n == 4  # the null level is no evidence, and no label
    expected = (np.array([3, 1, 0]) + SMOOTHING) / (4 + 3 * SMOOTHING)
    np.testing.assert_allclose(m, expected)
    assert m[2] > 0 and m.sum() == pytest.approx(1.0)  # an unseen level keeps a little m


def test_blend_weighs_em_and_labels_by_their_counts() -> None:
    m_em, m_lab = np.array([0.9, 0.1]), np.array([0.5, 0.5])
    np.testing.assert_allclose(blend_m(m_em, m_lab, 50.0, 50), [0.7, 0.3])
    np.testing.assert_allclose(blend_m(m_em, m_lab, 50.0, 10), (50 * m_em + 10 * m_lab) / 60)
    assert blend_m(m_em, m_lab, 50.0, 0) is m_em  # no labels: EM's m, untouched


def test_blend_keeps_pinned_levels() -> None:
    fixed = {2: 0.001}
    m_em = np.array([0.8, 0.199, 0.001])
    m = blend_m(m_em, np.array([0.2, 0.2, 0.6]), 10.0, 40, fixed)
    assert m[2] == 0.001 and m.sum() == pytest.approx(1.0)
    assert m[1] > m_em[1]


@pytest.fixture(scope="module")
def comparisons():
    return Linker(load_spec("union_civil")).comparisons


def test_label_m_respects_fixed_m_and_records_each_comparison(comparisons) -> None:
    m_em = [np.full(len(c.level_names), 1 / len(c.level_names)) for c in comparisons]
    id_at = [c.name for c in comparisons].index("id_number")
    pinned = comparisons[id_at].fixed_m()
    m_em[id_at] = np.array([0.9, 0.05, 0.02, 0.015, 0.014, 0.001])
    levels = np.zeros((8, len(comparisons)), dtype=np.int8)
    levels[:, id_at] = 5  # labels claim "two valid, different IDs" is common among matches
    levels[:, 0] = NULL_LEVEL  # no name evidence: the name's m is EM's
    m, record = label_m(comparisons, m_em, levels, em_weight=20.0)
    for level, value in pinned.items():
        assert m[id_at][level] == value
    assert m[0] is m_em[0]
    assert record["name"]["labels"] == 0 and record["name"]["m_labels"] is None
    assert record["id_number"]["labels"] == 8
    assert record["id_number"]["m_labels"]["differs_valid"] == pinned[5]
    district = [c.name for c in comparisons].index("district")
    assert record["district"]["m"]["exact"] == pytest.approx(
        (20 * m_em[district][0] + 8 * (8 + SMOOTHING) / (8 + 2 * SMOOTHING)) / 28)
    assert set(record["district"]) == {"labels", "m_em", "m_labels", "m"}


def _toy_training(comparisons, labels):
    spec = load_spec("union_civil")
    rng = np.random.default_rng(3)
    n_c = len(comparisons)

    def compare(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        same = (i == j)[:, None]
        noise = np.random.default_rng(int(i.sum() + j.sum()) % 1000).integers(0, 2, (len(i), n_c))
        return np.where(same, 0, 1 + noise).astype(np.int8).clip(
            0, [len(c.level_names) - 1 for c in comparisons])

    li = np.sort(rng.integers(0, 200, 2000))
    ri = np.where(rng.random(2000) < 0.2, li, rng.integers(0, 200, 2000))
    order = np.lexsort((ri, li))
    li, ri = li[order], ri[order]
    training = spec.training.model_copy(update={"em_sessions": [], "u_sample_pairs": 5000})
    return train(training, comparisons, compare(li, ri), compare, 200, 200,
                 candidates=(li, ri), labels=labels).model


def test_no_labels_trains_exactly_as_before(comparisons) -> None:
    without = _toy_training(comparisons, None).as_dict()
    assert _toy_training(comparisons, Labels.empty()).as_dict() == without
    assert "labels" not in without["training"]
    dismissed_only = Labels(np.empty((0, 2), dtype=np.int64), np.array([[1, 2]]))
    model = _toy_training(comparisons, dismissed_only).as_dict()
    assert model["comparisons"] == without["comparisons"]  # dismissals do not move m
    assert model["training"]["labels"] == {"confirmed": 0, "dismissed": 1,
                                           "em_weight": LABEL_WEIGHT, "comparisons": {}}


def test_confirmed_labels_move_m_and_are_recorded(comparisons) -> None:
    confirmed = np.array([[k, k] for k in range(5)], dtype=np.int64)
    model = _toy_training(comparisons, Labels(confirmed, np.empty((0, 2), np.int64))).as_dict()
    record = model["training"]["labels"]
    assert record["confirmed"] == 5 and record["dismissed"] == 0
    name = record["comparisons"]["name"]
    assert name["labels"] == 5 and name["m_labels"]["exact"] > 0.5
    assert model["comparisons"][0]["levels"][0]["m"] == pytest.approx(name["m"]["exact"])


# -- on a generated set ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A generated set where some people are only possible matches (as
    test_review_roundtrip makes them): their civil record lost its ID number and address."""
    root = tmp_path_factory.mktemp("label_training")
    generate(root / "in", households=300, seed=5)
    union, members = root / "in" / "union_roll.xlsx", root / "in" / "members.csv"
    config = load_config()
    first = stages.normalise(stages.ingest(stages.Inputs(
        [union], [root / "in" / "civil_exchange.csv"], [members])), REFERENCE_DATE)
    exact = stages.link(first, config).links
    exact = exact[exact["method"] == "id_exact"].iloc[::4].head(40)
    civil_without_ids_of(root / "in" / "civil_exchange.csv", exact, root / "civil.csv")
    normalised = stages.normalise(stages.ingest(stages.Inputs(
        [union], [root / "civil.csv"], [members])), REFERENCE_DATE)
    truth = pd.read_csv(root / "in" / "truth" / "links.csv", dtype=str, keep_default_na=False)
    return (normalised[stages.Source.UNION].frame, normalised[stages.Source.CIVIL].frame,
            config["linking"]["specs"], set(map(tuple, truth[KEY].to_numpy())))


def _scores(evidence: pd.DataFrame, truth: set, labelled: set) -> tuple[float, float, int, int]:
    """Precision and recall of `match` decisions against truth, leaving out the labelled
    pairs (their decision is the analyst's, not the model's); true positives, predicted."""
    matches = evidence[evidence["decision"] == MATCH]
    predicted = set(map(tuple, matches[KEY].astype(str).to_numpy())) - labelled
    actual = truth - labelled
    hit = len(predicted & actual)
    return (hit / len(predicted) if predicted else 1.0), hit / len(actual), hit, len(predicted)


def test_labels_on_the_clerical_band_raise_recall_at_unchanged_precision(generated) -> None:
    union, civil, specs, truth = generated
    before = link_people(union, civil, None, specs)
    possible = before.evidence[before.evidence["decision"] == POSSIBLE]
    assert len(possible) >= 5, "the generated set needs possible matches"
    labels = possible[KEY].astype(str).reset_index(drop=True)
    labels["label"] = ["match" if tuple(k) in truth else "non_match"
                       for k in labels[KEY].to_numpy()]
    labelled = set(map(tuple, labels[KEY].to_numpy()))
    after = link_people(union, civil, None, specs, labels=labels)

    p0, r0, hit0, n0 = _scores(before.evidence, truth, labelled)
    p1, r1, hit1, n1 = _scores(after.evidence, truth, labelled)
    figures = (f"{len(labels)} labels ({(labels['label'] == 'match').sum()} confirmed); "
               f"before: precision {p0:.4f} recall {r0:.4f} ({hit0}/{n0} predicted true, "
               f"{len(truth - labelled)} true links); after: precision {p1:.4f} recall {r1:.4f} "
               f"({hit1}/{n1})")
    print(figures)
    assert r1 >= r0, figures
    assert p1 >= p0 - 0.001, figures
    assert r1 > r0, f"labels taught the model nothing: {figures}"

    record = after.models["union_civil"]["training"]["labels"]
    assert record["confirmed"] == int((labels["label"] == "match").sum())
    assert record["dismissed"] == int((labels["label"] == "non_match").sum())
    assert record["comparisons"]["address"]["labels"] > 0
    assert "labels" not in before.models["union_civil"]["training"]
    # The analyst's decisions still stand: confirmed pairs matched, dismissed never.
    decided = after.evidence.merge(labels, on=KEY)
    assert (decided.loc[decided["label"] == "match", "decision"] == MATCH).all()
    assert (decided.loc[decided["label"] == "non_match", "decision"] != MATCH).all()


def test_label_positions_cover_every_row_of_a_labelled_roll_id() -> None:
    union = pd.DataFrame({"roll_id": ["A", "B", "A"]})
    civil = pd.DataFrame({"case_id": ["c1", "c2"], "member_no": ["1", "1"]})
    labels = pd.DataFrame({"union_roll_id": ["A", "B", "Z"], "civil_case_id": ["c2", "c1", "c1"],
                           "civil_member_no": ["1", "1", "1"],
                           "label": ["match", "non_match", "match"]}, dtype="string")
    got = label_positions(union, civil, labels)
    assert got.confirmed.tolist() == [[0, 1], [2, 1]]
    assert got.dismissed.tolist() == [[1, 0]]
    assert label_positions(union, civil, None) is None
    assert label_positions(union, civil, labels.iloc[:0]) is None


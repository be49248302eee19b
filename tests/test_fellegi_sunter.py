"""Model estimation: EM on a known mixture, term frequencies, pinned m, the prior."""

from __future__ import annotations

import numpy as np

from pipeline.link.estimate import estimate_prior, expectation_maximisation, initial_m
from pipeline.link.fellegi_sunter import ComparisonParams, Model


def mixture(n: int, prior: float, m: list[np.ndarray], u: list[np.ndarray], seed: int = 7):
    rng = np.random.default_rng(seed)
    is_match = rng.random(n) < prior
    levels = np.empty((n, len(m)), dtype=np.int8)
    for c, (mc, uc) in enumerate(zip(m, u, strict=True)):
        levels[:, c] = np.where(is_match, rng.choice(len(mc), n, p=mc),
                                rng.choice(len(uc), n, p=uc))
    return levels


def test_em_recovers_m_and_prior_of_a_known_mixture() -> None:
    m = [np.array([0.9, 0.07, 0.03]), np.array([0.85, 0.15]), np.array([0.7, 0.2, 0.1])]
    u = [np.array([0.01, 0.09, 0.9]), np.array([0.1, 0.9]), np.array([0.05, 0.15, 0.8])]
    levels = mixture(200_000, 0.2, m, u)
    start = [initial_m(len(x)) for x in m]
    estimated, prior, iterations = expectation_maximisation(levels, u, start)
    assert abs(prior - 0.2) < 0.01
    for true_m, got in zip(m, estimated, strict=True):
        assert np.abs(true_m - got).max() < 0.02
    assert iterations < 200  # converged
    assert abs(estimate_prior(levels, u, m) - 0.2) < 0.01


def test_pinned_m_is_held_through_em() -> None:
    m = [np.array([0.9, 0.1]), np.array([0.95, 0.05])]
    u = [np.array([0.1, 0.9]), np.array([0.5, 0.5])]
    levels = mixture(50_000, 0.3, m, u)
    estimated, _, _ = expectation_maximisation(
        levels, u, [initial_m(2), initial_m(2)], fixed=[{1: 0.001}, None])
    assert estimated[0][1] == 0.001 and abs(estimated[0].sum() - 1) < 1e-9


def test_term_frequency_makes_a_common_name_weak_evidence() -> None:
    name = ComparisonParams("name", ("exact", "else"), np.array([0.95, 0.05]),
                            np.array([0.001, 0.999]), tf_level=0)
    model = Model([name], prior=1e-4, prior_candidates=0.1)
    levels = np.array([[0], [0]], dtype=np.int8)
    common, rare = 0.01, 0.00001  # 王伟 vs a rare name
    weights = model.weights(levels, [np.array([common, rare])])
    assert weights[0, 0] < weights[1, 0]
    assert np.isclose(weights[0, 0], np.log2(0.95 / common))
    # Without the adjustment both would weigh the same.
    plain = model.weights(levels, [None])
    assert plain[0, 0] == plain[1, 0]


def test_null_level_is_no_evidence() -> None:
    params = ComparisonParams("x", ("exact", "else"), np.array([0.9, 0.1]), np.array([0.1, 0.9]))
    model = Model([params], prior=0.5, prior_candidates=0.5)
    weights = model.weights(np.array([[-1]], dtype=np.int8), [None])
    assert weights[0, 0] == 0.0
    assert np.isclose(model.probability(np.array([0.0]))[0], 0.5)

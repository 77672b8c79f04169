"""Frechet distance against closed forms for Gaussians and scipy's sqrtm; Inception Score known answers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from ganaudio.errors import ParameterError
from ganaudio.eval.frechet import (
    frechet_distance,
    frechet_distance_from_stats,
    gaussian_stats,
    inception_score,
    sqrtm_psd,
)


def _random_psd(rng, d, rank=None):
    a = rng.normal(size=(d, rank or d))
    return a @ a.T / d


def test_commuting_gaussians_match_closed_form(rng):
    # Covariances sharing eigenvectors: FD = |dmu|^2 + sum (sqrt(a_i) - sqrt(b_i))^2.
    d = 6
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    a, b = rng.uniform(0.1, 4, d), rng.uniform(0.1, 4, d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    got = frechet_distance_from_stats(mu1, q @ np.diag(a) @ q.T, mu2, q @ np.diag(b) @ q.T)
    assert got == pytest.approx(expected, rel=1e-9)


def test_general_gaussians_match_scipy_sqrtm(rng):
    d = 8
    s1, s2 = _random_psd(rng, d), _random_psd(rng, d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    cross = scipy.linalg.sqrtm(s1 @ s2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(cross)
    assert frechet_distance_from_stats(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-7)


def test_one_dimensional_closed_form():
    # N(0, 1) vs N(3, 4): 9 + (1 - 2)^2 = 10.
    assert frechet_distance_from_stats(np.zeros(1), np.eye(1), np.full(1, 3.0), 4 * np.eye(1)) == pytest.approx(10)


def test_sample_estimate_approaches_population_value(rng):
    x = rng.normal(size=(20000, 3))
    y = rng.normal(size=(20000, 3)) * 2 + 1
    # population: |1|^2 * 3 + 3 * (1 - 2)^2 = 6
    assert frechet_distance(x, y) == pytest.approx(6.0, rel=0.05)


def test_identical_sets_give_zero_even_when_rank_deficient(rng):
    x = rng.normal(size=(10, 32))  # fewer examples than dimensions: singular covariance
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    y = rng.normal(size=(10, 32))
    assert np.isfinite(frechet_distance(x, y)) and frechet_distance(x, y) > 0


def test_sqrtm_psd_squares_back_and_is_symmetric(rng):
    s = _random_psd(rng, 7, rank=3)
    root = sqrtm_psd(s)
    np.testing.assert_allclose(root @ root, s, atol=1e-10)
    np.testing.assert_allclose(root, root.T)


def test_distance_is_symmetric(rng):
    x, y = rng.normal(size=(50, 4)), rng.normal(size=(60, 4)) + 0.5
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), rel=1e-9)


def test_inception_score_known_answers(rng):
    assert inception_score(np.eye(5)) == pytest.approx(5.0)
    assert inception_score(np.full((7, 3), 1 / 3)) == pytest.approx(1.0)
    assert inception_score(np.tile([1.0, 0, 0], (4, 1))) == pytest.approx(1.0)  # confident but collapsed
    p = rng.dirichlet(np.ones(10), size=40)
    assert 1.0 <= inception_score(p) <= 10.0
    assert inception_score(p, splits=4) == pytest.approx(
        np.mean([inception_score(part) for part in np.array_split(p, 4)]))


@pytest.mark.parametrize("call", [
    lambda: gaussian_stats(np.zeros((1, 3))),
    lambda: gaussian_stats(np.full((3, 2), np.nan)),
    lambda: frechet_distance(np.zeros((4, 2)), np.zeros((4, 3))),
    lambda: inception_score(np.array([[0.5, 0.6]])),
    lambda: inception_score(np.eye(3), splits=4),
    lambda: sqrtm_psd(np.zeros((2, 3))),
])
def test_bad_input(call):
    with pytest.raises(ParameterError):
        call()

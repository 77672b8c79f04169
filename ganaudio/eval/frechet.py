"""Frechet distance between Gaussian fits of embeddings, and the Inception Score of class posteriors.

GANSynth reports both with its pitch classifier: the Frechet distance on the
classifier's penultimate layer (FID's recipe with an audio network) and the
Inception Score on its pitch posteriors. Here the network is
:class:`ganaudio.eval.evaluator.NoteEvaluator`; the functions take arrays, so
any embedding works.
"""

from __future__ import annotations

import numpy as np

from ganaudio.errors import ParameterError

__all__ = ["gaussian_stats", "frechet_distance", "frechet_distance_from_stats", "inception_score", "sqrtm_psd"]


def gaussian_stats(embedding: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and covariance ``(d, d)`` (unbiased) of rows ``(n, d)``, n >= 2.

    Examples
    --------
    >>> mu, sigma = gaussian_stats(np.random.default_rng(0).normal(size=(100, 8)))
    >>> mu.shape, sigma.shape
    ((8,), (8, 8))
    """
    x = np.asarray(embedding, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ParameterError(f"need embeddings as (n, d) with n >= 2, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ParameterError("embeddings contain NaN or inf")
    return x.mean(axis=0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def sqrtm_psd(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix by its eigendecomposition.

    The matrix is symmetrised first and eigenvalues below zero (round-off) are
    clipped to zero, so the result is real and symmetric, unlike a general
    ``sqrtm`` on a nearly singular covariance.

    Examples
    --------
    >>> sqrtm_psd(np.diag([4.0, 9.0]))
    array([[2., 0.],
           [0., 3.]])
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ParameterError(f"expected a square matrix, got shape {m.shape}")
    values, vectors = np.linalg.eigh((m + m.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance_from_stats(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Squared 2-Wasserstein (Frechet) distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``|mu1 - mu2|^2 + tr(sigma1) + tr(sigma2) - 2 tr((sigma1^1/2 sigma2 sigma1^1/2)^1/2)``. The cross
    term is the trace of the square root of a symmetric PSD matrix, taken from
    its eigenvalues (clipped at zero), so rank-deficient covariances (fewer
    notes than dimensions) stay real and finite. The result is clipped at 0.

    Examples
    --------
    >>> frechet_distance_from_stats(np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2))
    4.0
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ParameterError(f"mismatched shapes: mu {mu1.shape}, {mu2.shape}; sigma {sigma1.shape}, {sigma2.shape}")
    root1 = sqrtm_psd(sigma1)
    inner = root1 @ sigma2 @ root1
    cross = np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0.0, None)).sum()
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * cross
    return float(max(value, 0.0))


def frechet_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Frechet distance between Gaussian fits of embeddings ``x`` ``(n, d)`` and ``y`` ``(m, d)``.

    Identical sets give 0 (up to round-off). With few examples the estimate is
    biased upwards; compare it with the same figure between two halves of real data.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(500, 4))
    >>> round(frechet_distance(a, a), 6)
    0.0
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ParameterError(f"embeddings must be (n, d) with equal d, got {x.shape} and {y.shape}")
    return frechet_distance_from_stats(*gaussian_stats(x), *gaussian_stats(y))


def inception_score(probs: np.ndarray, *, splits: int = 1) -> float:
    """Inception Score ``exp(E_x KL(p(y|x) || p(y)))`` of class posteriors ``(n, classes)``.

    High when each example is classified confidently and the classes are
    spread; at most the number of classes. With ``splits`` > 1 the mean over
    that many contiguous parts (the original recipe uses 10).

    Examples
    --------
    >>> inception_score(np.eye(4))          # four confident, distinct examples
    4.0
    >>> inception_score(np.full((4, 4), 0.25))
    1.0
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < 1:
        raise ParameterError(f"expected posteriors (n, classes), got shape {p.shape}")
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        raise ParameterError("each row of probs must be a probability distribution (non-negative, summing to 1)")
    if not 1 <= splits <= p.shape[0]:
        raise ParameterError(f"splits must be in 1..{p.shape[0]}, got {splits}")
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(part > 0, part * (np.log(part) - np.log(marginal)), 0.0).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores))

"""Number of statistically Different Bins (NDB, Richardson and Weiss 2018), as GANSynth reports it.

Real examples are clustered by k-means (k = 50 by default) on their log-mel
features; every generated example goes to its nearest centre; for each bin a
two-proportion z-test asks whether the real and generated shares differ. Mode
collapse and missing modes show up as many different bins.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.stats import norm

from ganaudio.errors import ParameterError

__all__ = ["NDBResult", "ndb", "log_mel_features"]


@dataclasses.dataclass(frozen=True)
class NDBResult:
    """Outcome of :func:`ndb`.

    Attributes
    ----------
    n_different : int
        Bins whose real and generated proportions differ at level ``alpha``.
    fraction : float
        ``n_different / k``.
    k : int
    real_proportions, fake_proportions : tuple of float, one per bin
    """

    n_different: int
    fraction: float
    k: int
    real_proportions: tuple
    fake_proportions: tuple

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def log_mel_features(
    audio: np.ndarray, *, sample_rate: int, n_mels: int = 64, n_fft: int = 1024, hop_length: int = 512
) -> np.ndarray:
    """Flattened log-mel power of each clip: ``(n, time)`` to ``(n, n_mels * frames)``.

    Examples
    --------
    >>> log_mel_features(np.zeros((3, 16000), np.float32), sample_rate=16000).shape
    (3, 2048)
    """
    import torch

    from ganaudio.representations import Mel

    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 2:
        raise ParameterError(f"expected clips of equal length (n, time), got {audio.shape}")
    rep = Mel(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
    with torch.no_grad():
        spec = rep.encode(torch.from_numpy(audio))
    return spec.reshape(audio.shape[0], -1).numpy().astype(np.float64)


def ndb(
    real: np.ndarray,
    fake: np.ndarray,
    *,
    k: int = 50,
    alpha: float = 0.05,
    seed: int = 0,
) -> NDBResult:
    """NDB between ``real`` ``(n_real, features)`` and ``fake`` ``(n_fake, features)`` feature rows.

    Bins come from k-means on ``real`` only. Two sets from the same
    distribution give few different bins (about ``alpha * k`` by chance);
    report it beside the same figure between two halves of the real data.

    Examples
    --------
    >>> result = ndb(real_features, fake_features, k=50)
    >>> result.n_different, result.fraction
    """
    from sklearn.cluster import KMeans

    real = np.asarray(real, dtype=np.float64)
    fake = np.asarray(fake, dtype=np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ParameterError(f"real and fake must be (n, features) with equal features, got {real.shape}, {fake.shape}")
    if not 2 <= k <= len(real):
        raise ParameterError(f"k={k} bins need at least k real examples, got {len(real)}")
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must be in (0, 1), got {alpha}")
    # Standardise with the real statistics so no feature dominates the distance.
    mean, std = real.mean(axis=0), real.std(axis=0) + 1e-8
    real_z, fake_z = (real - mean) / std, (fake - mean) / std
    kmeans = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(real_z)
    real_counts = np.bincount(kmeans.labels_, minlength=k)
    fake_counts = np.bincount(kmeans.predict(fake_z), minlength=k)
    n_real, n_fake = len(real), len(fake)
    p_real, p_fake = real_counts / n_real, fake_counts / n_fake
    pooled = (real_counts + fake_counts) / (n_real + n_fake)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n_real + 1 / n_fake))
    z = np.divide(p_real - p_fake, se, out=np.zeros(k), where=se > 0)
    different = 2 * norm.sf(np.abs(z)) < alpha
    n_different = int(different.sum())
    return NDBResult(
        n_different=n_different,
        fraction=n_different / k,
        k=k,
        real_proportions=tuple(float(v) for v in p_real),
        fake_proportions=tuple(float(v) for v in p_fake),
    )

"""NDB separates a matching set from a collapsed one, and reads real audio features."""

from __future__ import annotations

import numpy as np
import pytest

from ganaudio.errors import ParameterError
from ganaudio.eval.ndb import log_mel_features, ndb
from tests.conftest import NOTE_FILES, load_sample


def mixture(rng, n, modes, dim=8):
    centres = np.stack([np.full(dim, 6.0 * m) for m in range(modes)])
    labels = rng.integers(0, modes, size=n)
    return centres[labels] + rng.normal(size=(n, dim))


def test_same_distribution_few_bins_collapse_many():
    rng = np.random.default_rng(0)
    real = mixture(rng, 2000, modes=10)
    same = ndb(real, mixture(rng, 2000, modes=10), k=20)
    collapsed = ndb(real, mixture(rng, 2000, modes=2), k=20)
    assert same.n_different <= 3
    assert collapsed.n_different >= 15 and collapsed.fraction == collapsed.n_different / 20
    assert sum(same.real_proportions) == pytest.approx(1.0)


def test_log_mel_features_of_real_notes():
    clips = np.stack([load_sample(n)[0].numpy()[:16000] for n in NOTE_FILES])
    feats = log_mel_features(clips, sample_rate=16000)
    assert feats.shape == (4, 64 * 32)
    assert np.all(np.isfinite(feats))
    assert not np.allclose(feats[0], feats[1])


def test_bad_input():
    with pytest.raises(ParameterError, match="k=50"):
        ndb(np.zeros((10, 3)), np.zeros((10, 3)))
    with pytest.raises(ParameterError, match="equal features"):
        ndb(np.zeros((10, 3)), np.zeros((10, 4)), k=2)
    with pytest.raises(ParameterError, match="equal length"):
        log_mel_features(np.zeros(100), sample_rate=16000)

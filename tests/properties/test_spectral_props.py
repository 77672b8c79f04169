"""Property tests: any length, batch shape and setting keeps the spectral invariants."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ganaudio.functional import spectral as F
from ganaudio.representations import IF, STFT, IFMel, Mel

fft_sizes = st.sampled_from([256, 512, 1024])
lengths = st.integers(min_value=600, max_value=6000)


@settings(max_examples=25, deadline=None)
@given(n_fft=fft_sizes, hop_div=st.sampled_from([2, 4]), length=lengths, seed=st.integers(0, 2**16))
def test_if_round_trip_any_length(n_fft, hop_div, length, seed):
    y = torch.randn(length, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    rep = IF(sample_rate=16000, n_fft=n_fft, hop_length=n_fft // hop_div)
    spec = rep.encode(y)
    assert spec.shape == (2, n_fft // 2 + 1, rep.frames_for(length))
    assert F.snr_db(rep.decode(spec, length=length), y) > 40


@settings(max_examples=15, deadline=None)
@given(lead=st.lists(st.integers(1, 3), min_size=0, max_size=2), length=lengths, seed=st.integers(0, 2**16))
def test_any_leading_batch_shape(lead, length, seed):
    y = torch.randn(*lead, length, generator=torch.Generator().manual_seed(seed))
    for rep in (STFT(n_fft=512, hop_length=128), Mel(n_fft=512, hop_length=128, n_mels=40),
                IFMel(n_fft=512, hop_length=128, n_mels=64)):
        spec = rep.encode(y)
        assert spec.shape[: len(lead)] == tuple(lead) and spec.shape[len(lead)] == rep.channels
        flat = spec.reshape(-1, *spec.shape[len(lead):])
        first = rep.encode(y.reshape(-1, length)[0])
        torch.testing.assert_close(flat[0], first, rtol=1e-4, atol=1e-4)


@settings(max_examples=20, deadline=None)
@given(n_frames=st.integers(2, 200), length=st.integers(300, 40000))
def test_fit_length_gives_requested_frames(n_frames, length):
    rep = IFMel(n_fft=512, hop_length=128, n_mels=64)
    y = torch.zeros(length)
    assert rep.encode(y, n_frames=n_frames).shape[-1] == n_frames


@settings(max_examples=20, deadline=None)
@given(scale=st.floats(1e-3, 1e3), shift=st.floats(-50, 50), seed=st.integers(0, 2**16))
def test_normalizer_inverse_any_statistics(scale, shift, seed):
    from ganaudio.representations import Normalizer

    x = torch.randn(4, 2, 8, 6, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * scale + shift
    norm = Normalizer.fit(x)
    torch.testing.assert_close(norm.denormalize(norm.normalize(x)), x, rtol=1e-9, atol=1e-9 * scale)
    assert np.isclose(float(norm.normalize(x).abs().max()), 1.0)

"""Vocoder presets (every one builds, any mel bands / sample rate, hop check) and the reconstruction losses."""

from __future__ import annotations

import pytest
import torch

from ganaudio.errors import ParameterError
from ganaudio.losses import log_mel_l1, multi_resolution_stft_loss
from ganaudio.presets import VOCODER_PRESETS, load_vocoder_preset


@pytest.mark.parametrize("name", sorted(VOCODER_PRESETS))
def test_every_preset_builds_and_maps_frames_to_hops(name):
    preset = VOCODER_PRESETS[name]
    g = preset.build_generator().eval()
    with torch.no_grad():
        y = g(torch.randn(1, preset.n_mels, 3))
    assert y.shape[:2] == (1, 1) and y.shape[-1] in (2 * preset.hop_length, 3 * preset.hop_length)


@pytest.mark.parametrize("sample_rate,n_mels,n_fft", [(22050, 100, 1024), (44100, 128, 2048), (16000, 64, 1024)])
def test_any_sample_rate_and_mel_bands(sample_rate, n_mels, n_fft):
    for name in ("vocos", "small"):
        preset = load_vocoder_preset(name, overrides={"sample_rate": sample_rate, "n_mels": n_mels, "n_fft": n_fft,
                                                      "dim": 16, "intermediate_dim": 16, "n_layers": 1,
                                                      "upsample_initial_channel": 16})
        rep = preset.representation()
        mel = rep.encode(torch.randn(4096))[0]  # (n_mels, frames)
        assert mel.shape[0] == n_mels and rep.sample_rate == sample_rate
        y = preset.build_generator()(mel.unsqueeze(0))
        assert y.shape[-1] >= 4096 - preset.hop_length


def test_hop_mismatch_is_refused_with_the_numbers():
    preset = load_vocoder_preset("v3", overrides={"hop_length": 320, "segment_length": 6400})
    with pytest.raises(ParameterError, match="multiply to 256, but the hop length is 320"):
        preset.build_generator()
    ok = load_vocoder_preset("v3", overrides={"hop_length": 320, "segment_length": 6400,
                                              "upsample_rates": [8, 5, 4, 2], "upsample_kernel_sizes": [16, 10, 8, 4]})
    assert ok.build_generator()(torch.randn(1, 80, 2)).shape[-1] == 640


def test_bad_overrides_name_the_field():
    with pytest.raises(ParameterError, match="unknown vocoder setting 'hop_lenght'; did you mean hop_length"):
        load_vocoder_preset("vocos", overrides={"hop_lenght": 128})
    with pytest.raises(ParameterError, match="segment_length=1000 must be a multiple of the hop 256"):
        load_vocoder_preset("vocos", overrides={"segment_length": 1000})
    with pytest.raises(ParameterError, match="unknown vocoder preset 'v9'"):
        load_vocoder_preset("v9")


def test_reconstruction_losses_are_zero_only_for_identical_signals():
    torch.manual_seed(0)
    y = torch.randn(2, 8000) * 0.1
    noisy = y + 0.05 * torch.randn_like(y)
    mel = {"sample_rate": 16000, "n_fft": 1024, "hop_length": 256, "n_mels": 80}
    assert float(multi_resolution_stft_loss(y, y)) == 0.0 and float(log_mel_l1(y, y, **mel)) == 0.0
    assert float(multi_resolution_stft_loss(noisy, y)) > 0.1 and float(log_mel_l1(noisy, y, **mel)) > 0.05
    # spectral convergence is a ratio of batch norms: a silent example beside a loud one stays bounded
    # (per example it would divide by ~0 and reach thousands)
    silent = torch.zeros(1, 8000)
    mixed = multi_resolution_stft_loss(torch.cat([noisy[:1], silent + 1e-3]), torch.cat([y[:1], silent]))
    assert float(mixed) < 10 * float(multi_resolution_stft_loss(noisy[:1], y[:1]))
    with pytest.raises(ParameterError, match="same shape"):
        multi_resolution_stft_loss(y, y[:, :4000])

"""Vocos-style and V3-sized generators: shapes for any mel bands, hops and sample rates; clear errors."""

from __future__ import annotations

import pytest
import torch

from ganaudio.errors import ParameterError
from ganaudio.models.hifigan import HIFIGAN_PRESETS, HiFiGANGenerator, VocoderDiscriminator
from ganaudio.models.vocos import VocosGenerator


@pytest.mark.parametrize("n_mels,hop,n_fft", [(80, 256, 1024), (100, 256, 1024), (128, 512, 2048), (40, 160, 640)])
def test_vocos_output_length_matches_the_analysis(n_mels, hop, n_fft):
    g = VocosGenerator(n_mels=n_mels, hop_length=hop, n_fft=n_fft, dim=16, intermediate_dim=32, n_layers=2)
    frames = 9
    y = g(torch.randn(2, n_mels, frames))
    assert y.shape == (2, 1, (frames - 1) * hop)  # a centred STFT of that many samples has `frames` frames
    assert g.spectrogram(torch.randn(1, n_mels, frames)).shape == (1, n_fft // 2 + 1, frames)
    assert VocosGenerator(**g.config()).config() == g.config()


def test_vocos_batch_consistency_and_gradients():
    g = VocosGenerator(n_mels=32, hop_length=64, n_fft=256, dim=16, intermediate_dim=32, n_layers=2).eval()
    mel = torch.randn(3, 32, 12)
    with torch.no_grad():
        torch.testing.assert_close(g(mel)[2:], g(mel[2:]), rtol=1e-4, atol=1e-5)
    g(mel).pow(2).mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in g.parameters())


def test_vocos_bad_settings_are_clear_errors():
    with pytest.raises(ParameterError, match="n_fft=256 must be at least twice the hop length 256"):
        VocosGenerator(n_mels=80, hop_length=256, n_fft=256, dim=16, intermediate_dim=32, n_layers=1)
    with pytest.raises(ParameterError, match="n_layers must be a positive integer"):
        VocosGenerator(n_mels=80, hop_length=256, n_fft=1024, dim=16, intermediate_dim=32, n_layers=0)
    g = VocosGenerator(n_mels=80, hop_length=256, n_fft=1024, dim=16, intermediate_dim=32, n_layers=1)
    with pytest.raises(ParameterError, match=r"\(batch, 80, frames\)"):
        g(torch.zeros(1, 64, 5))


def test_v3_preset_uses_single_conv_residual_stacks_and_checks_the_hop():
    v3 = HiFiGANGenerator(n_mels=80, hop_length=256, **HIFIGAN_PRESETS["v3"])
    v1_like = HiFiGANGenerator(n_mels=80, hop_length=256, **{**HIFIGAN_PRESETS["v3"], "resblock_type": 1})
    assert sum(p.numel() for p in v3.parameters()) < sum(p.numel() for p in v1_like.parameters())
    assert v3(torch.randn(1, 80, 4)).shape == (1, 1, 4 * 256)
    with pytest.raises(ParameterError, match="multiply to 256, but the hop length is 320"):
        HiFiGANGenerator(n_mels=80, hop_length=320, **HIFIGAN_PRESETS["v3"])
    with pytest.raises(ParameterError, match="resblock_type must be 1 or 2"):
        HiFiGANGenerator(n_mels=80, hop_length=256, **{**HIFIGAN_PRESETS["v3"], "resblock_type": 3})


def test_removing_weight_norm_keeps_the_output():
    g = HiFiGANGenerator(n_mels=20, hop_length=64, upsample_rates=(8, 8), upsample_kernel_sizes=(16, 16),
                         upsample_initial_channel=16, resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1,),),
                         resblock_type=2).eval()
    mel = torch.randn(1, 20, 6)
    with torch.no_grad():
        before = g(mel)
        after = g.remove_weight_norm()(mel)
    torch.testing.assert_close(before, after, rtol=1e-4, atol=1e-5)
    assert not any("parametrizations" in name for name, _ in g.named_parameters())


def test_vocoder_discriminator_joins_mpd_and_mrd():
    d = VocoderDiscriminator(periods=(2, 3), mpd_channels=(4, 8), resolutions=((256, 64), (128, 32)), mrd_channels=4)
    outputs = d(torch.randn(2, 1, 2048))
    assert len(outputs) == 4 and all(logits.shape[0] == 2 for logits, _ in outputs)
    assert VocoderDiscriminator(**d.config()).config() == d.config()


def test_mel_prior_starts_from_the_pseudo_inverse_magnitude():
    import librosa
    import numpy as np

    from ganaudio.representations import Mel

    rep = Mel(sample_rate=16000, n_fft=512, hop_length=128, n_mels=40)
    g = VocosGenerator(n_mels=40, hop_length=128, n_fft=512, dim=16, intermediate_dim=32, n_layers=1,
                       mel_prior=True, sample_rate=16000)
    assert VocosGenerator(**g.config()).config() == g.config() and g.config()["mel_prior"] is True
    torch.nn.init.zeros_(g.head.weight)
    torch.nn.init.zeros_(g.head.bias)   # the network adds nothing: the magnitude is the prior alone
    y = torch.randn(1, 4000) * 0.1
    mel = rep.encode(y)[:, 0]
    with torch.no_grad():
        mag = g.spectrogram(mel).abs()[0].double().numpy()
    power = np.linalg.pinv(librosa.filters.mel(sr=16000, n_fft=512, n_mels=40)) @ np.exp(mel[0].double().numpy())
    np.testing.assert_allclose(mag, np.sqrt(np.maximum(power, 1e-10)), rtol=1e-3, atol=1e-6)
    with pytest.raises(ParameterError, match="sample_rate"):
        VocosGenerator(n_mels=40, hop_length=128, n_fft=512, dim=16, intermediate_dim=32, n_layers=1, mel_prior=True)


@pytest.mark.parametrize("kind", ["vocos", "small"])
def test_receptive_radius_bounds_what_a_frame_can_change(kind):
    from ganaudio.presets import load_vocoder_preset

    preset = load_vocoder_preset(kind, overrides={"n_mels": 20, "upsample_initial_channel": 32, "dim": 16,
                                                  "intermediate_dim": 16})
    g = preset.build_generator().eval()
    radius, hop, frames = g.receptive_radius(), preset.hop_length, 120
    mel = torch.randn(1, 20, frames)
    bumped = mel.clone()
    bumped[..., frames // 2] += 5.0
    with torch.no_grad():
        diff = (g(bumped) - g(mel)).abs()[0, 0]
    changed = torch.nonzero(diff > 1e-5).flatten()
    assert len(changed) > 0
    assert changed.min() >= (frames // 2 - radius) * hop and changed.max() < (frames // 2 + radius + 1) * hop

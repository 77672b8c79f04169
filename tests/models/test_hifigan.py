"""HiFi-GAN-style generator and discriminators: shapes for any mel/hop setting, clear errors."""

from __future__ import annotations

import pytest
import torch

from ganaudio.errors import ParameterError
from ganaudio.models.hifigan import (
    HIFIGAN_PRESETS,
    HiFiGANGenerator,
    MultiPeriodDiscriminator,
    MultiResolutionSTFTDiscriminator,
)


@pytest.mark.parametrize(
    "n_mels,hop,rates,kernels",
    [(80, 256, (8, 8, 4), (16, 16, 8)), (128, 512, (8, 8, 4, 2), (16, 16, 8, 4)), (64, 160, (5, 4, 4, 2), (10, 8, 8, 4))],
)
def test_generator_output_length_is_frames_times_hop(n_mels, hop, rates, kernels):
    g = HiFiGANGenerator(n_mels=n_mels, hop_length=hop, upsample_rates=rates, upsample_kernel_sizes=kernels,
                         upsample_initial_channel=32, resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 3),))
    y = g(torch.randn(2, n_mels, 7))
    assert y.shape == (2, 1, 7 * hop) and y.abs().max() <= 1
    assert HiFiGANGenerator(**g.config()).config() == g.config()


def test_presets_build_and_batch_consistency():
    g = HiFiGANGenerator(n_mels=80, hop_length=256, **HIFIGAN_PRESETS["small"]).eval()
    mel = torch.randn(3, 80, 5)
    with torch.no_grad():
        torch.testing.assert_close(g(mel)[1:2], g(mel[1:2]), rtol=1e-4, atol=1e-5)


def test_discriminators_return_logits_and_features():
    y = torch.randn(2, 1, 4000)
    for disc in (MultiPeriodDiscriminator(periods=(2, 3), channels=(8, 16)),
                 MultiResolutionSTFTDiscriminator(resolutions=((256, 64), (128, 32)), channels=8)):
        outputs = disc(y)
        assert len(outputs) == 2
        for logits, features in outputs:
            assert logits.shape[0] == 2 and len(features) >= 3
        loss = sum(o[0].mean() for o in outputs)
        loss.backward()


def test_hop_mismatch_is_a_clear_error():
    with pytest.raises(ParameterError, match="multiply to 256, but the hop length is 200"):
        HiFiGANGenerator(n_mels=80, hop_length=200, **HIFIGAN_PRESETS["small"])
    g = HiFiGANGenerator(n_mels=80, hop_length=256, **HIFIGAN_PRESETS["small"])
    with pytest.raises(ParameterError, match=r"\(batch, 80, frames\)"):
        g(torch.zeros(1, 64, 10))

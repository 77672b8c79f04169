"""A harmonic-plus-noise voice streams in blocks of any size and equals the whole note."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganaudio.errors import ParameterError
from ganaudio.models.ddspgan import ControlGenerator
from ganaudio.synth.voice import Voice


@pytest.fixture(scope="module")
def decoder() -> ControlGenerator:
    torch.manual_seed(0)
    return ControlGenerator(hidden=24, z_dim=6, n_harmonics=64, n_envelope=12, n_detail=4, n_noise_bands=9,
                            table_size=256).eval()


def _whole(decoder, z, frames, release_frame):
    pitch = torch.full((1, frames), 57.0)
    velocity = torch.full((1, frames), 0.6)
    gate = (torch.arange(frames) < release_frame).float()[None]
    with torch.no_grad():
        audio, _ = decoder(z[None], pitch, velocity, gate)
    return audio[0].numpy()


@pytest.mark.parametrize("block", [64, 100, 128, 333, 512, 2048])
def test_blocks_equal_the_whole_note(decoder, block):
    z = torch.randn(6)
    hop = decoder.hop
    frames, release_frame = 40, 25
    whole = _whole(decoder, z, frames, release_frame)
    voice = Voice(decoder, z, pitch=57.0, velocity=0.6)
    out = []
    while voice.frames_rendered < release_frame:  # hold until the release frame is the next to render
        want = min(block, release_frame * hop - sum(len(o) for o in out))
        out.append(voice.render(want))
    voice.release()
    while sum(len(o) for o in out) < frames * hop:
        out.append(voice.render(min(block, frames * hop - sum(len(o) for o in out))))
    streamed = np.concatenate(out)
    np.testing.assert_allclose(streamed, whole, atol=1e-5)


def test_events_take_effect_at_the_next_frame(decoder):
    z = torch.randn(6)
    voice = Voice(decoder, z, pitch=60.0, velocity=0.8)
    voice.render(300)  # renders 2 frames (512 samples), keeps 212 pending
    assert voice.frames_rendered == 2
    voice.bend(62.0)
    voice.set_timbre(torch.randn(6))
    voice.release()
    assert voice.render(212).shape == (212,) and voice.frames_rendered == 2
    voice.render(1)
    assert voice.frames_rendered == 3 and voice.gate == 0.0


def test_bad_voice_settings_are_refused(decoder):
    with pytest.raises(ParameterError, match="z must be"):
        Voice(decoder, torch.zeros(3), pitch=60, velocity=0.5)
    with pytest.raises(ParameterError, match="velocity"):
        Voice(decoder, torch.zeros(6), pitch=60, velocity=1.5)
    with pytest.raises(ParameterError, match="block size"):
        Voice(decoder, torch.zeros(6), pitch=60, velocity=0.5).render(-1)

"""The harmonic-plus-noise GAN's networks: shapes, streaming equals whole, gradients, configs, bad input."""

from __future__ import annotations

import pytest
import torch

from ganaudio.errors import ParameterError
from ganaudio.models.ddspgan import ControlGenerator, MelDiscriminator, NoteEncoder

SR = 44100


def _generator(**kwargs) -> ControlGenerator:
    torch.manual_seed(0)
    settings = dict(hidden=32, z_dim=8, n_harmonics=96, n_envelope=16, n_detail=8, n_noise_bands=17,
                    table_size=512)
    settings.update(kwargs)
    return ControlGenerator(**settings)


def _note(frames: int, *, batch: int = 2, release_at: int | None = None):
    pitch = torch.tensor([[48.0], [81.0]])[:batch].expand(batch, frames).clone()
    velocity = torch.full((batch, frames), 0.7)
    gate = torch.ones(batch, frames)
    if release_at is not None:
        gate[:, release_at:] = 0
    return pitch, velocity, gate


def test_any_length_and_streaming_equals_whole():
    G = _generator().eval()
    z = torch.randn(2, 8)
    pitch, velocity, gate = _note(30, release_at=20)
    with torch.no_grad():
        whole, _ = G(z, pitch, velocity, gate)
        parts, state = [], None
        for start, stop in ((0, 1), (1, 8), (8, 21), (21, 30)):
            part, state = G(z, pitch[:, start:stop], velocity[:, start:stop], gate[:, start:stop], state)
            parts.append(part)
    assert whole.shape == (2, 30 * G.hop)
    assert torch.allclose(torch.cat(parts, -1), whole, atol=1e-5)


def test_pitch_is_the_asked_one_within_max_cents():
    G = _generator(max_cents=10.0)
    pitch, velocity, gate = _note(12)
    controls, _ = G.controls(torch.randn(2, 8) * 5, pitch, velocity, gate)
    cents = 1200 * torch.log2(controls["f0"] / (440 * 2 ** ((pitch - 69) / 12)))
    assert cents.abs().max() <= 10.0 + 1e-3
    exact = _generator(max_cents=0.0)
    controls, _ = exact.controls(torch.randn(2, 8), pitch, velocity, gate)
    assert torch.allclose(controls["f0"], 440 * 2 ** ((pitch - 69) / 12))


def test_harmonics_are_masked_and_scaled_by_amplitude():
    G = _generator(n_harmonics=200, table_size=1024)
    pitch = torch.full((1, 4), 108.0)  # 4186 Hz: only 5 partials fit below 22.05 kHz
    controls, _ = G.controls(torch.randn(1, 8), pitch, torch.ones(1, 4), torch.ones(1, 4))
    assert (controls["harmonics"][..., 5:] == 0).all()
    assert torch.allclose(controls["harmonics"].sum(-1), controls["amplitude"], rtol=1e-4)


def test_timbre_may_drift_per_frame():
    G = _generator()
    pitch, velocity, gate = _note(10)
    z = torch.randn(2, 10, 8)
    audio, _ = G(z, pitch, velocity, gate)
    assert audio.shape == (2, 10 * G.hop)


def test_gradient_flows_from_discriminator_to_generator_and_encoder():
    G = _generator()
    E = NoteEncoder(sample_rate=SR, z_dim=8, channels=16, n_mels=32)
    D = MelDiscriminator(sample_rate=SR, resolutions=((1024, 256, 32), (512, 128, 24)), channels=8)
    real = torch.randn(2, 16 * G.hop) * 0.1
    mean, logvar = E(real)
    z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
    pitch, velocity, gate = _note(16)
    fake, _ = G(z, pitch, velocity, gate)
    loss = sum((1 - score).pow(2).mean() for score, _ in D(fake, pitch[:, 0], velocity[:, 0]))
    loss.backward()
    for net in (G, E):
        grads = [p.grad for p in net.parameters() if p.requires_grad]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        assert sum(g.abs().sum() for g in grads) > 0


def test_discriminator_is_conditioned_on_pitch():
    D = MelDiscriminator(sample_rate=SR, resolutions=((512, 128, 32),), channels=8)
    with torch.no_grad():
        D.scales[0].embed.weight.normal_()
    audio = torch.randn(1, 8192)
    low = D(audio, torch.tensor([40.0]), torch.tensor([0.5]))[0][0]
    high = D(audio, torch.tensor([90.0]), torch.tensor([0.5]))[0][0]
    assert not torch.allclose(low, high)


def test_encoder_takes_any_length_and_batches_consistently():
    E = NoteEncoder(sample_rate=SR, z_dim=8, channels=16, n_mels=32).eval()
    audio = torch.randn(3, 30000) * 0.1
    with torch.no_grad():
        mean, logvar = E(audio)
        single, _ = E(audio[1:2])
        short, _ = E(torch.randn(1, 300))
    assert mean.shape == logvar.shape == (3, 8)
    assert torch.allclose(mean[1:2], single, atol=1e-5)
    assert short.shape == (1, 8)


@pytest.mark.parametrize("cls", [ControlGenerator, NoteEncoder, MelDiscriminator])
def test_config_rebuilds_the_module(cls):
    small = {ControlGenerator: dict(hidden=16, z_dim=4, n_harmonics=32, table_size=128, n_envelope=8,
                                    n_detail=4, n_noise_bands=9),
             NoteEncoder: dict(z_dim=4, channels=8, n_mels=16),
             MelDiscriminator: dict(resolutions=((512, 128, 16),), channels=4)}[cls]
    net = cls(**small)
    rebuilt = cls.from_config(net.config())
    assert rebuilt.config() == net.config()
    assert [p.shape for p in rebuilt.parameters()] == [p.shape for p in net.parameters()]


def test_bad_settings_and_inputs_are_refused():
    with pytest.raises(ParameterError, match="table_size"):
        ControlGenerator(n_harmonics=100, table_size=128)
    with pytest.raises(ParameterError, match="max_cents"):
        ControlGenerator(max_cents=500)
    G = _generator()
    pitch, velocity, gate = _note(4)
    with pytest.raises(ParameterError, match="share"):
        G(torch.randn(2, 8), pitch, velocity[:, :3], gate)
    with pytest.raises(ParameterError, match="z must be"):
        G(torch.randn(2, 5), pitch, velocity, gate)


def test_starts_as_a_quiet_harmonic_tone_with_little_noise():
    G = ControlGenerator()
    pitch = torch.full((1, 8), 48.0)
    controls, _ = G.controls(torch.randn(1, 64), pitch, torch.full((1, 8), 0.7), torch.ones(1, 8))
    assert 0.05 < float(controls["amplitude"].mean()) < 0.2
    harmonics = controls["harmonics"][0, -1]
    assert harmonics[0] > 5 * harmonics[40]  # dull: the envelope falls with frequency
    assert float(controls["noise"].max()) < 1e-3

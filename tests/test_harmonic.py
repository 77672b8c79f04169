"""Harmonic-plus-noise synthesis: exact partials, nothing at Nyquist, blocks equal the whole, gradients flow."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganaudio.errors import ParameterError
from ganaudio.functional.harmonic import (
    harmonic_tables,
    normalized_harmonics,
    nyquist_mask,
    synth_harmonic_noise,
)

SR = 44100
HOP = 256


def _spectrum(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = y.astype(np.float64)
    mag = np.abs(np.fft.rfft(y * np.blackman(len(y))))
    return np.fft.rfftfreq(len(y), 1 / SR), mag


def _controls(frames: int, *, batch=(), n_harmonics=96, n_bands=33, seed=0):
    g = torch.Generator().manual_seed(seed)
    f0 = 220 * 2 ** (torch.rand(*batch, frames, generator=g) * 0.5)
    harm = torch.rand(*batch, frames, n_harmonics, generator=g) * 0.02
    bands = torch.rand(*batch, frames, n_bands, generator=g) * 0.05
    return f0, harm, bands


def test_table_is_a_sine_series():
    amps = torch.tensor([0.5, 0.0, 0.25])
    table = harmonic_tables(amps, table_size=64)
    n = torch.arange(65) / 64
    expected = 0.5 * torch.sin(2 * torch.pi * n) + 0.25 * torch.sin(2 * torch.pi * 3 * n)
    assert torch.allclose(table, expected, atol=1e-6)


def test_table_size_must_hold_the_harmonics():
    with pytest.raises(ParameterError, match="table_size"):
        harmonic_tables(torch.ones(40), table_size=64)


@pytest.mark.parametrize("f0", [41.2, 233.3, 1760.0])
def test_partials_sit_at_integer_multiples(f0):
    frames, k = 240, 200
    harm = torch.zeros(frames, k)
    chosen = [1, 2, 7, 12]
    for i, h in enumerate(chosen):
        harm[:, h - 1] = 0.4 / (i + 1)
    y, _ = synth_harmonic_noise(torch.full((frames,), f0), harm, torch.zeros(frames, 8), hop=HOP, sample_rate=SR)
    freqs, mag = _spectrum(y[HOP * 8:].numpy())
    resolution = SR / (len(y) - HOP * 8)
    for h in chosen:
        window = np.abs(freqs - h * f0) < 4 * resolution
        peak = freqs[window][np.argmax(mag[window])]
        assert abs(peak - h * f0) <= resolution
    # everything away from the chosen partials is far below them
    quiet = np.ones_like(mag, dtype=bool)
    for h in chosen:
        quiet &= np.abs(freqs - h * f0) > 8 * resolution
    assert 20 * np.log10(mag[quiet].max() / mag.max()) < -70


def test_nothing_at_or_above_nyquist():
    # MIDI 108 (4186 Hz): harmonics 6+ would pass Nyquist and must not alias back
    f0, frames, k = 4186.0, 200, 64
    assert nyquist_mask(torch.tensor(f0), k, sample_rate=SR).sum() == 5
    harm = torch.full((frames, k), 0.1)
    y, _ = synth_harmonic_noise(torch.full((frames,), f0), harm, torch.zeros(frames, 8), hop=HOP, sample_rate=SR)
    freqs, mag = _spectrum(y[HOP * 8:].numpy())
    resolution = SR / (len(y) - HOP * 8)
    allowed = np.zeros_like(mag, dtype=bool)
    for h in range(1, 6):
        allowed |= np.abs(freqs - h * f0) < 8 * resolution
    assert 20 * np.log10(mag[~allowed].max() / mag.max()) < -60


def test_glide_across_nyquist_masks_the_whole_span():
    # a harmonic that crosses Nyquist inside a span is silent for that span
    f0 = torch.tensor([10000.0, 12000.0])
    harm = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    harm[:, 1] = 1.0  # harmonic 2: 20 kHz then 24 kHz (above 22.05 kHz)
    y, _ = synth_harmonic_noise(f0, harm, torch.zeros(2, 4), hop=HOP, sample_rate=SR)
    assert y[HOP:].abs().max() == 0


@pytest.mark.parametrize("chunks", [[1] * 12, [5, 7], [3, 1, 8], [12]])
def test_blocks_equal_the_whole(chunks):
    f0, harm, bands = _controls(sum(chunks), batch=(2,))
    whole, whole_state = synth_harmonic_noise(f0, harm, bands, hop=HOP, sample_rate=SR)
    parts, state, start = [], None, 0
    for n in chunks:
        sl = slice(start, start + n)
        part, state = synth_harmonic_noise(f0[..., sl], harm[..., sl, :], bands[..., sl, :], hop=HOP,
                                           sample_rate=SR, state=state)
        parts.append(part)
        start += n
    assert torch.allclose(torch.cat(parts, dim=-1), whole, atol=1e-5)
    assert state.frame == whole_state.frame
    assert torch.allclose(state.phase, whole_state.phase, atol=1e-9)


def test_long_note_blocks_equal_whole_after_many_frames():
    frames = 2000  # 11.6 s: phase carried in float64 stays exact
    f0 = torch.full((frames,), 27.5)
    harm = torch.zeros(frames, 600)
    harm[:, :600] = 0.001
    bands = torch.full((frames, 8), 0.01)
    whole, _ = synth_harmonic_noise(f0, harm, bands, hop=HOP, sample_rate=SR)
    parts, state = [], None
    for start in range(0, frames, 173):
        sl = slice(start, start + 173)
        part, state = synth_harmonic_noise(f0[sl], harm[sl], bands[sl], hop=HOP, sample_rate=SR, state=state)
        parts.append(part)
    assert torch.allclose(torch.cat(parts), whole, atol=1e-5)


def test_batch_equals_items():
    f0, harm, bands = _controls(10, batch=(3,))
    batched, _ = synth_harmonic_noise(f0, harm, bands, hop=HOP, sample_rate=SR)
    for i in range(3):
        single, _ = synth_harmonic_noise(f0[i], harm[i], bands[i], hop=HOP, sample_rate=SR)
        assert torch.allclose(batched[i], single, atol=1e-6)


def test_starts_from_silence_and_ramps():
    f0 = torch.full((4,), 440.0)
    harm = torch.zeros(4, 8)
    harm[:, 0] = 1.0
    y, _ = synth_harmonic_noise(f0, harm, torch.zeros(4, 4), hop=HOP, sample_rate=SR)
    assert y[0] == 0  # zero amplitude and zero phase at the first sample: no click
    envelope = torch.arange(1, HOP + 1) / HOP  # the amplitude ramps up over the first span
    assert (y[:HOP].abs() <= envelope + 1e-6).all()


def test_noise_follows_its_bands():
    frames = 400
    bands = torch.zeros(frames, 11)
    bands[:, :3] = 1.0  # energy only below ~4.4 kHz (bands 0..2 of 0..22.05 kHz in 10 steps)
    y, _ = synth_harmonic_noise(torch.full((frames,), 100.0), torch.zeros(frames, 4), bands, hop=HOP,
                                sample_rate=SR)
    freqs, mag = _spectrum(y.numpy())
    low = (mag[freqs < 3000] ** 2).mean()
    high = (mag[freqs > 8000] ** 2).mean()
    assert 10 * np.log10(low / high) > 40
    # steady bands give steady power: frame RMS varies little
    rms = y.unfold(0, 441, 441).pow(2).mean(-1).sqrt()
    assert (rms.std() / rms.mean()) < 0.2


def test_gradients_reach_every_control():
    f0, harm, bands = _controls(6)
    f0.requires_grad_(True)
    harm.requires_grad_(True)
    bands.requires_grad_(True)
    y, _ = synth_harmonic_noise(f0, harm, bands, hop=HOP, sample_rate=SR)
    spec = torch.stft(y, 512, window=torch.hann_window(512), return_complex=True).abs()
    spec.log1p().sum().backward()
    for tensor in (f0, harm, bands):
        assert tensor.grad is not None and torch.isfinite(tensor.grad).all() and tensor.grad.abs().sum() > 0


def test_normalized_harmonics_sum_to_one_below_nyquist():
    dist = torch.rand(2, 5, 40)
    f0 = torch.tensor([[100.0] * 5, [3000.0] * 5])
    out = normalized_harmonics(dist, f0, sample_rate=SR)
    assert torch.allclose(out.sum(-1), torch.ones(2, 5), atol=1e-5)
    assert (out[1, :, 7:] == 0).all()  # 8 x 3000 Hz >= 22050 Hz


def test_bad_controls_are_refused():
    f0, harm, bands = _controls(4)
    with pytest.raises(ParameterError, match="controls disagree"):
        synth_harmonic_noise(f0[:3], harm, bands, hop=HOP, sample_rate=SR)
    with pytest.raises(ParameterError, match="hop"):
        synth_harmonic_noise(f0, harm, bands, hop=255, sample_rate=SR)


def test_rows_with_their_own_noise_start_equal_separate_notes():
    """A live voice bank batches notes that started at different times: each row reads the noise from its own frame."""
    f0, harm, bands = (c.expand(3, *c.shape[1:]) for c in _controls(6, batch=(1,), n_bands=17))
    starts = torch.tensor([0, 5, 1021])
    audio, state = synth_harmonic_noise(f0, harm, bands, hop=HOP, sample_rate=SR, start_frame=starts)
    more, _ = synth_harmonic_noise(f0, harm, bands, hop=HOP, sample_rate=SR, state=state)
    for row, start in enumerate(starts.tolist()):
        alone, alone_state = synth_harmonic_noise(f0[row], harm[row], bands[row], hop=HOP, sample_rate=SR,
                                                  start_frame=start)
        again, _ = synth_harmonic_noise(f0[row], harm[row], bands[row], hop=HOP, sample_rate=SR, state=alone_state)
        assert torch.allclose(audio[row], alone, atol=1e-6) and torch.allclose(more[row], again, atol=1e-6)
    assert state.frame.tolist() == [6, 11, 1027]
    assert not torch.allclose(audio[0], audio[1])  # same controls, different noise

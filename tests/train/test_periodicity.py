"""Periodicity prior: comb periodicity of log-mel frames, its gating, gradient, reference and engine hook."""

import librosa
import numpy as np
import pytest
import torch

from ganaudio.errors import ParameterError
from ganaudio.representations import IFMel
from ganaudio.train.periodicity import PeriodicityPrior, aperiodicity, comb_tables
from tests.gan_fixtures import note_folder  # noqa: F401  (fixture)
from tests.train.helpers import trainer

BANDS = [10.0 * k for k in range(1, 201)]   # 10 Hz apart: resolved for every f0 above 40 Hz


def _harmonic(f0, *, frames=4, floor=-30.0):
    """Log power with all energy on multiples of ``f0`` (Hz), the rest ``floor``: ``(1, bands, frames)``."""
    x = torch.full((1, len(BANDS), frames), floor)
    for k, f in enumerate(BANDS):
        if abs(f / f0 - round(f / f0)) < 1e-6:
            x[0, k] = 0.0
    return x


def test_comb_tables_mark_resolved_bands_and_refuse_coarse_ones():
    comb, ok = comb_tables(BANDS, [100.0, 400.0])
    assert comb.shape == ok.shape == (2, 200)
    assert comb[0, 9] == pytest.approx(1.0) and comb[0, 4] == pytest.approx(-1.0)   # 100 Hz and 50 Hz
    assert not ok[0, :4].any() and ok[0, 5:].all()   # bands below f0 / 2 are left out
    with pytest.raises(ParameterError, match="narrower than f0 / 4"):
        comb_tables([100.0 * k for k in range(1, 20)], [100.0])   # 100 Hz bands cannot resolve a 100 Hz comb


def test_aperiodicity_is_zero_on_harmonics_and_high_on_noise_or_the_wrong_pitch():
    comb, ok = comb_tables(BANDS, [100.0])
    assert float(aperiodicity(_harmonic(100.0), comb, ok)) < 1e-6
    assert float(aperiodicity(torch.zeros(1, 200, 4), comb, ok)) > 0.9    # flat spectrum
    assert float(aperiodicity(_harmonic(150.0), comb, ok)) > 0.5          # harmonics of another pitch
    # an octave up is still periodic at the asked period (a tracker's octave errors are not this prior's job)
    assert float(aperiodicity(_harmonic(200.0), comb, ok)) < 1e-6


def test_quiet_frames_do_not_count():
    comb, ok = comb_tables(BANDS, [100.0])
    loud = _harmonic(100.0, frames=3)
    level = float(torch.logsumexp(loud[0, :, 0], dim=0))   # natural-log power of a loud frame
    for down_db, counts in ((20.0, True), (40.0, False)):   # a flat tail this far down
        flat = level - down_db * np.log(10) / 10 - np.log(200)
        note = torch.cat([loud, torch.full((1, 200, 1), flat)], dim=2)
        value = float(aperiodicity(note, comb, ok, gate_db=30.0))
        assert value > 0.2 if counts else value < 1e-6


def test_batch_consistency_and_a_gradient_that_restores_periodicity():
    comb, ok = comb_tables(BANDS, [100.0, 130.0])
    x = torch.randn(2, 200, 6)
    batch = aperiodicity(x, comb, ok)
    single = torch.cat([aperiodicity(x[i:i + 1], comb[i:i + 1], ok[i:i + 1]) for i in range(2)])
    assert torch.allclose(batch, single, atol=1e-6)
    x.requires_grad_(True)
    opt = torch.optim.SGD([x], lr=20.0)
    for _ in range(50):
        opt.zero_grad()
        aperiodicity(x, comb, ok).sum().backward()
        opt.step()
    assert (aperiodicity(x.detach(), comb, ok) < batch / 3).all()


def test_prior_reference_is_the_real_median_per_pitch_and_the_hinge_spares_real_notes():
    rep = IFMel(sample_rate=16000, n_fft=2048, hop_length=512, n_mels=256)
    sr, t = 16000, np.arange(16000) / 16000
    pitches = [45, 45, 45, 57]
    waves = [sum(np.sin(2 * np.pi * k * librosa.midi_to_hz(p) * t) / k for k in range(1, 6)) for p in pitches]
    waves[1] = waves[1] + 0.5 * np.random.default_rng(0).standard_normal(sr)   # a noisy real note
    images = rep.encode(torch.tensor(np.stack(waves), dtype=torch.float32), n_frames=32)
    center, scale = float(images[:, 0].mean()), float(images[:, 0].std())
    images = torch.stack([(images[:, 0] - center) / scale, images[:, 1]], dim=1)
    labels = torch.tensor([0, 0, 0, 1])   # pitch classes 45, 57; class 2 (69) has no real notes
    prior = PeriodicityPrior(rep.band_frequencies(), librosa.midi_to_hz([45, 57, 69]), center=center, scale=scale)
    values = prior.note_aperiodicity(images, labels)
    assert values[1] > values[0] + 0.05                                  # noise lowers periodicity
    reference = prior.fit_reference([(images[:2], labels[:2]), (images[2:], labels[2:])])   # read in batches
    with pytest.raises(ParameterError, match="at least one batch"):
        prior.fit_reference([])
    assert reference[0] == pytest.approx(float(values[:3].median()))
    assert reference[1] == pytest.approx(float(values[3]))
    assert reference[2] == pytest.approx(float(values.median()))         # unseen pitch: the overall median
    assert float(prior(images[[0, 2, 3]], labels[[0, 2, 3]])) == pytest.approx(0.0, abs=1e-6)
    assert float(prior(images[[1]], labels[[1]])) > 0.05


def test_engine_adds_the_weighted_penalty_to_the_generator_loss(note_folder, tmp_path):  # noqa: F811
    tr = trainer(note_folder, tmp_path / "run", tmp_path / "cache", n_mels=64, periodicity_weight=2.0,
                 mode_seeking_weight=0.0)
    assert tr.objective.generator_penalty is not None and tr.objective.generator_penalty.reference.shape == (25,)
    metrics = tr.train_step(0)
    assert metrics["g_penalty"] >= 0
    assert metrics["g_loss"] == pytest.approx(metrics["g_adv"] + tr.objective.weights["aux"] * metrics["g_aux"]
                                              + 2.0 * metrics["g_penalty"], rel=1e-5)
    off = trainer(note_folder, tmp_path / "off", tmp_path / "cache", n_mels=64)
    assert off.objective.generator_penalty is None and "g_penalty" not in off.train_step(0)
    with pytest.raises(ParameterError, match="raise n_mels or set periodicity_weight=0"):
        trainer(note_folder, tmp_path / "coarse", tmp_path / "cache", periodicity_weight=1.0)   # 32 bands

"""ganaudio.api: loading, notes, timbres (arithmetic, interpolation, files), note shaping and the limiter."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from ganaudio.api import ASSETS, Synth, load, model_path
from ganaudio.errors import CheckpointError, ParameterError
from ganaudio.synth import dsp
from ganaudio.synth.schedule import fold_octaves
from ganaudio.synth.timbre import Timbre


def test_load_reads_settings_from_the_checkpoint(synth, checkpoint):
    config = json.loads((checkpoint / "config.json").read_text())
    assert isinstance(synth, Synth)
    assert synth.sample_rate == config["representation"]["sample_rate"]
    low = config["generator"]["lowest_pitch"]
    assert synth.pitch_range == (low, low + config["generator"]["n_pitches"] - 1)
    assert synth.latent_dim == config["generator"]["latent_dim"]
    assert synth.note_samples == (config["n_frames"] - 1) * config["representation"]["hop_length"]
    assert len(synth.model_id) == 16 and load(checkpoint).model_id == synth.model_id


def test_load_errors(tmp_path):
    with pytest.raises(CheckpointError, match="no-such-model"):
        model_path("no-such-model")
    with pytest.raises(CheckpointError, match="config.json"):
        load(tmp_path)


def test_generate_shape_dtype_and_determinism(synth):
    t = synth.random_timbre(3)
    y = synth.generate(60, t)
    assert y.dtype == np.float32 and y.shape == (synth.note_samples,)
    assert np.array_equal(y, synth.generate(60, synth.random_timbre(3)))
    assert not np.array_equal(y, synth.generate(60, synth.random_timbre(4)))
    assert np.array_equal(synth.generate(60), synth.generate(60, synth.random_timbre(0)))   # None is seed 0
    held = synth.generate(60, t, duration=0.5, release=0.1)
    assert held.shape == (round(0.6 * synth.sample_rate),) and np.isfinite(held).all()
    assert np.abs(held[-1]) < 1e-6                                                           # released to silence


def test_generate_many_equals_single_notes(synth):
    pitches = [48, 60, 60, 72]
    timbres = [synth.random_timbre(s) for s in (1, 2, 2, 3)]
    many = synth.generate_many(pitches, timbres, velocities=[100, 90, 90, 127])
    assert many.shape == (4, synth.note_samples) and many.dtype == np.float32
    for row, p, t, v in zip(many, pitches, timbres, [100, 90, 90, 127]):
        # float32 convolutions round differently by batch size (generator outputs differ by ~2e-5)
        np.testing.assert_allclose(row, synth.generate(p, t, velocity=v), atol=1e-4)
    ragged = synth.generate_many([50, 55], synth.random_timbre(1), durations=[0.05, 0.3])
    assert ragged.shape == (2, round(0.4 * synth.sample_rate))
    assert np.all(ragged[0, round(0.15 * synth.sample_rate):] == 0)                       # zero-padded


def test_velocity_sets_gain(synth):
    t = synth.random_timbre(5)
    loud, soft = synth.generate(60, t, velocity=127), synth.generate(60, t, velocity=64)
    if np.abs(loud).max() < 0.9:                                  # below the limiter's ceiling
        np.testing.assert_allclose(soft, loud * (64 / 127) ** 2, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("pitch", [10, 127, 47, 73])
def test_generate_refuses_pitches_outside_the_range(synth, pitch):
    with pytest.raises(ParameterError, match=str(pitch)):
        synth.generate(pitch)


def test_generate_bad_arguments(synth):
    with pytest.raises(ParameterError):
        synth.generate(60.5)
    with pytest.raises(ParameterError, match="velocity"):
        synth.generate(60, velocity=200)
    with pytest.raises(ParameterError, match="durations"):
        synth.generate(60, duration=-1)
    with pytest.raises(ParameterError, match="2 timbres for 3"):
        synth.generate_many([50, 60, 70], [synth.random_timbre(1)] * 2)
    with pytest.raises(ParameterError, match="seed"):
        synth.random_timbre(-1)


def test_slerp_and_lerp_endpoints(synth):
    a, b = synth.random_timbre(1), synth.random_timbre(2)
    for method in ("slerp", "lerp"):
        path = synth.interpolate(a, b, 5, method=method)
        assert len(path) == 5 and path[0] == a and path[-1] == b
    mid = synth.interpolate(a, b, 3, method="lerp")[1]
    np.testing.assert_allclose(mid.latent, (a.latent + b.latent) / 2, rtol=1e-6)
    s = synth.interpolate(a, b, 9)                     # slerp: length moves linearly, direction on the great circle
    norms = [np.linalg.norm(t.latent) for t in s]
    np.testing.assert_allclose(norms, np.linspace(norms[0], norms[-1], 9), rtol=1e-5)
    cos = [np.dot(s[i].latent, s[i + 1].latent) / norms[i] / norms[i + 1] for i in range(8)]
    np.testing.assert_allclose(cos, cos[0], rtol=1e-4)   # equal angular steps
    assert synth.interpolate(1, 2, 2) == [a, b]
    with pytest.raises(ParameterError, match="steps"):
        synth.interpolate(a, b, 1)


def test_timbre_arithmetic(synth):
    a, b, c = (synth.random_timbre(s) for s in (1, 2, 3))
    np.testing.assert_allclose((a - b + c).latent, a.latent - b.latent + c.latent, rtol=1e-6)
    np.testing.assert_allclose((2 * a / 4).latent, a.latent / 2, rtol=1e-6)
    np.testing.assert_allclose((-a).latent, -a.latent)
    assert Timbre.mix([a]) == a
    m = Timbre.mix([a, b, c], weights=[2, 1, 1])
    direction = (2 * a.latent + b.latent + c.latent) / 4
    assert np.dot(m.latent, direction) / np.linalg.norm(m.latent) / np.linalg.norm(direction) > 0.9999
    expected_norm = (2 * np.linalg.norm(a.latent) + np.linalg.norm(b.latent) + np.linalg.norm(c.latent)) / 4
    assert np.linalg.norm(m.latent) == pytest.approx(expected_norm, rel=1e-5)
    assert synth.generate(60, a - b + c).shape == (synth.note_samples,)
    with pytest.raises(ParameterError, match="weights"):
        Timbre.mix([a, b], weights=[1, -1])
    with pytest.raises(ParameterError):
        a + 1.0
    other = Timbre(a.latent, model_id="0123456789abcdef")
    with pytest.raises(ParameterError, match="different models"):
        a + other


def test_timbre_file_round_trip(synth, tmp_path):
    t = synth.random_timbre(11) - synth.random_timbre(12) + synth.random_timbre(13)
    path = synth.save_timbre(t, tmp_path / "mine.timbre.json")
    assert path.stat().st_size < 4096
    back = synth.load_timbre(path)
    assert back == t and back.latent.dtype == np.float32
    assert np.array_equal(synth.generate(55, back), synth.generate(55, t))
    data = json.loads(path.read_text())
    assert data["model"]["id"] == synth.model_id and data["model"]["name"] == synth.name


def test_timbre_from_another_model_is_refused(synth, other_checkpoint, tmp_path):
    other = load(other_checkpoint)
    assert other.model_id != synth.model_id
    path = other.save_timbre(other.random_timbre(1), tmp_path / "other.timbre.json")
    with pytest.raises(ParameterError, match="another model"):
        synth.load_timbre(path)
    with pytest.raises(ParameterError, match="another model"):
        synth.generate(60, other.random_timbre(1))


@pytest.mark.parametrize("text", ["not json", '{"format": "something else"}', '{"format": "ganaudio-timbre"}'])
def test_damaged_timbre_files(synth, tmp_path, text):
    path = tmp_path / "bad.timbre.json"
    path.write_text(text)
    with pytest.raises(ParameterError, match="bad.timbre.json"):
        synth.load_timbre(path)


def test_one_synth_per_thread(checkpoint, synth):
    expected = synth.generate_many([50, 60, 70], [synth.random_timbre(s) for s in (1, 2, 3)])
    results = {}

    def work(k):
        own = load(checkpoint)
        results[k] = own.generate_many([50, 60, 70], [own.random_timbre(s) for s in (1, 2, 3)])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for k in range(3):
        np.testing.assert_allclose(results[k], expected, atol=1e-6)


def test_extend_note_loops_whole_periods():
    sr, hz = 16000, dsp.midi_to_hz(57)
    t = np.arange(4000) / sr
    sine = np.sin(2 * np.pi * hz * t).astype(np.float32)
    long = dsp.extend_note(sine, 20000, period=sr / hz)
    assert long.shape == (20000,)
    period = int(np.ceil(sr / hz))
    peaks = np.abs(long[: 20000 // period * period]).reshape(-1, period).max(axis=1)
    assert peaks.min() > 0.97                                    # no cancellation where the loop crossfades
    assert np.abs(np.diff(long)).max() < 1.05 * np.abs(np.diff(sine)).max()   # and no jump at the seam
    assert np.array_equal(dsp.extend_note(sine, 1000, period=sr / hz), sine[:1000])


def test_shape_note_envelope():
    note = np.ones(1000, np.float32)
    out = dsp.shape_note(note, held=600, attack=100, release=200)
    assert out.shape == (800,) and out[0] == 0 and out[100:600].min() == 1 and out[-1] == pytest.approx(0)
    assert np.all(np.diff(out[600:]) <= 0)


def test_limiter_never_exceeds_the_ceiling(rng):
    y = (rng.standard_normal(20000) * np.linspace(0.1, 5, 20000)).astype(np.float32)
    out = dsp.limit(y, ceiling=0.9, lookahead=40)
    assert np.abs(out).max() <= 0.9 + 1e-7
    quiet = y[:2000] * 0.01
    assert np.array_equal(dsp.limit(quiet, ceiling=0.9), quiet)
    np.testing.assert_allclose(out[:100], y[:100], rtol=1e-6)  # untouched far from the loud part


def test_fold_octaves():
    np.testing.assert_array_equal(fold_octaves(np.array([30, 36, 50, 84, 85, 100, 127]), 36, 84),
                                  [42, 36, 50, 84, 73, 76, 79])
    with pytest.raises(ParameterError, match="narrower"):
        fold_octaves(np.array([60]), 60, 65)


@pytest.mark.skipif(not (ASSETS / "gansynth_tiny").is_dir(),
                    reason="the bundled model ganaudio/assets/gansynth_tiny is not installed")
def test_bundled_model_plays():
    import pretty_midi

    synth = load()
    assert synth.name == "gansynth_tiny" and synth.pitch_range[0] <= 60 <= synth.pitch_range[1]
    y = synth.generate(60, synth.random_timbre(1), duration=1.5)
    assert y.shape == (round(1.6 * synth.sample_rate),) and np.isfinite(y).all() and np.abs(y).max() > 0
    pm = pretty_midi.PrettyMIDI()
    cello = pretty_midi.Instrument(program=42)
    cello.notes = [pretty_midi.Note(velocity=90, pitch=p, start=0.25 * k, end=0.25 * k + 0.5)
                   for k, p in enumerate([43, 50, 59, 57, 59, 50])]
    pm.instruments.append(cello)
    mix = synth.render(pm, timbres=[synth.random_timbre(s) for s in (1, 2)], seconds_per_timbre=1.0)
    assert mix.shape == (round(1.85 * synth.sample_rate),) and 0 < np.abs(mix).max() <= 0.98 + 1e-6

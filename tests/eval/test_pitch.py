"""The pitch tracker is checked on real notes of known pitch before it judges generated ones."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from ganaudio.errors import ParameterError
from ganaudio.eval.pitch import note_pitch, pitch_accuracy, pitch_entropy
from tests.conftest import load_sample

KNOWN = {"trumpet_c4": 60, "flute_c3": 48, "violin_a4": 69, "piano_e3": 52}


def test_real_notes_tracked_within_20_cents():
    for name, midi in KNOWN.items():
        y, sr = load_sample(name)
        detected = note_pitch(y.numpy(), sample_rate=sr)
        assert detected is not None and abs(detected - midi) * 100 < 20, (name, detected)


def test_accuracy_report_on_real_and_shifted_notes():
    notes, targets = [], []
    for name, midi in KNOWN.items():
        y, sr = load_sample(name)
        notes.append(y.numpy())
        targets.append(midi)
    report = pitch_accuracy(notes, targets, sample_rate=16000)
    assert report.accuracy == 1.0 and report.unvoiced == 0 and report.median_abs_cents < 20
    assert report.within == (True,) * len(notes)
    assert report.entropy_bits == pytest.approx(2.0)  # four different pitches

    y = load_sample("violin_a4")[0].numpy()
    up_semitone = librosa.effects.pitch_shift(y, sr=16000, n_steps=1.0)
    up_octave = librosa.effects.pitch_shift(y, sr=16000, n_steps=12.0)
    noise = np.random.default_rng(0).normal(scale=0.1, size=16000).astype(np.float32)
    shifted = pitch_accuracy([up_semitone, up_octave, noise], [69, 69, 69], sample_rate=16000)
    assert shifted.accuracy == 0.0
    assert shifted.octave_errors == pytest.approx(1 / 3)
    assert shifted.unvoiced == pytest.approx(1 / 3)
    assert shifted.detected[0] == pytest.approx(70, abs=0.2)
    assert shifted.within == (False, False, False)
    mixed = pitch_accuracy([y, up_semitone], [69, 69], sample_rate=16000)
    assert mixed.within == (True, False) and mixed.accuracy == 0.5


def test_entropy():
    assert pitch_entropy([]) == 0.0
    assert pitch_entropy([60] * 10) == 0.0
    assert pitch_entropy([60, 61, 62, 63]) == pytest.approx(2.0)


def test_bad_input():
    with pytest.raises(ParameterError, match="one target per note"):
        pitch_accuracy([np.zeros(100)], [60, 61], sample_rate=16000)
    with pytest.raises(ParameterError, match="mono"):
        note_pitch(np.zeros((2, 1600)), sample_rate=16000)


fcpe = pytest.importorskip("ganaudio.eval.fcpe")


@pytest.mark.skipif(not fcpe.fcpe_available(), reason="torchfcpe is not installed")
def test_fcpe_tracks_real_notes_like_pyin():
    for name, midi in KNOWN.items():
        y, sr = load_sample(name)
        detected = note_pitch(y.numpy(), sample_rate=sr, tracker="fcpe")
        assert detected is not None and abs(detected - midi) * 100 < 20, (name, detected)
    noise = np.random.default_rng(0).normal(scale=0.1, size=16000).astype(np.float32)
    report = pitch_accuracy([noise], [69], sample_rate=16000, tracker="fcpe")
    assert report.accuracy == 0.0


@pytest.mark.skipif(not fcpe.fcpe_available(), reason="torchfcpe is not installed")
def test_fcpe_reads_any_sample_rate():
    y, sr = load_sample("trumpet_c4")
    y44 = librosa.resample(y.numpy(), orig_sr=sr, target_sr=44100)
    f0, voiced = fcpe.track_pitch_fcpe(y44, sample_rate=44100)
    assert voiced.mean() > 0.8
    assert abs(np.median(librosa.hz_to_midi(f0[voiced])) - 60) * 100 < 10


def test_unknown_tracker_is_refused():
    y, sr = load_sample("trumpet_c4")
    with pytest.raises(ParameterError, match="unknown pitch tracker"):
        note_pitch(y.numpy(), sample_rate=sr, tracker="crepe")

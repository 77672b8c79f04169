"""Instrument metrics on real recorded notes and on signals with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from ganaudio.errors import ParameterError
from ganaudio.eval.instrument import (
    envelope_steadiness,
    identify_timbres,
    spectral_centroid,
    timbre_distance,
)
from ganaudio.io import resample
from tests.conftest import load_sample

SR = 44100


def _tone(seconds=2.0, f0=500.0, pulse_db=0.0, decay_db_per_s=0.0):  # 5 periods per 10 ms frame
    t = np.arange(int(seconds * SR)) / SR
    gain_db = pulse_db * np.sin(2 * np.pi * 4 * t) - decay_db_per_s * t
    return (10 ** (gain_db / 20) * 0.5 * np.sin(2 * np.pi * f0 * t)).astype(np.float32)


def test_steadiness_sees_a_pulse_not_a_decay():
    assert envelope_steadiness(_tone(decay_db_per_s=6.0), sample_rate=SR) < 0.05  # a clean decay is steady
    pulsing = envelope_steadiness(_tone(pulse_db=1.5), sample_rate=SR)
    assert 0.9 < pulsing < 1.2  # a sine of amplitude 1.5 dB has std 1.06 dB


def test_steadiness_of_a_real_held_note_is_small():
    y, sr = load_sample("trumpet_c4")
    assert envelope_steadiness(y.numpy(), sample_rate=sr, start=0.2, end=0.9) < 1.5


def test_centroid_rises_with_brightness():
    dull = _tone()
    bright = dull + 0.3 * _tone(f0=3000.0)
    assert spectral_centroid(bright, sample_rate=SR) > 1.3 * spectral_centroid(dull, sample_rate=SR)


def test_real_instruments_are_nearest_themselves():
    notes = {}
    for name in ("trumpet_c4", "flute_c3", "violin_a4", "piano_e3"):
        y, sr = load_sample(name)
        notes[name] = resample(y.numpy(), orig_sr=sr, target_sr=SR)
    # played: each note's second half (same instrument, other moment); real: its first half
    half = SR // 2
    played = {k: [v[half: 2 * half]] for k, v in notes.items()}
    real = {k: [v[:half]] for k, v in notes.items()}
    result = identify_timbres(played, real, sample_rate=SR, seconds=0.5)
    assert result["accuracy"] >= 0.75 and result["chance"] == 0.25
    assert timbre_distance(notes["flute_c3"], notes["flute_c3"], sample_rate=SR) == 0.0


def test_bad_inputs_are_refused():
    with pytest.raises(ParameterError, match="frames"):
        envelope_steadiness(np.ones(100, np.float32), sample_rate=SR)
    with pytest.raises(ParameterError, match="silent"):
        envelope_steadiness(np.zeros(SR, np.float32), sample_rate=SR)
    with pytest.raises(ParameterError, match="same two or more"):
        identify_timbres({"a": []}, {"b": []}, sample_rate=SR)

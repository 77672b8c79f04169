"""Timbre-transfer metrics on committed real notes: pitch agreement, log-mel distance, instrument prediction."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from ganaudio.errors import ParameterError
from ganaudio.eval.timbre import instrument_prediction, log_mel_distance, pitch_agreement
from ganaudio.io import load_audio


def _note(samples_dir, name, seconds=1.0):
    return load_audio(samples_dir / f"{name}.wav", sample_rate=16000)[0][:int(seconds * 16000)]


def test_pitch_agreement_same_and_shifted(samples_dir):
    flute = _note(samples_dir, "flute_c3", seconds=0.6)  # short: pYIN is slow
    same = pitch_agreement(flute, flute, sample_rate=16000)
    assert same["agreement"] == 1.0 and same["output_voiced"] == 1.0 and same["median_abs_cents"] == 0.0
    up = resample_poly(flute, 49, 55)  # 55/49 faster: two semitones up
    shifted = pitch_agreement(flute, up, sample_rate=16000)
    assert shifted["agreement"] <= 0.05 and shifted["median_abs_cents"] == pytest.approx(200, abs=15)


def test_pitch_agreement_other_instrument_same_pitch(samples_dir):
    # A C4 trumpet against the C4 trumpet played on a violin-like saw: same notes, other timbre.
    trumpet = _note(samples_dir, "trumpet_c4", seconds=0.6)
    t = np.arange(len(trumpet)) / 16000
    saw = (0.3 * (2 * ((t * 261.63) % 1) - 1)).astype(np.float32)
    result = pitch_agreement(trumpet, saw, sample_rate=16000)
    assert result["agreement"] >= 0.9


def test_log_mel_distance(samples_dir):
    trumpet, violin = _note(samples_dir, "trumpet_c4"), _note(samples_dir, "violin_a4")
    assert log_mel_distance(trumpet, trumpet, sample_rate=16000) == 0.0
    far = log_mel_distance(trumpet, violin, sample_rate=16000)
    near = log_mel_distance(trumpet, trumpet * 0.9, sample_rate=16000)  # -0.9 dB
    assert near == pytest.approx(0.915, abs=0.05) and far > 5 * near
    assert far == pytest.approx(log_mel_distance(violin, trumpet, sample_rate=16000))


def test_instrument_prediction(samples_dir):
    from ganaudio.eval.evaluator import load_evaluator

    evaluator = load_evaluator()
    result = instrument_prediction(load_audio(samples_dir / "piano_e3.wav")[0], sample_rate=16000,
                                   evaluator=evaluator)
    assert result["windows"] == 2 and sum(result["probabilities"].values()) == pytest.approx(1.0)
    assert result["family"] == max(result["probabilities"], key=result["probabilities"].get)
    with pytest.raises(ParameterError, match="silent"):
        instrument_prediction(np.zeros(16000, np.float32), sample_rate=16000, evaluator=evaluator)


def test_bad_input():
    with pytest.raises(ParameterError, match="no voiced frames"):
        pitch_agreement(np.zeros(4000, np.float32), np.zeros(4000, np.float32), sample_rate=16000)
    with pytest.raises(ParameterError, match="mono"):
        log_mel_distance(np.zeros((2, 8000), np.float32), np.zeros(8000, np.float32), sample_rate=16000)

"""Sustain loops: found on a note's steady state, seamless when played over and over, none for fading notes."""

from __future__ import annotations

import numpy as np
import pytest

import ganaudio.synth.loops as loops
from ganaudio.errors import ParameterError

SR = 44100


def steady_tone(seconds: float = 2.0, f0: float = 261.6256, decay_db: float = 0.0, seed: int = 0) -> np.ndarray:
    """Ten harmonics of ``f0`` (a period of 168.56 samples: no whole number of samples) with a little noise."""
    t = np.arange(int(seconds * SR)) / SR
    y = sum(np.sin(2 * np.pi * f0 * k * t + k) / k for k in range(1, 11)) * 0.2
    y = y * 10 ** (-decay_db * t / 20) + 0.002 * np.random.default_rng(seed).standard_normal(len(t))
    return y.astype(np.float32)


def looped(y: np.ndarray, loop: loops.Loop, passes: int) -> np.ndarray:
    """What a sampler plays while the key is held: up to the loop end, then the loop ``passes - 1`` more times."""
    return np.concatenate([y[:loop.end]] + [y[loop.start:loop.end]] * (passes - 1))


def seam_spectral_distance(y: np.ndarray, loop: loops.Loop, n_fft: int = 2048) -> tuple[float, float]:
    """Log-spectral distance (dB) of the frame across the first seam to the frame before it, and the same for
    two frames in the loop's middle: a click or a phase jump at the seam makes the first much larger."""
    played = looped(y, loop, 3)
    window = np.hanning(n_fft)

    def spectrum(centre):
        return 20 * np.log10(np.abs(np.fft.rfft(played[centre - n_fft // 2:centre + n_fft // 2] * window)) + 1e-6)

    def distance(a, b):
        return float(np.sqrt(np.mean((spectrum(a) - spectrum(b)) ** 2)))

    middle = loop.end - loop.length // 2
    return distance(loop.end, loop.end - n_fft), distance(middle, middle - n_fft)


def test_steady_tone_loops_seamlessly():
    y = steady_tone()
    assert abs(loops.decay_rate(y, sample_rate=SR, start=0, stop=len(y))) < 0.5
    loop = loops.find_loop(y, sample_rate=SR, start=int(0.3 * SR), stop=int(1.9 * SR))
    assert int(0.3 * SR) <= loop.start < loop.end <= int(1.9 * SR) and loop.length >= 0.1 * SR
    assert loop.correlation > 0.999
    period = SR / 261.6256
    assert abs(loop.length / period - round(loop.length / period)) < 0.05   # a whole number of periods
    raw = loops.seam_quality(y, loop, window=441)
    baked = loops.bake_loop(y, loop, crossfade=441)
    seam = loops.seam_quality(baked, loop, window=441)
    assert seam["jump"] <= raw["jump"] and seam["jump"] < 0.05 and seam["correlation"] > 0.999
    across, inside = seam_spectral_distance(baked, loop)
    assert across < 2 * inside + 1.0, (across, inside)
    # the played waveform never steps further at the seams than inside the loop
    played = looped(baked, loop, 4)
    steps = np.abs(np.diff(played))
    seams = [loop.end - 1 + k * loop.length for k in range(3)]
    assert steps[seams].max() <= np.percentile(steps[:loop.end], 99.9)


def test_a_loop_at_a_random_place_clicks_so_the_measures_can_tell():
    y = steady_tone()
    bad = loops.Loop(int(0.5 * SR), int(0.5 * SR) + 10_050, 0.0)   # 59.6 periods: half a period off
    quality = loops.seam_quality(y, bad, window=441)
    assert quality["jump"] > 0.3 and quality["correlation"] < 0.5
    across, inside = seam_spectral_distance(y, bad)
    assert across > 2 * inside


def test_fading_level_is_evened_out_across_the_loop():
    y = steady_tone(decay_db=3.0)
    loop = loops.find_loop(y, sample_rate=SR, start=int(0.3 * SR), stop=int(1.9 * SR))
    baked = loops.bake_loop(y, loop, crossfade=441)
    rms = lambda a, b: float(np.sqrt(np.mean(baked[a:b] ** 2)))  # noqa: E731
    edge = 2048
    ratio_db = 20 * np.log10(rms(loop.start, loop.start + edge) / rms(loop.end - edge, loop.end))
    assert abs(ratio_db) < 0.3
    before = 20 * np.log10(np.sqrt(np.mean(y[loop.start:loop.start + edge] ** 2))
                           / np.sqrt(np.mean(y[loop.end - edge:loop.end] ** 2)))
    assert before > 1.0   # without the levelling each pass would jump up by this much


def test_decay_and_release_measures():
    fading = steady_tone(decay_db=12.0)
    assert loops.decay_rate(fading, sample_rate=SR, start=0, stop=len(fading)) == pytest.approx(12.0, abs=0.7)
    t = np.arange(SR) / SR
    note = np.concatenate([np.sin(2 * np.pi * 220 * t[:SR // 2]),
                           np.sin(2 * np.pi * 220 * t[:SR // 2]) * 10 ** (-120 * t[:SR // 2] / 20)])
    assert loops.release_seconds(note, sample_rate=SR, key_up=SR // 2) == pytest.approx(0.5, abs=0.03)


def test_region_too_short_is_refused():
    with pytest.raises(ParameterError, match="too short"):
        loops.find_loop(steady_tone(0.3), sample_rate=SR, start=0, stop=int(0.1 * SR))


def test_generated_note_loops_seamlessly(young_harmonic):
    synth = young_harmonic
    y = synth.generate(57, synth.random_timbre(2), velocity=90, duration=2.0, release=0.5)
    key_up = int(np.ceil(2.0 * SR / synth.hop)) * synth.hop
    start = int(0.35 * key_up)
    assert loops.decay_rate(y, sample_rate=SR, start=start, stop=key_up) < 6.0
    loop = loops.find_loop(y, sample_rate=SR, start=start, stop=key_up)
    assert loop.correlation > 0.99 and key_up - loop.end < 0.06 * SR
    baked = loops.bake_loop(y, loop, crossfade=441)
    seam = loops.seam_quality(baked, loop, window=441)
    assert seam["jump"] < 0.05 and seam["correlation"] > 0.99
    across, inside = seam_spectral_distance(baked, loop)
    assert across < 2 * inside + 1.0, (across, inside)

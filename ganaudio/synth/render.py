"""Place generated notes in time: extend, shape, weight by velocity, overlap-add, level and limit."""

from __future__ import annotations

import math

import numpy as np

from ganaudio.synth import dsp
from ganaudio.synth.schedule import NoteTable

__all__ = ["auto_gain", "mix_notes", "spectrogram_figure"]

LEVEL_PERCENTILE = 99.5   # of the non-silent samples' magnitude ...
LEVEL_TARGET = 0.6        # ... is brought to this (about -4.4 dBFS); the limiter catches the rarer peaks
CEILING = 0.98


def auto_gain(mix: np.ndarray) -> float:
    """Master gain bringing the mix's 99.5th-percentile magnitude (over non-silent samples) to 0.6."""
    mag = np.abs(mix)
    loud = mag[mag > 1e-4 * max(float(mag.max()), 1e-12)]
    level = float(np.percentile(loud, LEVEL_PERCENTILE)) if loud.size else 0.0
    return LEVEL_TARGET / level if level > 0 else 1.0


def mix_notes(synth, notes: NoteTable, waves: np.ndarray, index: np.ndarray, *, attack: float, release: float,
                 gain: float | None, stems: bool):
    """Overlap-add ``notes`` (row ``i`` plays ``waves[index[i]]``) into a mono mix ``(time,)`` (+ stems).

    Each note is held ``offset - onset`` seconds (looped when longer than a
    generated note), shaped by a raised-cosine attack and release, scaled by
    its velocity gain and added at its onset. Notes repeated with the same
    held length and velocity are shaped once.
    """
    sr = synth.sample_rate
    total = math.ceil((float(notes.offset.max()) + release) * sr)
    att, rel = round(attack * sr), round(release * sr)
    n_tracks = len(notes.track_names)
    parts = np.zeros((n_tracks if stems else 1, total), np.float32)
    vgain = dsp.velocity_gain(notes.velocity).astype(np.float32)
    shaped: dict[tuple[int, int, int], np.ndarray] = {}
    for i in range(len(notes)):
        start = round(notes.onset[i] * sr)
        held = max(1, round(notes.offset[i] * sr) - start)
        key = (int(index[i]), held, int(notes.velocity[i]))
        note = shaped.get(key)
        if note is None:
            note = synth._shaped(waves[index[i]], int(notes.pitch[i]), held, rel, attack=att) * vgain[i]
            shaped[key] = note
        end = min(start + len(note), total)
        parts[notes.track[i] if stems else 0, start:end] += note[:end - start]
    mix = parts.sum(axis=0) if stems else parts[0]
    g = auto_gain(mix) if gain is None else float(gain)
    out = dsp.limit(mix * g, ceiling=CEILING, lookahead=max(1, int(0.005 * sr)))
    if not stems:
        return out
    return out, {name: dsp.limit(parts[k] * g, ceiling=CEILING) for k, name in enumerate(notes.track_names)}


def spectrogram_figure(y: np.ndarray, sample_rate: int, *, title: str = "", n_mels: int = 128):
    """A matplotlib Figure of the log-mel spectrogram of ``y`` ``(time,)`` (frequency in Hz, time in seconds).

    Examples
    --------
    >>> spectrogram_figure(mix, synth.sample_rate, title="prelude").savefig("prelude.png")
    """
    import torch

    from ganaudio.plotting import plot_representation
    from ganaudio.representations import Mel

    n_fft = 1 << max(8, round(math.log2(sample_rate * 0.064)))   # about 64 ms windows at any rate
    rep = Mel(sample_rate=sample_rate, n_fft=n_fft, hop_length=n_fft // 4, n_mels=n_mels)
    return plot_representation(rep.encode(torch.from_numpy(np.ascontiguousarray(y, np.float32))), rep, title=title)

"""What a musician hears in an instrument: steady held notes, velocity brightness, timbre identity.

* :func:`envelope_steadiness`: how much a held note's loudness wobbles once its
  linear dB trend (a decay, a swell) is removed; pulsing shows up here.
* :func:`spectral_centroid`: the brightness that harder playing should raise.
* :func:`timbre_distance` and :func:`identify_timbres`: whether notes played
  from a timbre taken from a recording sound nearer to that instrument's real
  notes than to any other instrument's.

Shapes: notes are mono ``(time,)`` float arrays at ``sample_rate``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import librosa
import numpy as np

from ganaudio.errors import ParameterError
from ganaudio.io import check_sample_rate, check_waveform

__all__ = ["envelope_steadiness", "identify_timbres", "timbre_distance", "log_mel_frames", "spectral_centroid"]


def envelope_steadiness(y: np.ndarray, *, sample_rate: int, start: float = 0.3, end: float | None = None,
                        frame_seconds: float = 0.01, floor_db: float = -60.0) -> float:
    """Standard deviation (dB) of a held note's frame RMS after removing its linear dB trend.

    Parameters
    ----------
    y : np.ndarray
        ``(time,)`` one note.
    start, end : float
        The held stretch in seconds (after the attack, before the release).
    frame_seconds : float
        RMS frame length and hop (10 ms).
    floor_db : float
        Frames quieter than this below the loudest are left out.

    Returns
    -------
    float
        dB; real sustained SoundFont notes measure about 1 dB, a 4 Hz pulse
        of +-1.5 dB about 1.1 dB more.

    Examples
    --------
    >>> t = np.arange(88200) / 44100
    >>> steady = np.sin(2 * np.pi * 500 * t)  # 5 whole periods per 10 ms frame
    >>> round(envelope_steadiness(steady, sample_rate=44100), 2)
    0.0
    """
    sample_rate = check_sample_rate(sample_rate)
    y = check_waveform(y)
    segment = y[int(start * sample_rate): None if end is None else int(end * sample_rate)]
    frame = max(1, int(frame_seconds * sample_rate))
    n = len(segment) // frame
    if n < 4:
        raise ParameterError(f"the held stretch holds {n} frames of {frame_seconds} s; need at least 4")
    rms = np.sqrt(np.mean(segment[: n * frame].astype(np.float64).reshape(n, frame) ** 2, axis=1))
    if rms.max() < 1e-7:
        raise ParameterError("the held stretch is silent")
    db = 20 * np.log10(np.maximum(rms, 1e-10))
    keep = db > db.max() + floor_db
    if keep.sum() < 4:
        raise ParameterError("the held stretch is silent")
    t = np.arange(n)[keep]
    trend = np.polyval(np.polyfit(t, db[keep], 1), t)
    return float(np.std(db[keep] - trend))


def spectral_centroid(y: np.ndarray, *, sample_rate: int, start: float = 0.05, seconds: float = 0.5) -> float:
    """Power-weighted mean frequency (Hz) of ``seconds`` of a note from ``start``.

    Examples
    --------
    >>> t = np.arange(44100) / 44100
    >>> round(spectral_centroid(np.sin(2 * np.pi * 1000 * t), sample_rate=44100))
    1000
    """
    sample_rate = check_sample_rate(sample_rate)
    y = check_waveform(y)
    segment = y[int(start * sample_rate): int((start + seconds) * sample_rate)].astype(np.float64)
    if len(segment) < 64:
        raise ParameterError(f"need at least 64 samples from {start} s, got {len(segment)}")
    power = np.abs(np.fft.rfft(segment * np.hanning(len(segment)))) ** 2
    freqs = np.fft.rfftfreq(len(segment), 1 / sample_rate)
    total = power.sum()
    return float((freqs * power).sum() / total) if total > 0 else 0.0


def log_mel_frames(y: np.ndarray, *, sample_rate: int, n_mels: int = 128, n_fft: int = 2048,
                   hop_length: int = 512, seconds: float = 1.0) -> np.ndarray:
    """Log-mel frames ``(n_mels, frames)`` of the first ``seconds`` of a note, full band (to Nyquist)."""
    y = check_waveform(y)[: int(seconds * sample_rate)]
    mel = librosa.feature.melspectrogram(y=y, sr=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels,
                                         fmax=sample_rate / 2)
    return np.log(np.maximum(mel, 1e-6))


def timbre_distance(a: np.ndarray, b: np.ndarray, *, sample_rate: int, seconds: float = 1.0) -> float:
    """Mean absolute difference of two notes' log-mel spectrograms over their common first ``seconds``.

    Loudness is factored out: each spectrogram is shifted to zero mean first,
    so the distance compares spectral shape and envelope, not level.
    """
    fa = log_mel_frames(a, sample_rate=sample_rate, seconds=seconds)
    fb = log_mel_frames(b, sample_rate=sample_rate, seconds=seconds)
    n = min(fa.shape[1], fb.shape[1])
    fa, fb = fa[:, :n], fb[:, :n]
    return float(np.mean(np.abs((fa - fa.mean()) - (fb - fb.mean()))))


def identify_timbres(played: Mapping[str, Sequence[np.ndarray]], real: Mapping[str, Sequence[np.ndarray]], *,
                     sample_rate: int, seconds: float = 1.0) -> dict:
    """Whether notes played in each instrument's timbre are nearest that instrument's real notes.

    Parameters
    ----------
    played : mapping
        Instrument name to notes the model played in the timbre taken from
        that instrument's recording, one per pitch (same pitches as ``real``).
    real : mapping
        Instrument name to the real notes at those pitches.

    Returns
    -------
    dict
        ``accuracy`` (share of instruments whose played notes are nearest,
        by mean log-mel distance, to their own real notes), ``chance``,
        ``nearest`` (instrument -> nearest instrument) and ``distances``
        (instrument -> {candidate: mean distance}).
    """
    names = list(real)
    if set(played) != set(names) or len(names) < 2:
        raise ParameterError(f"need the same two or more instruments in played and real, got {sorted(played)} and "
                             f"{names}")
    distances, nearest = {}, {}
    for name in names:
        row = {}
        for candidate in names:
            pairs = list(zip(played[name], real[candidate]))
            if not pairs:
                raise ParameterError(f"no notes for {name!r} or {candidate!r}")
            row[candidate] = float(np.mean([timbre_distance(p, r, sample_rate=sample_rate, seconds=seconds)
                                            for p, r in pairs]))
        distances[name] = row
        nearest[name] = min(row, key=row.get)
    accuracy = float(np.mean([nearest[n] == n for n in names]))
    return {"accuracy": accuracy, "chance": 1 / len(names), "nearest": nearest, "distances": distances}

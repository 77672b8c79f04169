"""Sustain loops for sampler instruments: find a seamless loop in a note's steady state, measure its seam.

A sampler holds a note longer than its sample by playing a stretch of it over
and over. The stretch is found on the generated note itself:

1. :func:`decay_rate` measures how fast the held part fades (dB per second);
   a note that decays (a plucked or struck timbre) gets no loop at all.
2. :func:`find_loop` puts the loop end on an upward zero crossing close to
   the end of the steady region, then picks the loop start whose preceding
   samples best match the samples before the end (normalised cross-correlation,
   computed for every start at once with an FFT). A whole number of periods
   of the waveform then fits in the loop without knowing the pitch.
3. :func:`bake_loop` evens out the level across the loop (a slowly fading
   note would otherwise jump back up at each pass) and crossfades the loop's
   last samples into the samples before its start, so that jumping from the
   end back to the start continues the waveform exactly.
4. :func:`seam_quality` measures what a listener hears at the seam: the
   jump at the seam beyond the waveform's own step (as a multiple of its
   steepest sample-to-sample step) and the correlation of the
   waveform around the seam with the waveform around the loop start.

Loops are half-open sample ranges ``[start, end)``: after sample ``end - 1``
the player goes on with sample ``start``. Shapes: notes are ``(time,)``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.signal import fftconvolve

from ganaudio.errors import ParameterError

__all__ = ["Loop", "bake_loop", "decay_rate", "find_loop", "release_seconds", "seam_quality"]

#: Seconds of the RMS frames that envelopes are measured with.
ENVELOPE_FRAME = 0.02


@dataclasses.dataclass(frozen=True)
class Loop:
    """A loop ``[start, end)`` in samples, with the correlation of the waveform windows it joins."""

    start: int
    end: int
    correlation: float

    @property
    def length(self) -> int:
        return self.end - self.start


def _envelope_db(y: np.ndarray, frame: int) -> np.ndarray:
    """RMS level in dB of consecutive ``frame``-sample frames of ``y`` ``(time,)`` -> ``(frames,)``."""
    n = len(y) // frame
    if n == 0:
        return np.zeros(0)
    rms = np.sqrt(np.mean(np.square(y[:n * frame].reshape(n, frame), dtype=np.float64), axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-10))


def decay_rate(y: np.ndarray, *, sample_rate: int, start: int, stop: int) -> float:
    """How fast the level of ``y[start:stop]`` falls, in dB per second (positive: fading; about 0: steady).

    The slope of a least-squares line through the RMS level (20 ms frames).

    Examples
    --------
    >>> t = np.arange(44100) / 44100
    >>> round(decay_rate(np.sin(2 * np.pi * 220 * t) * 10 ** (-12 * t / 20), sample_rate=44100, start=0,
    ...                  stop=44100), 1)
    12.0
    """
    frame = max(1, int(ENVELOPE_FRAME * sample_rate))
    level = _envelope_db(np.asarray(y[start:stop]), frame)
    if len(level) < 3:
        raise ParameterError(f"the steady region ({stop - start} samples) is too short to measure a decay")
    t = (np.arange(len(level)) + 0.5) * frame / sample_rate
    return float(-np.polyfit(t, level, 1)[0])


def release_seconds(y: np.ndarray, *, sample_rate: int, key_up: int, floor_db: float = 60.0) -> float:
    """Seconds from ``key_up`` until the level of ``y`` is ``floor_db`` below its level just before it.

    The note's own release time (its T60 by default); the note's end if it never falls that far.
    """
    frame = max(1, int(ENVELOPE_FRAME * sample_rate))
    before = _envelope_db(np.asarray(y[max(0, key_up - 2 * frame):key_up]), frame)
    after = _envelope_db(np.asarray(y[key_up:]), frame)
    if len(before) == 0 or len(after) == 0:
        return max(0.0, (len(y) - key_up) / sample_rate)
    below = np.nonzero(after < before.max() - floor_db)[0]
    frames = int(below[0]) if len(below) else len(after)
    return frames * frame / sample_rate


def _upward_crossings(y: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Indices ``i`` in ``[lo, hi)`` with ``y[i - 1] < 0 <= y[i]``."""
    lo = max(lo, 1)
    if hi <= lo:
        return np.zeros(0, dtype=np.int64)
    seg = y[lo - 1:hi]
    return np.nonzero((seg[:-1] < 0) & (seg[1:] >= 0))[0] + lo


def _best_start(y: np.ndarray, end: int, window: int, lo: int, hi: int, longer: float) -> tuple[int, float]:
    """The start ``s`` in ``[lo, hi]`` whose window ``y[s - window:s]`` best matches ``y[end - window:end]``."""
    template = y[end - window:end].astype(np.float64)
    search = y[lo - window:hi].astype(np.float64)
    dots = fftconvolve(search, template[::-1], mode="valid")  # dots[k] = search[k:k+window] . template
    energy = np.concatenate([[0.0], np.cumsum(search ** 2)])
    norms = np.sqrt(np.maximum(energy[window:] - energy[:-window], 0.0) * float(template @ template))
    corr = dots / np.maximum(norms, 1e-20)
    starts = np.arange(lo, lo + len(corr))
    score = corr + longer * (end - starts) / max(end - lo, 1)  # a little preference for longer loops
    k = int(np.argmax(score))
    return int(starts[k]), float(corr[k])


def find_loop(y: np.ndarray, *, sample_rate: int, start: int, stop: int, min_seconds: float = 0.1,
              window_seconds: float = 0.01, candidates: int = 24) -> Loop:
    """The best-matching loop ``[s, e)`` inside ``y[start:stop]`` ``(time,)``, ending near ``stop``.

    Parameters
    ----------
    y : np.ndarray, shape ``(time,)``
    sample_rate : int, Hz
    start, stop : int
        The steady region, in samples; the loop and the ``window`` before its start lie inside it.
    min_seconds : float
        Shortest loop. Longer loops repeat the noise part of a note less often.
    window_seconds : float
        Length of the waveform windows compared (and of :func:`bake_loop`'s crossfade).
    candidates : int
        Upward zero crossings tried as the loop end, the last ones before ``stop``.

    Raises
    ------
    ParameterError
        If the region is shorter than ``min_seconds`` plus two windows.

    Examples
    --------
    >>> loop = find_loop(note, sample_rate=44100, start=22050, stop=88200)
    >>> loop.correlation > 0.99
    True
    """
    y = np.asarray(y, dtype=np.float64)
    window = max(8, int(round(window_seconds * sample_rate)))
    shortest = max(window, int(round(min_seconds * sample_rate)))
    start, stop = max(0, int(start)), min(len(y), int(stop))
    if stop - start < shortest + 2 * window:
        raise ParameterError(f"the steady region ({(stop - start) / sample_rate:.3f} s) is too short for a loop of "
                             f"{min_seconds} s")
    ends = _upward_crossings(y, stop - max(4 * window, sample_rate // 20), stop)[-candidates:]
    if len(ends) == 0:
        ends = np.array([stop])
    best = None
    for end in ends:
        lo, hi = start + window, int(end) - shortest
        if hi < lo:
            continue
        s, corr = _best_start(y, int(end), window, lo, hi, longer=0.002)
        if best is None or corr > best.correlation:
            best = Loop(s, int(end), corr)
    if best is None:
        raise ParameterError("no loop fits the steady region")
    return best


def bake_loop(y: np.ndarray, loop: Loop, *, crossfade: int) -> np.ndarray:
    """``y`` ``(time,)`` made to loop seamlessly over ``loop``: level evened out and the seam crossfaded.

    * Level: the loop's RMS near its end is brought to its RMS near its start by
      a gain moving linearly in dB across the loop, held after it (so the
      rest of the note, played after the key goes up, follows without a step).
    * Seam: the last ``crossfade`` samples of the loop fade linearly into the
      ``crossfade`` samples before its start, so sample ``end - 1`` is followed
      by ``start`` exactly as ``start - 1`` is.

    Returns a new float32 array of the same length.
    """
    out = np.asarray(y, dtype=np.float64).copy()
    s, e = loop.start, loop.end
    crossfade = int(min(crossfade, s, loop.length // 2))
    width = max(crossfade, 8)
    rms = lambda a, b: float(np.sqrt(np.mean(out[a:b] ** 2)) + 1e-12)  # noqa: E731
    ratio = float(np.clip(rms(s, s + width) / rms(e - width, e), 0.25, 4.0))
    gain = np.ones(len(out))
    gain[s:e] = ratio ** (np.arange(e - s) / (e - s))
    gain[e:] = ratio
    out *= gain
    if crossfade > 0:
        w = (np.arange(crossfade) + 1) / crossfade
        out[e - crossfade:e] = (1 - w) * out[e - crossfade:e] + w * out[s - crossfade:s]
    return out.astype(np.float32)


def seam_quality(y: np.ndarray, loop: Loop, *, window: int) -> dict:
    """How the seam of ``loop`` in ``y`` ``(time,)`` sounds: ``{"jump", "correlation"}``.

    ``jump``: how much the step the player makes at the seam (``y[end - 1]`` to
    ``y[start]``) differs from the waveform's own step into ``y[start]`` (from
    ``y[start - 1]``), i.e. ``|y[end - 1] - y[start - 1]|``, divided by the 99th
    percentile of ``|y[t + 1] - y[t]|`` inside the loop: 0 is seamless, 1 a step
    as large as the waveform's steepest (a click). ``correlation``: Pearson correlation of the
    ``window`` samples played just before the seam with the ``window`` samples
    before the loop start, the ones the seam should sound like (1: identical).
    """
    y = np.asarray(y, dtype=np.float64)
    s, e = loop.start, loop.end
    steps = np.abs(np.diff(y[s:e]))
    typical = float(np.percentile(steps, 99)) if len(steps) else 0.0
    jump = abs(y[e - 1] - y[s - 1]) / max(typical, 1e-12)
    window = int(min(window, s, loop.length))
    a, b = y[e - window:e], y[s - window:s]
    if window < 2 or a.std() < 1e-12 or b.std() < 1e-12:
        corr = 1.0 if np.allclose(a, b) else 0.0
    else:
        corr = float(np.corrcoef(a, b)[0, 1])
    return {"jump": float(jump), "correlation": corr}

"""Note shaping and mixing in numpy: sustain looping, envelopes, velocity gain, a look-ahead limiter.

Every function works in samples at the model's own sample rate; callers turn
seconds into samples with that rate, never with a fixed one.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from ganaudio.errors import ParameterError

__all__ = ["StreamingLimiter", "extend_note", "extend_note_segment", "limit", "limit_rows", "midi_to_hz",
           "shape_note", "shape_segment", "velocity_gain"]


def midi_to_hz(pitch: float) -> float:
    """Equal-tempered frequency (Hz) of a MIDI pitch, A4 = 69 = 440 Hz."""
    return 440.0 * 2.0 ** ((pitch - 69) / 12)


def velocity_gain(velocity: np.ndarray | int) -> np.ndarray:
    """Amplitude factor for MIDI velocities 1-127: ``(velocity / 127) ** 2`` (the DLS curve, 40 dB range).

    Examples
    --------
    >>> float(velocity_gain(127)), round(float(velocity_gain(64)), 3)
    (1.0, 0.254)
    """
    v = np.asarray(velocity, dtype=np.float64)
    if np.any(~np.isfinite(v)) or np.any(v < 0) or np.any(v > 127):
        raise ParameterError(f"velocity must be in 0-127, got {np.asarray(velocity).tolist()}")
    return (v / 127.0) ** 2


def extend_note(note: np.ndarray, length: int, *, period: float, sustain: tuple[float, float] = (0.3, 0.65),
                crossfade: int = 0) -> np.ndarray:
    """Lengthen a generated note ``(time,)`` to ``length`` samples by looping a sustained region.

    The loop spans a whole number of pitch periods inside the fraction
    ``sustain`` of the note, so the waveform lines up across the seam; a linear
    crossfade of ``crossfade`` samples (default: a quarter of the loop) blends
    the loop's end into the samples just before its start. Notes already long
    enough are cut to ``length``.

    Parameters
    ----------
    note : np.ndarray, shape ``(time,)``
    length : int
        Samples wanted.
    period : float
        Pitch period in samples (``sample_rate / f0``).
    sustain : (float, float)
        Start and end of the loopable region as fractions of the note.
    crossfade : int
        Samples of crossfade at the seam (0: a quarter of the loop).

    Examples
    --------
    >>> long = extend_note(note, 3 * len(note), period=16000 / midi_to_hz(60))
    """
    return extend_note_segment(note, length, 0, length, period=period, sustain=sustain, crossfade=crossfade)


@functools.lru_cache(maxsize=4096)
def _loop_plan(n: int, period: float, sustain: tuple[float, float], crossfade: int) -> tuple[int, int, int]:
    """``(start, loop, fade)`` in samples of :func:`extend_note`'s loop over a note of ``n`` samples."""
    if not 0.0 <= sustain[0] < sustain[1] <= 1.0:
        raise ParameterError(f"sustain must be two fractions 0 <= start < end <= 1, got {sustain}")
    start, end = int(sustain[0] * n), int(sustain[1] * n)
    most = int((end - start) // period)
    if most >= 1:   # the whole number of periods (from half the region up) closest to a whole number of samples
        cycles = min(range(max(1, most // 2), most + 1), key=lambda c: (abs(c * period - round(c * period)), -c))
        loop = round(cycles * period)
    else:
        loop = end - start
    loop = max(loop, 2)
    return start, loop, min(crossfade or loop // 4, start, loop - 1)


def extend_note_segment(note: np.ndarray, length: int, first: int, stop: int, *, period: float,
                        sustain: tuple[float, float] = (0.3, 0.65), crossfade: int = 0) -> np.ndarray:
    """Samples ``first:stop`` of ``extend_note(note, length, ...)``, computed without the rest of it.

    A note held for hours is played this way a block at a time, in memory of one block.

    Examples
    --------
    >>> long = extend_note(note, 50_000, period=36.4)
    >>> np.array_equal(extend_note_segment(note, 50_000, 1000, 2000, period=36.4), long[1000:2000])
    True
    """
    n = note.shape[-1]
    stop = min(stop, length)
    if length <= n:
        return note[first:stop]
    start, loop, fade = _loop_plan(int(n), float(period), tuple(sustain), int(crossfade))
    head = note[first:min(stop, start)]
    t = np.arange(max(first, start) - start, max(stop, start) - start)
    phase = t % loop
    main = note[start + phase]
    if fade > 0:
        w = np.clip((phase - (loop - fade)) / fade, 0.0, 1.0)
        alt = note[np.clip(start + phase - loop, 0, n - 1)]
        main = (1.0 - w) * main + w * alt
    return np.concatenate([head, main.astype(note.dtype)])


def shape_note(note: np.ndarray, *, held: int, attack: int, release: int) -> np.ndarray:
    """Apply a raised-cosine attack and release to ``note`` ``(time,)``, held for ``held`` samples.

    The output has ``held + release`` samples: the note (extended beforehand
    when it is shorter) fades in over ``attack`` samples and, from ``held``
    on, fades out over ``release`` samples.
    """
    total = held + release
    if note.shape[-1] < total:
        raise ParameterError(f"note has {note.shape[-1]} samples, shaping needs {total}; extend it first")
    out = note[:total].astype(np.float32, copy=True)
    if attack > 0:
        a = min(attack, total)
        out[:a] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(a) / attack)
    if release > 0:
        out[held:] *= 0.5 + 0.5 * np.cos(np.pi * (np.arange(release) + 1) / release)
    return out


def shape_segment(segment: np.ndarray, first: int, *, held: int, attack: int, release: int) -> np.ndarray:
    """Samples ``first:first + len(segment)`` of :func:`shape_note` of a note whose samples there are ``segment``.

    Examples
    --------
    >>> whole = shape_note(note, held=800, attack=80, release=160)
    >>> part = shape_segment(note[100:500], 100, held=800, attack=80, release=160)
    >>> np.array_equal(part, whole[100:500])
    True
    """
    out = segment.astype(np.float32, copy=True)
    stop = first + len(out)
    total = held + release
    if attack > 0:
        a = min(attack, total)
        if first < a:
            out[:a - first] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(first, min(a, stop)) / attack)
    if release > 0 and stop > held:
        lo = max(first, held)
        out[lo - first:] *= 0.5 + 0.5 * np.cos(np.pi * (np.arange(lo - held, stop - held) + 1) / release)
    return out


class StreamingLimiter:
    """:func:`limit` of a signal given block by block; the output lags one block behind the input.

    ``push(block)`` returns the limited previous block (empty at first);
    ``finish()`` returns the last one. Each block is limited with ``2 *
    lookahead`` samples of the signal on either side, the whole reach of the
    limiter's two filters, so the concatenated output equals ``limit`` of the
    concatenated input. Blocks must be at least ``2 * lookahead`` samples long,
    except the last.
    """

    def __init__(self, *, ceiling: float = 0.98, lookahead: int = 80):
        self.ceiling, self.lookahead = ceiling, int(lookahead)
        self._context = 2 * self.lookahead
        self._left = np.zeros(0, np.float32)
        self._pending: np.ndarray | None = None

    def _run(self, right: np.ndarray) -> np.ndarray:
        block = self._pending
        window = np.concatenate([self._left, block, right])
        out = limit(window, ceiling=self.ceiling, lookahead=self.lookahead)[len(self._left):len(self._left) + len(block)]
        self._left = np.concatenate([self._left, block])[-self._context:] if self._context else self._left
        return out

    def push(self, block: np.ndarray) -> np.ndarray:
        block = np.asarray(block, dtype=np.float32)
        out = np.zeros(0, np.float32) if self._pending is None else self._run(block[:self._context])
        self._pending = block
        return out

    def finish(self) -> np.ndarray:
        out = np.zeros(0, np.float32) if self._pending is None else self._run(np.zeros(0, np.float32))
        self._pending = None
        return out


def limit(y: np.ndarray, *, ceiling: float = 0.98, lookahead: int = 80) -> np.ndarray:
    """Look-ahead peak limiter: ``|out| <= ceiling`` everywhere, unchanged where the signal stays below it.

    The gain needed at each sample, ``min(1, ceiling / |y|)``, is first taken
    at its minimum over a window of ``2 * lookahead + 1`` samples and then
    averaged over the same window. Every value averaged at sample ``t`` is at
    most the gain ``t`` itself needs, so the result never exceeds the
    ceiling, and the gain ramps over ``lookahead`` samples instead of jumping.

    Parameters
    ----------
    y : np.ndarray, shape ``(time,)``
    ceiling : float
        Largest absolute sample value allowed (full scale is 1).
    lookahead : int
        Ramp length in samples (5 ms at 16 kHz: 80).

    Examples
    --------
    >>> out = limit(np.array([0.1, 3.0, 0.1], np.float32), ceiling=0.9, lookahead=1)
    >>> float(np.abs(out).max()) <= 0.9
    True
    """
    if not 0 < ceiling <= 1:
        raise ParameterError(f"ceiling must be in (0, 1], got {ceiling!r}")
    y = np.asarray(y, dtype=np.float32)
    peak = np.abs(y)
    if y.size == 0 or float(peak.max()) <= ceiling:
        return y
    width = 2 * int(lookahead) + 1
    need = np.minimum(1.0, ceiling / np.maximum(maximum_filter1d(peak, width, mode="nearest"), 1e-12))
    gain = uniform_filter1d(need, width, mode="nearest")
    out = (y * gain).astype(np.float32)
    return np.clip(out, -ceiling, ceiling)  # guards float rounding only; the gain already keeps |out| <= ceiling


def limit_rows(y: np.ndarray, *, ceiling: float = 0.98, lookahead: int = 80) -> np.ndarray:
    """:func:`limit` applied to each row of ``y`` ``(n, time)``."""
    return np.stack([limit(row, ceiling=ceiling, lookahead=lookahead) for row in y]) if len(y) else y

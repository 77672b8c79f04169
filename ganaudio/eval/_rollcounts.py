"""Counting pieces behind :mod:`ganaudio.eval.rolls`: input checks, note runs, and per-phrase
``(numerator, denominator)`` counts of each metric, so a batch pools exactly."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ganaudio.errors import ParameterError

# --- input checks and shared pieces ------------------------------------------------------------------------------

def positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ParameterError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def active(rolls, threshold: float, steps_per_bar: int | None = None) -> np.ndarray:
    """Sounding cells as bool ``(n, tracks, time, pitch)`` from rolls ``(..., tracks, time, pitch)``."""
    if hasattr(rolls, "detach"):
        rolls = rolls.detach().cpu().numpy()
    arr = np.asarray(rolls)
    if arr.ndim < 3 or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ParameterError(f"rolls must be numeric with shape (..., tracks, time, pitch), got {arr.dtype} "
                             f"{arr.shape}")
    if 0 in arr.shape[-3:]:
        raise ParameterError(f"rolls need at least one track, step and pitch, got shape {arr.shape}")
    if arr.dtype != bool and not np.isfinite(arr).all():
        raise ParameterError("rolls hold NaN or inf values")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise ParameterError(f"threshold must be a finite number, got {threshold!r}")
    if steps_per_bar is not None and arr.shape[-2] % steps_per_bar:
        raise ParameterError(f"rolls have {arr.shape[-2]} steps, not a whole number of bars of {steps_per_bar} "
                             "steps; pad or crop the time axis")
    return (arr > threshold).reshape((-1,) + arr.shape[-3:])


def pitch_classes(n_pitch: int, pitch_offset) -> np.ndarray:
    """One-hot ``(pitch, 12)`` map from roll columns to pitch classes."""
    if isinstance(pitch_offset, bool) or not isinstance(pitch_offset, (int, np.integer)) or not (
            0 <= pitch_offset <= 128 - n_pitch):
        raise ParameterError(f"pitch_offset must be an integer MIDI pitch with {n_pitch} pitches inside 0-127, "
                             f"got {pitch_offset!r}")
    return np.eye(12)[(np.arange(n_pitch) + int(pitch_offset)) % 12]


def runs(on: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(item, track, pitch, start, end)`` of every run of sounding steps in ``on`` ``(n, tracks, time, pitch)``."""
    n, tracks, T, P = on.shape
    padded = np.zeros((n, tracks, P, T + 2), np.int8)
    padded[..., 1:-1] = on.transpose(0, 1, 3, 2)
    d = np.diff(padded, axis=-1)
    item, track, pitch, start = np.nonzero(d == 1)  # C order: sorted by item, track, pitch, time
    return item, track, pitch, start, np.nonzero(d == -1)[3]


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.full(np.shape(num), np.nan), where=den > 0)


def per_phrase(rolls, counts) -> np.ndarray:
    """``num / den`` per phrase, reshaped to the rolls' leading dimensions."""
    num, den = counts
    lead = np.shape(rolls)[:-3]
    return ratio(num, den).reshape(lead + num.shape[1:])


# --- counts: (numerator, denominator) per phrase and track, so a batch can be pooled ------------------------------

def empty_bar_counts(on, steps_per_bar):
    n, tracks, T, P = on.shape
    sounding = on.reshape(n, tracks, T // steps_per_bar, steps_per_bar * P).any(-1)
    return (~sounding).sum(-1).astype(float), np.full((n, tracks), float(sounding.shape[-1]))


def upc_counts(on, steps_per_bar, pitch_offset):
    n, tracks, T, P = on.shape
    used = on.reshape(n, tracks, T // steps_per_bar, steps_per_bar, P).any(3)
    classes = (used.astype(float) @ pitch_classes(P, pitch_offset) > 0).sum(-1)  # (n, tracks, bars)
    return classes.sum(-1).astype(float), used.any(-1).sum(-1).astype(float)


def qn_counts(on, min_steps, repeat_gap):
    n, tracks = on.shape[:2]
    item, track, pitch, start, end = runs(on)
    length = end - start
    if repeat_gap and len(start):  # the step midi_to_roll took before a repeat belongs to the note
        same = (item[1:] == item[:-1]) & (track[1:] == track[:-1]) & (pitch[1:] == pitch[:-1])
        length[:-1] += same & (start[1:] == end[:-1] + 1)
    key = item * tracks + track
    qualified = np.bincount(key[length >= min_steps], minlength=n * tracks).reshape(n, tracks)
    return qualified.astype(float), np.bincount(key, minlength=n * tracks).reshape(n, tracks).astype(float)


def dp_counts(on, grid, tolerance):
    n, tracks = on.shape[:2]
    item, track, _, start, _ = runs(on)
    off = start % grid
    weight = np.where(off == 0, 1.0, np.where((off == 1) | (off == grid - 1), tolerance, 0.0))
    key = item * tracks + track
    num = np.bincount(key, weights=weight, minlength=n * tracks).reshape(n, tracks)
    return num, np.bincount(key, minlength=n * tracks).reshape(n, tracks).astype(float)


def polyphony_counts(on, min_pitches):
    n, tracks, T, _ = on.shape
    return (on.sum(-1) >= min_pitches).sum(-1).astype(float), np.full((n, tracks), float(T))


def range_counts(on, pitch_offset):
    used = on.any(2)  # (n, tracks, pitch)
    pitch_classes(on.shape[-1], pitch_offset)  # checks the offset
    cols = np.arange(on.shape[-1])
    high = np.where(used, cols, -1).max(-1)
    low = np.where(used, cols, on.shape[-1]).min(-1)
    sounding = used.any(-1)
    return np.where(sounding, high - low, 0).astype(float), sounding.astype(float)


def tonal_centroid(chroma, *, radii: Sequence[float] = (1.0, 1.0, 0.5)) -> np.ndarray:
    """Harte et al.'s (2006) tonal centroid of chroma vectors: fifths, minor thirds, major thirds circles.

    Parameters
    ----------
    chroma : array-like, shape ``(..., 12)``
        Non-negative weights of pitch classes C, C#, ..., B; normalised here to sum 1.
    radii : (float, float, float)
        Radii of the three circles.

    Returns
    -------
    np.ndarray, shape ``(..., 6)``; NaN where the chroma is all zero.

    Examples
    --------
    >>> np.round(tonal_centroid(np.eye(12)[0]), 3)  # C alone
    array([0. , 1. , 0. , 1. , 0. , 0.5])
    """
    chroma = np.asarray(chroma, dtype=np.float64)
    if chroma.shape[-1:] != (12,) or not np.all(np.isfinite(chroma)) or np.any(chroma < 0):
        raise ParameterError(f"chroma must be finite non-negative (..., 12), got shape {chroma.shape}")
    if len(radii) != 3:
        raise ParameterError(f"radii must be three numbers (fifths, minor thirds, major thirds), got {radii!r}")
    angles = np.arange(12) * np.array([[7 / 6], [3 / 2], [2 / 3]]) * np.pi  # (3, 12)
    basis = np.stack([f(a) * r for a, r in zip(angles, radii) for f in (np.sin, np.cos)])  # (6, 12)
    total = chroma.sum(-1, keepdims=True)
    normed = np.divide(chroma, total, out=np.full(chroma.shape, np.nan), where=total > 0)
    return normed @ basis.T


def td_counts(on, window, pitch_offset, radii):
    n, tracks, T, P = on.shape
    if T % window:
        raise ParameterError(f"rolls have {T} steps, not a whole number of tonal-distance windows of {window}")
    counts = on.reshape(n, tracks, T // window, window, P).sum(3).astype(float)
    centroid = tonal_centroid(counts @ pitch_classes(P, pitch_offset), radii=radii)  # (n, tracks, windows, 6)
    dist = np.linalg.norm(centroid[:, :, None] - centroid[:, None], axis=-1)  # (n, tracks, tracks, windows)
    valid = np.isfinite(dist)
    return np.where(valid, dist, 0.0).sum(-1), valid.sum(-1).astype(float)


def qn_threshold(min_steps, steps_per_beat: int) -> int:
    return math.ceil(steps_per_beat / 8) if min_steps is None else positive_int(min_steps, "min_steps")


def dp_grid(grid, steps_per_beat: int) -> int:
    if grid is not None:
        return positive_int(grid, "grid")
    for division in (4, 2):  # 16th notes, else 8th notes
        if steps_per_beat % division == 0:
            return steps_per_beat // division
    raise ParameterError(f"steps_per_beat={steps_per_beat} has no whole 16th- or 8th-note grid; give grid in steps")


def check_tolerance(tolerance) -> float:
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance <= 1:
        raise ParameterError(f"tolerance must be a number in [0, 1], got {tolerance!r}")
    return float(tolerance)

"""MuseGAN's piano-roll metrics (Dong et al. 2018), per track, beside the training data's.

Every function reads rolls ``(..., tracks, time, pitch)`` (binary or velocity;
a cell sounds where it is above ``threshold``, velocities are otherwise
ignored) on an explicit grid: ``steps_per_bar``, ``steps_per_beat`` and
``pitch_offset`` (MIDI pitch of column 0). ``time`` must be a whole number of
bars. A note is a run of sounding steps of one pitch: :func:`midi_to_roll`
separates a repeated note from the one before by taking that note's last step,
so a run boundary is a note boundary.

Definitions (each public function returns one figure per phrase and track,
NaN where it is undefined; :func:`roll_metrics` pools the counts over a batch):

EB, empty bars
    Bars without a sounding cell / bars.
UPC, used pitch classes per bar
    Pitch classes sounding in a bar, averaged over the *non-empty* bars only
    (as MuseGAN's evaluation code does: it skips empty bars).
QN, qualified notes
    Notes of at least ``min_steps`` steps / notes; by default a 32nd note,
    ``ceil(steps_per_beat / 8)`` steps (3 at 24 steps per beat, as the paper).
DP, drum pattern
    Drum onsets weighted 1 on a 16th-note grid (``steps_per_beat / 4`` steps;
    8th notes when that is not whole), ``tolerance`` one step off it, 0 else,
    over all drum onsets.
TD, tonal distance
    Harte et al.'s (2006) 6-D tonal centroid (radii 1, 1, 0.5) of each track's
    chroma over a window (a bar by default), L1-normalised; the Euclidean
    distance between two tracks' centroids, averaged over the windows where
    both sound.
Polyphony rate, pitch range
    Steps with at least ``min_pitches`` sounding pitches / steps; highest minus
    lowest sounding pitch in semitones.

Differences from the reference implementations (the tests check agreement on
inputs where the definitions coincide):

* EB: pypianoroll 1.0.4 ``empty_beat_rate`` returns the share of *non-empty*
  beats; muspy ``empty_measure_rate`` also counts the bar in which a note ends
  exactly on its bar line, and one bar more when the song ends on one.
* UPC: MuseGAN's paper-era code skips empty bars (as here); its later code
  averages over all bars, empty ones counting 0.
* QN: pypianoroll and MuseGAN's later code flatten time and pitch before
  pairing onsets with offsets, so lengths are multiplied by the number of
  pitches (nearly every note qualifies) and overlapping notes pair wrongly;
  MuseGAN's paper-era code pairs per pitch, within each bar, and counts ``>= 2``
  steps although the paper says three. All measure bare runs
  (``repeat_gap=False``).
* Chroma in pypianoroll 1.0.4 and MuseGAN's code groups neighbouring pitches
  (column // 10, or // 7 on 84 pitches) instead of ``pitch % 12``.
* TD: pypianoroll 1.0.4 normalises chroma per time step, and its matrix
  product only runs at 12 steps per beat, where it contracts the tonal matrix
  with time steps; the tests check TD against librosa's ``tonnetz`` (the same
  Harte centroid) instead. MuseGAN's code uses beat windows
  (``td_window="beat"`` in :func:`roll_metrics`) and drops a phrase with any
  silent window.
* DP: pypianoroll and MuseGAN's later code count sounding cells, not onsets,
  with tolerance 0.1 (the default here), and pypianoroll's mask spans one beat
  (only a one-beat roll works); the paper-era code used 0.3 and the best of six
  grid phases. muspy's ``drum_in_pattern_rate`` has no tolerance (0 here).
* Polyphony: pypianoroll and muspy count steps with *more than* two pitches
  (``min_pitches=3`` here); MuseGAN's paper-era code used two or more (the
  default).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

import ganaudio.eval._rollcounts as _c
from ganaudio.errors import ParameterError
from ganaudio.eval._rollcounts import tonal_centroid

__all__ = ["METRICS", "drum_pattern_rate", "empty_bar_rate", "metrics_table", "pitch_classes_per_bar",
           "pitch_range", "polyphony_rate", "qualified_note_rate", "roll_metrics", "tonal_centroid",
           "tonal_distance"]

METRICS = {  # result key -> table label, in table order
    "empty_bar_rate": "EB (empty bars)",
    "pitch_classes_per_bar": "UPC (pitch classes per bar)",
    "qualified_note_rate": "QN (qualified notes)",
    "drum_pattern_rate": "DP (drum pattern)",
    "polyphony_rate": "polyphony rate",
    "pitch_range": "pitch range (semitones)",
}


# --- public per-phrase metrics -------------------------------------------------------------------------------------

def empty_bar_rate(rolls, *, steps_per_bar: int, threshold: float = 0.0) -> np.ndarray:
    """EB: share of bars in which a track plays nothing.

    Parameters
    ----------
    rolls : array-like or torch.Tensor, shape ``(..., tracks, time, pitch)``
        ``time`` a multiple of ``steps_per_bar``.
    steps_per_bar : int
    threshold : float
        Cells above it sound.

    Returns
    -------
    np.ndarray, shape ``(..., tracks)``, in [0, 1]

    Examples
    --------
    >>> roll = np.zeros((1, 96, 84)); roll[0, :48, 40] = 1  # one track, two bars of 48 steps
    >>> empty_bar_rate(roll, steps_per_bar=48)
    array([0.5])
    """
    steps_per_bar = _c.positive_int(steps_per_bar, "steps_per_bar")
    return _c.per_phrase(rolls, _c.empty_bar_counts(_c.active(rolls, threshold, steps_per_bar), steps_per_bar))


def pitch_classes_per_bar(rolls, *, steps_per_bar: int, pitch_offset: int, threshold: float = 0.0) -> np.ndarray:
    """UPC: pitch classes used per bar, averaged over the track's non-empty bars (NaN if all are empty).

    Parameters
    ----------
    rolls : array-like or torch.Tensor, shape ``(..., tracks, time, pitch)``
    steps_per_bar : int
    pitch_offset : int
        MIDI pitch of column 0.
    threshold : float

    Returns
    -------
    np.ndarray, shape ``(..., tracks)``, in [1, 12] or NaN

    Examples
    --------
    >>> roll = np.zeros((1, 96, 84)); roll[0, :48, [36, 40, 43]] = 1  # C major triad with offset 24
    >>> pitch_classes_per_bar(roll, steps_per_bar=48, pitch_offset=24)
    array([3.])
    """
    steps_per_bar = _c.positive_int(steps_per_bar, "steps_per_bar")
    on = _c.active(rolls, threshold, steps_per_bar)
    return _c.per_phrase(rolls, _c.upc_counts(on, steps_per_bar, pitch_offset))


def qualified_note_rate(rolls, *, steps_per_beat: int, min_steps: int | None = None, repeat_gap: bool = True,
                        threshold: float = 0.0) -> np.ndarray:
    """QN: share of notes lasting at least ``min_steps`` steps (a 32nd note by default).

    Parameters
    ----------
    rolls : array-like or torch.Tensor, shape ``(..., tracks, time, pitch)``
    steps_per_beat : int
        Grid steps per quarter note; ``min_steps`` defaults to ``ceil(steps_per_beat / 8)``.
    min_steps : int, optional
    repeat_gap : bool
        Count a single silent step before a repeat of the same pitch as part of the note before it
        (the step :func:`midi_to_roll` takes to separate repeats). False measures bare runs.
    threshold : float

    Returns
    -------
    np.ndarray, shape ``(..., tracks)``, in [0, 1]; NaN for a track without notes

    Examples
    --------
    >>> roll = np.zeros((1, 24, 12)); roll[0, 0:2, 0] = 1; roll[0, 4:10, 0] = 1
    >>> qualified_note_rate(roll, steps_per_beat=24)  # a 2-step note and a 6-step note
    array([0.5])
    """
    steps_per_beat = _c.positive_int(steps_per_beat, "steps_per_beat")
    counts = _c.qn_counts(_c.active(rolls, threshold), _c.qn_threshold(min_steps, steps_per_beat), bool(repeat_gap))
    return _c.per_phrase(rolls, counts)


def drum_pattern_rate(rolls, *, steps_per_beat: int, tolerance: float = 0.1, grid: int | None = None,
                      threshold: float = 0.0) -> np.ndarray:
    """DP: share of onsets on a 16th-note grid, onsets one step off it counting ``tolerance``.

    Parameters
    ----------
    rolls : array-like or torch.Tensor, shape ``(..., tracks, time, pitch)``
        Phrases starting on a beat.
    steps_per_beat : int
    tolerance : float
        Weight of an onset one step before or after a grid point (0.1, as pypianoroll and MuseGAN's code).
    grid : int, optional
        Steps between grid points; default ``steps_per_beat / 4`` (16th notes), else ``/ 2`` (8th notes).
    threshold : float

    Returns
    -------
    np.ndarray, shape ``(..., tracks)``, in [0, 1]; NaN for a track without onsets

    Examples
    --------
    >>> roll = np.zeros((1, 24, 1)); roll[0, [0, 6, 13], 0] = 1
    >>> drum_pattern_rate(roll, steps_per_beat=24)  # 1 + 1 + 0.1 over 3 onsets
    array([0.7])
    """
    steps_per_beat = _c.positive_int(steps_per_beat, "steps_per_beat")
    counts = _c.dp_counts(_c.active(rolls, threshold), _c.dp_grid(grid, steps_per_beat), _c.check_tolerance(tolerance))
    return _c.per_phrase(rolls, counts)


def polyphony_rate(rolls, *, min_pitches: int = 2, threshold: float = 0.0) -> np.ndarray:
    """Share of steps with at least ``min_pitches`` pitches sounding in the track.

    Parameters
    ----------
    rolls : array-like or torch.Tensor, shape ``(..., tracks, time, pitch)``
    min_pitches : int
        2 counts any two simultaneous pitches; 3 is pypianoroll's and muspy's ``threshold=2``.
    threshold : float

    Returns
    -------
    np.ndarray, shape ``(..., tracks)``, in [0, 1]

    Examples
    --------
    >>> roll = np.zeros((1, 4, 12)); roll[0, :, 0] = 1; roll[0, :1, 4] = 1
    >>> polyphony_rate(roll)
    array([0.25])
    """
    counts = _c.polyphony_counts(_c.active(rolls, threshold), _c.positive_int(min_pitches, "min_pitches"))
    return _c.per_phrase(rolls, counts)


def pitch_range(rolls, *, threshold: float = 0.0) -> np.ndarray:
    """Highest minus lowest sounding pitch of each track, in semitones (NaN for a silent track).

    Parameters
    ----------
    rolls : array-like or torch.Tensor, shape ``(..., tracks, time, pitch)``
    threshold : float

    Returns
    -------
    np.ndarray, shape ``(..., tracks)``

    Examples
    --------
    >>> roll = np.zeros((1, 4, 24)); roll[0, 0, 3] = roll[0, 2, 15] = 1
    >>> pitch_range(roll)
    array([12.])
    """
    on = _c.active(rolls, threshold)
    return _c.per_phrase(rolls, _c.range_counts(on, 0))


def tonal_distance(rolls, *, window: int, pitch_offset: int, radii: Sequence[float] = (1.0, 1.0, 0.5),
                   threshold: float = 0.0) -> np.ndarray:
    """TD: mean distance between the tonal centroids of two tracks' chroma, per window where both sound.

    Parameters
    ----------
    rolls : array-like or torch.Tensor, shape ``(..., tracks, time, pitch)``
    window : int
        Steps per chroma window, e.g. ``steps_per_bar`` (MuseGAN's code uses a beat).
    pitch_offset : int
        MIDI pitch of column 0.
    radii : (float, float, float)
        Circle radii of :func:`tonal_centroid`.
    threshold : float

    Returns
    -------
    np.ndarray, shape ``(..., tracks, tracks)``, symmetric; NaN for pairs that never sound together

    Examples
    --------
    >>> roll = np.zeros((2, 48, 12)); roll[0, :, 0] = 1; roll[1, :, 7] = 1  # C against G
    >>> np.round(tonal_distance(roll, window=48, pitch_offset=60)[0, 1], 3)
    1.932
    """
    window = _c.positive_int(window, "window")
    return _c.per_phrase(rolls, _c.td_counts(_c.active(rolls, threshold), window, pitch_offset, radii))


# --- batch report ------------------------------------------------------------------------------------------------

def _nan_to_none(x: float):
    return None if not math.isfinite(x) else float(x)


def roll_metrics(rolls, *, steps_per_bar: int, steps_per_beat: int, pitch_offset: int, track_names: Sequence[str],
                 is_drum: Sequence[bool], threshold: float = 0.0, min_steps: int | None = None,
                 repeat_gap: bool = True, tolerance: float = 0.1, grid: int | None = None, min_pitches: int = 2,
                 td_window: str = "bar", radii: Sequence[float] = (1.0, 1.0, 0.5)) -> dict:
    """MuseGAN's metrics per track for a set of phrases, counts pooled over the set.

    EB pools bars, UPC non-empty bars, QN notes, DP onsets, polyphony steps, TD
    windows where both tracks sound; pitch range is the mean over phrases where
    the track sounds. UPC, QN, polyphony and pitch range are given for pitched
    tracks, DP for drum tracks, TD for pairs of pitched tracks; other entries
    are None (so is any figure without data, e.g. QN of a silent track).

    Parameters
    ----------
    rolls : array-like or torch.Tensor ``(..., tracks, time, pitch)``, or a sequence of ``(tracks, time_i, pitch)``
        Phrases of whole bars; a sequence may mix lengths (e.g. whole songs).
    steps_per_bar, steps_per_beat : int
    pitch_offset : int
        MIDI pitch of column 0.
    track_names : sequence of str, one per track
    is_drum : sequence of bool, one per track
    threshold : float
        Cells above it sound (0.5 for a generator's sigmoid output).
    min_steps, repeat_gap : see :func:`qualified_note_rate`
    tolerance, grid : see :func:`drum_pattern_rate`
    min_pitches : see :func:`polyphony_rate`
    td_window : {"bar", "beat"}
        Chroma window of the tonal distance.
    radii : see :func:`tonal_centroid`

    Returns
    -------
    dict
        ``{"tracks", "is_drum", "phrases", "bars", "steps_per_bar", "steps_per_beat",
        "metrics": {key in METRICS: {track: float or None}}, "tonal_distance": {"A / B": float or None}}``,
        JSON-able.

    Examples
    --------
    >>> roll, meta = midi_to_roll("samples/bach_chorale.mid", resolution=24, pitch_range=(24, 108))
    >>> report = roll_metrics(roll, steps_per_bar=96, steps_per_beat=24, pitch_offset=meta.pitch_offset,
    ...                       track_names=meta.names, is_drum=meta.is_drum)
    >>> report["metrics"]["empty_bar_rate"]["Soprano"]
    0.0
    """
    steps_per_bar = _c.positive_int(steps_per_bar, "steps_per_bar")
    steps_per_beat = _c.positive_int(steps_per_beat, "steps_per_beat")
    if td_window not in ("bar", "beat"):
        raise ParameterError(f"td_window must be 'bar' or 'beat', got {td_window!r}")
    window = steps_per_bar if td_window == "bar" else steps_per_beat
    qn_steps, dp_grid = _c.qn_threshold(min_steps, steps_per_beat), _c.dp_grid(grid, steps_per_beat)
    tolerance, min_pitches = _c.check_tolerance(tolerance), _c.positive_int(min_pitches, "min_pitches")
    names, drums = [str(x) for x in track_names], [bool(x) for x in is_drum]
    if len(names) != len(drums) or len(set(names)) != len(names):
        raise ParameterError(f"track_names must be unique and match is_drum one to one, got {names} and {drums}")
    items = list(rolls) if isinstance(rolls, (list, tuple)) else [rolls]
    if not items:
        raise ParameterError("rolls is an empty sequence; expected at least one phrase")
    sums, phrases, bars = {}, 0, 0
    for item in items:
        on = _c.active(item, threshold, steps_per_bar)
        if on.shape[1] != len(names):
            raise ParameterError(f"rolls have {on.shape[1]} tracks but track_names has {len(names)}")
        if window != steps_per_bar and on.shape[2] % window:
            raise ParameterError(f"rolls have {on.shape[2]} steps, not a whole number of beats of {window}")
        counts = {"empty_bar_rate": _c.empty_bar_counts(on, steps_per_bar),
                  "pitch_classes_per_bar": _c.upc_counts(on, steps_per_bar, pitch_offset),
                  "qualified_note_rate": _c.qn_counts(on, qn_steps, bool(repeat_gap)),
                  "drum_pattern_rate": _c.dp_counts(on, dp_grid, tolerance),
                  "polyphony_rate": _c.polyphony_counts(on, min_pitches),
                  "pitch_range": _c.range_counts(on, pitch_offset),
                  "tonal_distance": _c.td_counts(on, window, pitch_offset, radii)}
        for key, (num, den) in counts.items():
            old = sums.get(key, (0.0, 0.0))
            sums[key] = (old[0] + num.sum(0), old[1] + den.sum(0))
        phrases, bars = phrases + on.shape[0], bars + on.shape[0] * on.shape[2] // steps_per_bar
    values = {key: _c.ratio(*sums[key]) for key in sums}
    metrics = {}
    for key in METRICS:
        wanted = [d if key == "drum_pattern_rate" else key == "empty_bar_rate" or not d for d in drums]
        metrics[key] = {n: _nan_to_none(v) if w else None for n, v, w in zip(names, values[key], wanted)}
    pitched = [i for i, d in enumerate(drums) if not d]
    pairs = {f"{names[i]} / {names[j]}": _nan_to_none(values["tonal_distance"][i, j])
             for k, i in enumerate(pitched) for j in pitched[k + 1:]}
    return {"tracks": names, "is_drum": drums, "phrases": phrases, "bars": bars, "steps_per_bar": steps_per_bar,
            "steps_per_beat": steps_per_beat, "metrics": metrics, "tonal_distance": pairs}


def _cell(value, key: str) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if key in ("pitch_classes_per_bar", "pitch_range") else f"{value:.3f}"


def metrics_table(real: dict, fake: dict) -> str:
    """A markdown table of :func:`roll_metrics` figures, generated beside the training data's.

    One row per metric and track (TD per track pair); rows without a figure on either side are left out.

    Parameters
    ----------
    real, fake : dict
        :func:`roll_metrics` results of the training data and of generated rolls.

    Returns
    -------
    str, a markdown table ending with a newline

    Examples
    --------
    >>> print(metrics_table(roll_metrics(real_rolls, **grid), roll_metrics(fake_rolls, **grid)))
    | Metric | Track | Training data | Generated |
    ...
    """
    for label, report in (("real", real), ("fake", fake)):
        if not isinstance(report, dict) or not {"tracks", "metrics", "tonal_distance"} <= set(report):
            raise ParameterError(f"{label} must be a roll_metrics result (tracks, metrics, tonal_distance), "
                                 f"got {type(report).__name__}")
    tracks = list(real["tracks"]) + [t for t in fake["tracks"] if t not in real["tracks"]]
    lines = ["| Metric | Track | Training data | Generated |", "|---|---|---:|---:|"]
    for key, label in METRICS.items():
        for track in tracks:
            a, b = (r["metrics"].get(key, {}).get(track) for r in (real, fake))
            if a is not None or b is not None:
                lines.append(f"| {label} | {track} | {_cell(a, key)} | {_cell(b, key)} |")
    pairs = list(real["tonal_distance"]) + [p for p in fake["tonal_distance"] if p not in real["tonal_distance"]]
    for pair in pairs:
        a, b = real["tonal_distance"].get(pair), fake["tonal_distance"].get(pair)
        if a is not None or b is not None:
            lines.append(f"| TD (tonal distance) | {pair} | {_cell(a, 'td')} | {_cell(b, 'td')} |")
    return "\n".join(lines) + "\n"

"""Pitch of notes by librosa's pYIN: tracking, per-note pitch, accuracy and entropy.

GANSynth judges generated notes by whether they carry the pitch asked for
(pitch accuracy) and by how spread the pitches are (pitch entropy). Here the
judge is a signal-processing tracker (probabilistic YIN), checked in the
tests on real SoundFont notes of known pitch before it is trusted on
generated ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import librosa
import numpy as np

from ganaudio.errors import ParameterError
from ganaudio.io import check_sample_rate, check_waveform

__all__ = ["track_pitch", "note_pitch", "pitch_accuracy", "pitch_entropy", "PitchReport"]

DEFAULT_MIDI_RANGE = (21.0, 108.0)  # A0 to C8: the range pYIN searches unless told otherwise
TRACKERS = ("pyin", "fcpe")


def track_pitch(
    y: np.ndarray,
    *,
    sample_rate: int,
    midi_range: tuple[float, float] = DEFAULT_MIDI_RANGE,
    frame_length: int = 2048,
    hop_length: int = 256,
    voicing_threshold: float = 0.5,
    tracker: str = "pyin",
) -> tuple[np.ndarray, np.ndarray]:
    """Frame-wise fundamental frequency of a mono waveform.

    Parameters
    ----------
    y : np.ndarray, shape ``(time,)``
    sample_rate : int, Hz
    midi_range : (low, high) MIDI note numbers searched.
    voicing_threshold : float
        Frames whose pYIN voicing probability reaches this are voiced.
    tracker : {"pyin", "fcpe"}
        pYIN (librosa, the reference) or FCPE (:mod:`ganaudio.eval.fcpe`:
        far faster, 10 ms frames, MIDI 24-95; frames outside ``midi_range``
        count as unvoiced).

    Returns
    -------
    f0 : np.ndarray, shape ``(frames,)``, Hz (NaN where unvoiced)
    voiced : np.ndarray of bool, shape ``(frames,)``

    Examples
    --------
    >>> f0, voiced = track_pitch(y, sample_rate=16000)
    """
    sample_rate = check_sample_rate(sample_rate)
    y = check_waveform(y)
    if y.ndim != 1:
        raise ParameterError(f"track_pitch expects mono audio (time,), got {y.shape}")
    lo, hi = midi_range
    if tracker == "fcpe":
        from ganaudio.eval.fcpe import track_pitch_fcpe

        f0, voiced = track_pitch_fcpe(y, sample_rate=sample_rate)
        inside = voiced & (f0 >= librosa.midi_to_hz(lo)) & (f0 <= librosa.midi_to_hz(hi))
        return np.where(inside, f0, np.nan), inside
    if tracker != "pyin":
        raise ParameterError(f"unknown pitch tracker {tracker!r}; choose one of {TRACKERS}")
    fmax = min(librosa.midi_to_hz(hi), sample_rate / 2 * 0.95)
    # pYIN's own voiced flag (Viterbi over voiced/unvoiced states) calls white
    # noise voiced here; its voicing probability separates them cleanly (noise
    # about 0.01, held SoundFont notes 0.8-0.95), so frames are voiced by that.
    f0, _, probability = librosa.pyin(
        y, fmin=float(librosa.midi_to_hz(lo)), fmax=float(fmax), sr=sample_rate,
        frame_length=frame_length, hop_length=hop_length, fill_na=None,
    )
    voiced = probability >= voicing_threshold
    return np.where(voiced, f0, np.nan), voiced


def note_pitch(
    y: np.ndarray,
    *,
    sample_rate: int,
    midi_range: tuple[float, float] = DEFAULT_MIDI_RANGE,
    min_voiced: float = 0.5,
    seconds: float | None = 1.0,
    tracker: str = "pyin",
) -> float | None:
    """The MIDI pitch of a single note: median over its voiced frames.

    Only the first ``seconds`` are tracked (the held part of NSynth-style notes;
    None tracks all). Returns None when fewer than ``min_voiced`` of the frames
    are voiced (noise, silence, or an unpitched sound).

    Examples
    --------
    >>> round(note_pitch(trumpet_c4, sample_rate=16000))
    60
    """
    y = check_waveform(y)
    if seconds is not None:
        y = y[: max(int(seconds * sample_rate), 1)]
    f0, voiced = track_pitch(y, sample_rate=sample_rate, midi_range=midi_range, tracker=tracker)
    if voiced.size == 0 or voiced.mean() < min_voiced:
        return None
    return float(np.median(librosa.hz_to_midi(f0[voiced])))


@dataclasses.dataclass(frozen=True)
class PitchReport:
    """Pitch accuracy of a set of notes against their target pitches.

    Attributes
    ----------
    accuracy : float
        Fraction of notes within ``tolerance_cents`` of their target.
    octave_errors : float
        Fraction off by a whole number of octaves (within tolerance of it).
    unvoiced : float
        Fraction where the tracker found no pitch.
    median_abs_cents : float
        Median absolute error over voiced notes.
    entropy_bits : float
        :func:`pitch_entropy` of the detected pitches.
    n : int
    detected : tuple of (float or None)
        The tracked pitch of each note, None where unvoiced.
    within : tuple of bool
        Whether each note lies within the tolerance of its target.
    """

    accuracy: float
    octave_errors: float
    unvoiced: float
    median_abs_cents: float
    entropy_bits: float
    n: int
    detected: tuple
    within: tuple = ()

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def pitch_accuracy(
    notes: Iterable[np.ndarray],
    targets: Sequence[float],
    *,
    sample_rate: int,
    tolerance_cents: float = 50.0,
    midi_range: tuple[float, float] = DEFAULT_MIDI_RANGE,
    seconds: float | None = 1.0,
    tracker: str = "pyin",
) -> PitchReport:
    """Share of ``notes`` whose tracked pitch lies within ``tolerance_cents`` of ``targets``.

    Parameters
    ----------
    notes : iterable of np.ndarray ``(time,)``
    targets : MIDI pitches, one per note
    tracker : {"pyin", "fcpe"}
        See :func:`track_pitch`; report both where they disagree on low notes.

    Examples
    --------
    >>> report = pitch_accuracy([trumpet_c4, flute_c3], [60, 48], sample_rate=16000)
    >>> report.accuracy
    1.0
    """
    notes = list(notes)
    if len(notes) != len(targets) or not notes:
        raise ParameterError(f"need one target per note and at least one note, got {len(notes)} and {len(targets)}")
    detected = [note_pitch(n, sample_rate=sample_rate, midi_range=midi_range, seconds=seconds, tracker=tracker)
                for n in notes]
    errors = np.array([np.nan if d is None else 100.0 * (d - t) for d, t in zip(detected, targets)])
    voiced = ~np.isnan(errors)
    within = voiced & (np.abs(np.where(voiced, errors, 0)) <= tolerance_cents)
    octave_off = np.where(voiced, np.abs(errors - 1200 * np.round(errors / 1200)), np.inf)
    octave = voiced & ~within & (octave_off <= tolerance_cents) & (np.abs(errors) >= 1200 - tolerance_cents)
    return PitchReport(
        accuracy=float(within.mean()),
        octave_errors=float(octave.mean()),
        unvoiced=float((~voiced).mean()),
        median_abs_cents=float(np.median(np.abs(errors[voiced]))) if voiced.any() else float("nan"),
        entropy_bits=pitch_entropy([d for d in detected if d is not None]),
        n=len(notes),
        detected=tuple(detected),
        within=tuple(bool(w) for w in within),
    )


def pitch_entropy(pitches: Iterable[float]) -> float:
    """Entropy in bits of the distribution of pitches rounded to semitones.

    GANSynth reports it over a classifier's predictions on generated notes: a
    model asked for a uniform spread of pitches should match the entropy of
    the same request on real notes; collapse to few pitches lowers it.

    Examples
    --------
    >>> pitch_entropy([60, 60, 62, 64])
    1.5
    """
    values = np.round(np.asarray(list(pitches), dtype=float))
    if values.size == 0:
        return 0.0
    _, counts = np.unique(values, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())

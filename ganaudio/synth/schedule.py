"""From a MIDI file to a table of notes, and from notes to latents through a timbre schedule.

A schedule answers one question: which timbre plays the note that starts at
``onset`` seconds in track ``track`` (General MIDI ``program``)? Three kinds:

:class:`Constant`
    one timbre for every note.
:class:`PerProgram`
    a timbre per MIDI program (instrument), e.g. ``{0: piano_like, 40: violin_like}``.
:class:`Drift`
    anchor timbres at given times (or every N seconds), each note taking the
    spherical interpolation between the anchors around its onset: GANSynth's
    timbre that morphs across a piece.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence

import numpy as np

from ganaudio.errors import MidiFileError, ParameterError
from ganaudio.synth.timbre import Timbre, slerp

__all__ = ["Constant", "Drift", "NoteTable", "PerProgram", "make_schedule", "read_notes"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class NoteTable:
    """The pitched notes of a piece, one row each (numpy arrays of equal length ``n``).

    ``onset``/``offset`` in seconds, ``pitch`` MIDI after octave moves,
    ``velocity`` 1-127, ``track`` index into ``track_names``, ``program`` GM program 0-127.
    """

    onset: np.ndarray
    offset: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    track: np.ndarray
    program: np.ndarray
    track_names: tuple[str, ...]
    label: str

    def __len__(self) -> int:
        return int(self.onset.shape[0])


def fold_octaves(pitch: np.ndarray, low: int, high: int) -> np.ndarray:
    """Move each MIDI pitch by whole octaves into ``low..high`` (inclusive); needs a range of >= 12 semitones."""
    if high - low < 11:
        raise ParameterError(f"a pitch range of {low}-{high} is narrower than an octave; notes cannot be moved into it")
    p = np.asarray(pitch, dtype=np.int64)
    up = np.where(p < low, -((p - low) // 12), 0)            # ceil((low - p) / 12) octaves up
    down = np.where(p > high, (p - high + 11) // 12, 0)      # ceil((p - high) / 12) octaves down
    return p + 12 * up - 12 * down


def read_notes(midi, *, pitch_range: tuple[int, int]) -> NoteTable:
    """Pitched notes of ``midi`` (a path or ``pretty_midi.PrettyMIDI``), drums skipped, pitches moved into range.

    Raises
    ------
    MidiFileError
        If the file is unreadable, has no notes, or only drum notes.
    """
    from ganaudio.functional.pianoroll import load_midi

    pm, label = load_midi(midi)
    rows, names, drums = [], [], 0
    for instrument in pm.instruments:
        if instrument.is_drum:
            drums += len(instrument.notes)
            continue
        notes = [n for n in instrument.notes if n.end > n.start and n.velocity > 0]
        if not notes:
            continue
        index = len(names)
        names.append(f"{index:02d}_{(instrument.name or 'program').strip().replace(' ', '_')}_p{instrument.program}")
        rows += [(n.start, n.end, n.pitch, n.velocity, index, instrument.program) for n in notes]
    if drums:
        log.warning("%s: skipped %d drum notes (the model plays pitched notes only)", label, drums)
    if not rows:
        what = "only drum notes" if drums else "no notes"
        raise MidiFileError(f"{label}: {what}; nothing for a pitched synthesizer to play")
    arr = np.array(sorted(rows), dtype=np.float64)
    pitch = arr[:, 2].astype(np.int64)
    moved = fold_octaves(pitch, *pitch_range)
    changed = moved != pitch
    if changed.any():
        examples = ", ".join(f"{a}->{b}" for a, b in sorted(set(zip(pitch[changed].tolist(),
                                                                      moved[changed].tolist())))[:6])
        log.warning("%s: %d of %d notes lie outside the model's MIDI %d-%d and were moved by octaves (%s)",
                    label, int(changed.sum()), len(pitch), pitch_range[0], pitch_range[1], examples)
    return NoteTable(onset=arr[:, 0], offset=arr[:, 1], pitch=moved, velocity=arr[:, 3].astype(np.int64),
                     track=arr[:, 4].astype(np.int64), program=arr[:, 5].astype(np.int64),
                     track_names=tuple(names), label=label)


class Constant:
    """Every note gets ``timbre``."""

    def __init__(self, timbre: Timbre):
        self.timbre = timbre

    def latents(self, notes: NoteTable) -> np.ndarray:
        """``(len(notes), latent_dim)`` float32."""
        return np.broadcast_to(self.timbre.latent, (len(notes), self.timbre.latent_dim)).copy()


class PerProgram:
    """A timbre per General MIDI program; programs not in ``timbres`` get ``default``."""

    def __init__(self, timbres: Mapping[int, Timbre], default: Timbre):
        bad = [p for p in timbres if not isinstance(p, (int, np.integer)) or not 0 <= p <= 127]
        if bad:
            raise ParameterError(f"program numbers must be 0-127, got {bad}")
        self.timbres, self.default = dict(timbres), default

    def latents(self, notes: NoteTable) -> np.ndarray:
        out = np.empty((len(notes), self.default.latent_dim), np.float32)
        for program in np.unique(notes.program):
            out[notes.program == program] = self.timbres.get(int(program), self.default).latent
        return out


class Drift:
    """Anchor timbres at ``times`` (seconds, increasing) with slerp (or lerp) between neighbours.

    Notes before the first anchor take the first timbre, after the last the
    last. ``steps`` (per gap between anchors) snaps each note's position to
    that many levels, so notes of one pitch close in time share a latent and are
    generated once; None interpolates exactly at each onset.

    Examples
    --------
    >>> Drift([a, b, c], seconds_per_timbre=6)           # a at 0 s, b at 6 s, c at 12 s
    >>> Drift([a, b], times=[2.0, 30.0], method="lerp")
    """

    def __init__(self, timbres: Sequence[Timbre], *, times: Sequence[float] | None = None,
                 seconds_per_timbre: float | None = None, method: str = "slerp", steps: int | None = 32):
        self.timbres = list(timbres)
        if len(self.timbres) < 1:
            raise ParameterError("a drifting schedule needs at least one anchor timbre")
        if times is None:
            if seconds_per_timbre is None or not seconds_per_timbre > 0:
                raise ParameterError(f"seconds_per_timbre must be > 0, got {seconds_per_timbre!r}")
            times = [i * float(seconds_per_timbre) for i in range(len(self.timbres))]
        t = np.asarray(times, dtype=np.float64)
        if t.shape != (len(self.timbres),) or np.any(np.diff(t) <= 0) or not np.all(np.isfinite(t)):
            raise ParameterError(f"times must be {len(self.timbres)} increasing seconds, one per timbre, got {times!r}")
        if method not in ("slerp", "lerp"):
            raise ParameterError(f"method must be 'slerp' or 'lerp', got {method!r}")
        if steps is not None and steps < 1:
            raise ParameterError(f"steps must be >= 1 or None, got {steps!r}")
        self.times, self.method, self.steps = t, method, steps

    def latents(self, notes: NoteTable) -> np.ndarray:
        dim = self.timbres[0].latent_dim
        out = np.empty((len(notes), dim), np.float32)
        onset = np.clip(notes.onset, self.times[0], self.times[-1])
        seg = np.clip(np.searchsorted(self.times, onset, side="right") - 1, 0, max(len(self.times) - 2, 0))
        if len(self.timbres) == 1:
            out[:] = self.timbres[0].latent
            return out
        frac = (onset - self.times[seg]) / (self.times[seg + 1] - self.times[seg])
        if self.steps is not None:
            frac = np.round(frac * self.steps) / self.steps
        for s in np.unique(seg):
            a, b = self.timbres[s], self.timbres[s + 1]
            zb = a._other(b)
            rows = seg == s
            if self.method == "slerp":
                out[rows] = slerp(a.latent, zb, frac[rows])
            else:
                f = frac[rows, None]
                out[rows] = (1 - f) * a.latent + f * zb
        return out


def make_schedule(timbres, schedule: str | object | None, *, default: Timbre,
                  seconds_per_timbre: float | None = None, times: Sequence[float] | None = None,
                  method: str = "slerp"):
    """The schedule ``Synth.render`` uses for its ``timbres`` / ``schedule`` arguments.

    ``schedule`` None picks by the type of ``timbres``: None or one Timbre ->
    Constant, a mapping -> PerProgram, a sequence -> Drift (one timbre: Constant).
    """
    if schedule is not None and not isinstance(schedule, str):
        if not hasattr(schedule, "latents"):
            raise ParameterError(f"schedule must be 'constant', 'program', 'drift' or a schedule object, "
                                 f"got {type(schedule).__name__}")
        return schedule
    if schedule is None:
        if timbres is None or isinstance(timbres, Timbre):
            schedule = "constant"
        elif isinstance(timbres, Mapping):
            schedule = "program"
        else:
            schedule = "drift" if len(list(timbres)) > 1 else "constant"
    if schedule == "constant":
        if timbres is None:
            return Constant(default)
        if isinstance(timbres, Timbre):
            return Constant(timbres)
        if isinstance(timbres, Sequence) and len(timbres) == 1:
            return Constant(timbres[0])
        raise ParameterError("schedule 'constant' takes one timbre")
    if schedule == "program":
        if not isinstance(timbres, Mapping):
            raise ParameterError("schedule 'program' takes a mapping of MIDI program -> timbre")
        return PerProgram(timbres, default)
    if schedule == "drift":
        if isinstance(timbres, (Timbre, Mapping)) or timbres is None:
            raise ParameterError("schedule 'drift' takes a sequence of anchor timbres")
        return Drift(list(timbres), times=times, seconds_per_timbre=seconds_per_timbre or 6.0, method=method)
    raise ParameterError(f"schedule must be 'constant', 'program' or 'drift', got {schedule!r}")

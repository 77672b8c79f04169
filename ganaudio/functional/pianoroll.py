"""Piano rolls: MIDI <-> multitrack roll tensors ``(tracks, time, pitch)`` with an exact inverse.

Time grid
    ``resolution`` steps per beat (a MIDI beat, i.e. a quarter note; MuseGAN uses
    24) following the file's tempo map, so tempo changes move the grid; or, when
    ``fs`` is given, ``fs`` frames per second exactly as pretty_midi does it.
Note placement
    Beat mode rounds note times to the nearest step; a note shorter than half a
    step keeps one step. fs mode truncates like pretty_midi (``int(t * fs)``), so
    ``midi_to_roll(m, fs=f, grouping="merged", drums="drop",
    separate_repeats=False)[0][0]`` equals ``m.get_piano_roll(fs=f).T`` exactly,
    sustain pedal (running maximum while CC64 >= ``pedal_threshold``) and pitch
    bends (pretty_midi's linear interpolation across pitches) included; drums are
    never pedalled or bent. Overlapping notes of one pitch in one track add their
    velocities (pretty_midi's rule) or, with ``overlap="max"``, keep the loudest.
Repeated notes
    A roll cannot tell one long note from two touching notes of the same pitch.
    With ``separate_repeats=True`` (the default) a note followed immediately by a
    note of the same pitch in the same track loses its last step, so the decoder
    (one note per run of non-zero steps) gives two notes back: the first one step
    shorter, everything else exact. A one-step note followed by a repeat cannot
    shrink and merges with it. Pass ``False`` for pretty_midi's rolls.
Meta
    :class:`RollMeta`, JSON-able through ``to_dict``/``from_dict``: track names,
    programs and drum flags, the grid (resolution or fs), pitch offset, binary
    flag, tempo map ``[[beat, qpm], ...]``, time signatures ``[[beat, num, den],
    ...]`` and the source's ticks per beat.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import numpy as np
import pretty_midi
import torch

from ganaudio.errors import MidiFileError, ParameterError
from ganaudio.functional._rollgrid import (
    DRUM_MODES,
    GROUPINGS,
    OVERLAPS,
    PROGRAM_FAMILIES,
    _has_effects,
    _map_times,
    _paint,
    _pedal_and_bends,
    _tempo_map,
    _track_layout,
)

__all__ = ["DRUM_MODES", "GROUPINGS", "PROGRAM_FAMILIES", "RollMeta", "count_notes", "load_midi", "midi_to_roll",
           "roll_to_midi"]

@dataclasses.dataclass
class RollMeta:
    """What :func:`roll_to_midi` needs to invert :func:`midi_to_roll`; JSON-able via :meth:`to_dict`.

    ``resolution`` (steps per beat) is set in beat mode, ``fs`` (frames per second)
    in fs mode. ``tempo_changes`` is ``[[beat, qpm], ...]`` starting at beat 0.
    """

    names: list
    programs: list
    is_drum: list
    resolution: int | None = 24
    fs: float | None = None
    pitch_offset: int = 0
    binary: bool = False
    tempo_changes: list = dataclasses.field(default_factory=lambda: [[0.0, 120.0]])
    time_signatures: list = dataclasses.field(default_factory=list)
    ticks_per_beat: int = 480

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RollMeta:
        if isinstance(data, RollMeta):
            return data
        fields = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(data, dict) or not {"names", "programs", "is_drum"} <= set(data):
            raise ParameterError(f"roll meta must be a dict with names, programs and is_drum, got {data!r:.200}")
        unknown = sorted(set(data) - fields)
        if unknown:
            raise ParameterError(f"roll meta has unknown key(s) {unknown}; expected some of {sorted(fields)}")
        meta = cls(**data)
        if not len(meta.names) == len(meta.programs) == len(meta.is_drum):
            raise ParameterError("roll meta: names, programs and is_drum must have one entry per track")
        return meta


def load_midi(midi) -> tuple[pretty_midi.PrettyMIDI, str]:
    """``(PrettyMIDI, label)`` from a path or a PrettyMIDI; MidiFileError naming the file if unreadable."""
    if isinstance(midi, pretty_midi.PrettyMIDI):
        return midi, "MIDI data"
    if not isinstance(midi, (str, os.PathLike)):
        raise ParameterError(f"midi must be a path or a pretty_midi.PrettyMIDI, got {type(midi).__name__}")
    path = Path(midi)
    if not path.is_file():
        raise MidiFileError(f"{path}: no such MIDI file")
    try:
        return pretty_midi.PrettyMIDI(str(path)), str(path)
    except Exception as exc:  # noqa: BLE001  (mido/pretty_midi raise many types for bad bytes)
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise MidiFileError(f"{path}: not a readable MIDI file ({detail})") from None


def _check_grid(resolution, fs) -> None:
    if fs is not None:
        if isinstance(fs, bool) or not isinstance(fs, (int, float)) or not (0 < fs < math.inf):
            raise ParameterError(f"fs must be a positive number of frames per second, got {fs!r}")
    elif isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution <= 0:
        raise ParameterError(f"resolution must be a positive integer (steps per beat), got {resolution!r}")


def midi_to_roll(midi, *, resolution: int = 24, fs: float | None = None, pitch_range=(0, 128),
                 grouping: str = "instrument", binary: bool = False, drums: str = "separate",
                 separate_repeats: bool = True, overlap: str = "sum", pedal_threshold: int | None = 64,
                 pitch_bends: bool = True) -> tuple[torch.Tensor, RollMeta]:
    """Multitrack piano roll of a MIDI file.

    Parameters
    ----------
    midi : str, os.PathLike or pretty_midi.PrettyMIDI
    resolution : int
        Steps per beat (quarter note) following the tempo map. Ignored when ``fs`` is given.
    fs : float, optional
        Frames per second instead of a beat grid (pretty_midi's ``get_piano_roll`` grid).
    pitch_range : (int, int)
        MIDI pitches ``[lo, hi)`` kept, e.g. ``(24, 108)``: 84 pitches from C1.
    grouping : {"instrument", "program_family", "merged"}
        One track per pretty_midi Instrument; 16 tracks, one per General MIDI family of 8
        programs (a fixed layout for data sets); or a single track.
    binary : bool
        1.0 where a note sounds instead of velocity.
    drums : {"separate", "drop", "merge"}
        Drum instruments as their own track (last, or each its own under "instrument"),
        left out, or added to the pitched track their program maps to.
    separate_repeats : bool
        Leave one empty step before a repeated note of the same pitch (see module notes).
    overlap : {"sum", "max"}
        How overlapping notes of one pitch in one track combine.
    pedal_threshold : int or None
        Sustain pedal as pretty_midi applies it; None ignores CC64.
    pitch_bends : bool
        Apply pretty_midi's pitch-bend interpolation.

    Returns
    -------
    roll : torch.Tensor, float32, shape ``(tracks, time, pitch_range[1] - pitch_range[0])``
    meta : RollMeta

    Examples
    --------
    >>> roll, meta = midi_to_roll("samples/bach_chorale.mid", resolution=24, pitch_range=(24, 108))
    >>> roll.shape, meta.names
    (torch.Size([4, 864, 84]), ['Soprano', 'Alto', 'Tenor', 'Bass'])
    """
    _check_grid(resolution, fs)
    if grouping not in GROUPINGS:
        raise ParameterError(f"grouping must be one of {GROUPINGS}, got {grouping!r}")
    if drums not in DRUM_MODES:
        raise ParameterError(f"drums must be one of {DRUM_MODES}, got {drums!r}")
    if overlap not in OVERLAPS:
        raise ParameterError(f"overlap must be one of {OVERLAPS}, got {overlap!r}")
    lo, hi = (int(x) for x in pitch_range) if len(pitch_range) == 2 else (-1, -1)
    if not 0 <= lo < hi <= 128:
        raise ParameterError(f"pitch_range must be (lo, hi) with 0 <= lo < hi <= 128, got {tuple(pitch_range)}")
    pm, label = load_midi(midi)
    t_times, t_beats, qpm = _tempo_map(pm)
    if fs is not None:
        def to_step(t):
            return (np.asarray(t, np.float64) * fs).astype(np.int64)  # int(t * fs), as pretty_midi
    else:
        def to_step(t):
            beats = _map_times(t, t_times, t_beats, qpm / 60.0)
            return np.floor(beats * resolution + 0.5).astype(np.int64)

    index, names, programs, flags = _track_layout(pm.instruments, grouping, drums)
    cols, ends = [[] for _ in range(6)], []
    for n, inst in enumerate(pm.instruments):
        arr = np.array([(x.start, x.end, x.pitch, x.velocity) for x in inst.notes], np.float64).reshape(-1, 4)
        s, e = to_step(arr[:, 0]), to_step(arr[:, 1])
        if fs is None:  # beat mode: a note shorter than half a step keeps one step
            e = np.where(arr[:, 1] > arr[:, 0], np.maximum(e, s + 1), e)
        events = [arr[:, 1].max(initial=0.0)] + [x.time for x in inst.pitch_bends + inst.control_changes]
        ends.append(int(to_step(max(events))))
        for col, values in zip(cols, (np.full(len(s), index[n]), np.full(len(s), n), s, e, arr[:, 2], arr[:, 3])):
            col.append(values)
    trk, who, s, e, p = (np.concatenate(c + [np.zeros(0)]).astype(np.int64) for c in cols[:5])
    v = np.concatenate(cols[5] + [np.zeros(0)])
    T = max(ends + [int(e.max(initial=0))])
    if not np.any(trk >= 0):
        raise MidiFileError(f"{label}: no notes to convert" + (" (drums dropped)" if drums == "drop" else ""))
    keep = (trk >= 0) & (e > s)
    trk, who, s, e, p, v = trk[keep], who[keep], s[keep], e[keep], p[keep], v[keep]
    if separate_repeats:  # a note touching a repeat of its pitch in its track gives up its last step
        key = (trk * 128 + p) * (T + 2)
        e = e - (np.isin(key + e, key + s) & (e - s >= 2))

    out = np.zeros((len(names), T, hi - lo), np.float32)
    combine = np.add if overlap == "sum" else np.maximum
    for track in np.unique(trk):
        effects = [n for n in np.unique(who[trk == track]) if _has_effects(pm.instruments[n], pedal_threshold,
                                                                            pitch_bends)]
        plain = (trk == track) & ~np.isin(who, effects) & (p >= lo) & (p < hi)
        acc = None  # with pedal or bends: pretty_midi's float64 pitch-major math, transposed once at the end
        if plain.any() or not effects:
            acc = np.zeros((hi - lo, T)) if effects else out[track]
            _paint(acc, s[plain], e[plain], p[plain] - lo, v[plain], overlap=overlap, pitch_major=bool(effects))
        for n in effects:
            mine = (trk == track) & (who == n)
            full = np.zeros((128, T))
            _paint(full, s[mine], e[mine], p[mine], v[mine], overlap=overlap, pitch_major=True)
            _pedal_and_bends(full, pm.instruments[n], to_step, ends[n], pedal_threshold, pitch_bends)
            acc = full[lo:hi] if acc is None else combine(acc, full[lo:hi], out=acc)
        if effects:
            out[track] = acc.T
    if binary:
        out = (out > 0).astype(np.float32)
    meta = RollMeta(
        names=names, programs=programs, is_drum=flags, resolution=None if fs is not None else int(resolution),
        fs=None if fs is None else float(fs), pitch_offset=lo, binary=bool(binary),
        tempo_changes=[[float(b), float(q)] for b, q in zip(t_beats, qpm)],
        time_signatures=[[float(_map_times(ts.time, t_times, t_beats, qpm / 60.0)), ts.numerator, ts.denominator]
                         for ts in pm.time_signature_changes],
        ticks_per_beat=int(pm.resolution))
    return torch.from_numpy(out), meta


def _runs(on: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(track, pitch, start, end)`` of every run of True along time in ``on`` ``(tracks, time, pitch)``."""
    tracks, T, P = on.shape
    padded = np.zeros((tracks, P, T + 2), np.int8)
    padded[:, :, 1:-1] = on.transpose(0, 2, 1)
    d = np.diff(padded, axis=2)
    tr, pi, st = np.nonzero(d == 1)  # row-major: sorted by track, pitch, time, so starts and ends pair up
    return tr, pi, st, np.nonzero(d == -1)[2]


def count_notes(roll, *, threshold: float = 0.0) -> int:
    """Number of notes :func:`roll_to_midi` decodes from ``roll`` ``(..., tracks, time, pitch)``.

    Examples
    --------
    >>> count_notes(torch.tensor([[[0.0], [80.0], [80.0], [0.0], [90.0]]]))
    2
    """
    arr = roll.detach().cpu().numpy() if isinstance(roll, torch.Tensor) else np.asarray(roll)
    if arr.ndim < 2:
        raise ParameterError(f"roll must have shape (..., tracks, time, pitch), got {arr.shape}")
    arr = arr.reshape((-1,) + arr.shape[-2:])
    return len(_runs(arr > threshold)[0])


def roll_to_midi(roll, meta: RollMeta | dict | None = None, *, resolution: int | None = None,
                 fs: float | None = None, tempo: float | None = None, programs=None, is_drum=None,
                 pitch_offset: int | None = None, velocity: int = 100, threshold: float = 0.0):
    """MIDI from a piano roll: each run of steps above ``threshold`` in a track and pitch is one note.

    Keywords left as None come from ``meta`` (or default to 24 steps per beat, 120 qpm,
    program 0, pitch offset 0 without one). Tracks without notes are left out.

    Parameters
    ----------
    roll : torch.Tensor or np.ndarray, shape ``(..., tracks, time, pitch)`` or ``(time, pitch)``
        Velocities, or 0/1 for a binary roll (then every note gets ``velocity``).
    meta : RollMeta or dict, optional
        From :func:`midi_to_roll`: tempo map, grid, programs, drum flags, names, pitch offset.
    resolution, fs : optional
        Steps per beat, or frames per second; give at most one.
    tempo : float, optional
        Constant tempo in quarter notes per minute, replacing the meta's tempo map.
    programs, is_drum : sequence, optional
        One General MIDI program (0-127) and drum flag per track.
    pitch_offset : int, optional
        MIDI pitch of column 0 (24 for a roll cropped to ``(24, 108)``).
    velocity : int
        Velocity of notes from a binary roll.
    threshold : float
        Steps with values above it sound (e.g. 0.5 for a generator's sigmoid output).

    Returns
    -------
    pretty_midi.PrettyMIDI, or a (nested) list of them, one per leading batch index.

    Examples
    --------
    >>> roll, meta = midi_to_roll("samples/bach_chorale.mid")
    >>> roll_to_midi(roll, meta).write("out/chorale.mid")
    """
    arr = roll.detach().cpu().numpy() if isinstance(roll, torch.Tensor) else np.asarray(roll)
    kwargs = {"resolution": resolution, "fs": fs, "tempo": tempo, "programs": programs, "is_drum": is_drum,
                  "pitch_offset": pitch_offset, "velocity": velocity, "threshold": threshold}
    if arr.ndim > 3:
        return [roll_to_midi(item, meta, **kwargs) for item in arr]
    if arr.ndim not in (2, 3) or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ParameterError(f"roll must be numeric with shape (..., tracks, time, pitch), got {arr.dtype} {arr.shape}")
    arr = (arr[None] if arr.ndim == 2 else arr).astype(np.float64)
    if not np.isfinite(arr).all():
        raise ParameterError("roll holds NaN or inf values")
    n_tracks, _, n_pitch = arr.shape
    if meta is None:
        meta = RollMeta(names=[""] * n_tracks, programs=[0] * n_tracks, is_drum=[False] * n_tracks,
                        binary=bool(np.isin(arr, (0.0, 1.0)).all()))  # a 0/1 roll without meta reads as binary
    meta = RollMeta.from_dict(meta)
    if len(meta.names) != n_tracks:
        raise ParameterError(f"roll has {n_tracks} tracks but its meta describes {len(meta.names)}")
    if resolution is not None and fs is not None:
        raise ParameterError("give resolution (steps per beat) or fs (frames per second), not both")
    if resolution is None and fs is None:
        resolution, fs = meta.resolution, meta.fs
    _check_grid(resolution, fs)
    offset = meta.pitch_offset if pitch_offset is None else pitch_offset
    if not 0 <= offset <= 128 - n_pitch:
        raise ParameterError(f"pitch_offset {offset} with {n_pitch} pitches leaves MIDI's 0-127")
    programs = list(meta.programs if programs is None else programs)
    flags = list(meta.is_drum if is_drum is None else is_drum)
    if len(programs) != n_tracks or len(flags) != n_tracks:
        raise ParameterError(f"programs and is_drum need one entry per track ({n_tracks}), "
                             f"got {len(programs)} and {len(flags)}")
    if any(not 0 <= int(x) <= 127 for x in programs):
        raise ParameterError(f"programs must be General MIDI programs 0-127, got {programs}")
    if isinstance(velocity, bool) or not isinstance(velocity, (int, np.integer)) or not 1 <= velocity <= 127:
        raise ParameterError(f"velocity must be an integer 1-127, got {velocity!r}")
    changes = meta.tempo_changes if tempo is None else [[0.0, float(tempo)]]
    t_beats, qpm = (np.array([c[i] for c in changes], np.float64).reshape(-1) for i in (0, 1))
    if not (len(changes) and t_beats[0] == 0 and np.all(np.diff(t_beats) >= 0) and np.all(qpm > 0)
            and np.isfinite(qpm).all()):
        raise ParameterError(f"tempo map must be [[beat, qpm], ...] from beat 0 with positive tempi, got {changes}")
    t_times = np.concatenate([[0.0], np.cumsum(np.diff(t_beats) * 60.0 / qpm[:-1])])

    tr, pi, st, en = _runs(arr > threshold)
    tpb = meta.ticks_per_beat
    if fs is None:
        start_t, end_t = (_map_times(x / resolution, t_beats, t_times, 60.0 / qpm) for x in (st, en))
        last_beat = en.max(initial=0) / resolution
        tpb = tpb if tpb % resolution == 0 else resolution * -(-480 // resolution)  # steps on whole ticks
    else:
        start_t, end_t = st / fs, en / fs
        last_beat = float(_map_times(end_t.max(initial=0.0), t_times, t_beats, qpm / 60.0))
    vel = np.full(len(st), velocity) if meta.binary else np.clip(np.rint(arr[tr, st, pi]), 1, 127).astype(int)

    pm = pretty_midi.PrettyMIDI(resolution=int(tpb), initial_tempo=float(qpm[0]))
    # pretty_midi has no public API for tempo changes; _tick_scales is what its reader fills and write() reads.
    pm._tick_scales = [(round(b * tpb), 60.0 / (q * tpb)) for b, q in zip(t_beats, qpm)]
    pm._update_tick_to_time(math.ceil(max(last_beat, t_beats[-1]) * tpb) + 1)
    pm.time_signature_changes = [
        pretty_midi.TimeSignature(int(num), int(den), float(_map_times(b, t_beats, t_times, 60.0 / qpm)))
        for b, num, den in meta.time_signatures]
    for track in range(n_tracks):
        sel = np.nonzero(tr == track)[0]
        if not len(sel):
            continue
        sel = sel[np.lexsort((pi[sel], st[sel]))]
        inst = pretty_midi.Instrument(program=int(programs[track]), is_drum=bool(flags[track]), name=meta.names[track])
        inst.notes = [pretty_midi.Note(velocity=int(vel[k]), pitch=int(pi[k]) + offset, start=float(start_t[k]),
                                       end=float(end_t[k])) for k in sel]
        pm.instruments.append(inst)
    return pm

"""The grid work of :func:`ganaudio.functional.pianoroll.midi_to_roll`: tempo maps, painting notes, pedal and
bends, and which instruments become which tracks."""

from __future__ import annotations

import numpy as np
import pretty_midi

PROGRAM_FAMILIES = ("Piano", "Chromatic Percussion", "Organ", "Guitar", "Bass", "Strings", "Ensemble", "Brass",
                    "Reed", "Pipe", "Synth Lead", "Synth Pad", "Synth Effects", "Ethnic", "Percussive",
                    "Sound Effects")
GROUPINGS = ("instrument", "program_family", "merged")
DRUM_MODES = ("separate", "drop", "merge")
OVERLAPS = ("sum", "max")
_SUSTAIN = 64


def _tempo_map(midi: pretty_midi.PrettyMIDI) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    times, qpm = midi.get_tempo_changes()
    beats = np.array([midi.time_to_tick(t) for t in times], dtype=np.float64) / midi.resolution
    return np.asarray(times, np.float64), beats, np.asarray(qpm, np.float64)


def _map_times(t, src: np.ndarray, dst: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Piecewise-linear map through the tempo map: ``dst[i] + (t - src[i]) * rate[i]``."""
    t = np.asarray(t, np.float64)
    i = np.clip(np.searchsorted(src, t, side="right") - 1, 0, None)
    return dst[i] + (t - src[i]) * rate[i]


def _paint(out: np.ndarray, s, e, p, v, *, overlap: str, pitch_major: bool = False) -> None:
    """Add (or maximise) velocity ``v`` on steps ``[s, e)`` of pitch ``p`` into ``out``, in place.

    ``out`` is ``(T, pitch)``, or ``(pitch, T)`` if ``pitch_major``. Only sounding
    cells are visited, so the cost follows the notes rather than the roll's size.
    """
    lengths = e - s
    frames = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(s, lengths)
    pitches, values = np.repeat(p, lengths), np.repeat(v, lengths).astype(out.dtype)
    index = pitches * out.shape[1] + frames if pitch_major else frames * out.shape[1] + pitches
    (np.add if overlap == "sum" else np.maximum).at(out.reshape(-1), index, values)


def _has_effects(inst, pedal_threshold, pitch_bends: bool) -> bool:
    """Whether pretty_midi would pedal or bend this instrument (never drums)."""
    return not inst.is_drum and (
        (pedal_threshold is not None and any(c.number == _SUSTAIN for c in inst.control_changes))
        or (pitch_bends and any(abs(b.pitch) >= 1 for b in inst.pitch_bends)))


def _pedal_and_bends(roll: np.ndarray, inst, to_step, end_step: int, pedal_threshold, pitch_bends: bool) -> None:
    """pretty_midi's sustain pedal and pitch-bend steps on one instrument's ``(128, T)`` roll, in place."""
    if pedal_threshold is not None:
        ccs = [c for c in inst.control_changes if c.number == _SUSTAIN]
        steps = to_step([c.time for c in ccs]) if ccs else []
        on, start = False, 0
        for cc, now in zip(ccs, steps):
            if not on and cc.value >= pedal_threshold:
                start, on = now, True
            elif on and cc.value < pedal_threshold:
                roll[:, start:now] = np.maximum.accumulate(roll[:, start:now], axis=1)
                on = False
    bends = sorted(inst.pitch_bends, key=lambda b: b.time)
    if not bends or not pitch_bends:
        return
    starts = to_step([b.time for b in bends])
    stops = list(starts[1:]) + [end_step]
    for bend, a, b in zip(bends, starts, stops):
        if abs(bend.pitch) < 1:
            continue
        semis = pretty_midi.pitch_bend_to_semitones(bend.pitch)
        whole = int(np.sign(semis) * np.floor(np.abs(semis)))
        frac = np.abs(semis - whole)
        cols = np.r_[a:b]
        bent = np.zeros(roll[:, cols].shape)
        if bend.pitch >= 0:
            if whole != 0:
                bent[whole:] = roll[:-whole, cols]
            else:
                bent = roll[:, cols]
            bent[1:] = (1 - frac) * bent[1:] + frac * bent[:-1]
        else:
            if whole != 0:
                bent[:whole] = roll[-whole:, cols]
            else:
                bent = roll[:, cols]
            bent[:-1] = (1 - frac) * bent[:-1] + frac * bent[1:]
        roll[:, cols] = bent


def _track_layout(instruments, grouping: str, drums: str):
    """Track index per instrument (-1: dropped) and per-track names, programs, drum flags."""
    if grouping == "instrument":
        index, names, programs, flags = [], [], [], []
        for inst in instruments:
            if inst.is_drum and drums == "drop":
                index.append(-1)
                continue
            index.append(len(names))
            names.append(inst.name or ("Drums" if inst.is_drum else pretty_midi.program_to_instrument_name(
                inst.program)))
            programs.append(int(inst.program))
            flags.append(bool(inst.is_drum))
        return index, names, programs, flags
    n_pitched = 16 if grouping == "program_family" else 1
    names = list(PROGRAM_FAMILIES) if grouping == "program_family" else ["Merged"]
    programs = [8 * f for f in range(16)] if grouping == "program_family" else [0]
    flags = [False] * n_pitched
    if drums == "separate":
        names, programs, flags = names + ["Drums"], programs + [0], flags + [True]
    index, seen = [], set()
    for inst in instruments:
        if inst.is_drum and drums == "drop":
            index.append(-1)
            continue
        if inst.is_drum and drums == "separate":
            track = n_pitched
        else:
            track = inst.program // 8 if grouping == "program_family" else 0
        if track not in seen and (track == n_pitched or not inst.is_drum):
            programs[track] = int(inst.program)  # a track takes its first instrument's program
            seen.add(track)
        index.append(track)
    return index, names, programs, flags

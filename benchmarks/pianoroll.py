"""MIDI -> piano roll throughput beside pretty_midi's get_piano_roll on the same files, in one process.

Files: the committed Bach chorale, a synthetic 3-minute band arrangement (6
instruments and drums on a 16th-note grid) and a synthetic 4-minute piano
performance (off-grid timing, sustain pedal). Both sides start from the same
parsed PrettyMIDI object (parsing is shared and not timed). The fs rows give
identical arrays on both sides (checked here); the beat-grid row has no
pretty_midi counterpart and is shown for scale.

    .venv/bin/python benchmarks/pianoroll.py
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pretty_midi

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_time, machine  # noqa: E402

from ganaudio.functional.pianoroll import midi_to_roll  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
FS = 100


def _reparse(midi: pretty_midi.PrettyMIDI) -> pretty_midi.PrettyMIDI:
    buf = io.BytesIO()
    midi.write(buf)
    return pretty_midi.PrettyMIDI(io.BytesIO(buf.getvalue()))


def band(seconds: float = 180.0, seed: int = 0) -> pretty_midi.PrettyMIDI:
    """Six pitched instruments and a drum kit, notes on a 16th-note grid at 120 qpm."""
    rng = np.random.default_rng(seed)
    midi = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    sixteenth = 0.125
    for program, lo, hi, density in ((0, 48, 84, 0.5), (33, 28, 52, 0.3), (25, 40, 76, 0.4), (48, 52, 88, 0.2),
                                     (56, 55, 82, 0.15), (73, 60, 96, 0.2), (None, 35, 60, 0.6)):
        inst = pretty_midi.Instrument(program=program or 0, is_drum=program is None)
        for step in range(int(seconds / sixteenth)):
            if rng.random() < density:
                length = 1 if program is None else int(rng.integers(1, 8))
                start = step * sixteenth
                inst.notes.append(pretty_midi.Note(int(rng.integers(30, 127)), int(rng.integers(lo, hi)), start,
                                                   start + length * sixteenth))
        midi.instruments.append(inst)
    return _reparse(midi)


def piano(seconds: float = 240.0, seed: int = 1) -> pretty_midi.PrettyMIDI:
    """A dense piano performance: off-grid onsets, chords, sustain pedal every two seconds."""
    rng = np.random.default_rng(seed)
    midi = pretty_midi.PrettyMIDI(initial_tempo=100.0)
    inst = pretty_midi.Instrument(program=0)
    t = 0.0
    while t < seconds:
        for _ in range(int(rng.integers(1, 4))):
            inst.notes.append(pretty_midi.Note(int(rng.integers(20, 120)), int(rng.integers(21, 108)), t,
                                               t + float(rng.uniform(0.05, 1.5))))
        t += float(rng.exponential(0.12))
    for k in range(int(seconds / 2)):
        inst.control_changes += [pretty_midi.ControlChange(64, 100, 2.0 * k + 0.1),
                                 pretty_midi.ControlChange(64, 0, 2.0 * k + 1.8)]
    midi.instruments.append(inst)
    return _reparse(midi)


def run(repeat: int = 5) -> str:
    files = [("bach_chorale.mid", pretty_midi.PrettyMIDI(str(SAMPLES / "bach_chorale.mid"))),
             ("band, 3 min (synthetic)", band()), ("piano + pedal, 4 min (synthetic)", piano())]
    lines = [
        (f"### MIDI to piano roll beside pretty_midi {pretty_midi.__version__} get_piano_roll "
         f"(median of {repeat}, parsing excluded)"),
        "",
        ("Same parsed PrettyMIDI on both sides. ganaudio returns one contiguous (tracks, time, pitch) float32 "
         "tensor; pretty_midi returns (128, time) float64 arrays, one per instrument in the per-instrument rows. "
         "The fs rows match pretty_midi exactly (checked); the beat-grid row has no pretty_midi counterpart."),
        "",
        "| file | notes | task | pretty_midi ms | ganaudio ms | speed-up |",
        "|---|---|---|---|---|---|",
    ]
    for name, midi in files:
        notes = sum(len(i.notes) for i in midi.instruments)
        merged_kw = {"fs": FS, "grouping": "merged", "drums": "drop", "separate_repeats": False}
        ours = midi_to_roll(midi, **merged_kw)[0][0].numpy()
        assert np.array_equal(ours, midi.get_piano_roll(fs=FS).T.astype(np.float32)), name
        tasks = [
            (f"fs={FS}, merged", lambda m=midi: m.get_piano_roll(fs=FS),
             lambda m=midi, kw=merged_kw: midi_to_roll(m, **kw)),
            (f"fs={FS}, per instrument", lambda m=midi: [i.get_piano_roll(fs=FS) for i in m.instruments],
             lambda m=midi: midi_to_roll(m, fs=FS, separate_repeats=False)),
            ("24 steps/beat, per instrument", None, lambda m=midi: midi_to_roll(m, resolution=24)),
        ]
        for task, baseline, mine in tasks:
            t_ours = best_time(mine, repeat=repeat)
            if baseline is None:
                lines.append(f"| {name} | {notes} | {task} | n/a | {1e3 * t_ours:.1f} | n/a |")
                continue
            t_base = best_time(baseline, repeat=repeat)
            lines.append(f"| {name} | {notes} | {task} | {1e3 * t_base:.1f} | {1e3 * t_ours:.1f} | "
                         f"{t_base / t_ours:.1f}x |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(machine())
    print(run())

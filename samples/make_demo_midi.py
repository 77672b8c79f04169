"""Write samples/bach_prelude.mid: the opening of J. S. Bach's Cello Suite No. 1 in G major, BWV 1007, Prelude.

Bars 1-8 (public domain), typed in here from the score as note names, one
half bar (eight sixteenths) per string: 128 notes, 72 quarter notes per
minute, General MIDI program 42 (cello), 26.7 s. The first note of each half
bar, the open-string bass the cello lets ring, is held for a quarter note;
the rest are legato sixteenths. Velocities lean on each beat.

    .venv/bin/python samples/make_demo_midi.py
"""

from __future__ import annotations

from pathlib import Path

import pretty_midi

from ganaudio.io import atomic_path

OUT = Path(__file__).parent / "bach_prelude.mid"
QPM = 72
PROGRAM = 42  # cello

# Bars 1-8, two half bars each.
HALF_BARS = [
    "G2 D3 B3 A3 B3 D3 B3 D3", "G2 D3 B3 A3 B3 D3 B3 D3",          # 1
    "G2 E3 C4 B3 C4 E3 C4 E3", "G2 E3 C4 B3 C4 E3 C4 E3",          # 2
    "G2 F#3 C4 B3 C4 F#3 C4 F#3", "G2 F#3 C4 B3 C4 F#3 C4 F#3",    # 3
    "G2 G3 B3 A3 B3 G3 B3 G3", "G2 G3 B3 A3 B3 G3 B3 G3",          # 4
    "G2 E3 B3 A3 B3 G3 F#3 G3", "E3 G3 F#3 G3 B2 D3 C#3 B2",       # 5
    "C#3 G3 A3 G3 A3 G3 A3 G3", "C#3 G3 A3 G3 A3 G3 A3 G3",        # 6
    "F#3 A3 D4 C#4 D4 A3 G3 A3", "F#3 A3 G3 A3 D3 F#3 E3 D3",      # 7
    "E2 B2 G3 F#3 G3 B2 G3 B2", "E2 B2 G3 F#3 G3 B2 G3 B2",        # 8
]


def prelude() -> pretty_midi.PrettyMIDI:
    """The excerpt as a one-track PrettyMIDI."""
    sixteenth = 60.0 / QPM / 4
    pm = pretty_midi.PrettyMIDI(initial_tempo=QPM)
    cello = pretty_midi.Instrument(program=PROGRAM, name="Cello")
    for h, half_bar in enumerate(HALF_BARS):
        for k, name in enumerate(half_bar.split()):
            start = (8 * h + k) * sixteenth
            length = 4 * sixteenth if k == 0 else sixteenth
            velocity = 92 if k == 0 else 80 if k == 4 else 70 if k % 2 == 0 else 64
            cello.notes.append(pretty_midi.Note(velocity=velocity, pitch=pretty_midi.note_name_to_number(name),
                                                start=start, end=start + length))
    pm.instruments.append(cello)
    return pm


def main() -> None:
    pm = prelude()
    with atomic_path(OUT) as tmp:
        pm.write(str(tmp))
    notes = pm.instruments[0].notes
    print(f"wrote {OUT}: {len(notes)} notes, {pm.get_end_time():.1f} s, MIDI {min(n.pitch for n in notes)}-"
          f"{max(n.pitch for n in notes)}")


if __name__ == "__main__":
    main()

"""A tiny real note folder rendered from TimGM6mb, shared by the data-cache and training tests."""

from __future__ import annotations

from pathlib import Path

import pytest

SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
PROGRAMS = (0, 24, 40, 73)          # piano, nylon guitar, violin, flute
PITCHES = (48, 55, 60, 67)


def render_tiny_notes(out: Path) -> Path:
    from ganaudio.data.notes import render_notes

    render_notes(SOUNDFONT, out, programs=PROGRAMS, pitches=PITCHES, velocities=(100,), duration=0.6,
                 release=0.2, workers=1, progress=False, split="note", split_fractions=(1.0, 0.0, 0.0))
    return out


@pytest.fixture(scope="session")
def note_folder(tmp_path_factory) -> Path:
    if not SOUNDFONT.is_file():
        pytest.skip(f"{SOUNDFONT} is not installed (apt-get install timgm6mb-soundfont)")
    pytest.importorskip("fluidsynth")
    return render_tiny_notes(tmp_path_factory.mktemp("notes"))

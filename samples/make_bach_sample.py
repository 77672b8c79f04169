"""Regenerate samples/bach_chorale.mid (run by hand, not by tests).

J. S. Bach's chorale "Christ unser Herr zum Jordan kam", BWV 66.6 (public
domain), from music21's bundled corpus: four tracks (Soprano, Alto, Tenor,
Bass), 96 qpm, 4/4, as music21 writes it. The file is committed so tests never
depend on music21's version.

    .venv/bin/python samples/make_bach_sample.py
"""

from __future__ import annotations

from pathlib import Path

import music21

from ganaudio.io import atomic_path

OUT = Path(__file__).parent / "bach_chorale.mid"


def main() -> None:
    score = music21.corpus.parse("bach/bwv66.6")
    with atomic_path(OUT) as tmp:
        score.write("midi", fp=str(tmp))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

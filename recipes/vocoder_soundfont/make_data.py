"""Training and held-out audio for the bundled 16 kHz vocoder: Bach chorales rendered through FluidR3_GM.

Chorales (music21 corpus, SATB MIDI): the 24 TRAIN_PIECES are rendered with the
training programs; the 6 TEST_PIECES (never seen in training) with two training
programs and three programs never used in training.

    python recipes/vocoder_soundfont/make_data.py --out data/vocoder

writes ``OUT/train/<program>/<piece>.wav`` and ``OUT/test/<program>/<piece>.wav`` (16 kHz mono).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from ganaudio.data import export_bach_chorales, render_midi

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
TRAIN_PIECES = ("bwv1.6", "bwv10.7", "bwv101.7", "bwv102.7", "bwv103.6", "bwv104.6", "bwv108.6", "bwv11.6",
                "bwv110.7", "bwv111.6", "bwv112.5-sc", "bwv112.5", "bwv113.8", "bwv114.7", "bwv115.6", "bwv116.6",
                "bwv117.4", "bwv119.9", "bwv12.7", "bwv120.6", "bwv120.8-a", "bwv121.6", "bwv122.6", "bwv123.6")
TEST_PIECES = ("bwv364", "bwv365", "bwv366", "bwv367", "bwv368", "bwv369")
# piano, church organ, violin, cello, trumpet, clarinet, flute
TRAIN_PROGRAMS = (0, 19, 40, 42, 56, 71, 73)
# seen timbres (piano, violin) and unseen ones (nylon guitar, alto sax, oboe)
TEST_PROGRAMS = (0, 40, 24, 65, 68)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--midi", type=Path, default=None, help="chorale MIDI folder (default: export from music21)")
    parser.add_argument("--sample-rate", type=int, default=16000)
    parser.add_argument("--extra-programs", type=int, nargs="*", default=(),
                        help="more GM programs for the training set (not the test programs)")
    args = parser.parse_args()

    midi_dir = args.midi or args.out / "midi"
    if args.midi is None:
        export_bach_chorales(midi_dir, workers=2)
    clash = sorted(set(args.extra_programs) & set(TEST_PROGRAMS))
    if clash:
        parser.error(f"--extra-programs {clash} are held-out test programs")
    train_programs = tuple(dict.fromkeys(TRAIN_PROGRAMS + tuple(args.extra_programs)))
    splits = {"train": ([midi_dir / f"{p}.mid" for p in TRAIN_PIECES], train_programs),
              "test": ([midi_dir / f"{p}.mid" for p in TEST_PIECES], TEST_PROGRAMS)}
    manifest = {}
    for split, (files, programs) in splits.items():
        with tempfile.TemporaryDirectory() as tmp:
            for f in files:
                shutil.copy(f, tmp)
            for program in programs:
                summary = render_midi(tmp, args.out / split / f"{program:03d}", soundfont=SOUNDFONT,
                                      program=program, sample_rate=args.sample_rate, progress=False)
                manifest[f"{split}/{program:03d}"] = {"pieces": [f.stem for f in files],
                                                      "seconds": summary["seconds"]}
                print(split, program, summary["rendered"] + summary["existing"], "pieces", summary["seconds"], "s")
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main()

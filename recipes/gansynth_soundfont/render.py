"""Render the tiny GANSynth note set from FluidR3_GM: 1 s notes, MIDI 36-84, the pitched GM programs.

Usage: python recipes/gansynth_soundfont/render.py OUT_DIR [--programs pitched|all-acoustic|0,24,40] [--workers 1]

``pitched`` (the default) is ganaudio.data.PITCHED_PROGRAMS: the 50 programs
whose real notes pYIN tracks on pitch, so the generated notes' pitch accuracy
is judged against a tracker that works on the real ones.
"""

from __future__ import annotations

import argparse
import json
import logging

from ganaudio.data.notes import render_notes
from ganaudio.data.soundfont import ACOUSTIC_PROGRAMS, PITCHED_PROGRAMS

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--soundfont", default=SOUNDFONT)
    parser.add_argument("--velocities", type=int, nargs="+", default=[100])
    parser.add_argument("--low", type=int, default=36)
    parser.add_argument("--high", type=int, default=84)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--programs", default="pitched")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # 1 s notes (0.75 s held, 0.25 s release): the tiny preset's 64 frames at hop 256 span 1.008 s.
    programs = {"pitched": PITCHED_PROGRAMS, "all-acoustic": ACOUSTIC_PROGRAMS}.get(args.programs)
    if programs is None:
        programs = [int(p) for p in args.programs.split(",")]
    summary = render_notes(args.soundfont, args.out_dir, programs=programs, pitches=range(args.low, args.high + 1),
                           velocities=args.velocities, sample_rate=16000, duration=1.0, release=0.25,
                           workers=args.workers, split="instrument", seed=0)
    print(json.dumps({k: summary[k] for k in ("examples", "silent", "clipped", "splits", "seconds", "bytes")
                      if k in summary}, indent=2))


if __name__ == "__main__":
    main()

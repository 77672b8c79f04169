"""Train the ddspgan_44k instrument on FluidR3_GM notes at 44.1 kHz (2 CPU cores: hours, resumable).

The same as ``ganaudio train ddspgan --preset 44k``, with the thread count
set for a machine shared with other work. Data (see README.md beside this file):

    ganaudio prepare notes --soundfont /usr/share/sounds/sf2/FluidR3_GM.sf2 -o data/fluidr3_44k \\
        --programs 0,4,6,11,12,19,21,24,25,32,40,41,42,43,45,46,48,52,56,57,58,60,65,66,68,70,71,73,74,75,104,105 \\
        --pitches 21-108 --velocities 40,80,120 --sample-rate 44100 --duration 2.5 --release 0.8

Run (``--resume`` continues exactly from the newest checkpoint; ``--init-from``
starts from the committed weights in recipes/ddspgan_44k/continue/):

    python recipes/ddspgan_44k/train.py --data data/fluidr3_44k --out runs/ddspgan_44k --steps 20000 [--resume]
"""

from __future__ import annotations

import argparse
import logging
import os

import torch

from ganaudio.presets import load_preset, parse_assignments
from ganaudio.train.run import run_training


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--init-from", default=None)
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GANAUDIO_THREADS", "2")))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # saturated GRU gates make denormals, 10-50x slower on CPUs
    preset = load_preset("44k", family="ddspgan", overrides=parse_assignments(args.assignments))
    run_training(preset, args.data, args.out, steps=args.steps, resume=args.resume, init_from=args.init_from,
                 seed=args.seed, progress=False, tensorboard=False)


if __name__ == "__main__":
    main()

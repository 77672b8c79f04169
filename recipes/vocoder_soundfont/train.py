"""Time-boxed CPU training of the bundled vocoder: resumable, checkpoint every chunk of steps.

    nice -n 10 python recipes/vocoder_soundfont/train.py --data data/vocoder/train --out runs/vocoder_16k \
        --minutes 35 --threads 2 [--resume]

Trains in chunks of ``--chunk`` steps (each ends with a checkpoint) until the next chunk would pass the
time budget; run it again with --resume to continue (same step, optimiser and RNG state).
"""

from __future__ import annotations

import argparse
import logging
import time

import torch

from ganaudio.presets import load_vocoder_preset, parse_assignments
from ganaudio.train.vocoder import build_vocoder_trainer

log = logging.getLogger("vocoder_recipe")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--preset", default="vocos")
    parser.add_argument("--minutes", type=float, default=35.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--init-from", default=None, metavar="MODEL_DIR",
                        help="start a new run from a model folder's generator and step (e.g. "
                             "ganaudio/assets/vocoder_16k); the discriminators and optimisers start fresh")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
                        help="override a preset setting (e.g. disc_start=3000); generator and discriminator "
                             "settings must stay those of the run being resumed")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    began = time.monotonic()
    preset = load_vocoder_preset(args.preset, overrides=parse_assignments(args.assignments))
    trainer = build_vocoder_trainer(args.data, args.out, preset, seed=args.seed, progress=False)
    if args.resume and args.init_from:
        parser.error("--resume and --init-from exclude each other")
    if args.resume:
        trainer.resume()
    elif args.init_from:
        trainer.init_from(args.init_from)
    budget, per_chunk = args.minutes * 60, 0.0
    while trainer.step < preset.steps:
        elapsed = time.monotonic() - began
        if elapsed + per_chunk > budget:
            break
        started = time.monotonic()
        metrics = trainer.fit(min(trainer.step + args.chunk, preset.steps))
        per_chunk = time.monotonic() - started
        log.info("step %d (%.0f s per chunk, %.0f min used): %s", trainer.step, per_chunk,
                     (time.monotonic() - began) / 60, {k: round(v, 4) for k, v in metrics.items()})


if __name__ == "__main__":
    main()

"""Train the bundled ddspgan_44k instrument on FluidR3_GM notes at 44.1 kHz (2 CPU cores: hours, resumable).

Data (see README.md beside this file):

    ganaudio prepare notes --soundfont /usr/share/sounds/sf2/FluidR3_GM.sf2 -o data/fluidr3_44k \
        --programs 0,4,6,11,12,19,21,24,25,32,40,41,42,43,45,46,48,52,56,57,58,60,65,66,68,70,71,73,74,75,104,105 \
        --pitches 21-108 --velocities 40,80,120 --sample-rate 44100 --duration 2.5 --release 0.8

Run (``--resume`` continues exactly from the newest checkpoint):

    python recipes/ddspgan_44k/train.py --data data/fluidr3_44k --out runs/ddspgan_44k --steps 20000 [--resume]
"""

from __future__ import annotations

import argparse
import logging
import os

import torch

from ganaudio.train.ddspgan import build_instrument_trainer

SETTINGS = dict(
    decoder=dict(sample_rate=44100, hop=256, z_dim=64, hidden=256, n_harmonics=727, n_envelope=96, n_detail=32,
                 n_noise_bands=65, max_cents=25.0, table_size=4096),
    encoder=dict(channels=128, n_mels=128),
    discriminator=dict(resolutions=((2048, 512, 128), (1024, 256, 96), (512, 128, 64)), channels=32),
    note_seconds=2.5, hold_seconds=1.7, batch_size=8, g_lr=5e-4, d_lr=2e-4, crop=32768,
    recon_weight=1.0, kl_weight=0.01, adv_weight=0.1, fm_weight=1.0, disc_start=3000,
    grad_clip=5.0, checkpoint_every=250, keep_checkpoints=3, sample_every=1000, log_every=10,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GANAUDIO_THREADS", "2")))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # saturated GRU gates make denormals, 10-50x slower on CPUs
    trainer = build_instrument_trainer(args.data, args.out, seed=args.seed, progress=False, tensorboard=False,
                                       **SETTINGS)
    trainer.fit(args.steps, resume=args.resume)


if __name__ == "__main__":
    main()

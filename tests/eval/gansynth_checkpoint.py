"""A small untrained GANSynth checkpoint folder (generator, EMA and discriminator), as the trainer writes it."""

from __future__ import annotations

from pathlib import Path

import torch

LOWEST, N_PITCHES = 48, 12  # MIDI 48-59


def write_gansynth_checkpoint(directory: Path, *, with_discriminator: bool = True) -> Path:
    from ganaudio.models.gansynth import Discriminator, Generator
    from ganaudio.representations import IFMel, Normalizer
    from ganaudio.train.checkpoint import save_checkpoint

    torch.manual_seed(0)
    rep = IFMel(sample_rate=16000, n_fft=1024, hop_length=512, n_mels=64)
    shape = (64, 32)
    G = Generator(latent_dim=8, n_pitches=N_PITCHES, lowest_pitch=LOWEST, image_shape=shape, channels=(16, 8, 8))
    D = Discriminator(n_pitches=N_PITCHES, lowest_pitch=LOWEST, image_shape=shape, channels=(16, 8, 8),
                      projection=True, spectral_profile=True)
    modules = {"generator": G, "generator_ema": G}
    config = {"family": "gansynth", "generator": G.config(), "representation": rep.config(), "n_frames": 32,
              "normalizer": Normalizer(center=(-5.0, 0.0), scale=(8.0, 1.0)).to_dict()}
    if with_discriminator:
        modules["discriminator"] = D
        config["discriminator"] = D.config()
    return save_checkpoint(directory, step=1, modules=modules, config=config)

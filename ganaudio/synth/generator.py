"""A trained GANSynth generator: load it from a model folder, generate notes and decode them to audio.

:func:`load_gansynth` is what :func:`ganaudio.load` and the evaluation read;
:func:`generate_notes` gives one waveform per (pitch, seed), reproducibly;
:func:`sample_notes` the fixed per-pitch samples a training run writes.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from ganaudio.loading import build_from_config, load_weights, open_model
from ganaudio.models.gansynth import Generator
from ganaudio.representations import Normalizer, from_config

__all__ = ["BUNDLED_MODEL", "generate_notes", "load_gansynth", "sample_notes"]

BUNDLED_MODEL = "gansynth_tiny"


def sample_notes(generator: Generator, representation, normalizer, pitches, *, seed: int = 0,
                 n_iter: int = 8, n_frames: int | None = None) -> dict:
    """One note per MIDI pitch from ``generator``, decoded to audio: ``{"pitch_060": (wave (time,), rate)}``.

    The same seed gives the same latent vectors at every call, so samples from
    successive checkpoints are comparable.
    """
    device = next(generator.parameters()).device
    z = torch.randn(len(pitches), generator.latent_dim, generator=torch.Generator().manual_seed(seed)).to(device)
    spec = generator(z, generator.pitch_index(list(pitches)).to(device)).float().cpu()
    spec = normalizer.denormalize(spec)
    length = representation.samples_for(n_frames or spec.shape[-1])
    waves = representation.decode(spec, length=length, method="phase-griffinlim", n_iter=n_iter)
    out = {}
    for pitch, wave in zip(pitches, waves.numpy()):
        peak = float(np.abs(wave).max())
        out[f"pitch_{pitch:03d}"] = (wave / max(peak / 0.9, 1.0), representation.sample_rate)
    return out


def load_gansynth(name_or_path: str | os.PathLike | None = None, *, device: str | torch.device = "cpu",
                  ema: bool = True):
    """A trained generator: ``(generator, representation, normalizer, config)``, the generator in eval mode.

    ``name_or_path`` is a bundled model's name (None: ``gansynth_tiny``), a model or checkpoint
    folder, or a run folder (its newest checkpoint). ``ema`` picks the EMA weights (what samples
    and releases use) when the folder has them.

    Raises
    ------
    CheckpointError
        If the folder is not a GANSynth checkpoint or its weights do not fit its config.

    Examples
    --------
    >>> G, rep, normalizer, config = load_gansynth("gansynth_tiny")
    >>> G.latent_dim
    64
    """
    folder = open_model(name_or_path, family="gansynth", what="GANSynth model", default=BUNDLED_MODEL)
    generator, rep, normalizer = build_from_config(folder, lambda c: (
        Generator.from_config(c["generator"]), from_config(c["representation"]), Normalizer.from_dict(c["normalizer"])))
    load_weights(generator, folder, keys=("generator_ema", "generator") if ema else ("generator",))
    return generator.to(device).eval(), rep, normalizer, folder.config


@torch.no_grad()
def generate_notes(generator: Generator, representation, normalizer, pitches, seeds, *, n_iter: int = 16,
                   batch_size: int = 64) -> np.ndarray:
    """Waveforms ``(len(pitches), time)`` for MIDI ``pitches`` with one latent per entry of ``seeds``."""
    device = next(generator.parameters()).device
    waves = []
    for start in range(0, len(pitches), batch_size):
        p = list(pitches[start:start + batch_size])
        z = torch.stack([torch.randn(generator.latent_dim, generator=torch.Generator().manual_seed(int(s)))
                         for s in seeds[start:start + batch_size]]).to(device)
        spec = normalizer.denormalize(generator(z, generator.pitch_index(p).to(device)).float().cpu())
        length = representation.samples_for(spec.shape[-1])
        waves.append(representation.decode(spec, length=length, method="phase-griffinlim", n_iter=n_iter).numpy())
    return np.concatenate(waves)

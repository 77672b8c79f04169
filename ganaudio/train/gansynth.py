"""GANSynth training: its losses (:class:`ConditionalGANLoss`) and batches (notes from the feature cache).

``build_gansynth_trainer`` goes preset -> feature cache -> models -> :class:`~ganaudio.train.engine.GANTrainer`;
``grow_gansynth`` widens a trained model's inputs for a continued run.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import ganaudio.losses as losses
import ganaudio.train.distributed as dist_utils
from ganaudio.data.cache import build_note_cache
from ganaudio.data.datasets import NoteDataset
from ganaudio.errors import CheckpointError, DataError, ParameterError
from ganaudio.loading import read_model_folder, write_model_folder
from ganaudio.models.gansynth import Discriminator, Generator
from ganaudio.presets.base import apply_overrides
from ganaudio.presets.gansynth import PRESETS, GANSynthPreset
from ganaudio.synth.generator import sample_notes
from ganaudio.train.engine import GANObjective, GANTrainer, Step
from ganaudio.train.periodicity import PeriodicityPrior
from ganaudio.train.resume import same_config

__all__ = ["ConditionalGANLoss", "build_gansynth_trainer", "grow_gansynth", "oversampled_order", "periodicity_prior"]

log = logging.getLogger(__name__)


class ConditionalGANLoss(GANObjective):
    """Class-conditional GAN losses (GANSynth's AC-GAN with ProGAN's penalties) over ``(images, labels)`` batches.

    The generator is called ``G(z (B, latent_dim), labels (B,))`` (with ``G.latent_dim``); the discriminator
    returns ``(score (B,), class_logits (B, K))`` from ``D(x, labels)``.

    Parameters
    ----------
    loss : {"nonsaturating", "hinge", "wgan", "lsgan"}
    gp_weight, r1_weight, drift_weight, aux_weight : float
        WGAN-GP, R1 (applied as ``r1_weight / 2 * R1``), ProGAN drift and AC-GAN weights; 0 turns one off
        (``aux_weight=0``: no classifier terms at all, as MuseGAN trains).
    r1_every : int
        Lazy R1 (StyleGAN2): apply it every this many steps, scaled up by the same factor.
    aux_fake_in_d : bool
        Also train the discriminator's classifier on fakes (GANSynth) rather than on real notes only.
    mode_seeking_weight, mode_seeking_ceiling : float
        MSGAN's mode-seeking term against mode collapse (0 = off): the generator
        batch's second half repeats the first half's labels with fresh latents,
        and :func:`ganaudio.losses.mode_seeking_loss` of the pairs is added to
        the generator loss, each pair's output/latent distance ratio capped at the ceiling.
    generator_penalty : callable, optional
        ``(fake (B, ...), labels (B,)) -> scalar`` added to the generator loss
        with weight ``generator_penalty_weight`` and reported as ``g_penalty``
        (e.g. :class:`ganaudio.train.periodicity.PeriodicityPrior`).
    """

    def __init__(self, *, loss: str = "hinge", gp_weight: float = 0.0, r1_weight: float = 0.0, r1_every: int = 1,
                 drift_weight: float = 0.0, aux_weight: float = 1.0, aux_fake_in_d: bool = False,
                 mode_seeking_weight: float = 0.0, mode_seeking_ceiling: float = float("inf"),
                 generator_penalty: Callable | None = None, generator_penalty_weight: float = 0.0):
        if r1_every < 1:
            raise ParameterError(f"r1_every must be >= 1, got {r1_every}")
        self.d_adv, self.g_adv = losses.adversarial_losses(loss)
        self.weights = dict(gp=float(gp_weight), r1=float(r1_weight), drift=float(drift_weight), aux=float(aux_weight),
                            ms=float(mode_seeking_weight), penalty=float(generator_penalty_weight))
        self.r1_every, self.aux_fake_in_d, self.ms_ceiling = int(r1_every), bool(aux_fake_in_d), float(mode_seeking_ceiling)
        self.generator_penalty = generator_penalty if generator_penalty_weight else None

    def d_loss(self, step: Step) -> tuple[torch.Tensor, dict]:
        real, labels = step.batch
        w, G, D = self.weights, step.G, step.D
        z = torch.randn(real.shape[0], G.latent_dim, generator=step.generator).to(step.device)
        with step.autocast():
            with torch.no_grad():
                fake = G(z, labels)
            real_score, real_logits = D(real, labels)
            fake_score, fake_logits = D(fake, labels)
        real_score, fake_score = real_score.float(), fake_score.float()
        d_loss = d_adv = self.d_adv(real_score, fake_score)
        metrics = {"d_adv": d_adv}
        if w["aux"]:
            d_aux = losses.aux_classifier_loss(real_logits, labels)
            if self.aux_fake_in_d:
                d_aux = (d_aux + losses.aux_classifier_loss(fake_logits, labels)) / 2
            d_loss = d_adv + w["aux"] * d_aux
            metrics.update(d_aux=d_aux, aux_acc_real=(real_logits.argmax(dim=1) == labels).float().mean())
        critic = lambda x: D(x, labels)[0]
        if w["gp"]:
            metrics["gp"] = losses.gradient_penalty(critic, real, fake.float(), generator=step.generator)
            d_loss = d_loss + w["gp"] * metrics["gp"]
        if w["r1"] and step.index % self.r1_every == 0:
            metrics["r1"] = losses.r1_penalty(critic, real)
            d_loss = d_loss + w["r1"] * self.r1_every / 2 * metrics["r1"]
        if w["drift"]:
            d_loss = d_loss + w["drift"] * losses.drift_penalty(real_score)
        return d_loss, metrics

    def g_loss(self, step: Step) -> tuple[torch.Tensor, dict]:
        real, labels = step.batch
        w, B = self.weights, real.shape[0]
        z = torch.randn(B, step.G.latent_dim, generator=step.generator).to(step.device)
        half = B // 2 if w["ms"] else 0
        if half:  # pairs (i, half + i) share a label and differ in latent
            labels = torch.cat([labels[:half], labels[:half], labels[2 * half:]])
        with step.autocast():
            fake = step.G(z, labels)
            fake_score, fake_logits = step.D(fake, labels)
        g_loss = g_adv = self.g_adv(fake_score.float())
        metrics = {"g_adv": g_adv}
        if w["aux"]:
            g_aux = losses.aux_classifier_loss(fake_logits, labels)
            g_loss = g_adv + w["aux"] * g_aux
            metrics.update(g_aux=g_aux, aux_acc_fake=(fake_logits.argmax(dim=1) == labels).float().mean())
        if half:
            metrics["ms"] = losses.mode_seeking_loss(fake[:half], fake[half:2 * half], z[:half], z[half:2 * half],
                                                     ceiling=self.ms_ceiling)
            g_loss = g_loss + w["ms"] * metrics["ms"]
        if self.generator_penalty is not None:
            metrics["g_penalty"] = self.generator_penalty(fake.float(), labels)
            g_loss = g_loss + w["penalty"] * metrics["g_penalty"]
        return g_loss, metrics


def oversampled_order(pitches, *, below: int, repeats: int) -> torch.Tensor:
    """Example indices ``(n,)`` in which every note below MIDI ``below`` appears ``repeats`` times.

    Examples
    --------
    >>> oversampled_order(torch.tensor([40, 60, 50]), below=55, repeats=2).tolist()
    [0, 1, 2, 0, 2]
    """
    pitches = torch.as_tensor(pitches)
    everything = torch.arange(len(pitches))
    low = everything[pitches < below]
    return torch.cat([everything] + [low] * (int(repeats) - 1))


def build_gansynth_trainer(data: str | os.PathLike, out: str | os.PathLike, preset: GANSynthPreset, *,
                           seed: int = 0, device: str | torch.device = "cpu",
                           cache_dir: str | os.PathLike | None = None, progress: bool = True,
                           dist: dist_utils.DistInfo | None = None, tensorboard: bool = True) -> GANTrainer:
    """Everything a GANSynth run needs, ready for ``trainer.fit(preset.steps, resume=...)``.

    The feature cache goes to ``cache_dir`` (default ``<data>/.ganaudio-cache``).
    """
    dist = dist or dist_utils.DistInfo(device=torch.device(device))
    rep = preset.representation()
    cache_dir = Path(cache_dir) if cache_dir is not None else Path(data) / ".ganaudio-cache"
    if dist.is_main:
        build_note_cache(data, cache_dir, representation=rep, n_frames=preset.n_frames, split=preset.split,
                         pitch_range=(preset.pitch_min, preset.pitch_max), sources=preset.sources, progress=progress)
    dist_utils.barrier(dist)
    cache = build_note_cache(data, cache_dir, representation=rep, n_frames=preset.n_frames, split=preset.split,
                             pitch_range=(preset.pitch_min, preset.pitch_max), sources=preset.sources)
    dataset = NoteDataset(cache)
    present = sorted(set(dataset.pitches.tolist()))
    log.info("%d notes, %d instruments, pitches %s", len(dataset), len(cache.instruments), present)
    if len(dataset) < 2:
        raise DataError(f"{data}: only {len(dataset)} usable note(s); a GAN needs many")

    torch.manual_seed(seed)
    G = Generator(**preset.generator_kwargs())
    D = Discriminator(**preset.discriminator_kwargs())

    penalty = periodicity_prior(dataset, rep, cache.normalizer, preset) if preset.periodicity_weight else None
    order = oversampled_order(dataset.pitches, below=preset.low_pitch_below, repeats=preset.low_pitch_repeats)

    def batch_fn(indices: torch.Tensor, generator: torch.Generator | None = None):
        spec, pitch, _velocity, _instrument = dataset.batch(order[indices])
        return spec, pitch - preset.pitch_min

    def sample_fn(generator, step):
        return sample_notes(generator, rep, cache.normalizer, preset.sample_pitches, seed=seed,
                            n_iter=preset.griffinlim_iters)

    config = {
        "family": "gansynth",
        "representation": rep.config(),
        "n_frames": preset.n_frames,
        "normalizer": cache.normalizer.to_dict(),
        "preset": preset.to_dict(),
        "data": {"root": str(Path(data).resolve()), "cache_key": cache.path.name, "notes": len(dataset),
                 "instruments": cache.instruments, "pitches": present, "seed": seed, "skipped": cache.skipped},
    }
    objective = ConditionalGANLoss(
        loss=preset.loss, gp_weight=preset.gp_weight, r1_weight=preset.r1_weight, r1_every=preset.r1_every,
        drift_weight=preset.drift_weight, aux_weight=preset.aux_weight, aux_fake_in_d=preset.aux_fake_in_d,
        mode_seeking_weight=preset.mode_seeking_weight, mode_seeking_ceiling=preset.mode_seeking_ceiling,
        generator_penalty=penalty, generator_penalty_weight=preset.periodicity_weight)
    return GANTrainer(
        G, D, objective=objective, batch_fn=batch_fn, n_examples=len(order), out_dir=out,
        batch_size=preset.batch_size, g_lr=preset.g_lr, d_lr=preset.d_lr, betas=(preset.beta1, preset.beta2),
        ema_decay=preset.ema_decay,
        grad_clip=preset.grad_clip, warmup_steps=preset.warmup_steps,
        max_bad_steps=preset.max_bad_steps, mixed_precision=preset.mixed_precision, log_every=preset.log_every,
        sample_every=preset.sample_every, checkpoint_every=preset.checkpoint_every,
        keep_checkpoints=preset.keep_checkpoints, checkpoint_config=config, sample_fn=sample_fn, seed=seed,
        device=device, dist=dist, progress=progress, tensorboard=tensorboard,
    )


def periodicity_prior(dataset: NoteDataset, representation, normalizer, preset: GANSynthPreset) -> PeriodicityPrior:
    """The :class:`PeriodicityPrior` for ``preset``'s pitches, its reference fitted on ``dataset``'s real notes."""
    import librosa

    pitch_hz = librosa.midi_to_hz(np.arange(preset.pitch_min, preset.pitch_max + 1))
    try:
        prior = PeriodicityPrior(representation.band_frequencies(), pitch_hz, center=normalizer.center[0],
                                 scale=normalizer.scale[0], target=preset.periodicity_target)
    except ParameterError as exc:
        raise ParameterError(f"periodicity_weight needs mel bands that resolve every pitch's harmonics: {exc}; "
                             f"raise n_mels or set periodicity_weight=0") from None

    def batches(size: int = 256):
        for start in range(0, len(dataset), size):
            spec, pitch, _velocity, _instrument = dataset.batch(torch.arange(start, min(start + size, len(dataset))))
            yield spec, pitch - preset.pitch_min

    reference = prior.fit_reference(batches())
    log.info("periodicity prior: real notes' median aperiodicity %.3f (per pitch %.3f-%.3f)",
             float(reference.median()), float(reference.min()), float(reference.max()))
    return prior




def _grown_state(old: dict[str, torch.Tensor], module: torch.nn.Module, what: str) -> dict[str, torch.Tensor]:
    """``old`` weights fitted to ``module``: new input channels get zero weights, new layers keep their init.

    An equalised convolution that gained input channels has its old weights
    scaled by ``sqrt(new fan-in / old fan-in)``, which cancels the change in
    its run-time constant, so the grown network computes what the old one
    did; a plain convolution keeps its weights as they were.
    """
    state = module.state_dict()
    unused = sorted(set(old) - set(state))
    if unused:
        raise CheckpointError(f"the {what} weights {unused[:3]} have no place in the grown {what}")
    for key, value in old.items():
        target = state[key]
        if value.shape == target.shape:
            state[key] = value.clone()
        elif value.ndim == 4 and value.shape[0] == target.shape[0] and value.shape[1] < target.shape[1] \
                and value.shape[2:] == target.shape[2:]:
            owner = module.get_submodule(key.rpartition(".")[0])
            rescale = math.sqrt(target.shape[1] / value.shape[1]) if getattr(owner, "equalized", False) else 1.0
            grown = torch.zeros_like(target)
            grown[:, :value.shape[1]] = value * rescale
            state[key] = grown
        else:
            raise CheckpointError(f"{what} weight {key} has shape {tuple(value.shape)}; the grown {what} needs "
                                  f"{tuple(target.shape)}, which growing by input channels cannot give")
    return state


def grow_gansynth(path: str | os.PathLike, out: str | os.PathLike, *, harmonic_input: bool | None = None,
                  freq_branch: int | None = None, seed: int = 0) -> Path:
    """A trained GANSynth model folder with the harmonic comb input and/or the frequency branch added.

    The grown networks compute what the old ones did (new input channels and
    the branch's output layer start at zero), so training goes on from the
    old model's quality with ``--init-from out`` and the matching ``--set``
    options. ``None`` keeps a setting as it was. Writes ``out`` atomically.

    Examples
    --------
    >>> grow_gansynth("ganaudio/assets/gansynth_tiny", "runs/grown", harmonic_input=True,
    ...               freq_branch=64)   # doctest: +SKIP
    """
    config, states = read_model_folder(path)
    if config.get("family") != "gansynth" or "preset" not in config:
        raise CheckpointError(f"{path} is not a GANSynth model folder with its preset")
    changes = {k: v for k, v in (("harmonic_input", harmonic_input), ("freq_branch", freq_branch)) if v is not None}
    settings = {k: v for k, v in config["preset"].items() if k in PRESETS["paper"].to_dict()}
    preset = apply_overrides(PRESETS["paper"], {**settings, **changes})
    old_preset = apply_overrides(PRESETS["paper"], settings)
    for module, key in ((Generator(**old_preset.generator_kwargs()), "generator"),
                        (Discriminator(**old_preset.discriminator_kwargs()), "discriminator")):
        if key in config and not same_config(module, config[key]):
            raise CheckpointError(f"{path}: its {key} does not match its preset; cannot grow it")
    torch.manual_seed(seed)
    G, D = Generator(**preset.generator_kwargs()), Discriminator(**preset.discriminator_kwargs())
    tensors = {}
    for name, module in (("generator", G), ("generator_ema", G), ("discriminator", D)):
        if name in states:
            for key, value in _grown_state(states[name], module, name).items():
                tensors[f"{name}.{key}"] = value
    config = {**config, "generator": G.config(), "discriminator": D.config(), "preset": preset.to_dict(),
              "grown_from": str(path)}
    return write_model_folder(out, tensors=tensors, config=config)

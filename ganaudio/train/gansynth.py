"""GANSynth training entry point: preset -> feature cache -> models -> :class:`GANTrainer`."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np
import torch

from ganaudio.data.cache import build_note_cache
from ganaudio.data.datasets import NoteDataset
from ganaudio.errors import DataError, ParameterError
from ganaudio.models.gansynth import Discriminator, Generator
from ganaudio.presets.gansynth import GANSynthPreset
from ganaudio.train import distributed as dist_utils
from ganaudio.train.engine import GANTrainer
from ganaudio.train.periodicity import PeriodicityPrior

__all__ = ["build_gansynth_trainer", "generate_notes", "grow_gansynth", "load_gansynth", "oversampled_order",
           "periodicity_prior", "sample_notes", "train_gansynth"]

log = logging.getLogger(__name__)


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


def load_gansynth(path: str | os.PathLike, *, device: str | torch.device = "cpu", ema: bool = True):
    """A trained generator from a checkpoint / model folder: ``(generator, representation, normalizer, config)``.

    ``ema`` picks the EMA weights (what samples and releases use) when the folder has them.

    Raises
    ------
    CheckpointError
        If the folder is not a GANSynth checkpoint or its weights do not fit its config.
    """
    from ganaudio.errors import CheckpointError
    from ganaudio.representations import Normalizer, from_config
    from ganaudio.train.checkpoint import load_checkpoint

    config, states = load_checkpoint(path)
    if config.get("family") != "gansynth":
        raise CheckpointError(f"{path} holds a {config.get('family')!r} model, not gansynth")
    try:
        generator = Generator.from_config(config["generator"])
        rep = from_config(config["representation"])
        normalizer = Normalizer.from_dict(config["normalizer"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}/config.json lacks or garbles {exc}") from None
    name = "generator_ema" if ema and "generator_ema" in states else "generator"
    try:
        generator.load_state_dict(states[name])
    except (KeyError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: generator weights do not fit its config ({str(exc).splitlines()[0]})") from None
    return generator.to(device).eval(), rep, normalizer, config


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

    def batch_fn(indices: torch.Tensor):
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
    return GANTrainer(
        G, D, batch_fn=batch_fn, n_examples=len(order), out_dir=out, batch_size=preset.batch_size,
        g_lr=preset.g_lr, d_lr=preset.d_lr, betas=(preset.beta1, preset.beta2), loss=preset.loss,
        gp_weight=preset.gp_weight, r1_weight=preset.r1_weight, r1_every=preset.r1_every,
        drift_weight=preset.drift_weight, aux_weight=preset.aux_weight,
        mode_seeking_weight=preset.mode_seeking_weight, mode_seeking_ceiling=preset.mode_seeking_ceiling,
        generator_penalty=penalty, generator_penalty_weight=preset.periodicity_weight,
        aux_fake_in_d=preset.aux_fake_in_d, ema_decay=preset.ema_decay,
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


def train_gansynth(data: str | os.PathLike, out: str | os.PathLike, preset: GANSynthPreset, *,
                   steps: int | None = None, resume: bool = False, seed: int = 0, device: str = "cpu",
                   cache_dir: str | os.PathLike | None = None, progress: bool = True,
                   init_from: str | os.PathLike | None = None) -> dict:
    """Train (or resume) a GANSynth run; torchrun's environment makes it data-parallel. Returns the last metrics.

    The metrics carry ``data_skipped``: ``{"data": SkipReport.to_dict()}`` of the notes left out as unusable.

    ``init_from`` starts a new run from a model folder's weights and step
    (e.g. the bundled ganaudio/assets/gansynth_tiny) with fresh optimizers.

    Examples
    --------
    >>> from ganaudio.presets import load_preset
    >>> train_gansynth("data/notes", "runs/tiny", load_preset("tiny"), steps=2000)   # doctest: +SKIP
    """
    dist = dist_utils.init_distributed(device)
    try:
        trainer = build_gansynth_trainer(data, out, preset, seed=seed, device=dist.device, cache_dir=cache_dir,
                                         progress=progress, dist=dist)
        metrics = trainer.fit(steps or preset.steps, resume=resume, init_from=init_from)
        return {**metrics, "data_skipped": {"data": trainer.checkpoint_config["data"]["skipped"]}}
    finally:
        dist_utils.shutdown(dist)


def _grown_state(old: dict[str, torch.Tensor], module: torch.nn.Module, what: str) -> dict[str, torch.Tensor]:
    """``old`` weights fitted to ``module``: new input channels get zero weights, new layers keep their init.

    An equalised convolution that gained input channels has its old weights
    scaled by ``sqrt(new fan-in / old fan-in)``, which cancels the change in
    its run-time constant, so the grown network computes what the old one
    did; a plain convolution keeps its weights as they were.
    """
    from ganaudio.errors import CheckpointError

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
    from ganaudio.errors import CheckpointError
    from ganaudio.presets.gansynth import PRESETS, apply_overrides
    from ganaudio.train.checkpoint import load_checkpoint, write_model_folder
    from ganaudio.train.engine import same_config

    config, states = load_checkpoint(path)
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

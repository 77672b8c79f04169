"""Saving a trainer and taking it up again: checkpoints with exact resume, and runs started from a model folder.

A checkpoint holds the generator, its EMA and the discriminator
(``model.safetensors``), their constructor arguments and the run's
``checkpoint_config`` (``config.json``), and the optimizers, RNG states,
step and warm-up start (``train_state.pt``); see :mod:`ganaudio.train.checkpoint`.
"""

from __future__ import annotations

import inspect
import logging
from pathlib import Path

import torch

import ganaudio.train.distributed as dist_utils
from ganaudio.errors import CheckpointError
from ganaudio.train.checkpoint import (
    config_differences,
    latest_checkpoint,
    load_checkpoint,
    load_train_state,
    save_checkpoint,
)

__all__ = ["check_same_run", "init_trainer_from", "resume_trainer", "same_config", "save_trainer"]

log = logging.getLogger(__name__)


def same_config(module: torch.nn.Module, stored: dict | None) -> bool:
    """Whether ``module`` was built with the constructor arguments ``stored`` (a checkpoint's config entry).

    Arguments a checkpoint predates (added since, with defaults that keep the
    old behaviour) count as their defaults, so an old checkpoint still matches.
    """
    if not isinstance(stored, dict):
        return False
    defaults = {name: p.default for name, p in inspect.signature(type(module)).parameters.items()
                if p.default is not inspect.Parameter.empty}
    current = module.config()
    filled = {k: defaults[k] for k in current if k not in stored and k in defaults}
    return {**filled, **stored} == current


def save_trainer(trainer) -> Path | None:
    """Write a checkpoint of ``trainer``'s current step (rank 0 only; every rank waits for it)."""
    path = None
    if trainer.dist.is_main:
        config = {"generator": trainer.G.config(), "discriminator": trainer.D.config(), **trainer.checkpoint_config}
        state = {"step": trainer.step, "bad_steps": trainer.bad_steps, "seed": trainer.seed,
                 "warmup_start": trainer.warmup_start,
                 "optimizer_g": trainer.opt_g.state_dict(), "optimizer_d": trainer.opt_d.state_dict(),
                 "rng_torch": torch.get_rng_state(),
                 "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}
        path = save_checkpoint(trainer.ckpt_dir, step=trainer.step, modules=trainer.modules(), config=config,
                               train_state=state, keep=trainer.keep_checkpoints)
    dist_utils.barrier(trainer.dist)
    return path


def _load_state(module: torch.nn.Module, state: dict, path, name: str) -> None:
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: {name} weights do not fit ({str(exc).splitlines()[0]})") from None


def resume_trainer(trainer, path=None) -> int:
    """Load the newest checkpoint of ``trainer``'s run (or ``path``): weights, optimizers, RNG and step.

    Returns the step.

    Raises
    ------
    CheckpointError
        If there is nothing to resume, the checkpoint was built with other settings, or it has no train state.
    """
    path = path or latest_checkpoint(trainer.ckpt_dir)
    if path is None:
        raise CheckpointError(f"nothing to resume: {trainer.ckpt_dir} holds no complete checkpoint")
    config, states = load_checkpoint(path)
    check_same_run(trainer, path, config)
    for name, module in trainer.modules().items():
        if name not in states:
            raise CheckpointError(f"{path}/model.safetensors has no {name} weights")
        _load_state(module, states[name], path, name)
    state = load_train_state(path)
    if state is None:
        raise CheckpointError(f"{path} has no train_state.pt; it can be loaded as a model but not resumed")
    trainer.opt_g.load_state_dict(state["optimizer_g"])
    trainer.opt_d.load_state_dict(state["optimizer_d"])
    torch.set_rng_state(state["rng_torch"])
    if state.get("rng_cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng_cuda"])
    trainer.step, trainer.bad_steps = int(state["step"]), int(state["bad_steps"])
    trainer.warmup_start = int(state.get("warmup_start", 0))
    log.info("resumed from %s at step %d", path, trainer.step)
    return trainer.step


def check_same_run(trainer, path, config: dict) -> None:
    """CheckpointError naming only the fields that differ, if ``config`` is not ``trainer``'s family and models."""
    family = trainer.checkpoint_config.get("family")
    if family is not None and config.get("family") != family:
        raise CheckpointError(f"{path} holds a {config.get('family')!r} run, this is {family!r}; write this run to "
                              f"a new output folder", remedy="new-folder")
    parts = []
    for key, module in (("generator", trainer.G), ("discriminator", trainer.D)):
        stored = config.get(key)
        if same_config(module, stored):
            continue
        if not parts and isinstance(config.get("preset"), dict) and "preset" in trainer.checkpoint_config:
            preset = config_differences(config["preset"], trainer.checkpoint_config["preset"])
            if preset:
                parts.append("preset differs: " + "; ".join(preset))
        changed = config_differences(stored if isinstance(stored, dict) else {}, module.config(), limit=4)
        parts.append(f"{key} differs: " + "; ".join(changed or ["its layout"]))
    if parts:
        raise CheckpointError(f"{path} cannot be resumed by this run: {'; '.join(parts)}. Use the same settings, "
                              f"or a new output folder", remedy="same-settings")


def init_trainer_from(trainer, path) -> int:
    """Start ``trainer`` from the weights of a model folder that has no optimizer state (a bundled model).

    Generator, discriminator and EMA weights and the step count come from
    ``path``; the optimizers start fresh. A folder with one generator gives
    it to both the generator and its EMA; a folder without discriminator
    weights (an exported vocoder), or with a discriminator of other
    settings (a wider one for a continued run), leaves the discriminator
    freshly initialised. This is how a run continues on a machine that has only
    the committed weights. Returns the step.
    """
    config, states = load_checkpoint(path)
    if not same_config(trainer.G, config.get("generator")):
        raise CheckpointError(f"{path} was saved with generator {config.get('generator')}, but this run builds "
                              f"{trainer.G.config()}; use the same settings", remedy="same-settings")
    for name, module in trainer.modules().items():
        source = name if name in states else "generator" if name == "generator_ema" else None
        if name == "discriminator" and source is None:
            log.info("%s has no discriminator weights; the discriminator starts fresh", path)
            continue
        if name == "discriminator" and not same_config(module, config.get("discriminator")):
            log.warning("%s holds a discriminator with other settings (%s); this run's %s starts fresh", path,
                        config.get("discriminator"), module.config())
            continue
        if source not in states:
            raise CheckpointError(f"{path}/model.safetensors has no {name} weights")
        _load_state(module, states[source], path, name)
    trainer.step = trainer.warmup_start = int(config.get("step", 0))
    log.info("initialised from %s at step %d (fresh optimizer state)", path, trainer.step)
    return trainer.step

"""One way to train any family: ``run_training(preset, data, out)`` builds the family's trainer and fits it.

The family comes from the preset's class; each family's builder
(``build_<family>_trainer``) is listed once, in :data:`BUILDERS`. Under
torchrun the run is data-parallel (:func:`ganaudio.train.distributed.init_distributed`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import ganaudio.train.distributed as dist_utils
from ganaudio.errors import ParameterError
from ganaudio.presets import FAMILY_PRESETS, Preset
from ganaudio.train.cyclegan import build_cyclegan_trainer
from ganaudio.train.ddspgan import build_ddspgan_trainer
from ganaudio.train.gansynth import build_gansynth_trainer
from ganaudio.train.musegan import build_musegan_trainer
from ganaudio.train.vocoder import build_vocoder_trainer

__all__ = ["BUILDERS", "data_skipped", "family_of", "run_training", "train_gansynth", "train_vocoder"]

# family -> builder(*data, out, preset, *, seed, device, progress, dist, tensorboard, **extra) -> trainer
BUILDERS: dict[str, Callable] = {
    "gansynth": build_gansynth_trainer,
    "musegan": build_musegan_trainer,
    "vocoder": build_vocoder_trainer,
    "cyclegan": build_cyclegan_trainer,
    "ddspgan": build_ddspgan_trainer,
}


def family_of(preset: Preset) -> str:
    """The family name of a preset (``"gansynth"`` for a :class:`~ganaudio.presets.GANSynthPreset`)."""
    for family, (presets, _default) in FAMILY_PRESETS.items():
        if isinstance(preset, type(next(iter(presets.values())))):
            return family
    raise ParameterError(f"{type(preset).__name__} is no family's preset; families: {sorted(FAMILY_PRESETS)}")


def run_training(preset: Preset, data: str | os.PathLike | Sequence[str | os.PathLike], out: str | os.PathLike, *,
                 steps: int | None = None, resume: bool = False, init_from: str | os.PathLike | None = None,
                 seed: int = 0, device: str = "cpu", progress: bool = True, tensorboard: bool = True,
                 **extra) -> dict:
    """Train (or resume) a run of ``preset``'s family; returns the last logged metrics.

    The metrics carry ``data_skipped``: ``{source: SkipReport.to_dict()}`` of the files left out as
    unusable (see :func:`data_skipped`).

    Parameters
    ----------
    preset : Preset
        From :func:`ganaudio.presets.load_preset`; its class picks the family.
    data : path-like, or two path-likes for CycleGAN
        The prepared data folder (CycleGAN: the folders of domain A and domain B).
    out : path-like
        Run folder (``checkpoints/``, ``samples/``, ``metrics.jsonl``).
    steps : int, optional
        Train until this many steps are done (default ``preset.steps``), counting steps before a resume.
    resume : bool
        Continue the run in ``out`` from its newest checkpoint.
    init_from : path-like, optional
        Start a new run from a model folder's weights and step (e.g. a bundled model), with fresh optimizers.
    **extra
        Family-specific builder options (GANSynth: ``cache_dir``).

    Examples
    --------
    >>> from ganaudio.presets import load_preset
    >>> run_training(load_preset("tiny"), "data/notes", "runs/tiny", steps=2000)   # doctest: +SKIP
    >>> run_training(load_preset("tiny", family="cyclegan"), ("data/piano", "data/violin"), "runs/p2v")  # doctest: +SKIP
    """
    builder = BUILDERS[family_of(preset)]
    sources = tuple(data) if isinstance(data, (tuple, list)) else (data,)
    dist = dist_utils.init_distributed(device)
    try:
        trainer = builder(*sources, out, preset, seed=seed, device=dist.device, progress=progress, dist=dist,
                          tensorboard=tensorboard, **extra)
        metrics = trainer.fit(steps or preset.steps, resume=resume, init_from=init_from)
        return {**metrics, "data_skipped": data_skipped(trainer.checkpoint_config)}
    finally:
        dist_utils.shutdown(dist)


def data_skipped(config: dict) -> dict:
    """``{source: SkipReport.to_dict()}`` of the files a run left out, from its checkpoint config's ``data``.

    One source is ``"data"``; two-domain runs give ``"domain A"`` and ``"domain B"``.

    Examples
    --------
    >>> data_skipped({"data": {"domain_a": {"skipped": {"total": 2}}, "domain_b": {"skipped": {"total": 3}}}})
    {'domain A': {'total': 2}, 'domain B': {'total': 3}}
    """
    data = config.get("data", {})
    if "skipped" in data:
        return {"data": data["skipped"]}
    return {f"domain {key.rpartition('_')[2].upper()}": value["skipped"] for key, value in data.items()
            if key.startswith("domain_") and isinstance(value, dict) and "skipped" in value}


def train_gansynth(data, out, preset, **options) -> dict:
    """``run_training(preset, data, out, **options)``; kept because ``ganaudio.train_gansynth`` is public."""
    return run_training(preset, data, out, **options)


def train_vocoder(data, out, preset, **options) -> dict:
    """``run_training(preset, data, out, **options)``; kept because ``ganaudio.train_vocoder`` is public."""
    return run_training(preset, data, out, **options)

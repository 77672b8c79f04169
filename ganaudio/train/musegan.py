"""MuseGAN training: batches of prepared phrases for the GAN engine, MIDI samples, model export and quality.

Its losses are WGAN-GP: :class:`~ganaudio.train.gansynth.ConditionalGANLoss` with
the auxiliary classifier off (the generator ignores the all-zero labels, the
critic's one logit is never used). Samples are MIDI files.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import torch

import ganaudio.train.distributed as dist_utils
from ganaudio.compose import load_composer, load_musegan, roll_to_tracks_midi
from ganaudio.data.phrases import PhraseDataset
from ganaudio.errors import DataError, ParameterError
from ganaudio.eval.rolls import metrics_table, roll_metrics
from ganaudio.loading import write_model_folder
from ganaudio.models.musegan import Discriminator, Generator
from ganaudio.presets.musegan import MuseGANPreset
from ganaudio.train.engine import GANTrainer
from ganaudio.train.gansynth import ConditionalGANLoss

__all__ = ["build_musegan_trainer", "midi_samples", "export_musegan", "monophonic_tracks",
           "phrase_layout", "quality_table"]

log = logging.getLogger(__name__)


def phrase_layout(data: str | os.PathLike) -> dict:
    """The phrase layout of a prepared folder: tracks, bars, grid and pitch range (what a model is sized by).

    Returns
    -------
    dict
        ``names``, ``programs``, ``is_drum`` (one per track), ``n_bars``, ``steps_per_bar``,
        ``steps_per_beat``, ``n_pitches``, ``pitch_offset``.
    """
    try:
        index = json.loads((Path(data) / "index.json").read_text())
        settings = index["settings"]
        return {"names": list(index["names"]), "programs": [int(p) for p in index["programs"]],
                "is_drum": [bool(d) for d in index["is_drum"]], "n_bars": int(settings["bars_per_phrase"]),
                "steps_per_bar": int(settings["steps_per_bar"]), "steps_per_beat": int(settings["resolution"]),
                "n_pitches": int(index["shape"][2]), "pitch_offset": int(settings["pitch_range"][0])}
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise DataError(f"{data} is not a prepared phrase folder ({type(exc).__name__}: {exc}); "
                        f"run `ganaudio prepare midi` first") from None


def monophonic_tracks(data: str | os.PathLike, *, max_phrases: int = 2000, tolerance: float = 0.01) -> list[bool]:
    """Per track: does it sing one note at a time in the data (at most ``tolerance`` of its sounding steps hold chords)?

    Read from up to ``max_phrases`` evenly spaced phrases. Composing decodes such tracks monophonically.

    Examples
    --------
    >>> monophonic_tracks("data/chorales/phrases")  # doctest: +SKIP
    [True, True, True, True]
    """
    dataset = PhraseDataset(data)
    if len(dataset) == 0:
        raise DataError(f"{data} holds no phrases")
    picks = np.unique(np.linspace(0, len(dataset) - 1, min(max_phrases, len(dataset))).astype(int))
    on = torch.stack([dataset[int(i)] for i in picks]) > 0                     # (n, tracks, time, pitch)
    per_step = on.sum(-1)
    sounding, chords = (per_step > 0).sum((0, 2)), (per_step > 1).sum((0, 2))
    return [bool(c <= tolerance * max(int(s), 1)) for s, c in zip(sounding.tolist(), chords.tolist())]


def midi_samples(generator, *, layout: dict, threshold: float, qpm: float, seed: int, n: int = 4) -> dict:
    """``n`` phrases from ``generator`` as MIDI, always from the same latents: ``{"sample_0": PrettyMIDI, ...}``."""
    device = next(generator.parameters()).device
    z = torch.randn(n, generator.latent_dim, generator=torch.Generator().manual_seed(seed))
    rolls = generator.generate(z.to(device), threshold=threshold, monophonic=layout.get("monophonic", False)).cpu()
    return {f"sample_{k}": roll_to_tracks_midi(roll, names=layout["names"], programs=layout["programs"],
                                               is_drum=layout["is_drum"], steps_per_beat=layout["steps_per_beat"],
                                               pitch_offset=layout["pitch_offset"], qpm=qpm)
            for k, roll in enumerate(rolls)}


def build_musegan_trainer(data: str | os.PathLike, out: str | os.PathLike, preset: MuseGANPreset, *,
                          seed: int = 0, device: str | torch.device = "cpu", progress: bool = True,
                          dist: dist_utils.DistInfo | None = None, tensorboard: bool = True) -> GANTrainer:
    """Everything a MuseGAN run needs, ready for ``trainer.fit(preset.steps, resume=...)``.

    Parameters
    ----------
    data : path-like
        A folder from ``ganaudio prepare midi`` (phrases ``(tracks, bars * steps_per_bar, pitch)``).
    out : path-like
        Run folder.
    preset : MuseGANPreset
    seed : int
        Weights, data split (by piece), batch order and latents.
    """
    layout = phrase_layout(data)
    layout["monophonic"] = monophonic_tracks(data)
    dataset = PhraseDataset(data, split=preset.split, seed=seed)
    if len(dataset) < 2:
        raise DataError(f"{data}: only {len(dataset)} phrase(s) in split {preset.split!r}; a GAN needs many")
    if not dataset.binary:
        log.info("%s holds velocities; training on 0/1 cells (velocity > 0)", data)
    sizes = {k: layout[k] for k in ("n_bars", "steps_per_bar", "n_pitches")}
    torch.manual_seed(seed)
    G = Generator(**preset.generator_kwargs(n_tracks=len(layout["names"]), **sizes))
    D = Discriminator(**preset.discriminator_kwargs(n_tracks=len(layout["names"]), **sizes,
                                                    steps_per_beat=layout["steps_per_beat"],
                                                    pitch_offset=layout["pitch_offset"]))

    def batch_fn(indices: torch.Tensor, generator: torch.Generator | None = None):
        x = torch.stack([dataset[int(i)] for i in indices])
        return (x > 0).float(), torch.zeros(len(indices), dtype=torch.long)

    def sample_fn(generator, step):
        return midi_samples(generator, layout=layout, threshold=preset.threshold, qpm=preset.qpm, seed=seed)

    config = {"family": "musegan", "layout": layout, "threshold": preset.threshold, "qpm": preset.qpm,
              "preset": preset.to_dict(),
              "data": {"root": str(Path(data).resolve()), "split": preset.split, "phrases": len(dataset),
                       "seed": seed, "skipped": dataset.skipped}}
    # WGAN-GP (MuseGAN's objective) through the conditional losses with the classifier off: one class, no labels
    objective = ConditionalGANLoss(loss="wgan", gp_weight=preset.gp_weight, aux_weight=0.0)
    return GANTrainer(
        G, D, objective=objective, batch_fn=batch_fn, n_examples=len(dataset), out_dir=out,
        batch_size=preset.batch_size, g_lr=preset.g_lr, d_lr=preset.d_lr, betas=(preset.beta1, preset.beta2),
        ema_decay=preset.ema_decay, max_bad_steps=preset.max_bad_steps, mixed_precision=preset.mixed_precision,
        log_every=preset.log_every, sample_every=preset.sample_every, checkpoint_every=preset.checkpoint_every,
        keep_checkpoints=preset.keep_checkpoints, checkpoint_config=config, sample_fn=sample_fn, seed=seed,
        device=device, dist=dist, progress=progress, tensorboard=tensorboard,
    )




def export_musegan(checkpoint: str | os.PathLike, out_dir: str | os.PathLike, *, notes: dict | None = None,
                   monophonic: list[bool] | None = None) -> Path:
    """Write a small model folder (EMA generator weights + config.json) from a training checkpoint.

    ``notes`` (JSON-able) is stored under ``"recipe"`` in the config; ``monophonic`` (one flag
    per track, see :func:`monophonic_tracks`) replaces the checkpoint's decoding flags. Written
    into a temporary folder and renamed, so ``out_dir`` is complete or absent.
    """
    generator, config = load_musegan(checkpoint)
    config = {k: v for k, v in config.items() if k != "discriminator"}
    config["data"] = {k: v for k, v in config.get("data", {}).items() if k != "root"}
    if notes is not None:
        config["recipe"] = notes
    if monophonic is not None:
        if len(monophonic) != generator.n_tracks:
            raise ParameterError(f"monophonic needs one flag per track ({generator.n_tracks}), got {monophonic!r}")
        config["layout"] = {**config["layout"], "monophonic": [bool(m) for m in monophonic]}
    tensors = {f"generator_ema.{k}": v for k, v in generator.state_dict().items()}
    return write_model_folder(out_dir, tensors=tensors, config=config)


def quality_table(model_dir: str | os.PathLike | None, data_dir: str | os.PathLike, *, n_phrases: int = 1000,
                  seed: int = 0, qn_min_steps: int | None = None, shifts: tuple[int, ...] = (0,),
                  batch_size: int = 100) -> dict:
    """MuseGAN's metrics per track for a model's phrases beside the training data's own, in one table.

    Parameters
    ----------
    model_dir : path-like or None
        A model folder or checkpoint; None: the bundled Bach chorale model.
    data_dir : path-like
        The prepared phrase folder the model was trained on (all its phrases whose
        transposition is in ``shifts`` are measured).
    n_phrases : int
        Generated phrases (latents from ``seed``).
    qn_min_steps : int, optional
        Shortest qualified note in steps; default: half a beat when a 32nd note is under
        one step (a 16th-note grid would otherwise qualify every note), else
        :func:`~ganaudio.eval.rolls.roll_metrics`'s 32nd note.

    Returns
    -------
    dict
        ``{"real": roll_metrics, "fake": roll_metrics, "table": markdown str, "settings": {...}}``:
        ``fake`` decoded as the composer decodes (monophonic voices where the model's layout says
        so); ``fake_threshold`` and ``table_threshold`` the same latents with plain thresholding
        in every track (MuseGAN's hard thresholding), present only when those differ.

    Examples
    --------
    >>> result = quality_table(None, "data/chorales/phrases")  # doctest: +SKIP
    >>> print(result["table"])  # doctest: +SKIP
    """
    if n_phrases < 1:
        raise ParameterError(f"n_phrases must be >= 1, got {n_phrases!r}")
    composer = load_composer(model_dir)
    layout = phrase_layout(data_dir)
    mine = {k: composer.layout[k] for k in ("steps_per_bar", "steps_per_beat", "n_pitches", "pitch_offset")}
    if mine != {k: layout[k] for k in mine} or composer.layout["names"] != layout["names"]:
        raise ParameterError(f"{data_dir} has layout {layout}, but the model was trained on {composer.layout}")
    data = PhraseDataset(data_dir)
    keep = [i for i, t in enumerate(data.transpose) if int(t) in set(shifts)]
    if not keep:
        raise DataError(f"{data_dir}: no phrase with transposition in {shifts}")
    real = torch.stack([data[i] for i in keep]) > 0

    def generated(monophonic):
        return torch.cat([composer.phrases(min(batch_size, n_phrases - s), seed=seed + s, monophonic=monophonic)
                          for s in range(0, n_phrases, batch_size)])

    fake = generated(None)
    spb = layout["steps_per_beat"]
    min_steps = qn_min_steps if qn_min_steps is not None else (max(1, spb // 2) if spb < 8 else None)
    grid = {"steps_per_bar": layout["steps_per_bar"], "steps_per_beat": spb, "pitch_offset": layout["pitch_offset"],
            "track_names": layout["names"], "is_drum": layout["is_drum"], "min_steps": min_steps}
    real_m, fake_m = roll_metrics(real.numpy(), **grid), roll_metrics(fake.numpy(), **grid)
    extra = {}
    if any(composer.monophonic):
        plain = roll_metrics(generated(False).numpy(), **grid)
        extra = {"fake_threshold": plain, "table_threshold": metrics_table(real_m, plain)}
    return {"real": real_m, "fake": fake_m, "table": metrics_table(real_m, fake_m), **extra,
            "settings": {"model": str(composer.path), "data": str(data_dir), "monophonic": composer.monophonic,
                         "real_phrases": len(keep),
                         "generated_phrases": int(n_phrases), "seed": seed, "qn_min_steps": min_steps,
                         "threshold": composer.threshold, "shifts": list(shifts)}}

"""MuseGAN training entry point: prepared phrases -> models -> the shared :class:`GANTrainer`; model export and quality.

The engine trains MuseGAN as it is: the generator ignores the (all-zero)
labels, the critic returns one constant logit so the auxiliary-classifier
term is 0 (and ``aux_weight`` is 0 as well), and the loss is WGAN-GP.
:class:`MuseGANTrainer` only drops those meaningless auxiliary figures from
the logged metrics and writes samples as MIDI files instead of WAVs.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import torch

from ganaudio.data.phrases import PhraseDataset
from ganaudio.errors import CheckpointError, DataError, ParameterError
from ganaudio.models.musegan import Discriminator, Generator
from ganaudio.presets.musegan import MuseGANPreset
from ganaudio.train import distributed as dist_utils
from ganaudio.train.engine import GANTrainer

__all__ = ["MuseGANTrainer", "build_musegan_trainer", "export_musegan", "load_musegan", "monophonic_tracks",
           "phrase_layout", "quality_table", "train_musegan"]

log = logging.getLogger(__name__)

_AUX_KEYS = ("d_aux", "g_aux", "aux_acc_real", "aux_acc_fake")


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


class MuseGANTrainer(GANTrainer):
    """:class:`GANTrainer` logging no auxiliary-classifier figures and writing MIDI samples.

    ``layout`` is :func:`phrase_layout`'s dict; ``threshold`` and ``qpm`` shape the sample MIDI files.
    """

    def __init__(self, *args, layout: dict, threshold: float = 0.5, qpm: float = 100.0, n_samples: int = 4,
                 **kwargs):
        super().__init__(*args, **kwargs)
        if self.sample_fn is None:  # the engine writes samples only when a sample_fn is set; MIDI comes from here
            self.sample_fn = lambda generator, step: {}
        self.layout, self.threshold, self.qpm, self.n_samples = layout, float(threshold), float(qpm), int(n_samples)

    def train_step(self, step: int) -> dict:
        metrics = super().train_step(step)
        return {k: v for k, v in metrics.items() if k not in _AUX_KEYS}

    def _write_samples(self) -> None:
        if not self.dist.is_main:
            return
        from ganaudio.compose import roll_to_tracks_midi
        from ganaudio.io import atomic_path

        self.G_ema.eval()
        z = torch.randn(self.n_samples, self.G_ema.latent_dim, generator=torch.Generator().manual_seed(self.seed))
        rolls = self.G_ema.generate(z.to(self.device), threshold=self.threshold,
                                    monophonic=self.layout.get("monophonic", False)).cpu()
        folder = self.out_dir / "samples" / f"step_{self.step:08d}"
        lay = self.layout
        for k, roll in enumerate(rolls):
            midi = roll_to_tracks_midi(roll, names=lay["names"], programs=lay["programs"], is_drum=lay["is_drum"],
                                       steps_per_beat=lay["steps_per_beat"], pitch_offset=lay["pitch_offset"],
                                       qpm=self.qpm)
            with atomic_path(folder / f"sample_{k}.mid") as tmp:
                midi.write(str(tmp))


def build_musegan_trainer(data: str | os.PathLike, out: str | os.PathLike, preset: MuseGANPreset, *,
                          seed: int = 0, device: str | torch.device = "cpu", progress: bool = True,
                          dist: dist_utils.DistInfo | None = None, tensorboard: bool = True) -> MuseGANTrainer:
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

    def batch_fn(indices: torch.Tensor):
        x = torch.stack([dataset[int(i)] for i in indices])
        return (x > 0).float(), torch.zeros(len(indices), dtype=torch.long)

    config = {"family": "musegan", "layout": layout, "threshold": preset.threshold, "qpm": preset.qpm,
              "preset": preset.to_dict(),
              "data": {"root": str(Path(data).resolve()), "split": preset.split, "phrases": len(dataset),
                       "seed": seed, "skipped": dataset.skipped}}
    return MuseGANTrainer(
        G, D, batch_fn=batch_fn, n_examples=len(dataset), out_dir=out, batch_size=preset.batch_size,
        g_lr=preset.g_lr, d_lr=preset.d_lr, betas=(preset.beta1, preset.beta2), loss="wgan",
        gp_weight=preset.gp_weight, aux_weight=0.0, ema_decay=preset.ema_decay, max_bad_steps=preset.max_bad_steps,
        mixed_precision=preset.mixed_precision, log_every=preset.log_every, sample_every=preset.sample_every,
        checkpoint_every=preset.checkpoint_every, keep_checkpoints=preset.keep_checkpoints, checkpoint_config=config,
        seed=seed, device=device, dist=dist, progress=progress, tensorboard=tensorboard,
        layout=layout, threshold=preset.threshold, qpm=preset.qpm,
    )


def train_musegan(data: str | os.PathLike, out: str | os.PathLike, preset: MuseGANPreset, *,
                  steps: int | None = None, resume: bool = False, seed: int = 0, device: str = "cpu",
                  progress: bool = True, tensorboard: bool = True) -> dict:
    """Train (or resume) a MuseGAN run; torchrun's environment makes it data-parallel. Returns the last metrics.

    The metrics carry ``data_skipped``: ``{"data": SkipReport.to_dict()}`` of the phrase shards left out.

    Examples
    --------
    >>> from ganaudio.presets.musegan import load_musegan_preset
    >>> train_musegan("data/chorales/phrases", "runs/musegan", load_musegan_preset("tiny"), steps=4000)  # doctest: +SKIP
    """
    dist = dist_utils.init_distributed(device)
    try:
        trainer = build_musegan_trainer(data, out, preset, seed=seed, device=dist.device, progress=progress,
                                        dist=dist, tensorboard=tensorboard)
        metrics = trainer.fit(steps or preset.steps, resume=resume)
        return {**metrics, "data_skipped": {"data": trainer.checkpoint_config["data"]["skipped"]}}
    finally:
        dist_utils.shutdown(dist)


def load_musegan(path: str | os.PathLike, *, device: str | torch.device = "cpu", ema: bool = True):
    """A trained generator from a checkpoint or model folder: ``(generator, config)`` (eval mode).

    Raises
    ------
    CheckpointError
        If the folder is not a MuseGAN model or its weights do not fit its config.
    """
    from ganaudio.train.checkpoint import load_checkpoint

    config, states = load_checkpoint(path)
    if config.get("family") != "musegan":
        raise CheckpointError(f"{path} holds a {config.get('family')!r} model, not musegan")
    try:
        generator = Generator.from_config(config["generator"])
        layout = config["layout"]
        if len(layout["names"]) != generator.n_tracks:
            raise CheckpointError(f"{path}: layout names {len(layout['names'])} tracks, generator has "
                                  f"{generator.n_tracks}")
    except (KeyError, TypeError, ParameterError) as exc:
        raise CheckpointError(f"{path}/config.json lacks or garbles {exc}") from None
    name = "generator_ema" if ema and "generator_ema" in states else "generator"
    try:
        generator.load_state_dict(states[name])
    except (KeyError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: generator weights do not fit its config ({str(exc).splitlines()[0]})") \
            from None
    return generator.to(device).eval(), config


def export_musegan(checkpoint: str | os.PathLike, out_dir: str | os.PathLike, *, notes: dict | None = None,
                   monophonic: list[bool] | None = None) -> Path:
    """Write a small model folder (EMA generator weights + config.json) from a training checkpoint.

    ``notes`` (JSON-able) is stored under ``"recipe"`` in the config; ``monophonic`` (one flag
    per track, see :func:`monophonic_tracks`) replaces the checkpoint's decoding flags. Written
    into a temporary folder and renamed, so ``out_dir`` is complete or absent.
    """
    from ganaudio.train.checkpoint import write_model_folder

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
    from ganaudio.compose import load_composer
    from ganaudio.eval.rolls import metrics_table, roll_metrics

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

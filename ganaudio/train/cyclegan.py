"""CycleGAN timbre transfer: its losses (:class:`CycleGANLoss`) and two-domain batches (log-mel crops).

``G`` holds both generators (``a2b``, ``b2a``), ``D`` both PatchGAN
discriminators. Unlike CycleGAN there is no pool of past fakes: every step is
then a function of the weights and ``(seed, step)`` alone, which keeps resume exact.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch

import ganaudio.losses as losses
import ganaudio.train.distributed as dist_utils
from ganaudio.errors import DataError
from ganaudio.loading import write_model_folder
from ganaudio.models.cyclegan import CycleGANDiscriminators, CycleGANGenerators
from ganaudio.presets.cyclegan import CycleGANPreset
from ganaudio.train.engine import GANObjective, GANTrainer, Step
from ganaudio.transfer.cyclegan import _crossfade_convert, _vocode, load_cyclegan

__all__ = ["CycleGANLoss", "build_cyclegan_trainer", "export_cyclegan", "load_mel_crops"]

log = logging.getLogger(__name__)


class MelCrops:
    """Log-mel spectrograms of every file in a folder and the start frames of their non-silent crops.

    Attributes
    ----------
    mels : list of torch.Tensor ``(n_mels, frames)``
        Raw log-mel power (``Mel.encode`` units), one per file.
    crops : torch.Tensor long ``(n_crops, 2)``
        ``(file index, start frame)`` of each crop of ``crop_frames`` frames.
    summary : dict
        ``files``, ``crops``, ``seconds``, ``quiet`` (crops left out).
    """

    def __init__(self, mels: list[torch.Tensor], crops: torch.Tensor, crop_frames: int, summary: dict):
        self.mels, self.crops, self.crop_frames, self.summary = mels, crops, crop_frames, summary

    def __len__(self) -> int:
        return len(self.crops)

    def batch(self, indices: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """Crops ``indices``, each shifted right by its offset (clamped to its file): ``(B, 1, n_mels, crop_frames)``."""
        out = []
        for i, shift in zip(indices.tolist(), offsets.tolist()):
            f, start = self.crops[i].tolist()
            mel = self.mels[f]
            start = min(start + shift, mel.shape[-1] - self.crop_frames)
            out.append(mel[:, start: start + self.crop_frames])
        return torch.stack(out).unsqueeze(1)

    def spread(self, n: int) -> torch.Tensor:
        """Up to ``n`` crops spread evenly over the data: ``(n, 1, n_mels, crop_frames)``."""
        n = min(n, len(self))
        return self.batch(torch.linspace(0, len(self) - 1, n).long(), torch.zeros(n, dtype=torch.long))


def load_mel_crops(data: str | os.PathLike, *, representation, crop_frames: int, crop_stride: int,
                   min_rms: float = 1e-3, progress: bool = True) -> MelCrops:
    """Every audio file under ``data`` (resampled, mono) as log-mel, with the non-silent crops listed.

    Parameters
    ----------
    data : path-like
        Folder searched recursively for audio files (or one file).
    representation : ganaudio.representations.Mel
    crop_frames, crop_stride : int
        Frames per crop and between crop starts.
    min_rms : float
        Crops whose waveform RMS is below this are left out.

    Raises
    ------
    DataError
        If ``data`` is missing, holds no usable audio, or no crop is loud and long enough.

    Unreadable, NaN/inf, silent and truncated files are skipped and counted
    (``summary["skipped"]``, a :meth:`~ganaudio.data.screen.SkipReport.to_dict`).
    """
    from tqdm.auto import tqdm

    from ganaudio.data.screen import SkipReport, read_checked_audio
    from ganaudio.data.segments import audio_files

    root = Path(data)
    files = audio_files(root, what="domain folder")
    rep, hop = representation, representation.hop_length
    mels, crops, quiet, seconds = [], [], 0, 0.0
    report = SkipReport()
    bar = tqdm(files, unit="file", desc=f"loading {root.name}", disable=not progress)
    for _path, y in report.each(bar, read=lambda p: read_checked_audio(p, sample_rate=rep.sample_rate)):
        seconds += len(y) / rep.sample_rate
        n_frames = rep.frames_for(len(y))
        if n_frames < crop_frames:
            continue
        starts = np.arange(0, n_frames - crop_frames + 1, crop_stride)
        power = np.concatenate([np.asarray(y, np.float64) ** 2, np.zeros(crop_frames * hop)])
        cum = np.concatenate([[0.0], np.cumsum(power)])
        rms = np.sqrt((cum[(starts + crop_frames) * hop] - cum[starts * hop]) / (crop_frames * hop))
        loud = starts[rms >= min_rms]
        quiet += int(len(starts) - len(loud))
        if len(loud):
            crops += [(len(mels), int(s)) for s in loud]
            mels.append(rep.encode(torch.from_numpy(y))[0])
    report.log_summary(root)
    report.require_some(root)
    if not crops:
        raise DataError(f"{root}: no crop of {crop_frames} frames ({crop_frames * hop / rep.sample_rate:.2f} s) "
                        f"above RMS {min_rms} in {report.used} usable file(s)")
    summary = {"files": report.used, "crops": len(crops), "quiet": quiet, "seconds": round(seconds, 1),
               "skipped": report.to_dict()}
    return MelCrops(mels, torch.tensor(crops, dtype=torch.long), crop_frames, summary)


class CycleGANLoss(GANObjective):
    """CycleGAN's losses both ways over ``(a, b)`` batches of normalised crops ``(B, 1, n_mels, frames)``.

    Parameters
    ----------
    loss : {"lsgan", "hinge", "nonsaturating", "wgan"}
        The adversarial loss.
    cycle_weight, identity_weight : float
        Cycle-consistency and identity L1 weights (identity 0 = off).
    """

    def __init__(self, *, loss: str = "lsgan", cycle_weight: float = 10.0, identity_weight: float = 5.0):
        self.d_adv, self.g_adv = losses.adversarial_losses(loss)
        self.cycle_weight, self.identity_weight = float(cycle_weight), float(identity_weight)

    def prepare(self, step: Step) -> None:
        """Both translations, made once for both updates."""
        a, b = step.batch
        with step.autocast():
            step.shared["fake_b"], step.shared["fake_a"] = step.G(a, "a2b").float(), step.G(b, "b2a").float()

    def d_loss(self, step: Step) -> tuple[torch.Tensor, dict]:
        (a, b), D = step.batch, step.D
        with step.autocast():  # on detached fakes
            d_a = self.d_adv(D(a, "a").float(), D(step.shared["fake_a"].detach(), "a").float())
            d_b = self.d_adv(D(b, "b").float(), D(step.shared["fake_b"].detach(), "b").float())
        return 0.5 * (d_a + d_b), {"d_a": d_a, "d_b": d_b}

    def g_loss(self, step: Step) -> tuple[torch.Tensor, dict]:
        (a, b), G, D = step.batch, step.G, step.D
        fake_a, fake_b = step.shared["fake_a"], step.shared["fake_b"]
        with step.autocast():
            g_adv = self.g_adv(D(fake_b, "b").float()) + self.g_adv(D(fake_a, "a").float())
            cycle = (G(fake_b, "b2a").float() - a).abs().mean() + (G(fake_a, "a2b").float() - b).abs().mean()
            g_loss = g_adv + self.cycle_weight * cycle
            metrics = {"g_adv": g_adv, "cycle": cycle}
            if self.identity_weight:
                identity = (G(b, "a2b").float() - b).abs().mean() + (G(a, "b2a").float() - a).abs().mean()
                g_loss = g_loss + self.identity_weight * identity
                metrics["identity"] = identity
        return g_loss, metrics


def build_cyclegan_trainer(domain_a: str | os.PathLike, domain_b: str | os.PathLike, out: str | os.PathLike,
                           preset: CycleGANPreset, *, seed: int = 0, device: str | torch.device = "cpu",
                           progress: bool = True, dist: dist_utils.DistInfo | None = None,
                           tensorboard: bool = True) -> GANTrainer:
    """Everything a CycleGAN run needs, ready for ``trainer.fit(preset.steps, resume=...)``.

    Raises
    ------
    DataError
        If a domain folder is missing or holds no loud crop.
    """
    dist = dist or dist_utils.DistInfo(device=torch.device(device))
    rep = preset.representation()
    show = progress and dist.is_main
    data = [load_mel_crops(d, representation=rep, crop_frames=preset.crop_frames, crop_stride=preset.crop_stride,
                           min_rms=preset.min_rms, progress=show) for d in (domain_a, domain_b)]
    for name, crops in zip("AB", data):
        log.info("domain %s: %d crops from %d files (%.0f s)", name, len(crops), crops.summary["files"],
                 crops.summary["seconds"])
    frames = torch.cat([d.spread(256).flatten() for d in data])  # normalisation statistics
    mean, std = float(frames.mean()), float(frames.std().clamp_min(1e-3))
    names = list(preset.domain_names) or [Path(domain_a).resolve().name, Path(domain_b).resolve().name]
    if names[0] == names[1]:
        names = [f"{names[0]}_a", f"{names[1]}_b"]
    torch.manual_seed(seed)
    G = CycleGANGenerators(**preset.generator_kwargs())
    D = CycleGANDiscriminators(**preset.discriminator_kwargs())
    crops_a, crops_b = data
    shift = max(1, preset.crop_stride)

    def batch_fn(indices: torch.Tensor, generator: torch.Generator):
        b_idx = torch.randint(len(crops_b), (len(indices),), generator=generator)
        a = crops_a.batch(indices, torch.randint(shift, (len(indices),), generator=generator))
        b = crops_b.batch(b_idx, torch.randint(shift, (len(indices),), generator=generator))
        return (a - mean) / std, (b - mean) / std

    held = _held_example(crops_a, rep, preset.sample_seconds), _held_example(crops_b, rep, preset.sample_seconds)
    voc_cache: dict = {}

    def sample_fn(generator, step):
        out = {}
        for (name, direction), mel in zip((("a2b", "a2b"), ("b2a", "b2a")), held):
            converted = _crossfade_convert(generator, (mel - mean) / std, direction=direction, chunk_frames=256,
                                           overlap_frames=32) * std + mean
            n = rep.samples_for(mel.shape[-1])
            out[f"{name}_input"] = (_vocode(mel, rep, "auto", cache=voc_cache, length=n), rep.sample_rate)
            out[name] = (_vocode(converted, rep, "auto", cache=voc_cache, length=n), rep.sample_rate)
        return out

    config = {
        "family": "cyclegan",
        "representation": rep.config(),
        "normalization": {"mean": mean, "std": std},
        "domain_names": names,
        "preset": preset.to_dict(),
        "data": {"domain_a": {"root": str(Path(domain_a).resolve()), **crops_a.summary},
                 "domain_b": {"root": str(Path(domain_b).resolve()), **crops_b.summary}, "seed": seed},
    }
    objective = CycleGANLoss(loss=preset.loss, cycle_weight=preset.cycle_weight,
                             identity_weight=preset.identity_weight)
    return GANTrainer(
        G, D, objective=objective, batch_fn=batch_fn, n_examples=len(crops_a), out_dir=out, batch_size=preset.batch_size, g_lr=preset.g_lr,
        d_lr=preset.d_lr, betas=(preset.beta1, preset.beta2), ema_decay=preset.ema_decay,
        max_bad_steps=preset.max_bad_steps, mixed_precision=preset.mixed_precision, log_every=preset.log_every,
        sample_every=preset.sample_every, checkpoint_every=preset.checkpoint_every,
        keep_checkpoints=preset.keep_checkpoints, checkpoint_config=config, sample_fn=sample_fn, seed=seed,
        device=device, dist=dist, progress=progress, tensorboard=tensorboard,
    )


def _held_example(crops: MelCrops, rep, seconds: float) -> torch.Tensor:
    """A fixed stretch of the first loud crop's file (up to ``seconds``): ``(n_mels, frames)``."""
    f, start = crops.crops[0].tolist()
    frames = max(crops.crop_frames, int(seconds * rep.sample_rate / rep.hop_length))
    return crops.mels[f][:, start: start + frames].clone()




def export_cyclegan(checkpoint: str | os.PathLike, out_dir: str | os.PathLike, *, half: bool = False,
                    notes: dict | None = None) -> Path:
    """Write a small model folder (EMA generators + config.json) from a checkpoint or run folder.

    ``half`` stores float16 weights (loaded back as float32); ``notes`` (JSON-able) goes under
    ``"recipe"``. Written into a temporary folder and renamed, so ``out_dir`` is complete or absent.

    Examples
    --------
    >>> export_cyclegan("runs/p2v", "models/piano2violin", half=True)  # doctest: +SKIP
    """
    model = load_cyclegan(checkpoint)
    config = {k: v for k, v in model.config.items() if k != "discriminator"}
    config["data"] = {k: ({kk: vv for kk, vv in v.items() if kk != "root"} if isinstance(v, dict) else v)
                      for k, v in config.get("data", {}).items()}
    if notes is not None:
        config["recipe"] = notes
    dtype = torch.float16 if half else torch.float32
    tensors = {f"generator_ema.{k}": v.to(dtype) for k, v in model.generator.state_dict().items()}
    return write_model_folder(out_dir, tensors=tensors, config=config)

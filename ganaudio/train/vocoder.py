"""Mel vocoder training: its losses (:class:`VocoderLoss`) and batches (audio segments) for the GAN engine.

The generator maps the log-mel of a real segment back to the segment; the
discriminator update (least squares over every multi-period and
multi-resolution STFT sub-discriminator) comes first, then the generator
update with mel L1, multi-resolution STFT, least-squares adversarial and
feature matching losses (HiFi-GAN's models.py order).
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
from ganaudio.models.hifigan import VocoderDiscriminator
from ganaudio.presets.vocoder import VocoderPreset
from ganaudio.train.engine import GANObjective, GANTrainer, Step

__all__ = ["VocoderLoss", "build_vocoder_trainer", "load_audio_segments"]

log = logging.getLogger(__name__)


def load_audio_segments(data: str | os.PathLike, *, sample_rate: int, segment_length: int, min_rms: float = 1e-3,
                        progress: bool = True) -> tuple[torch.Tensor, dict]:
    """Every audio file under ``data`` cut into non-overlapping segments, kept in memory as int16.

    Parameters
    ----------
    data : path-like
        Folder searched recursively for audio files (or one file); resampled to ``sample_rate``, mono.
    sample_rate : int
        Hz.
    segment_length : int
        Samples per segment; a file's tail shorter than that is dropped.
    min_rms : float
        Segments quieter than this RMS (1e-3 = -60 dBFS) are left out.

    Returns
    -------
    segments : torch.Tensor, int16, ``(n_segments, segment_length)``
    summary : dict
        ``files`` (used), ``segments``, ``seconds``, ``quiet`` (segments left out), ``skipped``
        (unreadable, NaN/inf, silent and truncated files left out: a
        :meth:`~ganaudio.data.screen.SkipReport.to_dict`).

    Raises
    ------
    DataError
        If ``data`` is missing, holds no usable file or yields no segment.
    """
    from tqdm.auto import tqdm

    from ganaudio.data.screen import SkipReport, read_checked_audio
    from ganaudio.data.segments import audio_files

    root = Path(data)
    files = audio_files(root, what="vocoder data")
    chunks, quiet = [], 0
    report = SkipReport()
    bar = tqdm(files, unit="file", desc="loading audio", disable=not progress)
    for _path, y in report.each(bar, read=lambda p: read_checked_audio(p, sample_rate=sample_rate)):
        n = len(y) // segment_length
        if n == 0:
            continue
        seg = y[: n * segment_length].reshape(n, segment_length)
        loud = np.sqrt((seg.astype(np.float64) ** 2).mean(axis=1)) >= min_rms
        quiet += int((~loud).sum())
        chunks.append(np.round(np.clip(seg[loud], -1, 32767 / 32768) * 32768).astype(np.int16))
    report.log_summary(root)
    report.require_some(root)
    segments = torch.from_numpy(np.concatenate(chunks)) if chunks else torch.empty(0, segment_length, dtype=torch.int16)
    if len(segments) < 2:
        raise DataError(f"{root}: only {len(segments)} segment(s) of {segment_length} samples above "
                        f"RMS {min_rms}; a vocoder needs minutes of audio")
    summary = {"files": report.used, "segments": len(segments), "quiet": quiet,
               "seconds": round(len(segments) * segment_length / sample_rate, 1), "skipped": report.to_dict()}
    return segments, summary


class VocoderLoss(GANObjective):
    """A mel vocoder's losses over batches of real waveforms ``(B, 1, time)``.

    The generator maps ``(B, n_mels, frames)`` to ``(B, 1, time >= (frames - 1) * hop)``; the
    discriminator maps ``(B, 1, time)`` to ``[(logits, feature_maps), ...]`` (e.g. :class:`VocoderDiscriminator`).

    Parameters
    ----------
    representation : ganaudio.representations.Mel
        The generator's input analysis; also sets the mel loss.
    mel_weight, stft_weight, fm_weight, adv_weight : float
        Loss weights (mel L1, multi-resolution STFT, feature matching, least-squares adversarial).
    disc_start : int
        Steps with reconstruction losses only, before the discriminator trains.
    """

    def __init__(self, representation, *, mel_weight: float = 45.0, stft_weight: float = 1.0, fm_weight: float = 2.0,
                 adv_weight: float = 1.0, disc_start: int = 0):
        self.rep = representation
        self.weights = {"mel": float(mel_weight), "stft": float(stft_weight), "fm": float(fm_weight),
                        "adv": float(adv_weight)}
        self.disc_start = int(disc_start)
        self.d_adv, self.g_adv = losses.adversarial_losses("lsgan")

    def mel(self, wave: torch.Tensor) -> torch.Tensor:
        """``(batch, 1, time)`` to the generator's input ``(batch, n_mels, frames)``."""
        return self.rep.encode(wave.squeeze(1))[:, 0]

    def prepare(self, step: Step) -> None:
        """The generator's reconstruction of the batch, made once for both updates."""
        (real,) = step.batch
        with torch.no_grad():
            mel = self.mel(real)
        with step.autocast():
            step.shared["fake"] = step.G(mel)[..., : real.shape[-1]].float()

    def d_loss(self, step: Step) -> tuple[torch.Tensor, dict] | None:
        if step.index < self.disc_start:
            return None
        (real,), fake = step.batch, step.shared["fake"]
        with step.autocast():
            real_out, fake_out = step.D(real), step.D(fake.detach())
            d_loss = torch.stack([self.d_adv(r.float(), f.float()) for (r, _), (f, _) in zip(real_out, fake_out)]).sum()
        return d_loss, {}

    def g_loss(self, step: Step) -> tuple[torch.Tensor, dict]:
        (real,), fake, w, r = step.batch, step.shared["fake"], self.weights, self.rep
        metrics = {"mel_l1": losses.log_mel_l1(fake, real, sample_rate=r.sample_rate, n_fft=r.n_fft,
                                               hop_length=r.hop_length, n_mels=r.n_mels, fmin=r.fmin, fmax=r.fmax),
                   "stft": losses.multi_resolution_stft_loss(fake.squeeze(1), real.squeeze(1))}
        g_loss = w["mel"] * metrics["mel_l1"] + w["stft"] * metrics["stft"]
        if step.index >= self.disc_start:
            with step.autocast():
                fake_out, real_out = step.D(fake), step.D(real)
            metrics["g_adv"] = torch.stack([self.g_adv(f.float()) for f, _ in fake_out]).sum()
            metrics["fm"] = torch.stack([losses.feature_matching(rf, ff) for (_, rf), (_, ff)
                                         in zip(real_out, fake_out)]).sum()
            g_loss = g_loss + w["adv"] * metrics["g_adv"] + w["fm"] * metrics["fm"]
        return g_loss, metrics


def build_vocoder_trainer(data: str | os.PathLike, out: str | os.PathLike, preset: VocoderPreset, *, seed: int = 0,
                          device: str | torch.device = "cpu", progress: bool = True,
                          dist: dist_utils.DistInfo | None = None, tensorboard: bool = True) -> GANTrainer:
    """Everything a vocoder run needs, ready for ``trainer.fit(preset.steps, resume=...)``.

    Raises
    ------
    DataError
        If ``data`` holds too little audio.
    ParameterError
        If the preset's settings do not fit together (e.g. upsampling rates versus hop).
    """
    dist = dist or dist_utils.DistInfo(device=torch.device(device))
    rep = preset.representation()
    segments, summary = load_audio_segments(data, sample_rate=preset.sample_rate,
                                            segment_length=preset.segment_length, min_rms=preset.min_rms,
                                            progress=progress and dist.is_main)
    log.info("%d segments (%.0f s) from %d files", summary["segments"], summary["seconds"], summary["files"])
    torch.manual_seed(seed)
    G = preset.build_generator()
    D = VocoderDiscriminator(**preset.discriminator_kwargs())

    def batch_fn(indices: torch.Tensor, generator: torch.Generator | None = None):
        return segments[indices].float().div_(32768).unsqueeze(1)

    example = segments[len(segments) // 2: len(segments) // 2 + 4].float().div(32768).reshape(1, -1)

    def sample_fn(generator, step):
        wave = generator(rep.encode(example)[:, 0])[0, 0, : example.shape[-1]]
        return {"resynth": (wave.clamp(-1, 1).cpu().numpy(), rep.sample_rate),
                "original": (example[0].numpy(), rep.sample_rate)}

    config = {
        "family": "vocoder",
        "generator_type": preset.generator,
        "representation": rep.config(),
        "preset": preset.to_dict(),
        "data": {"root": str(Path(data).resolve()), **summary, "seed": seed},
    }
    objective = VocoderLoss(rep, mel_weight=preset.mel_weight, stft_weight=preset.stft_weight,
                            fm_weight=preset.fm_weight, adv_weight=preset.adv_weight, disc_start=preset.disc_start)
    return GANTrainer(
        G, D, objective=objective, batch_fn=batch_fn, n_examples=len(segments), out_dir=out, batch_size=preset.batch_size,
        g_lr=preset.g_lr, d_lr=preset.d_lr, betas=(preset.beta1, preset.beta2), ema_decay=preset.ema_decay,
        grad_clip=preset.grad_clip, warmup_steps=preset.warmup_steps, mixed_precision=preset.mixed_precision,
        log_every=preset.log_every, sample_every=preset.sample_every,
        checkpoint_every=preset.checkpoint_every, keep_checkpoints=preset.keep_checkpoints,
        checkpoint_config=config, sample_fn=sample_fn, seed=seed, device=device, dist=dist, progress=progress,
        tensorboard=tensorboard,
    )



"""Harmonic-plus-noise GAN training: real notes -> encoder -> z -> control generator -> synthesizer.

Each step encodes a batch of real notes to timbre latents, plays them back
through the control generator and the synthesizer (reconstruction), and also
plays fresh latents from the prior N(0, I) at the same pitches and
velocities. The discriminator judges log-mel crops of the real notes, the
reconstructions and the prior samples; the generator side (encoder and
decoder together) minimises a multi-resolution STFT reconstruction loss, the
KL divergence of the latents from the prior, least-squares adversarial losses
and feature matching. For its first ``disc_start`` steps only the
reconstruction and KL terms train (the cheap part that carries most learning
on a CPU).

Batches are whole notes, so the generator's recurrent state always starts at
the note's onset and learns the attack, the held part and the release that
follows the gate closing.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch

import ganaudio.losses as losses
import ganaudio.train.distributed as dist_utils
from ganaudio.errors import ParameterError
from ganaudio.models.ddspgan import HarmonicInstrument, MelDiscriminator
from ganaudio.presets.ddspgan import InstrumentPreset
from ganaudio.train.engine import GANObjective, GANTrainer, Step

__all__ = ["InstrumentLoss", "build_ddspgan_trainer", "kl_to_prior", "load_note_clips", "timbre_partners"]

log = logging.getLogger(__name__)

STFT_RESOLUTIONS = ((2048, 512), (1024, 256), (512, 128), (256, 64), (128, 32))


def kl_to_prior(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) summed over latent dimensions, averaged over the batch.

    Examples
    --------
    >>> float(kl_to_prior(torch.zeros(2, 4), torch.zeros(2, 4)))
    0.0
    """
    return 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).sum(-1).mean()


def load_note_clips(data: str | os.PathLike, *, split: str | None, sample_rate: int, samples: int,
                    default_hold: float, progress: bool = True) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Every usable note of a note data set (``ganaudio prepare notes`` layout) as int16 clips of ``samples``.

    Notes over MIDI 21-108 from every instrument source are kept; unreadable,
    NaN, silent and truncated files are skipped and counted by the data rule
    (:class:`ganaudio.data.screen.SkipReport`). ``data`` may be a folder of
    note folders rendered with different hold lengths: each note's hold is
    read from its folder's ``summary.json`` (``duration - release``), else
    ``default_hold`` seconds. Notes longer than ``samples`` are cut (a long
    hold then fills the clip with the key down); shorter ones padded.

    Returns
    -------
    audio : torch.Tensor
        ``(n_notes, samples)`` int16 (notes cut or padded with silence).
    labels : torch.Tensor
        ``(n_notes, 4)`` float32: MIDI pitch, velocity / 127, seconds the key is held, and the index of
        the note's instrument (0 to ``instruments - 1``, in sorted order of ``instrument_str``).
    summary : dict
        ``notes``, ``instruments`` and ``skipped`` (the report's dict).

    Raises
    ------
    DataError
        If no note is usable.
    """
    from tqdm.auto import tqdm

    from ganaudio.data.nsynth import load_note_examples
    from ganaudio.data.screen import SkipReport, read_checked_audio

    notes = load_note_examples(data, split=split, pitch_range=(21, 108), sources=None)
    audio = np.zeros((len(notes), samples), dtype=np.int16)
    labels, instruments, holds = [], {}, {}
    report = SkipReport()
    bar = tqdm(notes, unit="note", desc="loading notes", disable=not progress)
    for note, y in report.each(bar, read=lambda n: read_checked_audio(n.path, sample_rate=sample_rate),
                               name=lambda n: str(n.path)):
        y = y[:samples]
        audio[len(labels), : len(y)] = np.round(np.clip(y, -1, 32767 / 32768) * 32768).astype(np.int16)
        folder = Path(note.path).parent.parent
        if folder not in holds:
            holds[folder] = _hold_seconds(folder, default_hold)
        labels.append((note.pitch, note.velocity / 127, holds[folder],
                       instruments.setdefault(note.instrument_str, len(instruments))))
    report.log_summary(data)
    report.require_some(data)
    order = {name: rank for rank, name in enumerate(sorted(instruments))}
    remap = np.array([order[name] for name in instruments])  # first-seen index -> sorted index
    labels = [(p, v, h, float(remap[int(i)])) for p, v, h, i in labels]
    summary = {"notes": len(labels), "instruments": len(instruments), "skipped": report.to_dict(),
               "holds": sorted({round(h, 3) for h in holds.values()})}
    return torch.from_numpy(audio[: len(labels)]), torch.tensor(labels, dtype=torch.float32), summary


def timbre_partners(labels: torch.Tensor, indices: torch.Tensor, *, fraction: float, semitones: float,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """For each note in ``indices``, the note the encoder hears: with probability ``fraction`` another note
    of the same instrument within ``semitones`` of its pitch (any velocity or hold), else the note itself.

    Encoding one note and reconstructing another of the same instrument (cross-reconstruction) teaches
    the encoder a timbre that does not depend on the pitch it heard, which is what playing a recorded
    note at every other pitch asks of it.

    Parameters
    ----------
    labels : torch.Tensor
        ``(n_notes, 4)``: pitch, velocity, hold, instrument index (:func:`load_note_clips`).
    indices : torch.Tensor
        ``(B,)`` int64, the batch's notes.

    Returns
    -------
    torch.Tensor
        ``(B,)`` int64 note indices (equal to ``indices`` where no partner was drawn or none exists).

    Examples
    --------
    >>> labels = torch.tensor([[60., 0.5, 1., 0.], [64., 0.5, 1., 0.], [60., 0.5, 1., 1.]])
    >>> timbre_partners(labels, torch.tensor([0, 2]), fraction=1.0, semitones=12).tolist()
    [1, 2]
    """
    partners = indices.clone()
    draws = torch.rand(len(indices), generator=generator)
    for row, index in enumerate(indices.tolist()):
        if draws[row] >= fraction:
            continue
        pitch, instrument = labels[index, 0], labels[index, 3]
        same = ((labels[:, 3] == instrument) & ((labels[:, 0] - pitch).abs() <= semitones)).nonzero()[:, 0]
        same = same[same != index]
        if len(same):
            partners[row] = same[int(torch.randint(len(same), (1,), generator=generator))]
    return partners


def _hold_seconds(folder: Path, default: float) -> float:
    """``duration - release`` from a note folder's summary.json (``ganaudio prepare notes``), else ``default``."""
    import json

    try:
        settings = json.loads((folder / "summary.json").read_text())["settings"]
        return float(settings["duration"]) - float(settings["release"])
    except (OSError, ValueError, KeyError, TypeError):
        return float(default)


class InstrumentLoss(GANObjective):
    """The harmonic-plus-noise family's losses over batches ``(audio (B, samples), labels (B, 3+)[, heard])``.

    ``heard`` ``(B, samples)``, when given, is what the encoder hears for each note (another note of the
    same instrument: cross-reconstruction); without it the encoder hears the note itself.

    ``labels`` hold the MIDI pitch, the velocity (0-1) and the control frames
    the key is held, per note: the gate, not the time since the onset,
    decides when each release starts. The
    generator is a :class:`HarmonicInstrument` (encoder and decoder), the
    discriminator a :class:`MelDiscriminator`.

    Parameters
    ----------
    crop : int
        Samples of each discriminator crop (the same span of the real note,
        its reconstruction and the prior sample).
    recon_weight, kl_weight, adv_weight, fm_weight : float
        Loss weights.
    disc_start : int
        Steps with reconstruction and KL only.
    """

    def __init__(self, *, crop: int = 32768, recon_weight: float = 1.0, kl_weight: float = 0.01,
                 adv_weight: float = 0.1, fm_weight: float = 1.0, disc_start: int = 3000):
        if crop < 1024:
            raise ParameterError(f"crop must be >= 1024 samples, got {crop}")
        self.crop, self.disc_start = int(crop), int(disc_start)
        self.weights = {"recon": float(recon_weight), "kl": float(kl_weight), "adv": float(adv_weight),
                        "fm": float(fm_weight)}
        self.d_adv, self.g_adv = losses.adversarial_losses("lsgan")

    def controls(self, labels: torch.Tensor, frames: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-frame pitch, velocity and gate ``(B, frames)``; ``labels[:, 2]`` is each note's held frames."""
        batch = labels.shape[0]
        pitch = labels[:, :1].expand(batch, frames)
        velocity = labels[:, 1:2].expand(batch, frames)
        gate = (torch.arange(frames, device=labels.device)[None, :] < labels[:, 2:3]).to(labels.dtype)
        return pitch, velocity, gate

    def prepare(self, step: Step) -> None:
        """Encode the notes the encoder hears (the batch's third item, else the real notes), play the real
        notes back from those latents, and (once adversarial) play prior latents too."""
        real, labels = step.batch[:2]
        heard = step.batch[2] if len(step.batch) > 2 else real
        frames = real.shape[-1] // step.G.hop
        real = real[:, : frames * step.G.hop]
        mean, logvar = step.G.encode(heard[:, : frames * step.G.hop])
        noise = torch.randn(mean.shape, generator=step.generator).to(step.device)
        pitch, velocity, gate = self.controls(labels, frames)
        recon, _ = step.G(mean + noise * (0.5 * logvar).exp(), pitch, velocity, gate)
        step.shared.update(real=real, mean=mean, logvar=logvar, recon=recon)
        if step.index >= self.disc_start:
            prior, _ = step.G(torch.randn(mean.shape, generator=step.generator).to(step.device), pitch, velocity, gate)
            start = int(torch.randint(0, max(1, real.shape[-1] - self.crop + 1), (1,), generator=step.generator))
            step.shared.update(prior=prior, start=start)

    def _judge(self, step: Step, audio: torch.Tensor):
        start, labels = step.shared["start"], step.batch[1]
        return step.D(audio[:, start:start + self.crop], labels[:, 0], labels[:, 1])

    def d_loss(self, step: Step) -> tuple[torch.Tensor, dict] | None:
        if step.index < self.disc_start:
            return None
        real_out = self._judge(step, step.shared["real"])
        d_loss = 0.0
        for name in ("recon", "prior"):
            fake_out = self._judge(step, step.shared[name].detach())
            d_loss = d_loss + 0.5 * torch.stack([self.d_adv(r, f) for (r, _), (f, _)
                                                 in zip(real_out, fake_out)]).sum()
        return d_loss, {}

    def g_loss(self, step: Step) -> tuple[torch.Tensor, dict]:
        shared, w = step.shared, self.weights
        metrics = {"recon": losses.multi_resolution_stft_loss(shared["recon"], shared["real"],
                                                              resolutions=STFT_RESOLUTIONS),
                   "kl": kl_to_prior(shared["mean"], shared["logvar"])}
        g_loss = w["recon"] * metrics["recon"] + w["kl"] * metrics["kl"]
        if step.index >= self.disc_start:
            real_out = self._judge(step, shared["real"])
            recon_out, prior_out = self._judge(step, shared["recon"]), self._judge(step, shared["prior"])
            metrics["g_adv"] = 0.5 * torch.stack([self.g_adv(f) for f, _ in recon_out + prior_out]).sum()
            metrics["fm"] = torch.stack([losses.feature_matching(rf, ff) for (_, rf), (_, ff)
                                         in zip(real_out, recon_out)]).sum()
            g_loss = g_loss + w["adv"] * metrics["g_adv"] + w["fm"] * metrics["fm"]
        return g_loss, metrics


def build_ddspgan_trainer(data: str | os.PathLike, out: str | os.PathLike, preset: InstrumentPreset, *,
                          seed: int = 0, device: str | torch.device = "cpu", progress: bool = True,
                          dist: dist_utils.DistInfo | None = None, tensorboard: bool = True) -> GANTrainer:
    """Everything a harmonic-plus-noise GAN run needs, ready for ``trainer.fit(preset.steps, resume=...)``.

    ``data`` is a note folder from ``ganaudio prepare notes`` (or a folder of
    them, rendered with different hold lengths); training clips are
    ``preset.note_seconds`` long, and notes whose folder does not say how long
    they were held count as held ``preset.hold_seconds``.
    """
    dist = dist or dist_utils.DistInfo(device=torch.device(device))
    torch.manual_seed(seed)
    G = HarmonicInstrument(decoder=preset.decoder_kwargs(), encoder=preset.encoder_kwargs())
    D = MelDiscriminator(**preset.discriminator_kwargs())
    frames = int(preset.note_seconds * G.sample_rate) // G.hop
    audio, labels, summary = load_note_clips(data, split="train", sample_rate=G.sample_rate,
                                             samples=frames * G.hop, default_hold=preset.hold_seconds,
                                             progress=progress and dist.is_main)
    labels[:, 2] = torch.ceil(labels[:, 2] * G.sample_rate / G.hop)  # seconds held -> control frames held
    log.info("%d notes of %d instruments (%d skipped)", summary["notes"], summary["instruments"],
             summary["skipped"]["skipped"])
    objective = InstrumentLoss(crop=preset.crop,
                               recon_weight=preset.recon_weight, kl_weight=preset.kl_weight,
                               adv_weight=preset.adv_weight, fm_weight=preset.fm_weight,
                               disc_start=preset.disc_start)

    def batch_fn(indices: torch.Tensor, generator: torch.Generator | None = None):
        real = audio[indices].float().div_(32768)
        if preset.cross_fraction <= 0:
            return real, labels[indices]
        heard = timbre_partners(labels, indices, fraction=preset.cross_fraction,
                                semitones=preset.cross_semitones, generator=generator)
        return real, labels[indices], audio[heard].float().div_(32768)

    middle = len(audio) // 2
    example, example_labels = audio[middle: middle + 1].float().div(32768), labels[middle: middle + 1]

    def sample_fn(generator, step):
        with torch.no_grad():
            mean, _ = generator.encode(example)
            controls = objective.controls(example_labels, frames)
            recon, _ = generator(mean, *controls)
            prior, _ = generator(torch.randn(1, generator.z_dim), *controls)
        return {"original": (example[0].numpy(), G.sample_rate),
                "recon": (recon[0].clamp(-1, 1).numpy(), G.sample_rate),
                "prior": (prior[0].clamp(-1, 1).numpy(), G.sample_rate)}

    config = {"family": "ddspgan", "preset": preset.to_dict(),
              "data": {"root": str(Path(data).resolve()), **summary, "seed": seed}}
    return GANTrainer(
        G, D, objective=objective, batch_fn=batch_fn, n_examples=len(audio), out_dir=out,
        batch_size=preset.batch_size, g_lr=preset.g_lr, d_lr=preset.d_lr, betas=(preset.beta1, preset.beta2),
        ema_decay=preset.ema_decay, grad_clip=preset.grad_clip, warmup_steps=preset.warmup_steps,
        mixed_precision=preset.mixed_precision, log_every=preset.log_every, sample_every=preset.sample_every,
        checkpoint_every=preset.checkpoint_every, keep_checkpoints=preset.keep_checkpoints,
        checkpoint_config=config, sample_fn=sample_fn, seed=seed, device=device, dist=dist, progress=progress,
        tensorboard=tensorboard,
    )

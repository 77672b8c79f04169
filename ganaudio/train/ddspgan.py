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

from ganaudio import losses
from ganaudio.errors import DataError, ParameterError
from ganaudio.models.ddspgan import HarmonicInstrument, MelDiscriminator
from ganaudio.train.engine import GANTrainer

__all__ = ["InstrumentTrainer", "load_note_clips", "kl_to_prior"]

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
                    progress: bool = True) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Every note of a note data set (``ganaudio prepare notes`` layout) as int16 clips of ``samples``.

    Returns
    -------
    audio : torch.Tensor
        ``(n_notes, samples)`` int16 (notes cut or padded with silence).
    labels : torch.Tensor
        ``(n_notes, 2)`` float32: MIDI pitch, velocity / 127.
    summary : dict
        ``notes``, ``skipped`` (unreadable or non-finite files), ``instruments``.
    """
    from tqdm.auto import tqdm

    from ganaudio.data.nsynth import load_note_examples
    from ganaudio.errors import AudioFileError

    notes = load_note_examples(data, split=split, pitch_range=(21, 108), sources=None)
    audio = np.zeros((len(notes), samples), dtype=np.int16)
    labels, kept, skipped = [], [], 0
    for note in tqdm(notes, unit="note", desc="loading notes", disable=not progress):
        try:
            y = note.load(sample_rate=sample_rate)
        except AudioFileError as exc:
            log.warning("skipping %s: %s", note.path, exc)
            skipped += 1
            continue
        if not np.all(np.isfinite(y)):
            log.warning("skipping %s: non-finite samples", note.path)
            skipped += 1
            continue
        y = y[:samples]
        audio[len(kept), : len(y)] = np.round(np.clip(y, -1, 32767 / 32768) * 32768).astype(np.int16)
        labels.append((note.pitch, note.velocity / 127))
        kept.append(note.instrument_str)
    if not kept:
        raise DataError(f"{data}: no readable notes" + (f" in split {split!r}" if split else ""))
    summary = {"notes": len(kept), "skipped": skipped, "instruments": len(set(kept))}
    return (torch.from_numpy(audio[: len(kept)]), torch.tensor(labels, dtype=torch.float32), summary)


class InstrumentTrainer(GANTrainer):
    """GANTrainer whose step trains a :class:`HarmonicInstrument` against a :class:`MelDiscriminator`.

    Parameters
    ----------
    generator : HarmonicInstrument
    discriminator : MelDiscriminator
    hold_frames : int
        Control frames the key is held in every training note (the rest is release).
    crop : int
        Samples of each discriminator crop (the same span of the real note,
        its reconstruction and the prior sample).
    recon_weight, kl_weight, adv_weight, fm_weight : float
        Loss weights.
    disc_start : int
        Steps with reconstruction and KL only.
    **engine
        :class:`GANTrainer`'s keyword arguments; ``batch_fn(indices)`` returns
        ``(audio (B, samples) float, labels (B, 2): pitch, velocity 0-1)``.
    """

    def __init__(self, generator: HarmonicInstrument, discriminator: MelDiscriminator, *, hold_frames: int,
                 crop: int = 32768, recon_weight: float = 1.0, kl_weight: float = 0.01, adv_weight: float = 0.1,
                 fm_weight: float = 1.0, disc_start: int = 2000, **engine):
        super().__init__(generator, discriminator, loss="lsgan", ema_decay=engine.pop("ema_decay", 0.999), **engine)
        if hold_frames < 1 or crop < 1024:
            raise ParameterError(f"hold_frames must be >= 1 and crop >= 1024, got {hold_frames}, {crop}")
        self.hold_frames, self.crop, self.disc_start = int(hold_frames), int(crop), int(disc_start)
        self.loss_weights = {"recon": float(recon_weight), "kl": float(kl_weight), "adv": float(adv_weight),
                             "fm": float(fm_weight)}

    def _controls(self, labels: torch.Tensor, frames: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        batch = labels.shape[0]
        pitch = labels[:, :1].expand(batch, frames)
        velocity = labels[:, 1:2].expand(batch, frames)
        gate = (torch.arange(frames, device=labels.device) < self.hold_frames).to(labels.dtype)
        return pitch, velocity, gate.expand(batch, frames)

    def _judge(self, audio: torch.Tensor, labels: torch.Tensor, start: int):
        return self.D(audio[:, start:start + self.crop], labels[:, 0], labels[:, 1])

    def train_step(self, step: int) -> dict:
        """One discriminator update (after ``disc_start``), then one update of encoder and decoder."""
        real, labels = self.batch_fn(self._indices(step))
        real, labels = real.to(self.device), labels.to(self.device)
        hop = self.G.hop
        frames = real.shape[-1] // hop
        real = real[:, : frames * hop]
        rng = self._step_generator(step, salt=7)
        mean, logvar = self.G.encode(real)
        noise = torch.randn(mean.shape, generator=rng).to(self.device)
        z = mean + noise * (0.5 * logvar).exp()
        pitch, velocity, gate = self._controls(labels, frames)
        recon, _ = self.G(z, pitch, velocity, gate)
        w, adversarial = self.loss_weights, step >= self.disc_start
        metrics = {}
        if adversarial:
            prior, _ = self.G(torch.randn(mean.shape, generator=rng).to(self.device), pitch, velocity, gate)
            start = int(torch.randint(0, max(1, real.shape[-1] - self.crop + 1), (1,), generator=rng))
            # ---------------- discriminator step
            real_out = self._judge(real, labels, start)
            d_loss = 0.0
            for fake in (recon, prior):
                fake_out = self._judge(fake.detach(), labels, start)
                d_loss = d_loss + 0.5 * torch.stack([self.d_adv(r, f) for (r, _), (f, _)
                                                     in zip(real_out, fake_out)]).sum()
            metrics["d_loss"] = d_loss
            if not self.guarded_update(d_loss, self.opt_d, self.D):
                return self._bad_step(step, "discriminator", metrics)

        # ---------------- generator step (encoder and decoder)
        metrics["recon"] = losses.multi_resolution_stft_loss(recon, real, resolutions=STFT_RESOLUTIONS)
        metrics["kl"] = kl_to_prior(mean, logvar)
        g_loss = w["recon"] * metrics["recon"] + w["kl"] * metrics["kl"]
        self.D.requires_grad_(False)
        try:
            if adversarial:
                real_out = self._judge(real, labels, start)
                recon_out, prior_out = self._judge(recon, labels, start), self._judge(prior, labels, start)
                metrics["g_adv"] = 0.5 * torch.stack([self.g_adv(f) for f, _ in recon_out + prior_out]).sum()
                metrics["fm"] = torch.stack([losses.feature_matching(rf, ff) for (_, rf), (_, ff)
                                             in zip(real_out, recon_out)]).sum()
                g_loss = g_loss + w["adv"] * metrics["g_adv"] + w["fm"] * metrics["fm"]
            metrics["g_loss"] = g_loss
            g_ok = self.guarded_update(g_loss, self.opt_g, self.G)
        finally:
            self.D.requires_grad_(True)
        if not g_ok:
            return self._bad_step(step, "generator", metrics)
        self._update_ema()
        self.bad_steps = 0
        return {**{k: float(v.detach()) for k, v in metrics.items()}, **self.grad_norm_metrics()}


def build_instrument_trainer(data: str | os.PathLike, out: str | os.PathLike, *, decoder: dict, encoder: dict,
                             discriminator: dict, note_seconds: float, hold_seconds: float, batch_size: int,
                             g_lr: float, d_lr: float, seed: int = 0, device: str = "cpu", progress: bool = True,
                             **options) -> InstrumentTrainer:
    """Everything a run needs, ready for ``trainer.fit(steps, resume=...)``."""
    torch.manual_seed(seed)
    G = HarmonicInstrument(decoder=decoder, encoder=encoder)
    D = MelDiscriminator(sample_rate=G.sample_rate, **discriminator)
    frames = int(note_seconds * G.sample_rate) // G.hop
    audio, labels, summary = load_note_clips(data, split="train", sample_rate=G.sample_rate,
                                             samples=frames * G.hop, progress=progress)
    log.info("%d notes of %d instruments (%d skipped)", summary["notes"], summary["instruments"], summary["skipped"])

    def batch_fn(indices: torch.Tensor):
        return audio[indices].float().div_(32768), labels[indices]

    example = audio[len(audio) // 2: len(audio) // 2 + 1].float().div(32768)
    example_labels = labels[len(audio) // 2: len(audio) // 2 + 1]
    hold_frames = int(hold_seconds * G.sample_rate) // G.hop

    def sample_fn(generator, step):
        with torch.no_grad():
            mean, _ = generator.encode(example)
            pitch = example_labels[:, :1].expand(1, frames)
            velocity = example_labels[:, 1:2].expand(1, frames)
            gate = (torch.arange(frames) < hold_frames).float()[None]
            recon, _ = generator(mean, pitch, velocity, gate)
            prior, _ = generator(torch.randn(1, generator.z_dim), pitch, velocity, gate)
        return {"original": (example[0].numpy(), G.sample_rate),
                "recon": (recon[0].clamp(-1, 1).numpy(), G.sample_rate),
                "prior": (prior[0].clamp(-1, 1).numpy(), G.sample_rate)}

    config = {"family": "ddspgan", "note_seconds": note_seconds, "hold_seconds": hold_seconds,
              "data": {"root": str(Path(data).resolve()), **summary, "seed": seed}}
    return InstrumentTrainer(G, D, hold_frames=hold_frames, batch_fn=batch_fn, n_examples=len(audio),
                             out_dir=out, batch_size=batch_size, g_lr=g_lr, d_lr=d_lr, betas=(0.8, 0.99),
                             checkpoint_config=config, sample_fn=sample_fn, seed=seed, device=device,
                             progress=progress, **options)

"""A periodicity prior for pitch-conditioned notes: energy on the asked pitch's harmonics, frame by frame.

By the Wiener-Khinchin theorem a frame's autocorrelation at lag ``T`` is
``sum_f P(f) cos(2 pi f T)``; at the asked period ``T = 1 / f0`` and
normalised by ``sum_f P(f)`` it is the frame's *periodicity* ``rho``: 1 when
all power lies on multiples of ``f0``, about 0 for noise. This is what a
pitch tracker such as YIN looks for, read straight off a log-mel image
without decoding it. Only mel bands narrower than ``f0 / 4`` take part
(wider bands blur harmonics together).

Measured on the step-20,600 tiny model's low notes (MIDI 36-56, 168 notes), the
share of loud frames below ``rho = 0.95`` separated the notes pYIN called
unvoiced from those it tracked (ROC AUC 0.91) where the discriminator's score
did not (AUC 0.41): the discriminator never learnt to punish them. The prior
hinges each generated note's aperiodicity at the median of real notes of its
pitch, so it pushes only notes less periodic than a typical real one.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ganaudio.errors import ParameterError

__all__ = ["PeriodicityPrior", "aperiodicity", "comb_tables"]

_NEPER_PER_DB = math.log(10.0) / 10.0  # natural-log power units per decibel


def comb_tables(band_hz, pitch_hz) -> tuple[torch.Tensor, torch.Tensor]:
    """``cos(2 pi f_band / f0)`` and the resolved-band mask, each ``(len(pitch_hz), len(band_hz))``.

    A band is resolved when its width (spacing of band centres) is under
    ``f0 / 4`` and it lies above ``f0 / 2``.
    """
    band = np.asarray(band_hz, dtype=np.float64)
    f0 = np.asarray(pitch_hz, dtype=np.float64)[:, None]
    if band.ndim != 1 or band.size < 2 or np.any(f0 <= 0):
        raise ParameterError("comb_tables needs at least two band centres and positive pitches")
    width = np.gradient(band)[None, :]
    resolved = (width < f0 / 4) & (band[None, :] > f0 / 2)
    if not resolved.any(axis=1).all():
        raise ParameterError(f"no band is narrower than f0 / 4 for pitches {f0[~resolved.any(axis=1), 0]} Hz")
    comb = np.cos(2 * np.pi * band[None, :] / f0)
    return torch.tensor(comb, dtype=torch.float32), torch.tensor(resolved)


def aperiodicity(log_power: torch.Tensor, comb: torch.Tensor, resolved: torch.Tensor, *, target: float = 0.95,
                 gate_db: float = 30.0) -> torch.Tensor:
    """Mean shortfall of each note's loud frames from periodicity ``target``: ``(batch,)``, 0 = all periodic.

    Parameters
    ----------
    log_power : torch.Tensor ``(batch, bands, frames)``
        Natural-log mel power (the magnitude channel of IF-Mel, denormalised).
    comb, resolved : torch.Tensor ``(batch, bands)``
        Rows of :func:`comb_tables` for each note's pitch.
    target : float
        Frames at or above this periodicity cost nothing.
    gate_db : float
        Only frames within this many dB of the note's loudest frame count.

    Examples
    --------
    >>> comb, ok = comb_tables([10.0 * k for k in range(1, 101)], [100.0])  # bands 10 Hz apart
    >>> harmonic = torch.full((1, 100, 4), -30.0)
    >>> harmonic[0, 9::10] = 0.0  # power on 100, 200, ... Hz
    >>> float(aperiodicity(harmonic, comb, ok)) < 1e-6
    True
    >>> float(aperiodicity(torch.zeros(1, 100, 4), comb, ok)) > 0.9  # flat spectrum: noise
    True
    """
    if log_power.ndim != 3 or comb.shape != log_power.shape[:2] or resolved.shape != comb.shape:
        raise ParameterError(f"need log_power (batch, bands, frames) and comb, resolved (batch, bands), got "
                             f"{tuple(log_power.shape)}, {tuple(comb.shape)}, {tuple(resolved.shape)}")
    weights = torch.softmax(log_power.masked_fill(~resolved[..., None], -math.inf), dim=1)
    rho = (weights * comb[..., None]).sum(dim=1)  # (batch, frames)
    energy = torch.logsumexp(log_power.detach(), dim=1)
    loud = (energy >= energy.amax(dim=1, keepdim=True) - gate_db * _NEPER_PER_DB).float()
    return (torch.relu(target - rho) * loud).sum(dim=1) / loud.sum(dim=1)


class PeriodicityPrior:
    """Generator penalty: how far each note's aperiodicity exceeds real notes' median at its pitch.

    Parameters
    ----------
    band_hz : sequence of float
        Centre frequency of each mel band (``Mel.band_frequencies()``).
    pitch_hz : sequence of float
        Frequency of each pitch class, in label order.
    center, scale : float
        The normaliser's statistics for the log-power channel (channel 0).
    reference : torch.Tensor ``(n_pitches,)``
        Real notes' median aperiodicity per pitch class (:meth:`fit_reference`).
    target, gate_db : float
        As in :func:`aperiodicity`.
    """

    def __init__(self, band_hz, pitch_hz, *, center: float, scale: float, reference: torch.Tensor | None = None,
                 target: float = 0.95, gate_db: float = 30.0):
        self.comb, self.resolved = comb_tables(band_hz, pitch_hz)
        self.center, self.scale = float(center), float(scale)
        self.target, self.gate_db = float(target), float(gate_db)
        self.reference = torch.zeros(len(pitch_hz)) if reference is None else reference.float()

    def note_aperiodicity(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Normalised IF-Mel ``(batch, 2, bands, frames)`` and pitch labels ``(batch,)`` -> ``(batch,)``."""
        device = images.device
        log_power = images[:, 0].float() * self.scale + self.center
        return aperiodicity(log_power, self.comb.to(device)[labels], self.resolved.to(device)[labels],
                            target=self.target, gate_db=self.gate_db)

    @torch.no_grad()
    def fit_reference(self, batches) -> torch.Tensor:
        """Set (and return) the median aperiodicity of real notes per pitch class ``(n_pitches,)``.

        ``batches`` yields ``(images (B, 2, bands, frames), labels (B,))`` of
        real notes, so a large data set is read a batch at a time. Pitch
        classes without real notes take the median over all notes.
        """
        values, seen = [], []
        for images, labels in batches:
            values.append(self.note_aperiodicity(images, labels).cpu())
            seen.append(labels.cpu())
        if not values:
            raise ParameterError("fit_reference needs at least one batch of real notes")
        values, labels = torch.cat(values), torch.cat(seen)
        reference = torch.full((self.comb.shape[0],), float(values.median()))
        for k in labels.unique().tolist():
            reference[k] = values[labels == k].median()
        self.reference = reference
        return reference

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of ``relu(aperiodicity - reference[label])``: a scalar."""
        excess = self.note_aperiodicity(images, labels) - self.reference.to(images.device)[labels]
        return torch.relu(excess).mean()

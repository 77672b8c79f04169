"""Signal-processing vocoders: Griffin-Lim, IF phase, and Griffin-Lim started from IF phase."""

from __future__ import annotations

import dataclasses
import os
from typing import ClassVar, Protocol

import torch

from ganaudio.errors import ParameterError

__all__ = ["VOCODERS", "GriffinLimVocoder", "PhaseGriffinLimVocoder", "PhaseVocoder", "Vocoder", "make_vocoder"]


class Vocoder(Protocol):
    """``vocoder(spec, representation, length=None) -> (..., time)``."""

    name: str

    def __call__(self, spec: torch.Tensor, representation, *, length: int | None = None) -> torch.Tensor: ...


@dataclasses.dataclass(frozen=True)
class GriffinLimVocoder:
    """Magnitude only: fast Griffin-Lim from a random phase.

    Examples
    --------
    >>> voc = GriffinLimVocoder(n_iter=32)
    >>> y = voc(rep.encode(x), rep, length=x.shape[-1])
    """

    n_iter: int = 32
    momentum: float = 0.99
    seed: int | None = 0
    name: ClassVar[str] = "griffinlim"

    def __call__(self, spec, representation, *, length=None):
        generator = None if self.seed is None else torch.Generator(device=spec.device).manual_seed(self.seed)
        return representation.decode(
            spec, length=length, method="griffinlim", n_iter=self.n_iter, momentum=self.momentum, generator=generator
        )


@dataclasses.dataclass(frozen=True)
class PhaseVocoder:
    """One shot: phase from the representation's phase or IF channel, then inverse STFT."""

    name: ClassVar[str] = "phase"

    def __call__(self, spec, representation, *, length=None):
        if not getattr(representation, "has_phase", False) and not getattr(representation, "with_phase", False):
            raise ParameterError(f"the {representation.name} representation has no phase channel; use griffinlim")
        return representation.decode(spec, length=length, method="phase")


@dataclasses.dataclass(frozen=True)
class PhaseGriffinLimVocoder:
    """Griffin-Lim started from the phase channel's phase instead of a random one."""

    n_iter: int = 8
    momentum: float = 0.99
    name: ClassVar[str] = "phase-griffinlim"

    def __call__(self, spec, representation, *, length=None):
        if not getattr(representation, "has_phase", False) and not getattr(representation, "with_phase", False):
            raise ParameterError(f"the {representation.name} representation has no phase channel; use griffinlim")
        return representation.decode(
            spec, length=length, method="phase-griffinlim", n_iter=self.n_iter, momentum=self.momentum
        )


VOCODERS = {cls.name: cls for cls in (GriffinLimVocoder, PhaseVocoder, PhaseGriffinLimVocoder)}


def make_vocoder(name: str, *, n_iter: int | None = None, device: str | torch.device = "cpu") -> Vocoder:
    """Build a vocoder by name: ``griffinlim``, ``phase``, ``phase-griffinlim``, or a GAN vocoder.

    A GAN vocoder is ``gan`` (the bundled default), a bundled name such as
    ``vocoder_16k``, or the path of a model, checkpoint or run folder.

    Examples
    --------
    >>> make_vocoder("phase-griffinlim", n_iter=8)
    PhaseGriffinLimVocoder(n_iter=8, momentum=0.99)
    >>> make_vocoder("gan").sample_rate
    16000
    """
    from ganaudio.vocoders.gan import DEFAULT_VOCODER, GANVocoder, bundled_vocoders

    cls = VOCODERS.get(name)
    if cls is None:
        if name == "gan" or name in bundled_vocoders() or "/" in str(name) or os.path.isdir(name):
            return GANVocoder.load(DEFAULT_VOCODER if name == "gan" else name, device=device)
        raise ParameterError(f"unknown vocoder {name!r}; choose one of {sorted(VOCODERS) + ['gan']}, "
                             f"a bundled vocoder ({', '.join(bundled_vocoders()) or 'none installed'}) "
                             f"or a vocoder folder")
    if n_iter is not None and n_iter < 0:
        raise ParameterError(f"iterations must be >= 0, got {n_iter}")
    if n_iter is None or cls is PhaseVocoder:
        return cls()
    return cls(n_iter=n_iter)

"""Trained GAN vocoders (HiFi-GAN or Vocos generators): log-mel spectrogram to waveform.

A vocoder is a model folder (``model.safetensors`` + ``config.json``): a bundled
one by name (``vocoder_16k``, the default for mel outputs), a checkpoint folder,
or a training run folder (its newest checkpoint). It inverts exactly the
:class:`ganaudio.representations.Mel` analysis stored in its config, and refuses
a spectrogram made with other settings instead of producing noise.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import ClassVar

import torch

from ganaudio.errors import CheckpointError, ParameterError
from ganaudio.loading import (
    ASSETS,
    build_from_config,
    bundled_models,
    load_weights,
    open_model,
    resolve_model_folder,
)
from ganaudio.representations import from_config

__all__ = ["ASSETS_DIR", "DEFAULT_VOCODER", "GANVocoder", "bundled_vocoders", "find_vocoder", "load_vocoder"]

ASSETS_DIR = ASSETS
DEFAULT_VOCODER = "vocoder_16k"
#: Fewest mel frames the generators take (its inverse STFT needs two); shorter input is padded with silence.
MIN_MEL_FRAMES = 2
# Mel fields that must agree between a spectrogram's representation and the vocoder's.
_MEL_FIELDS = ("sample_rate", "n_fft", "hop_length", "win_length", "n_mels", "fmin", "fmax", "htk", "norm", "eps")


def bundled_vocoders() -> list[str]:
    """Names of the vocoders shipped in ``ganaudio/assets``."""
    return bundled_models("vocoder")


def find_vocoder(name_or_path: str | os.PathLike) -> Path:
    """The model folder for a bundled name, a model/checkpoint folder, or a run folder (newest checkpoint).

    Raises
    ------
    CheckpointError
        If nothing loadable is found; the message lists the bundled names.
    """
    return resolve_model_folder(name_or_path, what="vocoder", family="vocoder")


@dataclasses.dataclass(eq=False)
class GANVocoder:
    """A trained mel vocoder, callable like the signal-processing vocoders.

    Parameters
    ----------
    generator : nn.Module
        ``(batch, n_mels, frames) -> (batch, 1, time)``.
    representation : ganaudio.representations.Mel
        The analysis it inverts.
    source : str
        Where it was loaded from.

    Examples
    --------
    >>> voc = GANVocoder.load("vocoder_16k")
    >>> rep = voc.representation
    >>> y_hat = voc(rep.encode(y), rep, length=len(y))        # (time,)
    """

    generator: torch.nn.Module
    representation: object
    source: str = ""
    name: ClassVar[str] = "gan"

    @classmethod
    def load(cls, name_or_path: str | os.PathLike = DEFAULT_VOCODER, *, device: str | torch.device = "cpu"
             ) -> GANVocoder:
        """Load a bundled vocoder by name or a model / checkpoint / run folder (EMA weights when present).

        Raises
        ------
        CheckpointError
            If the folder is not a vocoder or its weights do not fit its config.
        """
        from ganaudio.models.hifigan import HiFiGANGenerator  # here: `import ganaudio` loads no model code
        from ganaudio.models.vocos import VocosGenerator

        folder = open_model(name_or_path, family="vocoder", what="vocoder")
        kinds, kind = {"hifigan": HiFiGANGenerator, "vocos": VocosGenerator}, folder.config.get("generator_type")
        if kind not in kinds:
            raise CheckpointError(f"{folder.path}: unknown generator_type {kind!r}; expected one of {sorted(kinds)}")
        generator, rep = build_from_config(folder, lambda c: (kinds[kind](**c["generator"]),
                                                              from_config(c["representation"])))
        load_weights(generator, folder)
        if hasattr(generator, "remove_weight_norm"):
            generator.remove_weight_norm()
        return cls(generator.to(device).eval().requires_grad_(False), rep, str(folder.path))

    @property
    def sample_rate(self) -> int:
        return self.representation.sample_rate

    @property
    def receptive_frames(self) -> int:
        """Mel frames either side of an output frame that can change it (block-wise vocoding needs this context)."""
        return int(self.generator.receptive_radius())

    def check_representation(self, representation) -> None:
        """Raise ParameterError unless ``representation`` is the mel analysis this vocoder was trained on."""
        if representation is None:
            return
        if getattr(representation, "name", None) != "mel":
            name = getattr(representation, "name", representation)
            raise ParameterError(f"a GAN vocoder inverts log-mel spectrograms, not {name!r}; analyse with the mel "
                                 f"representation or invert with Griffin-Lim", remedy="mel-representation")
        ours = self.representation
        diff = [f"{f}={getattr(representation, f)!r} (vocoder: {getattr(ours, f)!r})" for f in _MEL_FIELDS
                if getattr(representation, f) != getattr(ours, f)]
        if diff:
            raise ParameterError(f"the spectrogram's mel settings differ from the vocoder's ({self.source}): "
                                 + ", ".join(diff))

    @torch.no_grad()
    def from_mel(self, log_mel: torch.Tensor, *, length: int | None = None) -> torch.Tensor:
        """Log-mel power ``(..., n_mels, frames)`` (``Mel.encode`` units) to a waveform ``(..., time)`` in [-1, 1].

        ``length`` defaults to ``(frames - 1) * hop``, the length whose analysis gave ``frames`` frames.
        """
        if log_mel.ndim < 2 or log_mel.shape[-2] != self.representation.n_mels:
            raise ParameterError(f"expected a log-mel spectrogram (..., {self.representation.n_mels}, frames), "
                                 f"got {tuple(log_mel.shape)}")
        device = next(self.generator.parameters()).device
        lead, frames = log_mel.shape[:-2], log_mel.shape[-1]
        length = self.representation.samples_for(frames) if length is None else int(length)
        if length < 1:
            raise ParameterError(f"a log-mel spectrogram of {frames} frame(s) gives no samples; it needs at least "
                                 f"{MIN_MEL_FRAMES} frames (or a length)")
        floor = math.log(self.representation.eps)
        if log_mel.numel() and bool((log_mel <= floor + 1e-4).all()):  # silence gives silence, exactly
            return torch.zeros(*lead, length, device=log_mel.device)
        x = log_mel.reshape(-1, *log_mel.shape[-2:]).to(device=device, dtype=torch.float32)
        if frames < MIN_MEL_FRAMES:  # tiny input: pad with silent frames, the output is trimmed back to length
            x = torch.nn.functional.pad(x, (0, MIN_MEL_FRAMES - frames), value=floor)
        y = self.generator(x)[:, 0]
        if y.shape[-1] < length:
            y = torch.nn.functional.pad(y, (0, length - y.shape[-1]))
        return y[..., :length].clamp(-1, 1).reshape(*lead, length).to(log_mel.device)

    def __call__(self, spec: torch.Tensor, representation=None, *, length: int | None = None) -> torch.Tensor:
        """The vocoder protocol: ``spec`` ``(..., 1, n_mels, frames)`` to ``(..., time)``."""
        self.check_representation(representation)
        if spec.ndim < 3 or spec.shape[-3] != 1:
            raise ParameterError(f"expected a mel spectrogram (..., 1, n_mels, frames), got {tuple(spec.shape)}")
        return self.from_mel(spec[..., 0, :, :], length=length)

    def resynthesize(self, y: torch.Tensor) -> torch.Tensor:
        """Analyse ``y`` ``(..., time)`` (at :attr:`sample_rate`) and vocode it back, same length."""
        y = torch.as_tensor(y, dtype=torch.float32)
        return self.from_mel(self.representation.encode(y)[..., 0, :, :], length=y.shape[-1])


def load_vocoder(name_or_path: str | os.PathLike = DEFAULT_VOCODER, *, device: str | torch.device = "cpu"
                 ) -> GANVocoder:
    """:meth:`GANVocoder.load`."""
    return GANVocoder.load(name_or_path, device=device)

"""Spectral representations: parameter holders pairing ``encode`` with ``decode``.

Each class stores its parameters (a frozen dataclass, so ``config()`` is exactly
the constructor arguments) and calls the pure functions in
:mod:`ganaudio.functional.spectral`. Shapes: ``encode`` maps ``(..., time)`` to
``(..., channels, freq, frames)``; ``decode`` maps back.

Inversion methods for representations with a phase channel:

``phase``
    One shot: phase from the phase / IF channel, then an inverse STFT. Exact
    for :class:`STFT` and :class:`IF`; lossy for :class:`IFMel` where mel bands
    are wider than linear bins.
``griffinlim``
    Magnitude only, Griffin-Lim from a random phase.
``phase-griffinlim``
    Griffin-Lim started from the phase channel's phase (GANSynth's IF phase).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import librosa
import numpy as np
import torch

from ganaudio.errors import ParameterError
from ganaudio.functional import spectral as F

__all__ = ["SpectralRepresentation", "STFT", "Mel", "IF", "IFMel", "DECODE_METHODS"]

DECODE_METHODS = ("phase", "griffinlim", "phase-griffinlim")


@dataclasses.dataclass(frozen=True)
class SpectralRepresentation:
    """Base class: STFT parameters shared by every spectral representation.

    Parameters
    ----------
    sample_rate : int
        Hz.
    n_fft, hop_length : int
        FFT size and hop in samples.
    win_length : int, optional
        Window length (defaults to ``n_fft``).
    """

    sample_rate: int = 16000
    n_fft: int = 1024
    hop_length: int = 256
    win_length: int | None = None

    name: ClassVar[str] = "base"
    has_phase: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if not isinstance(self.sample_rate, int) or self.sample_rate <= 0:
            raise ParameterError(f"sample_rate must be a positive integer (Hz), got {self.sample_rate!r}")
        window = F._check_fft(self.n_fft, self.hop_length, self.win_length)
        if self.hop_length > window:  # frames would leave gaps: the inverse (torch.istft) refuses it
            raise ParameterError(f"hop_length {self.hop_length} is longer than the window ({window} samples): frames "
                                 "would leave gaps and could not be inverted; use hop_length <= n_fft")

    # ------------------------------------------------------------------ helpers
    def config(self) -> dict:
        """JSON-able description: ``{"type": name, **constructor arguments}``."""
        return {"type": self.name, **dataclasses.asdict(self)}

    @property
    def channels(self) -> int:
        return 2 if self.has_phase else 1

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    def frames_for(self, num_samples: int) -> int:
        """Frames ``encode`` gives for ``num_samples`` samples."""
        return F.n_frames(num_samples, hop_length=self.hop_length)

    def samples_for(self, n_frames: int) -> int:
        """Waveform length whose encoding has exactly ``n_frames`` frames."""
        return (n_frames - 1) * self.hop_length

    def fit_length(self, y: torch.Tensor, n_frames: int | None) -> torch.Tensor:
        """Zero-pad or crop ``y`` ``(..., time)`` at the end so ``encode`` gives ``n_frames`` frames."""
        if n_frames is None:
            return y
        target = self.samples_for(n_frames)
        if y.shape[-1] >= target:
            return y[..., :target]
        return torch.nn.functional.pad(y, (0, target - y.shape[-1]))

    def _stft(self, y: torch.Tensor) -> torch.Tensor:
        return F.stft(y, n_fft=self.n_fft, hop_length=self.hop_length, win_length=self.win_length)

    def _istft(self, spec: torch.Tensor, length: int | None) -> torch.Tensor:
        return F.istft(spec, n_fft=self.n_fft, hop_length=self.hop_length, win_length=self.win_length, length=length)

    def _griffinlim(self, mag, *, init_phase, n_iter, momentum, length, generator):
        return F.griffinlim(
            mag, n_fft=self.n_fft, hop_length=self.hop_length, win_length=self.win_length, n_iter=n_iter,
            momentum=momentum, init_phase=init_phase, length=length, generator=generator,
        )

    def _check_spec(self, spec: torch.Tensor, n_bins: int) -> None:
        if spec.ndim < 3 or spec.shape[-3] != self.channels or spec.shape[-2] != n_bins:
            raise ParameterError(
                f"{self.name} expects a spectrogram of shape (..., {self.channels}, {n_bins}, frames), "
                f"got {tuple(spec.shape)}"
            )

    def _check_method(self, method: str) -> None:
        allowed = DECODE_METHODS if self.has_phase else ("griffinlim",)
        if method not in allowed:
            raise ParameterError(f"{self.name} cannot decode with {method!r}; choose one of {allowed}")

    # -------------------------------------------------------------- interface
    def encode(self, y: torch.Tensor, *, n_frames: int | None = None) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def decode(self, spec: torch.Tensor, **kwargs) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class STFT(SpectralRepresentation):
    """Log-magnitude STFT, with the wrapped phase as a second channel when ``with_phase``.

    ``encode``: ``(..., time)`` to ``(..., 1 or 2, n_fft // 2 + 1, frames)``.

    Examples
    --------
    >>> rep = STFT(sample_rate=16000, n_fft=512, hop_length=128)
    >>> spec = rep.encode(torch.randn(16000))          # (2, 257, 126)
    >>> y = rep.decode(spec, length=16000)             # exact inverse
    """

    with_phase: bool = True
    name: ClassVar[str] = "stft"

    @property
    def channels(self) -> int:
        return 2 if self.with_phase else 1

    def encode(self, y: torch.Tensor, *, n_frames: int | None = None) -> torch.Tensor:
        spec = self._stft(self.fit_length(F._as_waveform(y), n_frames))
        logmag = F.log_magnitude(spec)
        if not self.with_phase:
            return logmag.unsqueeze(-3)
        return torch.stack([logmag, spec.angle()], dim=-3)

    def decode(
        self, spec: torch.Tensor, *, length: int | None = None, method: str | None = None, n_iter: int = 32,
        momentum: float = 0.99, generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        method = method or ("phase" if self.with_phase else "griffinlim")
        if method != "griffinlim" and not self.with_phase:
            raise ParameterError(f"stft without phase cannot decode with {method!r}; use 'griffinlim'")
        self._check_spec(spec, self.n_bins)
        mag = torch.exp(spec[..., 0, :, :]) - F.LOG_EPS
        mag = mag.clamp_min(0)
        phase = spec[..., 1, :, :] if self.with_phase else None
        if method == "phase":
            return self._istft(torch.polar(mag, phase), length)
        if method not in DECODE_METHODS:
            raise ParameterError(f"unknown decode method {method!r}; choose one of {DECODE_METHODS}")
        init = phase if method == "phase-griffinlim" else None
        return self._griffinlim(mag, init_phase=init, n_iter=n_iter, momentum=momentum, length=length,
                                generator=generator)


@dataclasses.dataclass(frozen=True)
class IF(SpectralRepresentation):
    """GANSynth's linear IF: channel 0 log-magnitude, channel 1 instantaneous frequency / pi.

    ``encode``: ``(..., time)`` to ``(..., 2, n_fft // 2 + 1, frames)``; ``decode``
    with ``method="phase"`` integrates the IF (cumulative sum) and is exact up
    to float error.

    Examples
    --------
    >>> rep = IF(sample_rate=16000, n_fft=1024, hop_length=256)
    >>> y = torch.randn(16000)
    >>> F.snr_db(rep.decode(rep.encode(y), length=16000), y) > 40
    True
    """

    name: ClassVar[str] = "if"
    has_phase: ClassVar[bool] = True

    def encode(self, y: torch.Tensor, *, n_frames: int | None = None) -> torch.Tensor:
        spec = self._stft(self.fit_length(F._as_waveform(y), n_frames))
        return torch.stack([F.log_magnitude(spec), F.instantaneous_frequency(spec.angle())], dim=-3)

    def decode(
        self, spec: torch.Tensor, *, length: int | None = None, method: str = "phase", n_iter: int = 32,
        momentum: float = 0.99, generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        self._check_method(method)
        self._check_spec(spec, self.n_bins)
        mag = (torch.exp(spec[..., 0, :, :]) - F.LOG_EPS).clamp_min(0)
        phase = F.if_to_phase(spec[..., 1, :, :])
        if method == "phase":
            return self._istft(torch.polar(mag, phase), length)
        init = phase if method == "phase-griffinlim" else None
        return self._griffinlim(mag, init_phase=init, n_iter=n_iter, momentum=momentum, length=length,
                                generator=generator)


@dataclasses.dataclass(frozen=True)
class Mel(SpectralRepresentation):
    """Log-mel power spectrogram, equal to ``log(librosa.feature.melspectrogram(...) + eps)``.

    ``encode``: ``(..., time)`` to ``(..., 1, n_mels, frames)``. ``decode`` maps mel
    power back to linear magnitude and runs Griffin-Lim. ``mel_inverse``
    chooses the mapping: ``"pinv"`` (the filterbank's pseudo-inverse clamped at
    zero; fast, differentiable, any device) or ``"nnls"`` (librosa's
    non-negative least squares on the CPU; about 2x closer on 256+ bands, 10-100x
    slower). Few bands (80) cannot resolve high harmonics whichever is used.

    Examples
    --------
    >>> rep = Mel(sample_rate=16000, n_fft=1024, hop_length=256, n_mels=80)
    >>> rep.encode(torch.randn(2, 16000)).shape
    torch.Size([2, 1, 80, 63])
    """

    n_mels: int = 80
    fmin: float = 0.0
    fmax: float | None = None
    htk: bool = False
    norm: str | None = "slaney"
    eps: float = 1e-6
    mel_inverse: str = "pinv"
    name: ClassVar[str] = "mel"

    def __post_init__(self) -> None:
        super().__post_init__()
        nyquist = self.sample_rate / 2
        if not isinstance(self.n_mels, int) or self.n_mels < 1:
            raise ParameterError(f"n_mels must be a positive integer, got {self.n_mels!r}")
        if self.mel_inverse not in ("pinv", "nnls"):
            raise ParameterError(f"mel_inverse must be 'pinv' or 'nnls', got {self.mel_inverse!r}")
        if not 0 <= self.fmin < (self.fmax or nyquist) <= nyquist:
            raise ParameterError(f"need 0 <= fmin < fmax <= {nyquist} Hz, got fmin={self.fmin}, fmax={self.fmax}")

    @property
    def n_bins(self) -> int:
        return self.n_mels

    def _mel_kwargs(self) -> dict:
        return dict(sample_rate=self.sample_rate, n_fft=self.n_fft, n_mels=self.n_mels, fmin=self.fmin,
                    fmax=self.fmax, htk=self.htk, norm=self.norm)

    def band_frequencies(self) -> tuple[float, ...]:
        """Centre frequency in Hz of each mel band (where its triangle peaks), lowest first: ``n_mels`` values.

        Examples
        --------
        >>> Mel(sample_rate=16000, n_fft=1024, hop_length=256, n_mels=4).band_frequencies()[0] > 0
        True
        """
        fmax = self.fmax or self.sample_rate / 2
        edges = librosa.mel_frequencies(self.n_mels + 2, fmin=self.fmin, fmax=fmax, htk=self.htk)
        return tuple(float(f) for f in edges[1:-1])

    def filterbank(self, like: torch.Tensor) -> torch.Tensor:
        """Mel filterbank ``(n_mels, n_fft // 2 + 1)`` on ``like``'s device and dtype."""
        return F.mel_filterbank(**self._mel_kwargs(), dtype=like.dtype, device=like.device)

    def inverse_filterbank(self, like: torch.Tensor, method: str = "pinv") -> torch.Tensor:
        return F.mel_inverse_matrix(**self._mel_kwargs(), method=method, dtype=like.dtype, device=like.device)

    def encode(self, y: torch.Tensor, *, n_frames: int | None = None) -> torch.Tensor:
        spec = self._stft(self.fit_length(F._as_waveform(y), n_frames))
        power = spec.abs().pow(2)
        mel = torch.matmul(self.filterbank(power), power)
        return torch.log(mel + self.eps).unsqueeze(-3)

    def mel_to_magnitude(self, log_mel: torch.Tensor) -> torch.Tensor:
        """Log-mel power ``(..., n_mels, frames)`` to linear magnitude ``(..., n_fft//2+1, frames)``."""
        power = (torch.exp(log_mel) - self.eps).clamp_min(0)
        if self.mel_inverse == "nnls":
            fb = self.filterbank(power).double().cpu().numpy()
            flat = power.detach().double().cpu().reshape(-1, *power.shape[-2:]).numpy()
            linear = np.stack([librosa.util.nnls(fb, item) for item in flat])
            linear = torch.as_tensor(linear, dtype=power.dtype, device=power.device)
            return linear.reshape(*power.shape[:-2], *linear.shape[-2:]).clamp_min(0).sqrt()
        linear = torch.matmul(self.inverse_filterbank(power), power).clamp_min(0)
        return linear.sqrt()

    def decode(
        self, spec: torch.Tensor, *, length: int | None = None, method: str = "griffinlim", n_iter: int = 32,
        momentum: float = 0.99, generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        self._check_method(method)
        self._check_spec(spec, self.n_mels)
        mag = self.mel_to_magnitude(spec[..., 0, :, :])
        return self._griffinlim(mag, init_phase=None, n_iter=n_iter, momentum=momentum, length=length,
                                generator=generator)


@dataclasses.dataclass(frozen=True)
class IFMel(Mel):
    """GANSynth's IF-Mel: log mel power and mel-warped instantaneous frequency.

    The unwrapped phase and the power spectrum go through the same mel
    filterbank (rows normalised to sum 1 for phase, so a band holds the
    weighted mean phase of its bins); the decoder maps both back with the
    filterbank's normalised transpose (phase) and pseudo-inverse (power).
    Defaults mirror GANSynth: HTK mel scale, unnormalised triangles.

    ``encode``: ``(..., time)`` to ``(..., 2, n_mels, frames)``.

    GANSynth's "+H" setting is ``IFMel.gansynth_h()``: 16 kHz, n_fft 2048,
    hop 512, 1024 mel bands; 64,000 samples give 128 frames with
    ``encode(y, n_frames=128)``.

    Examples
    --------
    >>> rep = IFMel(sample_rate=16000, n_fft=1024, hop_length=256, n_mels=256)
    >>> spec = rep.encode(torch.randn(16000))                          # (2, 256, 63)
    >>> y = rep.decode(spec, length=16000, method="phase-griffinlim", n_iter=8)
    """

    n_mels: int = 256
    htk: bool = True
    norm: str | None = None
    name: ClassVar[str] = "ifmel"
    has_phase: ClassVar[bool] = True

    @classmethod
    def gansynth_h(cls) -> IFMel:
        """GANSynth's best setting (IF-Mel +H): 128 frames x 1024 mel bands of 4 s at 16 kHz."""
        return cls(sample_rate=16000, n_fft=2048, hop_length=512, n_mels=1024)

    def _phase_matrices(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fb = self.filterbank(like)
        to_mel = fb / fb.sum(dim=1, keepdim=True).clamp_min(1e-12)
        to_linear = fb.t() / fb.sum(dim=0).clamp_min(1e-12).unsqueeze(1)
        return to_mel, to_linear

    def encode(self, y: torch.Tensor, *, n_frames: int | None = None) -> torch.Tensor:
        spec = self._stft(self.fit_length(F._as_waveform(y), n_frames))
        power = spec.abs().pow(2)
        log_mel = torch.log(torch.matmul(self.filterbank(power), power) + self.eps)
        unwrapped = F.if_to_phase(F.instantaneous_frequency(spec.angle()))
        to_mel, _ = self._phase_matrices(power)
        mel_if = F.instantaneous_frequency(torch.matmul(to_mel, unwrapped))
        return torch.stack([log_mel, mel_if], dim=-3)

    def mel_to_phase(self, mel_if: torch.Tensor) -> torch.Tensor:
        """Mel IF ``(..., n_mels, frames)`` to linear phase ``(..., n_fft//2+1, frames)``, radians."""
        _, to_linear = self._phase_matrices(mel_if)
        return torch.matmul(to_linear, F.if_to_phase(mel_if))

    def decode(
        self, spec: torch.Tensor, *, length: int | None = None, method: str = "phase-griffinlim", n_iter: int = 8,
        momentum: float = 0.99, generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        self._check_method(method)
        self._check_spec(spec, self.n_mels)
        mag = self.mel_to_magnitude(spec[..., 0, :, :])
        if method == "griffinlim":
            return self._griffinlim(mag, init_phase=None, n_iter=n_iter, momentum=momentum, length=length,
                                    generator=generator)
        phase = self.mel_to_phase(spec[..., 1, :, :])
        if method == "phase":
            return self._istft(torch.polar(mag, phase), length)
        return self._griffinlim(mag, init_phase=phase, n_iter=n_iter, momentum=momentum, length=length,
                                generator=generator)



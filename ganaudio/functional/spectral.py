"""Pure spectral functions on torch tensors: STFT, mel warping, instantaneous frequency.

Shapes follow one convention: waveforms are ``(..., time)`` and spectrograms
``(..., freq, frames)``; any number of leading batch dimensions. Everything is
differentiable and runs on any device unless noted.
"""

from __future__ import annotations

import functools
import math
import warnings

import librosa
import numpy as np
import torch

from ganaudio.errors import ParameterError
from ganaudio.limits import MAX_N_FFT

__all__ = [
    "stft",
    "istft",
    "log_magnitude",
    "mel_filterbank",
    "mel_inverse_matrix",
    "instantaneous_frequency",
    "if_to_phase",
    "griffinlim",
    "spectral_convergence",
    "snr_db",
    "n_frames",
]

LOG_EPS = 1e-6


def _check_fft(n_fft: int, hop_length: int, win_length: int | None) -> int:
    if not isinstance(n_fft, int) or n_fft < 2:
        raise ParameterError(f"n_fft must be an integer >= 2, got {n_fft!r}")
    if n_fft > MAX_N_FFT:
        raise ParameterError(f"n_fft {n_fft} is over the limit of {MAX_N_FFT} (ganaudio.limits.MAX_N_FFT)")
    if not isinstance(hop_length, int) or hop_length < 1:
        raise ParameterError(f"hop_length must be a positive integer, got {hop_length!r}")
    win_length = n_fft if win_length is None else win_length
    if not 1 <= win_length <= n_fft:
        raise ParameterError(f"win_length must be in [1, n_fft={n_fft}], got {win_length!r}")
    return win_length


@functools.lru_cache(maxsize=32)
def _window(win_length: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    # Cached for the whole process: never an inference tensor, or the first
    # call under torch.inference_mode() (the synth) would break later autograd
    # through stft (training a vocoder in the same process).
    with torch.inference_mode(False):
        return torch.hann_window(win_length, periodic=True, dtype=dtype, device=device)


def _as_waveform(y: torch.Tensor) -> torch.Tensor:
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(np.asarray(y, dtype=np.float32))
    if y.ndim == 0 or y.shape[-1] == 0:
        raise ParameterError(f"waveform must have shape (..., time) with time > 0, got {tuple(y.shape)}")
    if not torch.is_floating_point(y):
        y = y.float()
    return y


def n_frames(num_samples: int, *, hop_length: int) -> int:
    """Number of frames a centred STFT gives for ``num_samples`` samples."""
    return 1 + num_samples // hop_length


def stft(
    y: torch.Tensor,
    *,
    n_fft: int,
    hop_length: int,
    win_length: int | None = None,
    center: bool = True,
    pad_mode: str = "constant",
) -> torch.Tensor:
    """Complex short-time Fourier transform with a periodic Hann window.

    Parameters
    ----------
    y : torch.Tensor, shape ``(..., time)``
    n_fft, hop_length, win_length : int
        FFT size, hop and window length in samples.
    center : bool
        Pad by ``n_fft // 2`` on both sides so frame ``t`` is centred on sample ``t * hop``.
    pad_mode : str
        ``"constant"`` (zeros, librosa's default, so features equal librosa's) or ``"reflect"``.

    Returns
    -------
    torch.Tensor, complex, shape ``(..., n_fft // 2 + 1, frames)``

    Examples
    --------
    >>> stft(torch.zeros(2, 16000), n_fft=1024, hop_length=256).shape
    torch.Size([2, 513, 63])
    """
    win_length = _check_fft(n_fft, hop_length, win_length)
    y = _as_waveform(y)
    if pad_mode == "reflect" and center and y.shape[-1] <= n_fft // 2:
        raise ParameterError(f"waveform of {y.shape[-1]} samples is too short for n_fft={n_fft}")
    lead = y.shape[:-1]
    flat = y.reshape(-1, y.shape[-1])
    spec = torch.stft(
        flat,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=_window(win_length, flat.dtype, flat.device),
        center=center,
        pad_mode=pad_mode,
        return_complex=True,
    )
    return spec.reshape(*lead, *spec.shape[-2:])


def istft(
    spec: torch.Tensor,
    *,
    n_fft: int,
    hop_length: int,
    win_length: int | None = None,
    length: int | None = None,
    center: bool = True,
) -> torch.Tensor:
    """Inverse of :func:`stft`: complex ``(..., freq, frames)`` to ``(..., time)``.

    Examples
    --------
    >>> y = torch.randn(16000)
    >>> S = stft(y, n_fft=1024, hop_length=256)
    >>> torch.allclose(istft(S, n_fft=1024, hop_length=256, length=16000), y, atol=1e-5)
    True
    """
    win_length = _check_fft(n_fft, hop_length, win_length)
    if not torch.is_complex(spec):
        raise ParameterError("istft expects a complex spectrogram")
    if spec.shape[-2] != n_fft // 2 + 1:
        raise ParameterError(f"spectrogram has {spec.shape[-2]} bins, n_fft={n_fft} needs {n_fft // 2 + 1}")
    lead = spec.shape[:-2]
    flat = spec.reshape(-1, *spec.shape[-2:])
    real_dtype = flat.real.dtype
    y = torch.istft(
        flat,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=_window(win_length, real_dtype, flat.device),
        center=center,
        length=length,
    )
    return y.reshape(*lead, y.shape[-1])


def log_magnitude(spec: torch.Tensor, *, eps: float = LOG_EPS) -> torch.Tensor:
    """``log(|spec| + eps)`` for a complex or magnitude spectrogram."""
    mag = spec.abs() if torch.is_complex(spec) else spec
    return torch.log(mag + eps)


@functools.lru_cache(maxsize=32)
def _mel_np(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None, htk: bool, norm: str | None):
    # Many narrow mel bands (GANSynth's 1024 bands over 1024 bins) leave some low
    # bands empty; that is expected there, so librosa's warning is silenced here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fb = librosa.filters.mel(
            sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm, dtype=np.float64
        )
    return fb


def mel_filterbank(
    *,
    sample_rate: int,
    n_fft: int,
    n_mels: int,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    norm: str | None = "slaney",
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """librosa's mel filterbank as a tensor of shape ``(n_mels, n_fft // 2 + 1)``.

    Built once per argument set (cached), so mel features equal librosa's exactly.

    Examples
    --------
    >>> mel_filterbank(sample_rate=16000, n_fft=1024, n_mels=80).shape
    torch.Size([80, 513])
    """
    if n_mels < 1:
        raise ParameterError(f"n_mels must be positive, got {n_mels}")
    fb = _mel_np(int(sample_rate), int(n_fft), int(n_mels), float(fmin), fmax, bool(htk), norm)
    return torch.as_tensor(fb, dtype=dtype, device=device)


@functools.lru_cache(maxsize=32)
def _mel_inverse_np(key: tuple, method: str) -> np.ndarray:
    fb = _mel_np(*key)
    if method == "pinv":
        return np.linalg.pinv(fb)
    if method == "transpose":
        # GANSynth's normalised transpose: M^T diag(1 / colsum(M M^T)).
        gram_sum = (fb @ fb.T).sum(axis=0)
        scale = np.where(np.abs(gram_sum) > 1e-8, 1.0 / np.where(gram_sum == 0, 1, gram_sum), gram_sum)
        return fb.T @ np.diag(scale)
    raise ParameterError(f"mel inverse method must be 'pinv' or 'transpose', got {method!r}")


def mel_inverse_matrix(
    *,
    sample_rate: int,
    n_fft: int,
    n_mels: int,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    norm: str | None = "slaney",
    method: str = "pinv",
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Matrix ``(n_fft // 2 + 1, n_mels)`` mapping mel bands back to linear bins.

    ``method="pinv"`` is the Moore-Penrose pseudo-inverse (least squares);
    ``"transpose"`` is GANSynth's normalised transpose, used for phase.
    """
    key = (int(sample_rate), int(n_fft), int(n_mels), float(fmin), fmax, bool(htk), norm)
    return torch.as_tensor(_mel_inverse_np(key, method), dtype=dtype, device=device)


def instantaneous_frequency(phase: torch.Tensor) -> torch.Tensor:
    """GANSynth's instantaneous frequency along the last (time) axis.

    The phase is unwrapped along time, finite-differenced, and divided by pi so
    values lie in [-1, 1]; the first frame keeps its (wrapped) phase so the
    transform is exactly invertible by :func:`if_to_phase`.

    Parameters
    ----------
    phase : torch.Tensor, shape ``(..., freq, frames)``, radians

    Returns
    -------
    torch.Tensor, same shape, in [-1, 1]

    Examples
    --------
    >>> p = torch.rand(513, 10) * 6.28 - 3.14
    >>> torch.allclose(torch.remainder(if_to_phase(instantaneous_frequency(p)) - p + math.pi, 2 * math.pi),
    ...                torch.full_like(p, math.pi), atol=1e-4)
    True
    """
    first = phase[..., :1]
    diff = phase[..., 1:] - phase[..., :-1]
    # Unwrapping then differencing equals wrapping the raw difference into [-pi, pi).
    diff = torch.remainder(diff + math.pi, 2 * math.pi) - math.pi
    return torch.cat([first, diff], dim=-1) / math.pi


def if_to_phase(ifreq: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`instantaneous_frequency`: cumulative sum along time, in radians."""
    return torch.cumsum(ifreq * math.pi, dim=-1)


def griffinlim(
    magnitude: torch.Tensor,
    *,
    n_fft: int,
    hop_length: int,
    win_length: int | None = None,
    n_iter: int = 32,
    momentum: float = 0.99,
    init_phase: torch.Tensor | None = None,
    length: int | None = None,
    generator: torch.Generator | None = None,
    pad_mode: str = "constant",
) -> torch.Tensor:
    """Fast Griffin-Lim (Perraudin et al. 2013) from a linear magnitude spectrogram.

    Same algorithm as ``torchaudio.functional.griffinlim`` (and equal to it for
    the same start), with one addition: ``init_phase`` starts from a given phase
    (e.g. GANSynth's IF phase) instead of a random one.

    Parameters
    ----------
    magnitude : torch.Tensor, shape ``(..., n_fft // 2 + 1, frames)``, linear amplitude
    n_iter : int
        Iterations; 0 returns the inverse STFT of the starting estimate.
    momentum : float
        Fast Griffin-Lim momentum in [0, 1).
    init_phase : torch.Tensor, optional, same shape as ``magnitude``, radians
        Starting phase; None draws a uniform random phase from ``generator``.
    pad_mode : str
        Padding of the re-analysis STFT (torchaudio uses ``"reflect"``).

    Returns
    -------
    torch.Tensor, shape ``(..., time)``

    Examples
    --------
    >>> mag = stft(torch.randn(8000), n_fft=512, hop_length=128).abs()
    >>> griffinlim(mag, n_fft=512, hop_length=128, n_iter=8).shape
    torch.Size([8000])
    """
    if n_iter < 0:
        raise ParameterError(f"n_iter must be >= 0, got {n_iter}")
    if not 0.0 <= momentum < 1.0:
        raise ParameterError(f"momentum must be in [0, 1), got {momentum}")
    if init_phase is None:
        init_phase = 2 * math.pi * torch.rand(
            magnitude.shape, generator=generator, dtype=magnitude.dtype, device=magnitude.device
        )
    elif init_phase.shape != magnitude.shape:
        raise ParameterError(f"init_phase shape {tuple(init_phase.shape)} != magnitude {tuple(magnitude.shape)}")
    if length is None:
        length = (magnitude.shape[-1] - 1) * hop_length
    kw = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length)
    angles = torch.polar(torch.ones_like(magnitude), init_phase)
    previous = torch.zeros_like(angles)
    for _ in range(n_iter):
        inverse = istft(magnitude * angles, length=length, **kw)
        rebuilt = stft(inverse, pad_mode=pad_mode, **kw)
        angles = rebuilt - previous * (momentum / (1 + momentum))
        angles = angles / (angles.abs() + 1e-16)
        previous = rebuilt
    return istft(magnitude * angles, length=length, **kw)


def spectral_convergence(
    estimate: torch.Tensor, reference: torch.Tensor, *, n_fft: int = 1024, hop_length: int = 256
) -> float:
    """``||  |S_ref| - |S_est|  ||_F / || S_ref ||_F`` between two waveforms ``(time,)``.

    Lower is better; 0 means identical magnitudes. The shorter signal sets the length.
    """
    n = min(estimate.shape[-1], reference.shape[-1])
    ref = stft(reference[..., :n], n_fft=n_fft, hop_length=hop_length).abs()
    est = stft(estimate[..., :n], n_fft=n_fft, hop_length=hop_length).abs()
    return float(torch.linalg.norm(ref - est) / torch.linalg.norm(ref).clamp_min(1e-12))


def snr_db(estimate: torch.Tensor, reference: torch.Tensor) -> float:
    """Signal-to-noise ratio of ``estimate`` against ``reference`` in dB (waveform domain)."""
    n = min(estimate.shape[-1], reference.shape[-1])
    ref = reference[..., :n].double()
    err = ref - estimate[..., :n].double()
    return float(10 * torch.log10(ref.pow(2).sum().clamp_min(1e-20) / err.pow(2).sum().clamp_min(1e-20)))

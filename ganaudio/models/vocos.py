"""Vocos-style mel vocoder: a ConvNeXt backbone at the frame rate predicts STFT magnitude and phase.

Siuzdak, "Vocos: Closing the gap between time-domain and Fourier-based neural
vocoders" (2023). No upsampling layers: every layer runs once per frame (a hop
of 256 samples), and an inverse STFT makes the waveform, which is why it is an
order of magnitude faster than a time-domain generator such as HiFi-GAN.
The STFT has the analysis settings of the mel input by default, so the
phase is predicted on the same frame grid.

With ``mel_prior`` the head predicts the log magnitude as a correction to
the mel's pseudo-inverse (Lv et al., "FreeV: Free lunch for vocoders through
pseudo inversed mel filter", 2024): the network starts from the magnitude
Griffin-Lim would use and spends its capacity on the fine structure and the phase.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ganaudio.errors import ParameterError

__all__ = ["VOCOS_PRESETS", "VocosGenerator"]

VOCOS_PRESETS = {
    # Bundled 16 kHz model (with the mel prior): 3.6 M parameters, trainable on 2 CPU cores.
    "vocos": {"dim": 256, "intermediate_dim": 768, "n_layers": 8},
    # The first bundled model's size (1.2 M parameters).
    "vocos-small": {"dim": 160, "intermediate_dim": 480, "n_layers": 6},
    # Vocos's published size (24 kHz mel model): 13.5 M parameters.
    "vocos-base": {"dim": 512, "intermediate_dim": 1536, "n_layers": 8},
}


class _ConvNeXtBlock(nn.Module):
    """Depthwise conv (kernel 7) -> LayerNorm -> pointwise MLP (GELU) -> layer scale, added back."""

    def __init__(self, dim: int, intermediate_dim: int, layer_scale: float):
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pw1 = nn.Linear(dim, intermediate_dim)
        self.pw2 = nn.Linear(intermediate_dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, dim, frames)
        y = self.dwconv(x).transpose(1, 2)
        y = self.gamma * self.pw2(F.gelu(self.pw1(self.norm(y))))
        return x + y.transpose(1, 2)


class VocosGenerator(nn.Module):
    """Log-mel spectrogram to waveform through a predicted complex STFT.

    Parameters
    ----------
    n_mels : int
        Input mel bands.
    hop_length : int
        Samples per frame, in and out.
    n_fft : int
        FFT size of the synthesis STFT (``n_fft // 2 + 1`` bins predicted per frame);
        at least ``2 * hop_length`` so Hann windows overlap-add without gaps.
    dim, intermediate_dim, n_layers : int
        ConvNeXt width, MLP width and depth.
    mel_prior : bool
        Add the pseudo-inverse of the input mel (log power, ``log(mel + 1e-6)``,
        librosa's slaney filterbank) to the predicted log magnitude; needs the mel's
        ``sample_rate``, ``fmin`` and ``fmax``.
    sample_rate, fmin, fmax : int, float, float or None
        The mel analysis, with ``mel_prior`` only.

    Shapes
    ------
    ``forward``: ``(batch, n_mels, frames)`` to ``(batch, 1, (frames - 1) * hop_length)``
    (a centred STFT of that many samples has ``frames`` frames).

    Examples
    --------
    >>> g = VocosGenerator(n_mels=80, hop_length=256, n_fft=1024, **VOCOS_PRESETS["vocos"])
    >>> g(torch.zeros(2, 80, 11)).shape
    torch.Size([2, 1, 2560])
    """

    def __init__(self, *, n_mels: int, hop_length: int, n_fft: int, dim: int, intermediate_dim: int,
                 n_layers: int, mel_prior: bool = False, sample_rate: int | None = None, fmin: float = 0.0,
                 fmax: float | None = None):
        super().__init__()
        for name, value in (("n_mels", n_mels), ("hop_length", hop_length), ("n_fft", n_fft), ("dim", dim),
                            ("intermediate_dim", intermediate_dim), ("n_layers", n_layers)):
            if not isinstance(value, int) or value < 1:
                raise ParameterError(f"{name} must be a positive integer, got {value!r}")
        if n_fft < 2 * hop_length:
            raise ParameterError(f"n_fft={n_fft} must be at least twice the hop length {hop_length} "
                                 f"(Hann windows would leave gaps in the overlap-add)")
        self.n_mels, self.hop_length, self.n_fft = n_mels, hop_length, n_fft
        self._config = {"n_mels": n_mels, "hop_length": hop_length, "n_fft": n_fft, "dim": dim,
                            "intermediate_dim": intermediate_dim, "n_layers": n_layers}
        self.embed = nn.Conv1d(n_mels, dim, 7, padding=3)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.blocks = nn.ModuleList(_ConvNeXtBlock(dim, intermediate_dim, 1.0 / n_layers) for _ in range(n_layers))
        self.final_norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, n_fft + 2)
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.mel_prior = bool(mel_prior)
        if self.mel_prior:
            from ganaudio.functional import spectral

            if not isinstance(sample_rate, int) or sample_rate < 1:
                raise ParameterError(f"mel_prior needs the mel's sample_rate (a positive integer), got {sample_rate!r}")
            self._config.update(mel_prior=True, sample_rate=sample_rate, fmin=float(fmin), fmax=fmax)
            inverse = spectral.mel_inverse_matrix(sample_rate=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin,
                                                  fmax=fmax, method="pinv")
            self.register_buffer("mel_inverse", inverse, persistent=False)  # (n_fft // 2 + 1, n_mels)

    def config(self) -> dict:
        """Constructor arguments, JSON-able."""
        return dict(self._config)

    def receptive_radius(self) -> int:
        """Input frames either side of an output frame that can influence it (kernel-7 convolutions)."""
        return 3 * (len(self.blocks) + 1) + self.n_fft // (2 * self.hop_length)  # + the overlap-add

    def spectrogram(self, mel: torch.Tensor) -> torch.Tensor:
        """The predicted complex STFT ``(batch, n_fft // 2 + 1, frames)``."""
        if mel.ndim != 3 or mel.shape[1] != self.n_mels:
            raise ParameterError(f"expected mel of shape (batch, {self.n_mels}, frames), got {tuple(mel.shape)}")
        x = self.embed(mel)
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        x = self.head(self.final_norm(x.transpose(1, 2))).transpose(1, 2).float()
        log_mag, phase = x.chunk(2, dim=1)
        if self.mel_prior:  # log magnitude of the pseudo-inverse power spectrum, floored at 1e-10
            power = torch.matmul(self.mel_inverse, mel.float().exp()).clamp(min=1e-10)
            log_mag = log_mag + 0.5 * torch.log(power)
        # A signal in [-1, 1] has STFT magnitudes <= n_fft / 2: the cap (e * n_fft) keeps an untrained or
        # diverging head from making huge samples without touching any real magnitude.
        mag = torch.exp(log_mag.clamp(max=math.log(self.n_fft) + 1.0))
        return torch.complex(mag * torch.cos(phase), mag * torch.sin(phase))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        spec = self.spectrogram(mel)
        y = torch.istft(spec, self.n_fft, self.hop_length, window=self.window.to(spec.real.dtype), center=True)
        return y.unsqueeze(1)

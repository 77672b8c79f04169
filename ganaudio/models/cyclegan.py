"""CycleGAN (Zhu et al. 2017) on log-mel spectrograms, TimbreTron-style timbre transfer.

Spectrograms are ``(batch, 1, n_mels, frames)``, normalised log-mel power
(see :class:`ganaudio.presets.cyclegan.CycleGANPreset`). Both networks are
fully convolutional along time, so a model trained on short crops converts
clips of any length.

Generator (CycleGAN's ResNet generator)
    A 7 x 7 convolution, ``n_downsample`` stride-2 convolutions halving
    frequency and time and doubling the channels, ``n_blocks`` residual
    blocks, then nearest-neighbour upsampling + 3 x 3 convolutions back to the
    input size (no checkerboard from transposed convolutions) and a 7 x 7
    convolution to one channel. With ``residual`` the input is added to the
    output, so an untrained generator starts near the identity. Inputs whose
    frequency or frame count is not a multiple of ``2 ** n_downsample`` are
    padded (replicating the last row / frame) and the output is cropped back,
    so the output always has the input's shape.
Normalisation
    CycleGAN's instance norm averages over the whole clip, which would make a
    frame's output depend on every other frame: a clip converted in chunks
    would differ from the same clip converted whole, and a loud passage would
    change how a quiet one is rendered. :class:`FrameNorm` normalises each time
    frame over channels and frequency instead, so the generator is local in
    time (its receptive field is :meth:`ResnetGenerator.receptive_radius`
    frames either side), and chunked inference equals whole-clip inference
    away from chunk edges.
Discriminator (PatchGAN)
    4 x 4 convolutions, stride 2 for ``n_layers`` layers with LeakyReLU(0.2)
    and instance norm after the first, then a stride-1 layer and a one-channel
    output: a map of real/fake scores, one per overlapping patch of the
    spectrogram (CycleGAN's 70 x 70 PatchGAN with the defaults 64 / 3).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ganaudio.errors import ParameterError

__all__ = ["CycleGANDiscriminators", "CycleGANGenerators", "FrameNorm", "PatchDiscriminator", "ResnetGenerator"]

_SLOPE = 0.2


def _positive(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


class FrameNorm(nn.Module):
    """Normalise each time frame of ``(batch, channels, freq, frames)`` over channels and frequency.

    A per-channel scale and shift follow (like instance norm's affine parameters).
    """

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(1, 2), keepdim=True)
        var = (x - mean).pow(2).mean(dim=(1, 2), keepdim=True)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias


def _block(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2),
                         FrameNorm(c_out), nn.ReLU(inplace=True))


class _ResBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(_block(channels, channels, 3), nn.Conv2d(channels, channels, 3, padding=1),
                                  FrameNorm(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """One direction: normalised log-mel ``(batch, 1, n_mels, frames)`` to the same shape.

    Parameters
    ----------
    n_mels : int
        Frequency rows of the input.
    channels : int
        Width of the first layer; doubled at each downsampling, capped at ``max_channels``.
    n_downsample : int
        Stride-2 stages (both axes).
    n_blocks : int
        Residual blocks at the lowest resolution.
    max_channels : int
    residual : bool
        Add the input to the output.

    Examples
    --------
    >>> G = ResnetGenerator(n_mels=80, channels=8, n_blocks=2)
    >>> G(torch.randn(2, 1, 80, 37)).shape
    torch.Size([2, 1, 80, 37])
    """

    def __init__(self, *, n_mels: int, channels: int = 64, n_downsample: int = 2, n_blocks: int = 9,
                 max_channels: int = 256, residual: bool = True):
        super().__init__()
        self.n_mels = _positive("n_mels", n_mels)
        _positive("channels", channels)
        self.n_downsample = _positive("n_downsample", n_downsample, 0)
        _positive("n_blocks", n_blocks, 0)
        _positive("max_channels", max_channels)
        self.residual = bool(residual)
        widths = [min(channels * 2 ** i, max_channels) for i in range(n_downsample + 1)]
        self.stem = _block(1, widths[0], 7)
        self.down = nn.ModuleList(_block(widths[i], widths[i + 1], 3, stride=2) for i in range(n_downsample))
        self.blocks = nn.Sequential(*(_ResBlock(widths[-1]) for _ in range(n_blocks)))
        self.up = nn.ModuleList(_block(widths[i + 1], widths[i], 3) for i in reversed(range(n_downsample)))
        self.head = nn.Conv2d(widths[0], 1, 7, padding=3)

    @property
    def time_multiple(self) -> int:
        """Frame counts that need no internal padding; chunk hops must be multiples of it."""
        return 2 ** self.n_downsample

    def receptive_radius(self) -> int:
        """Frames either side of an output frame that can influence it (an upper bound)."""
        radius = 3 + 3  # stem and head, 7 x 7
        for i in range(self.n_downsample):
            radius += 2 ** i * 2  # a stride-2 convolution and the upsampling convolution at that scale
        radius += 2 * len(self.blocks) * 2 ** self.n_downsample
        return radius + 2 ** self.n_downsample  # misalignment of the strided grid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 1 or x.shape[2] != self.n_mels:
            raise ParameterError(f"expected a spectrogram (batch, 1, {self.n_mels}, frames), got {tuple(x.shape)}")
        m = self.time_multiple
        n_freq, n_frames = x.shape[-2:]
        pad_f, pad_t = -n_freq % m, -n_frames % m
        h = F.pad(x, (0, pad_t, 0, pad_f), mode="replicate") if pad_f or pad_t else x
        h = self.stem(h)
        sizes = []
        for layer in self.down:
            sizes.append(h.shape[-2:])
            h = layer(h)
        h = self.blocks(h)
        for layer, size in zip(self.up, reversed(sizes)):
            h = layer(F.interpolate(h, size=tuple(size), mode="nearest"))
        h = self.head(h)[..., :n_freq, :n_frames]
        return x + h if self.residual else h


class CycleGANGenerators(nn.Module):
    """Both generators: ``a2b`` and ``b2a`` (the same architecture, separate weights).

    ``G(x, direction)`` runs one of them; :meth:`config` gives the shared
    constructor arguments, ``CycleGANGenerators(**G.config())`` rebuilds it.

    Examples
    --------
    >>> G = CycleGANGenerators(n_mels=80, channels=8, n_blocks=1)
    >>> G(torch.randn(1, 1, 80, 50), "b2a").shape
    torch.Size([1, 1, 80, 50])
    """

    def __init__(self, **kwargs):
        super().__init__()
        self.a2b = ResnetGenerator(**kwargs)
        self.b2a = ResnetGenerator(**kwargs)
        self._config = dict(kwargs)

    def config(self) -> dict:
        return dict(self._config)

    @property
    def time_multiple(self) -> int:
        return self.a2b.time_multiple

    def forward(self, x: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
        if direction not in ("a2b", "b2a"):
            raise ParameterError(f"direction must be 'a2b' or 'b2a', got {direction!r}")
        return getattr(self, direction)(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN: ``(batch, 1, n_mels, frames)`` to a score map ``(batch, 1, n_mels', frames')``.

    Parameters
    ----------
    channels : int
        Width of the first layer, doubled per layer up to ``max_channels``.
    n_layers : int
        Stride-2 layers.
    max_channels : int
    """

    def __init__(self, *, channels: int = 64, n_layers: int = 3, max_channels: int = 512):
        super().__init__()
        _positive("channels", channels)
        _positive("n_layers", n_layers)
        layers: list[nn.Module] = [nn.Conv2d(1, channels, 4, stride=2, padding=1), nn.LeakyReLU(_SLOPE, True)]
        width = channels
        for i in range(1, n_layers + 1):
            nxt = min(channels * 2 ** i, max_channels)
            layers += [nn.Conv2d(width, nxt, 4, stride=2 if i < n_layers else 1, padding=1),
                       nn.InstanceNorm2d(nxt), nn.LeakyReLU(_SLOPE, True)]
            width = nxt
        layers.append(nn.Conv2d(width, 1, 4, stride=1, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class CycleGANDiscriminators(nn.Module):
    """Both discriminators: ``a`` judges domain A, ``b`` judges domain B."""

    def __init__(self, **kwargs):
        super().__init__()
        self.a = PatchDiscriminator(**kwargs)
        self.b = PatchDiscriminator(**kwargs)
        self._config = dict(kwargs)

    def config(self) -> dict:
        return dict(self._config)

    def forward(self, x: torch.Tensor, domain: str) -> torch.Tensor:
        if domain not in ("a", "b"):
            raise ParameterError(f"domain must be 'a' or 'b', got {domain!r}")
        return getattr(self, domain)(x)

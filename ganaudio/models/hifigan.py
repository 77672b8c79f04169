"""HiFi-GAN-style mel vocoder: generator, multi-period and multi-resolution STFT discriminators.

The generator upsamples a log-mel spectrogram ``(batch, n_mels, frames)`` by
transposed convolutions whose strides multiply to the hop length, each
followed by a multi-receptive-field block (parallel dilated residual stacks,
averaged). Nothing is hard-coded: mel bands, hop and sample rate come from the
constructor (HiFi-GAN's reference code fixes 80 bands).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import weight_norm

from ganaudio.errors import ParameterError

__all__ = ["HiFiGANGenerator", "MultiPeriodDiscriminator", "MultiResolutionSTFTDiscriminator", "HIFIGAN_PRESETS"]

LRELU_SLOPE = 0.1

HIFIGAN_PRESETS = {
    # Small enough to train on 2 CPU cores (about 0.9 M parameters at hop 256).
    "small": dict(upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8), upsample_initial_channel=128,
                  resblock_kernel_sizes=(3, 7), resblock_dilation_sizes=((1, 3), (1, 3))),
    # HiFi-GAN V1 (hop 256): 13.9 M parameters.
    "v1": dict(upsample_rates=(8, 8, 2, 2), upsample_kernel_sizes=(16, 16, 4, 4), upsample_initial_channel=512,
               resblock_kernel_sizes=(3, 7, 11), resblock_dilation_sizes=((1, 3, 5), (1, 3, 5), (1, 3, 5))),
    # HiFi-GAN V2 (hop 256): V1's layout at 128 channels.
    "v2": dict(upsample_rates=(8, 8, 2, 2), upsample_kernel_sizes=(16, 16, 4, 4), upsample_initial_channel=128,
               resblock_kernel_sizes=(3, 7, 11), resblock_dilation_sizes=((1, 3, 5), (1, 3, 5), (1, 3, 5))),
}


def _padding(kernel: int, dilation: int = 1) -> int:
    return (kernel * dilation - dilation) // 2


class _ResStack(nn.Module):
    """Residual stack: for each dilation, LReLU -> dilated conv -> LReLU -> conv, added back."""

    def __init__(self, channels: int, kernel: int, dilations: Sequence[int]):
        super().__init__()
        self.dilated = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel, dilation=d, padding=_padding(kernel, d)))
            for d in dilations
        )
        self.plain = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel, padding=_padding(kernel))) for _ in dilations
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv1, conv2 in zip(self.dilated, self.plain):
            x = x + conv2(F.leaky_relu(conv1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
        return x


class HiFiGANGenerator(nn.Module):
    """Mel spectrogram to waveform.

    Parameters
    ----------
    n_mels : int
        Input mel bands.
    hop_length : int
        Samples per frame; must equal the product of ``upsample_rates``.
    upsample_rates, upsample_kernel_sizes : sequence of int
        Stride and kernel of each transposed convolution.
    upsample_initial_channel : int
        Channels after the input convolution; halved at each upsampling.
    resblock_kernel_sizes : sequence of int
    resblock_dilation_sizes : sequence of sequence of int
        One residual stack per kernel size, with these dilations.

    Shapes
    ------
    ``forward``: ``(batch, n_mels, frames)`` to ``(batch, 1, frames * hop_length)``.

    Examples
    --------
    >>> g = HiFiGANGenerator(n_mels=80, hop_length=256, **HIFIGAN_PRESETS["small"])
    >>> g(torch.zeros(2, 80, 10)).shape
    torch.Size([2, 1, 2560])
    """

    def __init__(
        self,
        *,
        n_mels: int,
        hop_length: int,
        upsample_rates: Sequence[int],
        upsample_kernel_sizes: Sequence[int],
        upsample_initial_channel: int,
        resblock_kernel_sizes: Sequence[int],
        resblock_dilation_sizes: Sequence[Sequence[int]],
    ):
        super().__init__()
        if math.prod(upsample_rates) != hop_length:
            raise ParameterError(
                f"upsample_rates {tuple(upsample_rates)} multiply to {math.prod(upsample_rates)}, "
                f"but the hop length is {hop_length}; they must be equal"
            )
        if len(upsample_rates) != len(upsample_kernel_sizes):
            raise ParameterError("upsample_rates and upsample_kernel_sizes need the same length")
        if len(resblock_kernel_sizes) != len(resblock_dilation_sizes):
            raise ParameterError("resblock_kernel_sizes and resblock_dilation_sizes need the same length")
        if upsample_initial_channel // 2 ** len(upsample_rates) < 1:
            raise ParameterError(f"upsample_initial_channel={upsample_initial_channel} is too small to halve "
                                 f"{len(upsample_rates)} times")
        self.n_mels, self.hop_length = n_mels, hop_length
        self._config = dict(
            n_mels=n_mels, hop_length=hop_length, upsample_rates=list(upsample_rates),
            upsample_kernel_sizes=list(upsample_kernel_sizes), upsample_initial_channel=upsample_initial_channel,
            resblock_kernel_sizes=list(resblock_kernel_sizes),
            resblock_dilation_sizes=[list(d) for d in resblock_dilation_sizes],
        )
        self.pre = weight_norm(nn.Conv1d(n_mels, upsample_initial_channel, 7, padding=3))
        self.ups = nn.ModuleList()
        self.mrfs = nn.ModuleList()
        channels = upsample_initial_channel
        for rate, kernel in zip(upsample_rates, upsample_kernel_sizes):
            if kernel < rate:
                raise ParameterError(f"upsample kernel {kernel} must be at least its rate {rate}")
            padding = (kernel - rate + 1) // 2  # so that the output is exactly rate x longer
            self.ups.append(weight_norm(nn.ConvTranspose1d(
                channels, channels // 2, kernel, stride=rate, padding=padding,
                output_padding=2 * padding - (kernel - rate),
            )))
            channels //= 2
            self.mrfs.append(nn.ModuleList(
                _ResStack(channels, k, d) for k, d in zip(resblock_kernel_sizes, resblock_dilation_sizes)
            ))
        self.post = weight_norm(nn.Conv1d(channels, 1, 7, padding=3))

    def config(self) -> dict:
        """Constructor arguments, JSON-able."""
        return dict(self._config)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        if mel.ndim != 3 or mel.shape[1] != self.n_mels:
            raise ParameterError(f"expected mel of shape (batch, {self.n_mels}, frames), got {tuple(mel.shape)}")
        x = self.pre(mel)
        for up, mrf in zip(self.ups, self.mrfs):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            x = sum(stack(x) for stack in mrf) / len(mrf)
        return torch.tanh(self.post(F.leaky_relu(x)))


class _PeriodDiscriminator(nn.Module):
    """Folds the waveform into ``(time / period, period)`` and applies 2-D convs along time."""

    def __init__(self, period: int, channels: Sequence[int] = (32, 128, 256, 512)):
        super().__init__()
        self.period = period
        layers, previous = [], 1
        for i, ch in enumerate(channels):
            stride = 3 if i < len(channels) - 1 else 1
            layers.append(weight_norm(nn.Conv2d(previous, ch, (5, 1), (stride, 1), padding=(2, 0))))
            previous = ch
        self.convs = nn.ModuleList(layers)
        self.out = weight_norm(nn.Conv2d(previous, 1, (3, 1), padding=(1, 0)))

    def forward(self, y: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        batch, channels, time = y.shape
        if time % self.period:
            y = F.pad(y, (0, self.period - time % self.period), mode="reflect")
        x = y.view(batch, channels, -1, self.period)
        features = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU_SLOPE)
            features.append(x)
        x = self.out(x)
        features.append(x)
        return x.flatten(1), features


class MultiPeriodDiscriminator(nn.Module):
    """HiFi-GAN's multi-period discriminator.

    ``forward(y)`` with ``y`` of shape ``(batch, 1, time)`` returns a list of
    ``(logits, feature_maps)``, one per period.
    """

    def __init__(self, periods: Sequence[int] = (2, 3, 5, 7, 11), channels: Sequence[int] = (32, 128, 256, 512)):
        super().__init__()
        self._config = dict(periods=list(periods), channels=list(channels))
        self.discriminators = nn.ModuleList(_PeriodDiscriminator(p, channels) for p in periods)

    def config(self) -> dict:
        return dict(self._config)

    def forward(self, y: torch.Tensor) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
        return [d(y) for d in self.discriminators]


class _SpectrogramDiscriminator(nn.Module):
    """2-D convs over a log-magnitude STFT at one resolution (UnivNet / Vocos style)."""

    def __init__(self, n_fft: int, hop_length: int, channels: int = 32):
        super().__init__()
        self.n_fft, self.hop_length = n_fft, hop_length
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.convs = nn.ModuleList([
            weight_norm(nn.Conv2d(1, channels, (3, 9), padding=(1, 4))),
            weight_norm(nn.Conv2d(channels, channels, (3, 9), stride=(1, 2), padding=(1, 4))),
            weight_norm(nn.Conv2d(channels, channels, (3, 9), stride=(1, 2), padding=(1, 4))),
            weight_norm(nn.Conv2d(channels, channels, (3, 3), padding=(1, 1))),
        ])
        self.out = weight_norm(nn.Conv2d(channels, 1, (3, 3), padding=(1, 1)))

    def forward(self, y: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        spec = torch.stft(y.squeeze(1), self.n_fft, self.hop_length, window=self.window, return_complex=True)
        x = torch.log(spec.abs().clamp_min(1e-5)).transpose(1, 2).unsqueeze(1)  # (batch, 1, frames, freq)
        features = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU_SLOPE)
            features.append(x)
        x = self.out(x)
        features.append(x)
        return x.flatten(1), features


class MultiResolutionSTFTDiscriminator(nn.Module):
    """Discriminators on log-magnitude STFTs at several ``(n_fft, hop)`` resolutions."""

    def __init__(self, resolutions: Sequence[Sequence[int]] = ((1024, 256), (512, 128), (256, 64)),
                 channels: int = 32):
        super().__init__()
        self._config = dict(resolutions=[list(r) for r in resolutions], channels=channels)
        self.discriminators = nn.ModuleList(_SpectrogramDiscriminator(n, h, channels) for n, h in resolutions)

    def config(self) -> dict:
        return dict(self._config)

    def forward(self, y: torch.Tensor) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
        return [d(y) for d in self.discriminators]

"""HiFi-GAN-style mel vocoder: generator, multi-period and multi-resolution STFT discriminators.

The generator upsamples a log-mel spectrogram ``(batch, n_mels, frames)`` by
transposed convolutions whose strides multiply to the hop length, each
followed by a multi-receptive-field block (parallel dilated residual stacks,
averaged). Nothing is hard-coded: mel bands, hop and sample rate come from the
constructor (HiFi-GAN's reference code fixes 80 bands).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import weight_norm

from ganaudio.errors import ParameterError

__all__ = [
    "HIFIGAN_PRESETS",
    "HiFiGANGenerator",
    "MultiPeriodDiscriminator",
    "MultiResolutionSTFTDiscriminator",
    "VocoderDiscriminator",
]

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
    # HiFi-GAN V3 (hop 256): 256 channels, three upsamplings, residual stacks of type 2 (one conv per dilation).
    "v3": dict(upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8), upsample_initial_channel=256,
               resblock_kernel_sizes=(3, 5, 7), resblock_dilation_sizes=((1, 2), (2, 6), (3, 12)), resblock_type=2),
}


def _padding(kernel: int, dilation: int = 1) -> int:
    return (kernel * dilation - dilation) // 2


class _ResStack(nn.Module):
    """Residual stack: for each dilation, LReLU -> dilated conv [-> LReLU -> conv], added back.

    Type 1 (HiFi-GAN V1/V2) has the second, undilated conv; type 2 (V3) has only the dilated one.
    """

    def __init__(self, channels: int, kernel: int, dilations: Sequence[int], resblock_type: int = 1):
        super().__init__()
        self.dilated = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel, dilation=d, padding=_padding(kernel, d)))
            for d in dilations
        )
        self.plain = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel, padding=_padding(kernel))) for _ in dilations
        ) if resblock_type == 1 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.plain is None:
            for conv in self.dilated:
                x = x + conv(F.leaky_relu(x, LRELU_SLOPE))
            return x
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
    resblock_type : {1, 2}
        1: two convs per dilation (V1, V2); 2: one (V3, lighter).

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
        resblock_type: int = 1,
    ):
        super().__init__()
        if resblock_type not in (1, 2):
            raise ParameterError(f"resblock_type must be 1 or 2, got {resblock_type!r}")
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
            resblock_dilation_sizes=[list(d) for d in resblock_dilation_sizes], resblock_type=resblock_type,
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
                _ResStack(channels, k, d, resblock_type) for k, d in zip(resblock_kernel_sizes, resblock_dilation_sizes)
            ))
        self.post = weight_norm(nn.Conv1d(channels, 1, 7, padding=3))

    def config(self) -> dict:
        """Constructor arguments, JSON-able."""
        return dict(self._config)

    def receptive_radius(self) -> int:
        """Input frames either side of an output sample's frame that can influence it (an upper bound)."""
        c = self._config
        samples, rate = 3 * c["hop_length"], 1  # conv_pre (kernel 7) at the frame rate
        for u, k in zip(c["upsample_rates"], c["upsample_kernel_sizes"]):
            rate *= u
            stage = max(sum((kr - 1) // 2 * (d + (1 if c["resblock_type"] == 1 else 0)) for d in dils)
                        for kr, dils in zip(c["resblock_kernel_sizes"], c["resblock_dilation_sizes"]))
            samples += (k // 2 + stage) * c["hop_length"] // rate
        return -(-(samples + 3) // c["hop_length"])  # + conv_post (kernel 7) at the sample rate

    def remove_weight_norm(self) -> HiFiGANGenerator:
        """Fold every weight norm into a plain weight (for inference: faster, same output). Returns self."""
        from torch.nn.utils import parametrize

        for module in self.modules():
            if parametrize.is_parametrized(module, "weight"):
                parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
        return self

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
    """HiFi-GAN's multi-period discriminator (``channels`` per layer; HiFi-GAN's are 32, 128, 512, 1024).

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


class VocoderDiscriminator(nn.Module):
    """Multi-period plus multi-resolution STFT discriminators, one list of ``(logits, feature_maps)``.

    Examples
    --------
    >>> d = VocoderDiscriminator(periods=(2, 3), mpd_channels=(8, 16), resolutions=((256, 64),), mrd_channels=8)
    >>> len(d(torch.randn(2, 1, 4096)))
    3
    """

    def __init__(self, *, periods: Sequence[int], mpd_channels: Sequence[int], resolutions: Sequence[Sequence[int]],
                 mrd_channels: int):
        super().__init__()
        self.mpd = MultiPeriodDiscriminator(periods=periods, channels=mpd_channels)
        self.mrd = MultiResolutionSTFTDiscriminator(resolutions=resolutions, channels=mrd_channels)

    def config(self) -> dict:
        return dict(periods=list(self.mpd.config()["periods"]), mpd_channels=self.mpd.config()["channels"],
                    resolutions=self.mrd.config()["resolutions"], mrd_channels=self.mrd.config()["channels"])

    def forward(self, y: torch.Tensor) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
        return self.mpd(y) + self.mrd(y)

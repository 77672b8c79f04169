"""GANSynth (Engel et al., 2019): a pitch-conditioned generator of 2-channel IF-Mel images.

The generator maps a latent vector and a one-hot pitch to ``(batch, 2, freq,
frames)`` through upsampling conv blocks (progressive-GAN parts: pixel norm,
equalised learning rate); the discriminator mirrors it with downsampling
blocks and minibatch standard deviation, and returns a real/fake score plus
auxiliary pitch logits (AC-GAN). Options beyond the paper, off in the paper
preset: a conditional bias from the pitch in every generator block, a
frequency-coordinate channel in every block, a harmonic comb of the asked
pitch in every generator block, a projection term (Miyato & Koyama) in the
discriminator's score, and a frequency branch in the discriminator (1-D
convolutions along frequency at full resolution).

Every size comes from the constructor: ``image_shape = (freq, frames)`` and
``channels`` (lowest resolution first); the starting map is ``image_shape /
2 ** (len(channels) - 1)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ganaudio.errors import ParameterError
from ganaudio.nn.layers import (
    LRELU_SLOPE,
    DownBlock,
    EqualizedConv2d,
    EqualizedLinear,
    FrequencyCoord,
    MinibatchStdDev,
    UpBlock,
    pixel_norm,
)

__all__ = ["Discriminator", "Generator"]

OUTPUT_ACTIVATIONS = ("tanh", "linear")


def _base_shape(image_shape: Sequence[int], channels: Sequence[int]) -> tuple[int, int]:
    if len(image_shape) != 2 or any(not isinstance(v, int) or v < 1 for v in image_shape):
        raise ParameterError(f"image_shape must be (freq, frames) positive integers, got {image_shape!r}")
    if not channels or any(not isinstance(c, int) or c < 1 for c in channels):
        raise ParameterError(f"channels must be a non-empty sequence of positive integers, got {channels!r}")
    factor = 2 ** (len(channels) - 1)
    if image_shape[0] % factor or image_shape[1] % factor:
        raise ParameterError(f"image_shape {tuple(image_shape)} must be divisible by 2**(len(channels)-1) = {factor} "
                             f"({len(channels)} channel entries); use fewer blocks or another shape")
    return image_shape[0] // factor, image_shape[1] // factor


class _PitchConditioned(nn.Module):
    n_pitches: int
    lowest_pitch: int

    def pitch_index(self, midi_pitch: torch.Tensor | Sequence[int]) -> torch.Tensor:
        """MIDI pitches ``(batch,)`` to class indices ``midi - lowest_pitch``; ParameterError if out of range."""
        midi = torch.as_tensor(midi_pitch, dtype=torch.long)
        if midi.numel() and (midi.min() < self.lowest_pitch or midi.max() >= self.lowest_pitch + self.n_pitches):
            raise ParameterError(f"pitches must be MIDI {self.lowest_pitch}-{self.lowest_pitch + self.n_pitches - 1}, "
                                 f"got {midi.tolist()}")
        return midi - self.lowest_pitch

    def _check_pitch(self, pitch: torch.Tensor, batch: int) -> torch.Tensor:
        if pitch.shape != (batch,) or pitch.dtype.is_floating_point:
            raise ParameterError(f"pitch must be integer class indices of shape ({batch},), got "
                                 f"{tuple(pitch.shape)} {pitch.dtype}")
        if batch and (int(pitch.min()) < 0 or int(pitch.max()) >= self.n_pitches):
            raise ParameterError(f"pitch indices must be in 0-{self.n_pitches - 1} (use pitch_index() for MIDI), "
                                 f"got {pitch.min().item()}-{pitch.max().item()}")
        return pitch

    def config(self) -> dict:
        """Constructor arguments, JSON-able; ``type(self)(**config)`` rebuilds the module."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self._config.items()}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in config.items()})


class Generator(_PitchConditioned):
    """Latent ``(batch, latent_dim)`` + pitch index ``(batch,)`` to an image ``(batch, out_channels, freq, frames)``.

    Parameters
    ----------
    latent_dim : int
        Size of the Gaussian latent vector (256 in GANSynth).
    n_pitches : int
        Number of pitch classes (61 for MIDI 24-84).
    lowest_pitch : int
        MIDI pitch of class 0 (used by :meth:`pitch_index`).
    image_shape : (int, int)
        Output ``(freq, frames)``, e.g. ``(1024, 128)`` for IF-Mel +H.
    channels : sequence of int
        Feature channels per resolution, lowest first; ``len - 1`` upsamplings.
    out_channels : int
        Image channels (2: log-mel magnitude and mel IF).
    pitch_bias : bool
        Add a learned per-channel bias from the pitch after every convolution.
    coord : bool
        Append a frequency-coordinate channel before every convolution.
    harmonic_rows : sequence of float, optional
        Centre frequency in Hz of each image row (``freq`` values, lowest row
        first). Given, every block's first convolution also reads the comb
        ``cos(2 pi row_hz / f0)`` of the asked pitch, averaged down to the
        block's resolution (so combs finer than a block's rows fade out
        there): harmonics spaced a few rows apart, which thin full-resolution
        layers cannot draw from a one-hot pitch, come as an input.
    output_activation : {"tanh", "linear"}
    equalized : bool
        Equalised learning rate.

    Examples
    --------
    >>> G = Generator(latent_dim=32, n_pitches=12, image_shape=(64, 32), channels=(32, 16, 8))
    >>> G(torch.randn(4, 32), torch.tensor([0, 3, 5, 11])).shape
    torch.Size([4, 2, 64, 32])
    """

    def __init__(self, *, latent_dim: int = 256, n_pitches: int = 61, lowest_pitch: int = 24,
                 image_shape: tuple[int, int] = (1024, 128), channels: Sequence[int] = (256, 256, 256, 256, 128, 64, 32),
                 out_channels: int = 2, pitch_bias: bool = False, coord: bool = False,
                 harmonic_rows: Sequence[float] | None = None, output_activation: str = "tanh",
                 equalized: bool = True):
        super().__init__()
        channels = tuple(channels)
        image_shape = tuple(image_shape)
        self.base = _base_shape(image_shape, channels)
        if harmonic_rows is not None:
            harmonic_rows = tuple(float(f) for f in harmonic_rows)
            if len(harmonic_rows) != image_shape[0] or min(harmonic_rows) < 0:
                raise ParameterError(f"harmonic_rows must hold {image_shape[0]} frequencies >= 0 Hz (one per row), "
                                     f"got {len(harmonic_rows)}")
        for name, value in (("latent_dim", latent_dim), ("n_pitches", n_pitches), ("out_channels", out_channels)):
            if not isinstance(value, int) or value < 1:
                raise ParameterError(f"{name} must be a positive integer, got {value!r}")
        if output_activation not in OUTPUT_ACTIVATIONS:
            raise ParameterError(f"output_activation must be one of {OUTPUT_ACTIVATIONS}, got {output_activation!r}")
        self._config = dict(latent_dim=latent_dim, n_pitches=n_pitches, lowest_pitch=lowest_pitch,
                            image_shape=image_shape, channels=channels, out_channels=out_channels,
                            pitch_bias=pitch_bias, coord=coord, harmonic_rows=harmonic_rows,
                            output_activation=output_activation, equalized=equalized)
        self.latent_dim, self.n_pitches, self.lowest_pitch = latent_dim, n_pitches, lowest_pitch
        self.image_shape, self.out_channels = image_shape, out_channels
        self.output_activation = output_activation
        cond_dim = n_pitches if pitch_bias else 0
        f0, t0 = self.base
        self.input = EqualizedLinear(latent_dim + n_pitches, channels[0] * f0 * t0, gain=2 ** 0.5 / 4,
                                     equalized=equalized)
        extra = 1 if harmonic_rows is not None else 0
        self.blocks = nn.ModuleList(
            UpBlock(c_in, c_out, upsample=i > 0, cond_dim=cond_dim, coord=coord, extra_channels=extra,
                    equalized=equalized)
            for i, (c_in, c_out) in enumerate(zip((channels[0],) + channels[:-1], channels))
        )
        self.to_image = EqualizedConv2d(channels[-1], out_channels, 1, gain=1.0, equalized=equalized)
        self.register_buffer("row_hz", torch.tensor(harmonic_rows or (), dtype=torch.float64), persistent=False)

    def harmonic_comb(self, pitch: torch.Tensor) -> torch.Tensor:
        """``cos(2 pi row_hz / f0)`` for pitch indices ``(batch,)``: ``(batch, 1, freq, 1)``, 1 at every harmonic."""
        f0 = 440.0 * 2.0 ** ((self.lowest_pitch + pitch.to(torch.float64) - 69.0) / 12.0)
        comb = torch.cos(2 * math.pi * self.row_hz[None, :] / f0[:, None])
        return comb.float()[:, None, :, None]
    def forward(self, z: torch.Tensor, pitch: torch.Tensor) -> torch.Tensor:
        """``z`` ``(batch, latent_dim)``, ``pitch`` ``(batch,)`` class indices -> ``(batch, out_channels, freq, frames)``."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ParameterError(f"z must have shape (batch, {self.latent_dim}), got {tuple(z.shape)}")
        one_hot = F.one_hot(self._check_pitch(pitch, z.shape[0]), self.n_pitches).to(z.dtype)
        x = self.input(torch.cat([pixel_norm(z), one_hot], dim=1))
        x = pixel_norm(F.leaky_relu(x.view(z.shape[0], -1, *self.base), LRELU_SLOPE))
        cond = one_hot if self.blocks[0].cond is not None else None
        comb = self.harmonic_comb(pitch) if self.row_hz.numel() else None
        for block in self.blocks:
            extra = None
            if comb is not None:  # the comb averaged down to this block's rows
                rows = x.shape[2] * (2 if block.upsample else 1)
                extra = F.avg_pool2d(comb, (comb.shape[2] // rows, 1))
            x = block(x, cond, extra)
        x = self.to_image(x)
        return torch.tanh(x) if self.output_activation == "tanh" else x


class Discriminator(_PitchConditioned):
    """Image ``(batch, in_channels, freq, frames)`` (+ pitch) to a score ``(batch,)`` and pitch logits.

    Parameters
    ----------
    n_pitches, lowest_pitch, image_shape, channels, equalized, coord
        As for :class:`Generator` (``channels`` lowest resolution first, so the
        same tuple mirrors the generator).
    in_channels : int
    projection : bool
        Add ``<embed(pitch), h>`` to the score (projection discriminator);
        then ``forward`` needs the pitch.
    mbstd_group : int
        Minibatch standard deviation group size (0 turns it off).
    spectral_profile : bool
        Add a linear map of the time-averaged input spectrum ``(in_channels * freq)``
        to the features the score, projection and pitch heads read: a short path
        from "where the harmonics are" to the pitch decision.
    freq_branch : int
        Channels of a frequency branch (0 = none): the frames folded into
        channels, then 1-D convolutions along frequency at full resolution
        (kernel 5, 2x pooling down to the base rows), added to the same
        features. It sees the fine harmonic structure of low notes that the
        thin full-resolution 2-D layers cannot afford to, at about the cost of
        one such layer. Its output layer starts at zero, so adding it to a
        trained discriminator leaves the scores unchanged.

    Returns (from ``forward``)
    -------
    score : ``(batch,)`` raw logits
    pitch_logits : ``(batch, n_pitches)`` auxiliary classifier logits
    features : list of ``(batch, C, f, t)`` block outputs, only with ``return_features=True``

    Examples
    --------
    >>> D = Discriminator(n_pitches=12, image_shape=(64, 32), channels=(32, 16, 8))
    >>> score, logits = D(torch.randn(4, 2, 64, 32), torch.tensor([0, 3, 5, 11]))
    >>> score.shape, logits.shape
    (torch.Size([4]), torch.Size([4, 12]))
    """

    def __init__(self, *, n_pitches: int = 61, lowest_pitch: int = 24, image_shape: tuple[int, int] = (1024, 128),
                 channels: Sequence[int] = (256, 256, 256, 256, 128, 64, 32), in_channels: int = 2,
                 projection: bool = False, mbstd_group: int = 4, coord: bool = False,
                 spectral_profile: bool = False, freq_branch: int = 0, equalized: bool = True):
        super().__init__()
        channels = tuple(channels)
        image_shape = tuple(image_shape)
        self.base = _base_shape(image_shape, channels)
        if not isinstance(n_pitches, int) or n_pitches < 1:
            raise ParameterError(f"n_pitches must be a positive integer, got {n_pitches!r}")
        if not isinstance(freq_branch, int) or isinstance(freq_branch, bool) or freq_branch < 0:
            raise ParameterError(f"freq_branch must be a channel count >= 0, got {freq_branch!r}")
        self._config = dict(n_pitches=n_pitches, lowest_pitch=lowest_pitch, image_shape=image_shape,
                            channels=channels, in_channels=in_channels, projection=projection,
                            mbstd_group=mbstd_group, coord=coord, spectral_profile=spectral_profile,
                            freq_branch=freq_branch, equalized=equalized)
        self.n_pitches, self.lowest_pitch, self.image_shape, self.in_channels = (
            n_pitches, lowest_pitch, image_shape, in_channels)
        self.from_image = EqualizedConv2d(in_channels + (1 if coord else 0), channels[-1], 1, equalized=equalized)
        self.coord = FrequencyCoord() if coord else None
        rev = channels[::-1]
        self.blocks = nn.ModuleList(DownBlock(c_in, c_out, coord=coord, equalized=equalized)
                                    for c_in, c_out in zip(rev[:-1], rev[1:]))
        self.mbstd = MinibatchStdDev(mbstd_group) if mbstd_group else None
        c0 = channels[0]
        self.final_conv = EqualizedConv2d(c0 + (1 if mbstd_group else 0), c0, 3, equalized=equalized)
        self.final_linear = EqualizedLinear(c0 * self.base[0] * self.base[1], c0, equalized=equalized)
        self.score = EqualizedLinear(c0, 1, gain=1.0, equalized=equalized)
        self.aux = EqualizedLinear(c0, n_pitches, gain=1.0, equalized=equalized)
        self.embed = EqualizedLinear(n_pitches, c0, gain=1.0, bias=False, equalized=equalized) if projection else None
        self.profile = (EqualizedLinear(in_channels * image_shape[0], c0, equalized=equalized)
                        if spectral_profile else None)
        self.branch = self.branch_out = None
        if freq_branch:
            folded = in_channels * image_shape[1] + (1 if coord else 0)
            self.branch = nn.ModuleList(EqualizedConv2d(c_in, freq_branch, (5, 1), equalized=equalized)
                                        for c_in in [folded] + [freq_branch] * (len(channels) - 1))
            self.branch_out = EqualizedLinear(freq_branch * self.base[0], c0, equalized=equalized)
            nn.init.zeros_(self.branch_out.weight)

    def _frequency_branch(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, in_channels, freq, frames)`` -> ``(batch, c0)``: 1-D convolutions along frequency."""
        b, c, f, t = x.shape
        h = x.transpose(2, 3).reshape(b, c * t, f, 1)  # the frames folded into channels
        h = self.coord(h) if self.coord is not None else h
        for i, conv in enumerate(self.branch):
            h = F.leaky_relu(conv(h), LRELU_SLOPE)
            if i < len(self.branch) - 1:
                h = F.avg_pool2d(h, (2, 1))
        return self.branch_out(h.flatten(1))

    def forward(self, x: torch.Tensor, pitch: torch.Tensor | None = None, *, return_features: bool = False):
        expected = (self.in_channels, *self.image_shape)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ParameterError(f"expected images of shape (batch, {', '.join(map(str, expected))}), "
                                 f"got {tuple(x.shape)}")
        features = []
        h = self.coord(x) if self.coord is not None else x
        h = F.leaky_relu(self.from_image(h), LRELU_SLOPE)
        for block in self.blocks:
            h = block(h)
            features.append(h)
        if self.mbstd is not None:
            h = self.mbstd(h)
        h = F.leaky_relu(self.final_conv(h), LRELU_SLOPE)
        features.append(h)
        h = self.final_linear(h.flatten(1))
        if self.profile is not None:  # the time-averaged spectrum, straight to the heads
            h = h + self.profile(x.mean(dim=-1).flatten(1))
        if self.branch is not None:
            h = h + self._frequency_branch(x)
        h = F.leaky_relu(h, LRELU_SLOPE)
        score = self.score(h).squeeze(1)
        if self.embed is not None:
            if pitch is None:
                raise ParameterError("a projection discriminator needs the pitch: D(x, pitch)")
            one_hot = F.one_hot(self._check_pitch(pitch, x.shape[0]), self.n_pitches).to(h.dtype)
            score = score + (self.embed(one_hot) * h).sum(dim=1)
        logits = self.aux(h)
        return (score, logits, features) if return_features else (score, logits)

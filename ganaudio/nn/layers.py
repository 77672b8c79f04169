"""Progressive-GAN building blocks shared by the model families.

Pixel norm, equalised learning rate (weights drawn from N(0, 1) and scaled by
He's constant at run time, so Adam's per-parameter step is the same for every
layer), minibatch standard deviation, a frequency coordinate channel, and the
up/down convolution blocks GANSynth stacks. Images are ``(batch, channels,
freq, frames)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ganaudio.errors import ParameterError

__all__ = [
    "DownBlock",
    "EqualizedConv2d",
    "EqualizedLinear",
    "FrequencyCoord",
    "MinibatchStdDev",
    "PixelNorm",
    "UpBlock",
    "pixel_norm",
]

LRELU_SLOPE = 0.2


def pixel_norm(x: torch.Tensor, *, dim: int = 1, eps: float = 1e-8) -> torch.Tensor:
    """Scale each feature vector along ``dim`` to unit root-mean-square.

    Parameters
    ----------
    x : torch.Tensor, ``(batch, channels, ...)``

    Returns
    -------
    torch.Tensor, same shape

    Examples
    --------
    >>> y = pixel_norm(torch.randn(4, 16, 8, 8))
    >>> torch.allclose(y.pow(2).mean(dim=1), torch.ones(4, 8, 8), atol=1e-4)
    True
    """
    return x * torch.rsqrt(x.pow(2).mean(dim=dim, keepdim=True) + eps)


class PixelNorm(nn.Module):
    """Module form of :func:`pixel_norm` over the channel dimension."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return pixel_norm(x)


def _check_positive(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ParameterError(f"{name} must be a positive integer, got {value!r}")
    return value


class EqualizedConv2d(nn.Module):
    """2-D convolution with equalised learning rate ('same' padding for odd kernels).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
        Square, or ``(freq, frames)`` (e.g. ``(5, 1)`` for a convolution along frequency only).
    gain : float
        He gain; the weight is multiplied by ``gain / sqrt(fan_in)`` in forward.
    equalized : bool
        False gives a plain He-initialised convolution.

    Shapes: ``(batch, in_channels, H, W)`` to ``(batch, out_channels, H, W)``.

    Examples
    --------
    >>> EqualizedConv2d(2, 8, 3)(torch.randn(1, 2, 16, 8)).shape
    torch.Size([1, 8, 16, 8])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int], *,
                 gain: float = math.sqrt(2), equalized: bool = True):
        super().__init__()
        _check_positive("in_channels", in_channels)
        _check_positive("out_channels", out_channels)
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        _check_positive("kernel_size", kh)
        _check_positive("kernel_size", kw)
        fan_in = in_channels * kh * kw
        he = gain / math.sqrt(fan_in)
        self.equalized = equalized
        self.scale = he if equalized else 1.0
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kh, kw) * (1.0 if equalized else he))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.padding = (kh // 2, kw // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class EqualizedLinear(nn.Module):
    """Linear layer with equalised learning rate.

    Shapes: ``(..., in_features)`` to ``(..., out_features)``.

    Examples
    --------
    >>> EqualizedLinear(16, 4)(torch.randn(3, 16)).shape
    torch.Size([3, 4])
    """

    def __init__(self, in_features: int, out_features: int, *, gain: float = math.sqrt(2), equalized: bool = True,
                 bias: bool = True):
        super().__init__()
        _check_positive("in_features", in_features)
        _check_positive("out_features", out_features)
        he = gain / math.sqrt(in_features)
        self.scale = he if equalized else 1.0
        self.weight = nn.Parameter(torch.randn(out_features, in_features) * (1.0 if equalized else he))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


class MinibatchStdDev(nn.Module):
    """Append the batch's mean feature standard deviation as extra channel(s).

    Statistics are taken over groups of ``group_size`` examples (the batch is
    split into groups; a batch not divisible falls back to the largest divisor).

    Shapes: ``(batch, C, H, W)`` to ``(batch, C + 1, H, W)``.

    Examples
    --------
    >>> MinibatchStdDev()(torch.randn(8, 4, 2, 2)).shape
    torch.Size([8, 5, 2, 2])
    """

    def __init__(self, group_size: int = 4):
        super().__init__()
        self.group_size = _check_positive("group_size", group_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        g = min(self.group_size, b)
        while b % g:
            g -= 1
        y = x.reshape(g, b // g, c, h, w)
        y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt()          # (b/g, c, h, w)
        y = y.mean(dim=(1, 2, 3)).reshape(b // g, 1, 1, 1)       # (b/g, 1, 1, 1)
        y = y.repeat(g, 1, h, w)                                   # (b, 1, h, w)
        return torch.cat([x, y], dim=1)


class FrequencyCoord(nn.Module):
    """Append a channel holding each row's frequency position, linearly from -1 to 1.

    Convolutions are blind to where they are along the frequency axis; pitch
    is an absolute frequency position, so giving every block this coordinate
    lets a pitch-conditioned network place harmonics without learning
    position from padding artefacts (CoordConv along frequency).

    Shapes: ``(batch, C, freq, frames)`` to ``(batch, C + 1, freq, frames)``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        coord = torch.linspace(-1.0, 1.0, h, device=x.device, dtype=x.dtype).view(1, 1, h, 1)
        return torch.cat([x, coord.expand(b, 1, h, w)], dim=1)


class UpBlock(nn.Module):
    """Nearest-neighbour 2x upsampling then two 3x3 convolutions, leaky ReLU and pixel norm.

    With ``coord``, a frequency-coordinate channel joins the first convolution's input,
    and ``extra_channels`` more per-example rows ``extra`` ``(batch, extra_channels,
    2H, 1)`` (constant along time, e.g. a pitch's harmonic comb) after it.
    An optional per-example condition vector ``cond`` ``(batch, cond_dim)`` is
    mapped to a per-channel bias added after each convolution (a conditional
    bias: the pitch reaches every resolution, not only the input).

    Shapes: ``(batch, in_channels, H, W)`` to ``(batch, out_channels, 2H, 2W)``
    (no upsampling when ``upsample`` is False).
    """

    def __init__(self, in_channels: int, out_channels: int, *, upsample: bool = True, cond_dim: int = 0,
                 coord: bool = False, extra_channels: int = 0, use_pixel_norm: bool = True,
                 equalized: bool = True):
        super().__init__()
        self.upsample = upsample
        self.coord = FrequencyCoord() if coord else None
        self.extra_channels = extra_channels
        extra = (1 if coord else 0) + extra_channels
        self.conv1 = EqualizedConv2d(in_channels + extra, out_channels, 3, equalized=equalized)
        self.conv2 = EqualizedConv2d(out_channels, out_channels, 3, equalized=equalized)
        self.cond = EqualizedLinear(cond_dim, 2 * out_channels, gain=1.0, equalized=equalized) if cond_dim else None
        self.use_pixel_norm = use_pixel_norm

    def _act(self, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if bias is not None:
            x = x + bias[:, :, None, None]
        x = F.leaky_relu(x, LRELU_SLOPE)
        return pixel_norm(x) if self.use_pixel_norm else x

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None,
                extra: torch.Tensor | None = None) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        b1 = b2 = None
        if self.cond is not None:
            if cond is None:
                raise ParameterError("this block is conditional: pass cond of shape (batch, cond_dim)")
            b1, b2 = self.cond(cond).chunk(2, dim=1)
        if self.coord is not None:
            x = self.coord(x)
        if self.extra_channels:
            expected = (x.shape[0], self.extra_channels, x.shape[2], 1)
            if extra is None or tuple(extra.shape) != expected:
                raise ParameterError(f"this block takes extra rows of shape {expected}, got "
                                     f"{None if extra is None else tuple(extra.shape)}")
            x = torch.cat([x, extra.to(x.dtype).expand(-1, -1, -1, x.shape[3])], dim=1)
        x = self._act(self.conv1(x), b1)
        return self._act(self.conv2(x), b2)


class DownBlock(nn.Module):
    """Two 3x3 convolutions with leaky ReLU, then 2x average pooling.

    With ``coord``, a frequency-coordinate channel joins the first convolution's input.

    Shapes: ``(batch, in_channels, H, W)`` to ``(batch, out_channels, H/2, W/2)``.
    """

    def __init__(self, in_channels: int, out_channels: int, *, coord: bool = False, equalized: bool = True):
        super().__init__()
        self.coord = FrequencyCoord() if coord else None
        extra = 1 if coord else 0
        self.conv1 = EqualizedConv2d(in_channels + extra, in_channels, 3, equalized=equalized)
        self.conv2 = EqualizedConv2d(in_channels, out_channels, 3, equalized=equalized)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.coord is not None:
            x = self.coord(x)
        x = F.leaky_relu(self.conv1(x), LRELU_SLOPE)
        x = F.leaky_relu(self.conv2(x), LRELU_SLOPE)
        return F.avg_pool2d(x, 2)

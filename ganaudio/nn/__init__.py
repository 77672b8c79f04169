"""Shared layers: pixel norm, equalised-learning-rate conv/linear, minibatch stddev, up/down blocks."""

from ganaudio.nn.layers import (
    DownBlock,
    EqualizedConv2d,
    EqualizedLinear,
    FrequencyCoord,
    MinibatchStdDev,
    PixelNorm,
    UpBlock,
    pixel_norm,
)

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

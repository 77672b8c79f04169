"""Progressive-GAN layers."""

import math

import pytest
import torch

from ganaudio.errors import ParameterError
from ganaudio.nn import (
    DownBlock,
    EqualizedConv2d,
    EqualizedLinear,
    FrequencyCoord,
    MinibatchStdDev,
    UpBlock,
    pixel_norm,
)


def test_pixel_norm_unit_rms():
    y = pixel_norm(torch.randn(3, 8, 4, 4) * 7)
    assert torch.allclose(y.pow(2).mean(dim=1), torch.ones(3, 4, 4), atol=1e-4)


def test_equalized_layers_scale_at_runtime():
    conv = EqualizedConv2d(4, 6, 3)
    assert conv.scale == pytest.approx(math.sqrt(2) / math.sqrt(4 * 9))
    assert float(conv.weight.detach().std()) == pytest.approx(1.0, abs=0.3)    # stored weights are N(0, 1)
    assert conv(torch.randn(2, 4, 8, 5)).shape == (2, 6, 8, 5)
    lin = EqualizedLinear(16, 3)
    assert lin(torch.randn(5, 16)).shape == (5, 3)
    with pytest.raises(ParameterError):
        EqualizedLinear(0, 3)


def test_minibatch_stddev_and_coord():
    x = torch.randn(6, 3, 4, 2)
    y = MinibatchStdDev(4)(x)                                   # 6 % 4 != 0: falls back to groups of 3
    assert y.shape == (6, 4, 4, 2) and torch.equal(y[:, :3], x)
    assert torch.allclose(MinibatchStdDev()(x.new_ones(4, 3, 2, 2))[:, 3], torch.full((4, 2, 2), 1e-4), atol=1e-4)
    c = FrequencyCoord()(x)
    assert c.shape == (6, 4, 4, 2) and float(c[0, 3, 0, 0]) == -1.0 and float(c[0, 3, -1, 1]) == 1.0


def test_blocks_shapes_and_condition():
    up = UpBlock(8, 4, cond_dim=5, coord=True)
    cond = torch.eye(5)[:2]
    assert up(torch.randn(2, 8, 4, 3), cond).shape == (2, 4, 8, 6)
    with pytest.raises(ParameterError):
        up(torch.randn(2, 8, 4, 3))
    assert DownBlock(4, 8, coord=True)(torch.randn(2, 4, 8, 6)).shape == (2, 8, 4, 3)


def test_frequency_only_kernel_and_extra_rows():
    conv = EqualizedConv2d(3, 5, (5, 1))
    x = torch.randn(2, 3, 16, 4)
    y = conv(x)
    assert y.shape == (2, 5, 16, 4)
    # a (5, 1) kernel never mixes frames
    x2 = x.clone()
    x2[..., 1:] = torch.randn(2, 3, 16, 3)
    assert torch.allclose(conv(x2)[..., 0], y[..., 0])
    up = UpBlock(4, 6, extra_channels=1, coord=True)
    assert up(torch.randn(2, 4, 8, 3), extra=torch.randn(2, 1, 16, 1)).shape == (2, 6, 16, 6)
    with pytest.raises(ParameterError, match="extra rows"):
        up(torch.randn(2, 4, 8, 3))
    with pytest.raises(ParameterError, match="extra rows"):
        up(torch.randn(2, 4, 8, 3), extra=torch.randn(2, 1, 8, 1))

"""Per-channel normalisation of spectrograms to [-1, 1], with saved statistics."""

from __future__ import annotations

import dataclasses

import torch

from ganaudio.errors import ParameterError

__all__ = ["Normalizer"]


@dataclasses.dataclass(frozen=True)
class Normalizer:
    """Affine map per channel: ``(x - center) / scale``, and back.

    Statistics come from :meth:`fit` on training tensors and are stored with a
    data set and a model (``to_dict`` / ``from_dict`` are JSON-able), so a
    generator's outputs are mapped back with the numbers it was trained on.

    Parameters
    ----------
    center, scale : tuple of float, one per channel

    Examples
    --------
    >>> x = torch.randn(8, 2, 64, 32) * 5
    >>> norm = Normalizer.fit(x)
    >>> float(norm.normalize(x).abs().max()) <= 1.0 + 1e-6
    True
    >>> torch.allclose(norm.denormalize(norm.normalize(x)), x, atol=1e-5)
    True
    """

    center: tuple[float, ...]
    scale: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.center) != len(self.scale) or not self.center:
            raise ParameterError("Normalizer needs one center and one scale per channel")
        if any(s <= 0 for s in self.scale):
            raise ParameterError(f"Normalizer scales must be positive, got {self.scale}")

    @classmethod
    def fit(cls, x: torch.Tensor, *, lower: float = 0.0, upper: float = 1.0) -> Normalizer:
        """Statistics from ``x`` of shape ``(..., channels, freq, frames)``.

        ``lower``/``upper`` are quantiles (0 and 1: min and max) mapped to -1 and 1;
        use e.g. 0.001/0.999 to ignore outliers.
        """
        if x.ndim < 3:
            raise ParameterError(f"expected (..., channels, freq, frames), got {tuple(x.shape)}")
        per_channel = x.detach().double().movedim(-3, 0).reshape(x.shape[-3], -1)
        if lower == 0.0 and upper == 1.0:
            lo, hi = per_channel.min(dim=1).values, per_channel.max(dim=1).values
        else:
            qs = torch.tensor([lower, upper], dtype=torch.float64)
            sample = per_channel[:, :: max(1, per_channel.shape[1] // 1_000_000)]
            lo, hi = torch.quantile(sample, qs, dim=1)
        center = ((hi + lo) / 2).tolist()
        scale = ((hi - lo) / 2).clamp_min(1e-8).tolist()
        return cls(center=tuple(center), scale=tuple(scale))

    def _shape(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.ndim < 3 or x.shape[-3] != len(self.center):
            raise ParameterError(f"expected (..., {len(self.center)}, freq, frames), got {tuple(x.shape)}")
        c = torch.tensor(self.center, dtype=x.dtype, device=x.device).view(-1, 1, 1)
        s = torch.tensor(self.scale, dtype=x.dtype, device=x.device).view(-1, 1, 1)
        return c, s

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        c, s = self._shape(x)
        return (x - c) / s

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        c, s = self._shape(x)
        return x * s + c

    def to_dict(self) -> dict:
        return {"center": list(self.center), "scale": list(self.scale)}

    @classmethod
    def from_dict(cls, data: dict) -> Normalizer:
        try:
            return cls(center=tuple(float(v) for v in data["center"]), scale=tuple(float(v) for v in data["scale"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ParameterError(f"bad normaliser statistics {data!r}: {exc}") from None

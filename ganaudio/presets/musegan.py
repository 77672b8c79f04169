"""MuseGAN presets: ``full`` (the paper's network sizes, for a GPU) and ``tiny`` (trains on 2 CPU cores).

Phrase sizes (tracks, bars, steps per bar, pitches) are not settings: they
come from the prepared data (``ganaudio prepare midi``). A preset holds the
network widths, latent sizes and the optimisation.

``full`` follows Dong et al. (2018): four latent parts of 32 values each (the
paper's hybrid model draws 32 + 32 + 32 + 32 per track), Adam lr 1e-3 with
betas (0.5, 0.9), WGAN-GP weight 10, batch 64, probabilities (not binary
cells) shown to the critic. The shared engine runs one critic step per
generator step, so the critic's learning rate is doubled in place of
MuseGAN's five critic steps (two-timescale updates).

``tiny`` shrinks the bar generators to (64, 32, 16, 8) channels per track and
the critic to (32, 64, 64) with 64-wide features, batch 16, and an EMA of the
generator with decay 0.99, for runs of a few thousand steps on a CPU (the
bundled Bach chorale model, recipes/musegan_chorales).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ganaudio.errors import ParameterError
from ganaudio.models.musegan import BINARIZE_MODES
from ganaudio.presets.base import Preset

__all__ = ["MUSEGAN_PRESETS", "MuseGANPreset"]


@dataclasses.dataclass(frozen=True)
class MuseGANPreset(Preset):
    """Every setting of a MuseGAN run that is not a property of the data."""

    label: ClassVar[str] = "MuseGAN"

    family: str = "musegan"
    # ---- generator
    shared_dim: int = 32
    temporal_dim: int = 32
    track_dim: int = 32
    track_temporal_dim: int = 32
    temporal_hidden: int = 256
    g_channels: tuple[int, ...] = (256, 128, 64, 32)
    binarize: str = "none"
    # ---- critic
    d_channels: tuple[int, ...] = (64, 128, 256)
    feature_dim: int = 256
    chroma: bool = True
    onsets: bool = True
    # ---- data
    split: str | None = "train"
    # ---- optimisation
    batch_size: int = 64
    g_lr: float = 1e-3
    d_lr: float = 2e-3
    beta1: float = 0.5
    beta2: float = 0.9
    gp_weight: float = 10.0
    ema_decay: float = 0.999
    steps: int = 50_000
    max_bad_steps: int = 20
    mixed_precision: bool = False
    # ---- logging and checkpoints
    log_every: int = 100
    sample_every: int = 2000
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    threshold: float = 0.5
    qpm: float = 100.0

    def __post_init__(self) -> None:
        if self.binarize not in BINARIZE_MODES:
            raise ParameterError(f"binarize must be one of {BINARIZE_MODES}, got {self.binarize!r}")
        for name in ("batch_size", "steps", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints",
                     "max_bad_steps", "shared_dim", "temporal_dim", "track_dim", "track_temporal_dim",
                     "temporal_hidden", "feature_dim"):
            if getattr(self, name) < 1:
                raise ParameterError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if not 0 <= self.ema_decay < 1:
            raise ParameterError(f"ema_decay must be in [0, 1), got {self.ema_decay!r}")
        if not 0 < self.threshold < 1:
            raise ParameterError(f"threshold must be in (0, 1), got {self.threshold!r}")
        if self.qpm <= 0:
            raise ParameterError(f"qpm must be positive, got {self.qpm!r}")

    def generator_kwargs(self, *, n_tracks: int, n_bars: int, steps_per_bar: int, n_pitches: int) -> dict:
        """Constructor arguments of :class:`ganaudio.models.musegan.Generator` for a phrase layout."""
        return {"n_tracks": n_tracks, "n_bars": n_bars, "steps_per_bar": steps_per_bar, "n_pitches": n_pitches,
                    "shared_dim": self.shared_dim, "temporal_dim": self.temporal_dim, "track_dim": self.track_dim,
                    "track_temporal_dim": self.track_temporal_dim, "temporal_hidden": self.temporal_hidden,
                    "channels": self.g_channels, "binarize": self.binarize}

    def discriminator_kwargs(self, *, n_tracks: int, n_bars: int, steps_per_bar: int, n_pitches: int,
                             steps_per_beat: int, pitch_offset: int) -> dict:
        """Constructor arguments of :class:`ganaudio.models.musegan.Discriminator` for a phrase layout."""
        return {"n_tracks": n_tracks, "n_bars": n_bars, "steps_per_bar": steps_per_bar, "n_pitches": n_pitches,
                    "steps_per_beat": steps_per_beat, "pitch_offset": pitch_offset, "channels": self.d_channels,
                    "feature_dim": self.feature_dim, "chroma": self.chroma, "onsets": self.onsets}


FULL = MuseGANPreset()

TINY = MuseGANPreset(
    temporal_hidden=128, g_channels=(64, 32, 16, 8), d_channels=(32, 64, 64), feature_dim=64,
    batch_size=16, g_lr=1e-3, d_lr=2e-3, ema_decay=0.99, steps=4000, log_every=20, sample_every=500,
    checkpoint_every=100, keep_checkpoints=3,
)

MUSEGAN_PRESETS: dict[str, MuseGANPreset] = {"full": FULL, "tiny": TINY}

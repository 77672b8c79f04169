"""CycleGAN presets: ``tiny`` (trains on one CPU thread) and ``full`` (CycleGAN / TimbreTron sizes, a GPU).

The representation is the bundled GAN vocoder's mel analysis (16 kHz, 80
slaney mel bands, n_fft 1024, hop 256; ``ganaudio/assets/vocoder_16k``), so a
converted spectrogram can be played by ``vocoder_16k``; change it and the
transfer falls back to Griffin-Lim. Log-mel power is standardised with one
mean and standard deviation measured on the training data of both domains
(stored in every checkpoint).

``tiny``: ResNet generators of width 16 (two stride-2 stages to 64 channels at
a quarter of the frequency and frame rate, 4 residual blocks; 0.34M
parameters each), PatchGAN discriminators of width 16 (three stride-2 layers;
0.17M each), crops of 64 frames (1 s), batch 8.

``full``: CycleGAN's generator (width 64, 9 residual blocks at 256 channels;
11.4M parameters each, as CycleGAN) and 70 x 70 PatchGAN (width 64, 2.8M), crops of 256
frames (4 s, TimbreTron's training excerpts are a few seconds), batch 8.

Both: least-squares GAN loss, cycle-consistency weight 10, identity weight 5
(half the cycle weight, as CycleGAN), Adam 2e-4 with betas (0.5, 0.999), a
generator EMA for sampling and export.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ganaudio.errors import ParameterError
from ganaudio.presets.base import Preset

__all__ = ["CYCLEGAN_PRESETS", "CycleGANPreset"]


@dataclasses.dataclass(frozen=True)
class CycleGANPreset(Preset):
    """Every setting of a CycleGAN run; any field can be overridden (``--set cycle_weight=5``)."""

    label: ClassVar[str] = "CycleGAN"

    name: str = "tiny"
    # ---- mel analysis: ganaudio.representations.Mel, the bundled vocoder's settings
    sample_rate: int = 16000
    n_fft: int = 1024
    hop_length: int = 256
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float | None = None
    # ---- domains: names shown to users (default: the data folders' names)
    domain_names: tuple[str, ...] = ()
    # ---- generators (ganaudio.models.cyclegan.ResnetGenerator)
    g_channels: int = 16
    g_downsample: int = 2
    g_blocks: int = 4
    g_max_channels: int = 64
    residual: bool = True
    # ---- discriminators (PatchGAN)
    d_channels: int = 16
    d_layers: int = 3
    d_max_channels: int = 128
    # ---- losses
    loss: str = "lsgan"
    cycle_weight: float = 10.0
    identity_weight: float = 5.0
    # ---- data
    crop_frames: int = 64
    crop_stride: int = 16  # frames between the starts of candidate training crops
    min_rms: float = 1e-3  # crops quieter than this RMS (-60 dBFS) are left out
    # ---- optimisation
    batch_size: int = 8
    steps: int = 2400
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    ema_decay: float = 0.995
    max_bad_steps: int = 20
    mixed_precision: bool = False
    # ---- logging, samples and checkpoints
    log_every: int = 10
    sample_every: int = 400
    sample_seconds: float = 4.0
    checkpoint_every: int = 200
    keep_checkpoints: int = 3

    def __post_init__(self) -> None:
        for name in ("batch_size", "steps", "crop_frames", "crop_stride", "log_every", "sample_every",
                     "checkpoint_every", "keep_checkpoints", "max_bad_steps", "g_channels", "g_max_channels",
                     "d_channels", "d_layers", "d_max_channels"):
            if getattr(self, name) < 1:
                raise ParameterError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.loss not in ("lsgan", "hinge", "nonsaturating"):
            raise ParameterError(f"loss must be 'lsgan', 'hinge' or 'nonsaturating', got {self.loss!r}")
        if self.domain_names and (len(self.domain_names) != 2 or self.domain_names[0] == self.domain_names[1]):
            raise ParameterError(f"domain_names must be two different names, got {list(self.domain_names)}")
        multiple = 2 ** self.g_downsample
        if self.crop_frames < 2 ** (self.d_layers + 2) or self.crop_frames % multiple:
            raise ParameterError(f"crop_frames={self.crop_frames} must be a multiple of {multiple} and at least "
                                 f"{2 ** (self.d_layers + 2)} (the discriminator's {self.d_layers} stride-2 layers)")
        if self.cycle_weight < 0 or self.identity_weight < 0:
            raise ParameterError("cycle_weight and identity_weight must be >= 0")
        if not 0 <= self.ema_decay < 1:
            raise ParameterError(f"ema_decay must be in [0, 1), got {self.ema_decay!r}")
        self.representation()  # validates the mel settings

    def representation(self):
        """The mel analysis: :class:`ganaudio.representations.Mel`."""
        from ganaudio.representations import Mel

        return Mel(sample_rate=self.sample_rate, n_fft=self.n_fft, hop_length=self.hop_length, n_mels=self.n_mels,
                   fmin=self.fmin, fmax=self.fmax)

    def generator_kwargs(self) -> dict:
        """Constructor arguments of :class:`ganaudio.models.cyclegan.CycleGANGenerators`."""
        return {"n_mels": self.n_mels, "channels": self.g_channels, "n_downsample": self.g_downsample,
                "n_blocks": self.g_blocks, "max_channels": self.g_max_channels, "residual": self.residual}

    def discriminator_kwargs(self) -> dict:
        """Constructor arguments of :class:`ganaudio.models.cyclegan.CycleGANDiscriminators`."""
        return {"channels": self.d_channels, "n_layers": self.d_layers, "max_channels": self.d_max_channels}


CYCLEGAN_PRESETS: dict[str, CycleGANPreset] = {
    "tiny": CycleGANPreset(),
    "full": CycleGANPreset(name="full", g_channels=64, g_blocks=9, g_max_channels=256, d_channels=64,
                           d_max_channels=512, crop_frames=256, crop_stride=32, steps=200_000, ema_decay=0.999,
                           sample_every=5000, checkpoint_every=2000, log_every=100),
}

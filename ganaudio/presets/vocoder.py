"""Vocoder presets: mel analysis, generator architecture, discriminators and training settings.

``small``, ``v1``, ``v2`` and ``v3`` are HiFi-GAN generators (V1-V3 sized as in
the paper); ``vocos`` (the bundled 16 kHz model) and ``vocos-base`` predict an
STFT that an inverse FFT turns into sound. Every preset analyses 16 kHz audio
into 80 log-mel bands (n_fft 1024, hop 256); any of it can be overridden
(``--set sample_rate=22050``), and a HiFi-GAN whose upsampling rates do not
multiply to the hop is refused with a clear error when the model is built.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ganaudio.errors import ParameterError
from ganaudio.models.hifigan import HIFIGAN_PRESETS
from ganaudio.models.vocos import VOCOS_PRESETS
from ganaudio.presets.base import Preset

__all__ = ["VOCODER_PRESETS", "VocoderPreset"]

IntTuple = tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class VocoderPreset(Preset):
    """All settings of a vocoder run (see the module docstring); every field can be overridden."""

    label: ClassVar[str] = "vocoder"

    name: str
    generator: str  # "hifigan" or "vocos"
    # ---- mel analysis (the generator's input), ganaudio.representations.Mel
    sample_rate: int = 16000
    n_fft: int = 1024
    hop_length: int = 256
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float | None = None
    # ---- HiFi-GAN generator
    upsample_rates: IntTuple = ()
    upsample_kernel_sizes: IntTuple = ()
    upsample_initial_channel: int = 0
    resblock_kernel_sizes: IntTuple = ()
    resblock_dilation_sizes: tuple[IntTuple, ...] = ()
    resblock_type: int = 1
    # ---- Vocos generator (synthesis STFT = the analysis n_fft and hop)
    dim: int = 0
    intermediate_dim: int = 0
    n_layers: int = 0
    mel_prior: bool = False  # start the magnitude from the mel's pseudo-inverse (FreeV)
    # ---- discriminators: multi-period + multi-resolution STFT
    mpd_periods: IntTuple = (2, 3, 5, 7, 11)
    mpd_channels: IntTuple = (32, 128, 512, 1024)
    mrd_resolutions: tuple[IntTuple, ...] = ((1024, 256), (512, 128), (256, 64))
    mrd_channels: int = 32
    # ---- losses (HiFi-GAN: mel 45, feature matching 2; multi-resolution STFT as Parallel WaveGAN)
    mel_weight: float = 45.0
    stft_weight: float = 1.0
    fm_weight: float = 2.0
    adv_weight: float = 1.0
    disc_start: int = 0  # steps of reconstruction losses only before the adversarial ones join
    # ---- optimisation
    segment_length: int = 8192  # samples per training example (a multiple of the hop)
    min_rms: float = 1e-3  # segments quieter than this (-60 dBFS) are left out; 0 keeps silence in the data
    batch_size: int = 16
    steps: int = 100_000
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    beta1: float = 0.8
    beta2: float = 0.99
    ema_decay: float = 0.995
    grad_clip: float = 0.0  # gradient norm cap per network (0 = off)
    warmup_steps: int = 0  # linear learning-rate warm-up from the run's first step (or its --init-from step)
    mixed_precision: bool = False
    log_every: int = 10
    sample_every: int = 1000
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3

    def __post_init__(self) -> None:
        if self.generator not in ("hifigan", "vocos"):
            raise ParameterError(f"generator must be 'hifigan' or 'vocos', got {self.generator!r}")
        if self.segment_length % self.hop_length:
            raise ParameterError(f"segment_length={self.segment_length} must be a multiple of the hop "
                                 f"{self.hop_length}")
        for name in ("batch_size", "steps", "segment_length", "log_every", "sample_every", "checkpoint_every",
                     "keep_checkpoints"):
            if getattr(self, name) < 1:
                raise ParameterError(f"{name} must be >= 1, got {getattr(self, name)}")

    def representation(self):
        """The mel analysis the generator inverts: :class:`ganaudio.representations.Mel`."""
        from ganaudio.representations import Mel

        return Mel(sample_rate=self.sample_rate, n_fft=self.n_fft, hop_length=self.hop_length, n_mels=self.n_mels,
                   fmin=self.fmin, fmax=self.fmax)

    def generator_kwargs(self) -> dict:
        """Constructor arguments of :class:`HiFiGANGenerator` or :class:`VocosGenerator`."""
        if self.generator == "vocos":
            kwargs = {"n_mels": self.n_mels, "hop_length": self.hop_length, "n_fft": self.n_fft, "dim": self.dim,
                      "intermediate_dim": self.intermediate_dim, "n_layers": self.n_layers}
            if self.mel_prior:
                kwargs.update(mel_prior=True, sample_rate=self.sample_rate, fmin=self.fmin, fmax=self.fmax)
            return kwargs
        return {"n_mels": self.n_mels, "hop_length": self.hop_length, "upsample_rates": self.upsample_rates,
                    "upsample_kernel_sizes": self.upsample_kernel_sizes,
                    "upsample_initial_channel": self.upsample_initial_channel,
                    "resblock_kernel_sizes": self.resblock_kernel_sizes,
                    "resblock_dilation_sizes": self.resblock_dilation_sizes, "resblock_type": self.resblock_type}

    def discriminator_kwargs(self) -> dict:
        return {"periods": self.mpd_periods, "mpd_channels": self.mpd_channels, "resolutions": self.mrd_resolutions,
                    "mrd_channels": self.mrd_channels}

    def build_generator(self):
        from ganaudio.models.hifigan import HiFiGANGenerator
        from ganaudio.models.vocos import VocosGenerator

        cls = VocosGenerator if self.generator == "vocos" else HiFiGANGenerator
        return cls(**self.generator_kwargs())


def _hifigan(name: str, arch: str, **training) -> VocoderPreset:
    return VocoderPreset(name=name, generator="hifigan", **{**HIFIGAN_PRESETS[arch], **training})


# Sized for 2 CPU cores: narrow discriminators (their convolutions at the sample rate dominate a CPU step),
# and the first 1000 steps on the reconstruction losses alone.
_CPU = {"batch_size": 8, "mpd_channels": (8, 16, 32, 64), "mrd_channels": 8, "disc_start": 1000, "sample_every": 500,
            "checkpoint_every": 100, "steps": 20_000}

VOCODER_PRESETS: dict[str, VocoderPreset] = {
    "small": _hifigan("small", "small", **_CPU),
    "v1": _hifigan("v1", "v1"),
    "v2": _hifigan("v2", "v2"),
    "v3": _hifigan("v3", "v3"),
    # Vocos trains with a higher learning rate than HiFi-GAN (5e-4 in the paper, AdamW). The bundled recipe
    # (recipes/vocoder_soundfont): the mel prior; 2-second segments, because the ConvNeXt sees 27 frames each
    # way and on 0.5 s segments (33 frames) it learned to lean on the segment edges, which a long clip lacks;
    # silence kept; multi-resolution STFT weighted up to 10 (its spectral convergence is where Griffin-Lim
    # led); gradient clipping and a warm-up.
    "vocos": VocoderPreset(name="vocos", generator="vocos", **VOCOS_PRESETS["vocos"],
                           **{**_CPU, "batch_size": 2, "disc_start": 7000, "steps": 9000}, g_lr=5e-4, mel_prior=True,
                           segment_length=32768, min_rms=0.0, stft_weight=10.0, grad_clip=10.0, warmup_steps=500),
    "vocos-small": VocoderPreset(name="vocos-small", generator="vocos", **VOCOS_PRESETS["vocos-small"], **_CPU,
                                 g_lr=5e-4),
    "vocos-base": VocoderPreset(name="vocos-base", generator="vocos", **VOCOS_PRESETS["vocos-base"], g_lr=5e-4),
}

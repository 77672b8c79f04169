"""Harmonic-plus-noise GAN presets (``ganaudio train ddspgan``): synthesizer, networks, losses, training.

``44k`` is the recipe of the bundled 44.1 kHz instrument (recipes/ddspgan_44k):
727 partials reach 20 kHz at MIDI 21, 2.5-s notes held 1.7 s then released.
``tiny`` is for tests and a first look on a laptop.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ganaudio.presets.base import Preset

__all__ = ["DDSPGAN_PRESETS", "InstrumentPreset"]

IntTuple = tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class InstrumentPreset(Preset):
    """All settings of a harmonic-plus-noise GAN run; every field can be overridden with ``--set``."""

    label: ClassVar[str] = "ddspgan"

    name: str
    # ---- synthesizer and control generator (ganaudio.models.ddspgan.ControlGenerator)
    sample_rate: int = 44100
    hop: int = 256
    z_dim: int = 64
    hidden: int = 256
    n_harmonics: int = 727
    n_envelope: int = 96
    n_detail: int = 32
    n_noise_bands: int = 65
    max_cents: float = 25.0
    table_size: int = 4096
    # ---- encoder (NoteEncoder) and discriminator (MelDiscriminator)
    encoder_channels: int = 128
    encoder_mels: int = 128
    d_resolutions: tuple[IntTuple, ...] = ((2048, 512, 128), (1024, 256, 96), (512, 128, 64))
    d_channels: int = 32
    # ---- notes: every training note is this long, the key held for hold_seconds
    note_seconds: float = 2.5
    hold_seconds: float = 1.7
    crop: int = 32768  # samples of each discriminator crop
    # ---- losses
    recon_weight: float = 1.0
    kl_weight: float = 0.01
    adv_weight: float = 0.1
    fm_weight: float = 1.0
    disc_start: int = 3000  # steps of reconstruction and KL only
    cross_fraction: float = 0.5  # notes whose latent comes from another note of their instrument
    cross_semitones: float = 12.0  # ... at most this far in pitch
    # ---- optimisation
    batch_size: int = 8
    steps: int = 20_000
    g_lr: float = 5e-4
    d_lr: float = 2e-4
    beta1: float = 0.8
    beta2: float = 0.99
    ema_decay: float = 0.999
    grad_clip: float = 5.0
    warmup_steps: int = 0
    mixed_precision: bool = False
    log_every: int = 10
    sample_every: int = 1000
    checkpoint_every: int = 250
    keep_checkpoints: int = 3

    def decoder_kwargs(self) -> dict:
        """Constructor arguments of the ControlGenerator."""
        return dict(sample_rate=self.sample_rate, hop=self.hop, z_dim=self.z_dim, hidden=self.hidden,
                    n_harmonics=self.n_harmonics, n_envelope=self.n_envelope, n_detail=self.n_detail,
                    n_noise_bands=self.n_noise_bands, max_cents=self.max_cents, table_size=self.table_size)

    def encoder_kwargs(self) -> dict:
        """Constructor arguments of the NoteEncoder (rate and z_dim come from the decoder)."""
        return dict(channels=self.encoder_channels, n_mels=self.encoder_mels)

    def discriminator_kwargs(self) -> dict:
        """Constructor arguments of the MelDiscriminator."""
        return dict(sample_rate=self.sample_rate, resolutions=[list(r) for r in self.d_resolutions],
                    channels=self.d_channels)


DDSPGAN_PRESETS: dict[str, InstrumentPreset] = {
    "44k": InstrumentPreset(name="44k"),
    "tiny": InstrumentPreset(name="tiny", z_dim=8, hidden=32, n_harmonics=96, n_envelope=16, n_detail=8,
                             n_noise_bands=17, table_size=512, encoder_channels=16, encoder_mels=32,
                             d_resolutions=((1024, 256, 48), (512, 128, 32)), d_channels=8, note_seconds=0.5,
                             hold_seconds=0.35, crop=8192, disc_start=100, batch_size=4, steps=500,
                             checkpoint_every=100),
}

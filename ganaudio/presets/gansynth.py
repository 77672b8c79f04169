"""GANSynth presets: ``paper`` (IF-Mel +H as published) and ``tiny`` (trains on 2 CPU cores).

``tiny`` is sized for learning pitch quickly rather than for fidelity:

* 1 s notes and 512 mel bands with the paper's "+H" STFT (n_fft 2048, hop 512
  at 16 kHz): a 512 x 32 image, 8x fewer pixels than the paper's 1024 x 128.
  The long FFT keeps 7.8 Hz bins, so low notes' harmonics stay apart (GANSynth
  found +H the biggest single gain); a sustained note changes slowly, so 32
  frames per second lose little, and halve the cost of 64. The mel resolution
  is what lets decoded notes keep their pitch: real FluidR3 notes encoded and
  decoded (phase Griffin-Lim, 8 iterations) were tracked on pitch by pYIN as
  often as the raw notes with 512 bands (73.5% vs 75.5% on one note per pitch
  of every acoustic program), against 63% with 256 bands and 26% with 128
  (decoded notes came out unvoiced: the pseudo-inverse smears the harmonics).
* Six blocks from 16 x 1 up (channels 128 ... 8): the top blocks are thin, so
  the 4x larger image costs about 3x the 128-band preset per example; batch 16.
* MIDI 36-84 (49 pitch classes): the lowest octave, whose harmonics crowd the
  bottom mel bands, is left out.
* Pitch reaches the networks four ways: the one-hot at the generator's input
  (the paper's way), a conditional bias in every generator block, a
  projection term in the discriminator's score (it judges "real *and* this
  pitch", so a wrong pitch is fake), and the auxiliary classifier.
* A frequency-coordinate channel before every convolution, so both networks
  know absolute frequency (pitch *is* absolute frequency; convolutions are
  otherwise blind to it).
* A spectral-profile path in the discriminator: the time-averaged input
  spectrum feeds the heads through one linear map, a short route from where
  the harmonics lie to the pitch decision (and a direct gradient to the
  generator's harmonic placement).
* Faster optimisation than the paper's: Adam lr 4e-3 (D) / 2e-3 (G), beta1 0.5,
  auxiliary weight 3. With equalised learning rate the stored weights are
  N(0, 1), so the paper's 1e-3 moves them ~30x less per step than a plainly
  initialised network; measured here, a discriminator learning pitch alone
  reached 4.7% accuracy after 80 steps at lr 1e-3, 13% at 4e-3 with beta1 0.5,
  and 22% with the spectral-profile path added (49 classes, chance 2%).
* Hinge loss with a small lazy R1 penalty (every 4th step), no WGAN-GP interpolates.
* Low notes' harmonics, 2-10 mel rows apart, are drawn and judged at full
  resolution, where the networks are thinnest (8-16 channels); there the
  models missed: low generated notes carried their fundamental but noise
  between harmonics, and pYIN called them unvoiced. So every generator
  block also reads the asked pitch's harmonic comb, cos(2 pi f_row / f0)
  (``harmonic_input``); the discriminator gains a 64-channel branch of
  frequency-only convolutions over full-resolution rows (``freq_branch``);
  and notes below MIDI 57 are drawn twice per epoch (``low_pitch_below``,
  ``low_pitch_repeats``). Grown onto the step-10,100 model, these lifted the
  low notes (MIDI 36-56) from 45% to the figures in the recipe's README.
* MSGAN's mode-seeking term (weight 0.3, ratio capped at 0.3): without it
  every seed converged on one timbre.
* The periodicity prior (``periodicity_weight`` 10,
  :mod:`ganaudio.train.periodicity`): the remaining misses were low notes
  whose loud frames put less power on the asked pitch's harmonics than real
  notes do, which the discriminator's score did not punish. The prior
  charges the generator for each note less periodic at its pitch than the
  median real note of that pitch.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ganaudio.errors import ParameterError
from ganaudio.presets.base import Preset

__all__ = ["PRESETS", "GANSynthPreset"]


@dataclasses.dataclass(frozen=True)
class GANSynthPreset(Preset):
    """Every setting of a GANSynth run (representation, data, model, optimisation, logging)."""

    label: ClassVar[str] = "GANSynth"

    family: str = "gansynth"
    # ---- representation (IF-Mel)
    sample_rate: int = 16000
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 1024
    n_frames: int = 128
    # ---- data
    pitch_min: int = 24
    pitch_max: int = 84
    sources: tuple[str, ...] | None = ("acoustic",)
    split: str | None = "train"
    low_pitch_below: int = 0  # notes below this MIDI pitch are drawn low_pitch_repeats times per epoch
    low_pitch_repeats: int = 1  # (low notes are the hardest to get on pitch; 1 = uniform)
    # ---- model
    latent_dim: int = 256
    g_channels: tuple[int, ...] = (256, 256, 256, 256, 128, 64, 32)
    d_channels: tuple[int, ...] = (256, 256, 256, 256, 128, 64, 32)
    pitch_bias: bool = False
    coord: bool = False
    projection: bool = False
    spectral_profile: bool = False
    harmonic_input: bool = False  # the asked pitch's harmonic comb into every generator block
    freq_branch: int = 0  # channels of the discriminator's full-resolution frequency branch (0 = none)
    mbstd_group: int = 4
    output_activation: str = "tanh"
    # ---- optimisation
    batch_size: int = 8
    g_lr: float = 8e-4
    d_lr: float = 8e-4
    beta1: float = 0.0
    beta2: float = 0.99
    loss: str = "wgan"
    gp_weight: float = 10.0
    r1_weight: float = 0.0
    r1_every: int = 1
    drift_weight: float = 1e-3
    aux_weight: float = 10.0
    aux_fake_in_d: bool = True
    mode_seeking_weight: float = 0.0
    mode_seeking_ceiling: float = 1.0
    periodicity_weight: float = 0.0  # generator penalty for notes less periodic at their pitch than real ones (0 = off)
    periodicity_target: float = 0.95  # frame periodicity that costs nothing (see ganaudio.train.periodicity)
    ema_decay: float = 0.999
    grad_clip: float = 0.0  # gradient norm cap per network (0 = off)
    warmup_steps: int = 0  # linear learning-rate warm-up from the run's first step (or its --init-from step)
    steps: int = 1_000_000
    max_bad_steps: int = 20
    mixed_precision: bool = True
    # ---- logging and checkpoints
    log_every: int = 100
    sample_every: int = 5000
    checkpoint_every: int = 5000
    keep_checkpoints: int = 3
    sample_pitches: tuple[int, ...] = (36, 48, 60, 72)
    griffinlim_iters: int = 8

    def __post_init__(self) -> None:
        if not 0 <= self.pitch_min <= self.pitch_max <= 127:
            raise ParameterError(f"need 0 <= pitch_min <= pitch_max <= 127, got {self.pitch_min}, {self.pitch_max}")
        bad = [p for p in self.sample_pitches if not self.pitch_min <= p <= self.pitch_max]
        if bad:
            raise ParameterError(f"sample_pitches {bad} lie outside pitch_min-pitch_max "
                                 f"({self.pitch_min}-{self.pitch_max})")
        for name in ("low_pitch_repeats", "batch_size", "steps", "log_every", "sample_every", "checkpoint_every",
                     "keep_checkpoints", "max_bad_steps", "r1_every", "n_frames", "n_mels", "latent_dim"):
            if getattr(self, name) < 1:
                raise ParameterError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if not 0 <= self.ema_decay < 1:
            raise ParameterError(f"ema_decay must be in [0, 1), got {self.ema_decay!r}")

    @property
    def n_pitches(self) -> int:
        return self.pitch_max - self.pitch_min + 1

    @property
    def image_shape(self) -> tuple[int, int]:
        return (self.n_mels, self.n_frames)

    def representation(self):
        """The IF-Mel representation these images come from."""
        from ganaudio.representations import IFMel

        return IFMel(sample_rate=self.sample_rate, n_fft=self.n_fft, hop_length=self.hop_length, n_mels=self.n_mels)

    def generator_kwargs(self) -> dict:
        return dict(latent_dim=self.latent_dim, n_pitches=self.n_pitches, lowest_pitch=self.pitch_min,
                    image_shape=self.image_shape, channels=self.g_channels, out_channels=2,
                    pitch_bias=self.pitch_bias, coord=self.coord, output_activation=self.output_activation,
                    harmonic_rows=self.representation().band_frequencies() if self.harmonic_input else None)

    def discriminator_kwargs(self) -> dict:
        return dict(n_pitches=self.n_pitches, lowest_pitch=self.pitch_min, image_shape=self.image_shape,
                    channels=self.d_channels, in_channels=2, projection=self.projection,
                    mbstd_group=self.mbstd_group, coord=self.coord, spectral_profile=self.spectral_profile,
                    freq_branch=self.freq_branch)


PAPER = GANSynthPreset()

TINY = GANSynthPreset(
    n_fft=2048, hop_length=512, n_mels=512, n_frames=32,
    pitch_min=36, pitch_max=84, sources=None, low_pitch_below=57, low_pitch_repeats=2,
    latent_dim=64, g_channels=(128, 96, 64, 32, 16, 8), d_channels=(128, 96, 64, 32, 16, 8),
    pitch_bias=True, coord=True, projection=True, spectral_profile=True, harmonic_input=True, freq_branch=64,
    batch_size=16, g_lr=2e-3, d_lr=4e-3, beta1=0.5, loss="hinge", gp_weight=0.0, r1_weight=1.0, r1_every=4,
    drift_weight=0.0, aux_weight=3.0, aux_fake_in_d=False, mode_seeking_weight=0.3, mode_seeking_ceiling=0.3,
    periodicity_weight=10.0, ema_decay=0.99, steps=20_000, mixed_precision=True,
    log_every=10, sample_every=500, checkpoint_every=100, keep_checkpoints=3, sample_pitches=(48, 60, 72),
)

PRESETS: dict[str, GANSynthPreset] = {"paper": PAPER, "tiny": TINY}

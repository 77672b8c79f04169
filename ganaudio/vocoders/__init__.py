"""Vocoders turn spectrograms back into waveforms.

One protocol: a vocoder is called as ``vocoder(spec, representation, length=None)``
with ``spec`` of shape ``(..., channels, freq, frames)`` in the representation's
(unnormalised) units and returns a waveform ``(..., time)``. :class:`GANVocoder` (HiFi-GAN or Vocos
generators, a bundled 16 kHz model by default) inverts log-mel spectrograms.
"""

from ganaudio.vocoders.gan import DEFAULT_VOCODER, GANVocoder, bundled_vocoders, load_vocoder
from ganaudio.vocoders.spectral import (
    VOCODERS,
    GriffinLimVocoder,
    PhaseGriffinLimVocoder,
    PhaseVocoder,
    Vocoder,
    make_vocoder,
)

__all__ = ["DEFAULT_VOCODER", "VOCODERS", "GANVocoder", "GriffinLimVocoder", "PhaseGriffinLimVocoder", "PhaseVocoder", "Vocoder", "bundled_vocoders", "load_vocoder", "make_vocoder"]

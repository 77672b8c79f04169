"""Vocoders turn spectrograms back into waveforms.

One protocol: a vocoder is called as ``vocoder(spec, representation, length=None)``
with ``spec`` of shape ``(..., channels, freq, frames)`` in the representation's
(unnormalised) units and returns a waveform ``(..., time)``.
"""

from ganaudio.vocoders.spectral import (
    VOCODERS,
    GriffinLimVocoder,
    PhaseGriffinLimVocoder,
    PhaseVocoder,
    Vocoder,
    make_vocoder,
)

__all__ = ["Vocoder", "GriffinLimVocoder", "PhaseVocoder", "PhaseGriffinLimVocoder", "VOCODERS", "make_vocoder"]

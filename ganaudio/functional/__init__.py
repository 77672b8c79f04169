"""Pure tensor functions: spectral transforms and piano-roll conversion."""

from ganaudio.functional.spectral import (
    griffinlim,
    if_to_phase,
    instantaneous_frequency,
    istft,
    log_magnitude,
    mel_filterbank,
    mel_inverse_matrix,
    n_frames,
    snr_db,
    spectral_convergence,
    stft,
)

__all__ = [
    "stft",
    "istft",
    "log_magnitude",
    "mel_filterbank",
    "mel_inverse_matrix",
    "instantaneous_frequency",
    "if_to_phase",
    "griffinlim",
    "spectral_convergence",
    "snr_db",
    "n_frames",
]

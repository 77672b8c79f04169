"""Pure tensor functions: spectral transforms and piano-roll conversion."""

from ganaudio.functional.pianoroll import RollMeta, count_notes, load_midi, midi_to_roll, roll_to_midi
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
    "midi_to_roll",
    "roll_to_midi",
    "RollMeta",
    "count_notes",
    "load_midi",
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

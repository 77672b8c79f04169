"""Evaluation: pitch accuracy and entropy, NDB, transcription agreement and MuseGAN's piano-roll metrics."""

from ganaudio.eval.ndb import NDBResult, log_mel_features, ndb
from ganaudio.eval.pitch import PitchReport, note_pitch, pitch_accuracy, pitch_entropy, track_pitch
from ganaudio.eval.rolls import (
    drum_pattern_rate,
    empty_bar_rate,
    metrics_table,
    pitch_classes_per_bar,
    polyphony_rate,
    qualified_note_rate,
    roll_metrics,
    tonal_distance,
)
from ganaudio.eval.rolls import pitch_range as roll_pitch_range
from ganaudio.eval.transcription import Note, midi_notes, note_agreement, transcribe

__all__ = [
    "NDBResult",
    "Note",
    "PitchReport",
    "drum_pattern_rate",
    "empty_bar_rate",
    "log_mel_features",
    "metrics_table",
    "midi_notes",
    "ndb",
    "note_agreement",
    "note_pitch",
    "pitch_accuracy",
    "pitch_classes_per_bar",
    "pitch_entropy",
    "polyphony_rate",
    "qualified_note_rate",
    "roll_metrics",
    "roll_pitch_range",
    "tonal_distance",
    "track_pitch",
    "transcribe",
]

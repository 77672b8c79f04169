"""Evaluation: GANSynth's notes metrics beside real data (evaluator network, Frechet distance, Inception
Score, pitch accuracy and entropy, NDB), transcription agreement, timbre-transfer metrics and MuseGAN's
piano-roll metrics."""

from ganaudio.eval.discriminator import discriminator_pitch_accuracy, load_discriminator
from ganaudio.eval.evaluator import Evaluator, EvaluatorOutput, NoteEvaluator, load_evaluator
from ganaudio.eval.frechet import (
    frechet_distance,
    frechet_distance_from_stats,
    gaussian_stats,
    inception_score,
    sqrtm_psd,
)
from ganaudio.eval.ndb import NDBResult, log_mel_features, ndb
from ganaudio.eval.notes import NoteBatch, generate_note_batch, load_note_batch, notes_report, split_halves
from ganaudio.eval.pitch import PitchReport, note_pitch, pitch_accuracy, pitch_entropy, track_pitch
from ganaudio.eval.report import notes_markdown, save_notes_report
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
from ganaudio.eval.timbre import instrument_prediction, log_mel_distance, pitch_agreement
from ganaudio.eval.transcription import Note, midi_notes, note_agreement, transcribe

__all__ = [
    "Evaluator",
    "EvaluatorOutput",
    "NDBResult",
    "Note",
    "NoteBatch",
    "NoteEvaluator",
    "PitchReport",
    "discriminator_pitch_accuracy",
    "drum_pattern_rate",
    "empty_bar_rate",
    "frechet_distance",
    "frechet_distance_from_stats",
    "gaussian_stats",
    "generate_note_batch",
    "inception_score",
    "instrument_prediction",
    "load_discriminator",
    "load_evaluator",
    "load_note_batch",
    "log_mel_distance",
    "log_mel_features",
    "metrics_table",
    "midi_notes",
    "ndb",
    "note_agreement",
    "note_pitch",
    "notes_markdown",
    "notes_report",
    "pitch_accuracy",
    "pitch_agreement",
    "pitch_classes_per_bar",
    "pitch_entropy",
    "polyphony_rate",
    "qualified_note_rate",
    "roll_metrics",
    "roll_pitch_range",
    "save_notes_report",
    "split_halves",
    "sqrtm_psd",
    "tonal_distance",
    "track_pitch",
    "transcribe",
]

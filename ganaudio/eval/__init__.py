"""Evaluation: pitch accuracy and entropy, NDB, transcription agreement; the evaluator network, Frechet distance, piano-roll and transfer metrics follow."""

from ganaudio.eval.ndb import NDBResult, log_mel_features, ndb
from ganaudio.eval.pitch import PitchReport, note_pitch, pitch_accuracy, pitch_entropy, track_pitch
from ganaudio.eval.transcription import Note, midi_notes, note_agreement, transcribe

__all__ = [
    "Note",
    "transcribe",
    "midi_notes",
    "note_agreement",
    "ndb",
    "NDBResult",
    "log_mel_features","track_pitch", "note_pitch", "pitch_accuracy", "pitch_entropy", "PitchReport"]

"""Evaluation: pitch accuracy and entropy now; NDB, Frechet distance, piano-roll and transfer metrics follow."""

from ganaudio.eval.pitch import PitchReport, note_pitch, pitch_accuracy, pitch_entropy, track_pitch

__all__ = ["track_pitch", "note_pitch", "pitch_accuracy", "pitch_entropy", "PitchReport"]

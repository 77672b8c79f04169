"""Data set builders and readers.

Notes rendered from SoundFonts (:func:`render_notes`), NSynth-layout readers
(:func:`load_note_examples`), audio segment corpora (:func:`prepare_audio`) and
one-timbre MIDI renders (:func:`render_midi`). Everything learns from recorded
instruments; nothing is downloaded at run time.
"""

from ganaudio.data.cache import NoteCache, build_note_cache
from ganaudio.data.chorales import SATB, bach_chorale_paths, chorale_to_midi, export_bach_chorales
from ganaudio.data.datasets import NoteDataset, SegmentDataset
from ganaudio.data.midi import prepare_midi
from ganaudio.data.notes import SPLITS, assign_splits, note_str, render_notes
from ganaudio.data.nsynth import NoteExample, NoteSet, load_note_examples
from ganaudio.data.phrases import PhraseDataset
from ganaudio.data.screen import SkipReport, read_checked_audio
from ganaudio.data.segments import AUDIO_EXTENSIONS, MIDI_EXTENSIONS, midi_events, prepare_audio, render_midi
from ganaudio.data.soundfont import (
    ACOUSTIC_PROGRAMS,
    NSYNTH_FAMILIES,
    NSYNTH_SOURCES,
    PITCHED_PROGRAMS,
    SoundFontSynth,
    gm_instrument,
)

__all__ = [
    "NoteCache",
    "NoteDataset",
    "PhraseDataset",
    "SATB",
    "SegmentDataset",
    "SkipReport",
    "bach_chorale_paths",
    "build_note_cache",
    "chorale_to_midi",
    "export_bach_chorales",
    "prepare_midi",
    "ACOUSTIC_PROGRAMS",
    "AUDIO_EXTENSIONS",
    "MIDI_EXTENSIONS",
    "NSYNTH_FAMILIES",
    "NSYNTH_SOURCES",
    "PITCHED_PROGRAMS",
    "SPLITS",
    "NoteExample",
    "NoteSet",
    "SoundFontSynth",
    "assign_splits",
    "gm_instrument",
    "load_note_examples",
    "midi_events",
    "note_str",
    "prepare_audio",
    "read_checked_audio",
    "render_midi",
    "render_notes",
]

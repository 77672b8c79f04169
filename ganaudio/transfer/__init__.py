"""Timbre transfer: spectrogram CycleGAN (:mod:`.cyclegan`) and note-level resynthesis (:mod:`.resynth`).

``load_cyclegan`` / ``CycleGANTransfer`` convert audio between the two domains
a CycleGAN was trained on; ``resynthesize`` transcribes audio to notes and
plays them with a GANSynth timbre (imported on first use).
"""

from ganaudio.transfer.cyclegan import CycleGANTransfer, find_cyclegan, load_cyclegan

__all__ = ["CycleGANTransfer", "find_cyclegan", "load_cyclegan", "resynthesize"]

_RESYNTH = ("resynthesize", "Resynthesis", "notes_to_midi", "resolve_timbre", "transcribe_long")


def __getattr__(name: str):
    if name in _RESYNTH:
        from ganaudio.transfer import resynth

        return getattr(resynth, name)
    raise AttributeError(f"module 'ganaudio.transfer' has no attribute {name!r}")

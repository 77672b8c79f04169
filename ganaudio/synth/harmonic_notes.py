"""A MIDI piece's notes on the harmonic-plus-noise instrument, generated as the mix reaches them.

:class:`HarmonicNotes` is a note source for :mod:`ganaudio.synth.render`:
each note is played by the instrument itself, the key held for its MIDI
duration and then released into the model's own tail, with its velocity as a
control. Notes are generated in onset order, a few at a time in one batch,
only when the mix reaches them, and dropped once they have ended, so memory
depends on how many notes sound at once, not on the piece's length.
"""

from __future__ import annotations

import numpy as np

from ganaudio.synth.render import _plan
from ganaudio.synth.schedule import NoteTable

__all__ = ["HarmonicNotes"]

BATCH_NOTES = 16           # notes generated together at most ...
BATCH_SAMPLES = 1 << 21    # ... and at most this many padded samples per batch (48 s at 44.1 kHz)


class HarmonicNotes:
    """Note source over ``synth`` (a :class:`~ganaudio.synth.harmonic.HarmonicSynth`).

    Parameters
    ----------
    notes : NoteTable
    latents : np.ndarray
        ``(n_notes, latent_dim)`` float32, each note's timbre.
    release : float
        Seconds each note sounds after its note-off (the model's release tail, faded at its end).
    """

    def __init__(self, synth, notes: NoteTable, latents: np.ndarray, *, release: float, progress: bool = False):
        self.synth, self.notes, self.latents = synth, notes, np.asarray(latents, np.float32)
        self.sample_rate, self.release = int(synth.sample_rate), float(release)
        self.start, self.held, self.rel, _ = _plan(self.sample_rate, notes, self.release)
        self.order = np.argsort(self.start, kind="stable")
        self.rank = np.empty_like(self.order)
        self.rank[self.order] = np.arange(len(self.order))
        self.cache: dict[int, np.ndarray] = {}
        self.made = np.zeros(len(notes), bool)
        self.bar = None
        if progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=len(notes), unit="note", desc="playing notes", leave=False)

    def _generate_from(self, i: int) -> None:
        """Generate note ``i`` and the next notes in onset order that fit one batch."""
        batch = [i]
        longest = int(self.held[i]) + self.rel
        for j in self.order[self.rank[i] + 1:]:
            if len(batch) >= BATCH_NOTES:
                break
            if self.made[j]:
                continue
            length = max(longest, int(self.held[j]) + self.rel)
            if length * (len(batch) + 1) > BATCH_SAMPLES:
                break
            batch.append(int(j))
            longest = length
        rows = np.array(batch)
        audio = self.synth._notes(self.notes.pitch[rows].astype(float), self.latents[rows],
                                  self.notes.velocity[rows].astype(float), self.held[rows] / self.sample_rate,
                                  self.release)
        for k, j in enumerate(batch):
            n = int(self.held[j]) + self.rel
            note = audio[k, :n]
            self.cache[j] = note if len(note) == n else np.pad(note, (0, n - len(note)))
            self.made[j] = True
        if self.bar is not None:
            self.bar.update(len(batch))
            if self.made.all():
                self.bar.close()

    def segment(self, i: int, first: int, stop: int) -> np.ndarray:
        if i not in self.cache:
            self._generate_from(i)
        return self.cache[i][first:stop]

    def done(self, i: int) -> None:
        self.cache.pop(i, None)

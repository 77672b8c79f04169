"""Play a MIDI piece with any note model: the ``render`` and ``render_to`` methods both synths share.

:class:`PiecePlayer` is a mixin. A note model that inherits it supplies
``_note_source(notes, latents, *, attack, release, progress)``, which returns
a note source for :mod:`ganaudio.synth.render` (the GANSynth's looped
samples, the harmonic instrument's notes generated as they are reached), and
``default_release`` (seconds a note sounds after its note-off when
``release`` is not given). Everything else, reading the MIDI, choosing each
note's timbre, mixing, levelling, limiting and writing files, is shared.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence

import numpy as np

from ganaudio.errors import ParameterError
from ganaudio.synth.render import mix_notes, write_render
from ganaudio.synth.schedule import make_schedule, read_notes
from ganaudio.synth.timbre import Timbre

__all__ = ["PiecePlayer"]

log = logging.getLogger(__name__)


class PiecePlayer:
    """``render`` / ``render_to`` for a note model with ``pitch_range``, ``sample_rate`` and timbres."""

    default_release: float = 0.1

    def render(self, midi, *, timbres: Timbre | Sequence[Timbre] | Mapping[int, Timbre] | None = None,
               schedule=None, seconds_per_timbre: float = 6.0, times: Sequence[float] | None = None,
               method: str = "slerp", stems: bool = False, attack: float = 0.005, release: float | None = None,
               gain: float | None = None, progress: bool = False):
        """Play a MIDI piece: mono float32 ``(time,)``, or ``(mix, {track name: (time,)})`` with ``stems``.

        Parameters
        ----------
        midi : path or pretty_midi.PrettyMIDI
        timbres : Timbre, sequence of Timbres, or mapping program -> Timbre, optional
        schedule : {"constant", "program", "drift"} or a schedule object, optional
            None picks by ``timbres``: one -> constant, several -> drift, a
            mapping -> per program (unmapped programs get ``random_timbre(program)``).
        seconds_per_timbre, times, method
            Drift only: anchors every ``seconds_per_timbre`` seconds, or at
            ``times``; "slerp" or "lerp" between them.
        attack : float
            Seconds of the raised-cosine attack (GANSynth; the harmonic
            instrument plays its own attack).
        release : float, optional
            Seconds a note sounds after its note-off [default ``default_release``:
            0.1 s for GANSynth, the model's own release tail for the harmonic instrument].
        gain : float, optional
            Master gain; None levels the mix automatically. A limiter keeps every
            sample within +-0.98 either way.
        progress : bool
            Show tqdm bars.

        Returns
        -------
        np.ndarray of ``ceil((last note-off + release) * sample_rate)`` samples
        (plus a dict of per-track stems of the same length when ``stems``).

        Raises
        ------
        MidiFileError
            Unreadable, empty or drum-only MIDI. Drum tracks are skipped with a
            warning; out-of-range pitches are moved by octaves with a warning.

        Examples
        --------
        >>> mix = synth.render("samples/bach_chorale.mid", timbres=synth.random_timbre(5))
        >>> mix, parts = synth.render("song.mid", timbres={0: synth.random_timbre(1)}, stems=True)
        """
        source = self._piece(midi, timbres=timbres, schedule=schedule, attack=attack, release=release,
                             seconds_per_timbre=seconds_per_timbre, times=times, method=method, progress=progress)
        return mix_notes(source, gain=gain, stems=stems)

    def render_to(self, midi, output: str | os.PathLike, *, stems_dir: str | os.PathLike | None = None,
                  png: str | os.PathLike | None = None, timbres=None, schedule=None, seconds_per_timbre: float = 6.0,
                  times: Sequence[float] | None = None, method: str = "slerp", attack: float = 0.005,
                  release: float | None = None, gain: float | None = None, progress: bool = False, outputs=None
                  ) -> tuple[int, list]:
        """:meth:`render` straight into audio files, block by block: memory does not grow with the piece.

        Writes the mix to ``output`` (.wav, .flac, .ogg), one ``<track>.wav`` per
        MIDI track into ``stems_dir`` and the mix's spectrogram to ``png`` when
        given; all atomically (a failure leaves none of them half-written). The
        samples equal :meth:`render`'s; ``outputs`` (an :class:`~ganaudio.outputs.OutputSet`)
        makes them part of a larger transaction. Returns ``(samples written, [stem paths])``.

        Examples
        --------
        >>> synth.render_to("three_hours.mid", "three_hours.wav", stems_dir="stems/")    # doctest: +SKIP
        """
        source = self._piece(midi, timbres=timbres, schedule=schedule, attack=attack, release=release,
                             seconds_per_timbre=seconds_per_timbre, times=times, method=method, progress=progress)
        return write_render(source, output, stems_dir=stems_dir, png=png, gain=gain, progress=progress,
                            outputs=outputs)

    def _piece(self, midi, *, timbres, schedule, attack, release, seconds_per_timbre, times, method, progress):
        """The note source of ``midi``: its notes with each note's timbre latent."""
        release = self.default_release if release is None else release
        for name, value in (("attack", attack), ("release", release)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ParameterError(f"{name} must be seconds >= 0, got {value!r}")
        notes = read_notes(midi, pitch_range=self.pitch_range)
        if isinstance(timbres, Mapping):
            timbres = {p: self.check_timbre(t) for p, t in timbres.items()}
            missing = sorted(set(notes.program.tolist()) - set(timbres))
            timbres.update({p: self.random_timbre(p) for p in missing})
        elif isinstance(timbres, Timbre):
            self.check_timbre(timbres)
        elif timbres is not None:
            timbres = [self.check_timbre(t) for t in timbres]
        plan = make_schedule(timbres, schedule, default=self.random_timbre(0), seconds_per_timbre=seconds_per_timbre,
                             times=times, method=method)
        latents = np.asarray(plan.latents(notes), dtype=np.float32)
        return self._note_source(notes, latents, attack=float(attack), release=float(release), progress=progress)

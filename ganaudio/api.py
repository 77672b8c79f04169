"""What a musician or a DAW script calls: load a trained GANSynth and play notes, timbres and MIDI pieces.

>>> import ganaudio
>>> synth = ganaudio.load()                       # the bundled model (ganaudio/assets/gansynth_tiny)
>>> violin_ish = synth.random_timbre(7)
>>> y = synth.generate(60, violin_ish, velocity=90, duration=2.0)     # float32 (time,) at synth.sample_rate
>>> song = synth.render("samples/bach_prelude.mid", timbres=[synth.random_timbre(s) for s in (1, 2, 3)],
...                     seconds_per_timbre=6)
>>> ganaudio.save_audio("prelude.wav", song, synth.sample_rate)

Numpy in and out. A :class:`Synth` holds only read-only state (the generator
in eval mode and its settings), so one synth per thread is safe, and nothing
is global: seeds make their own ``torch.Generator``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

import ganaudio.loading as loading
from ganaudio.errors import CheckpointError, ParameterError
from ganaudio.loading import ASSETS, bundled_models
from ganaudio.synth import dsp
from ganaudio.synth.generator import load_gansynth
from ganaudio.synth.piece import PiecePlayer
from ganaudio.synth.render import SampledNotes
from ganaudio.synth.timbre import Timbre, TimbreBank, model_id

__all__ = ["ASSETS", "BUNDLED_MODEL", "Synth", "Timbre", "bundled_models", "load", "model_path"]

log = logging.getLogger(__name__)

BUNDLED_MODEL = "gansynth_tiny"
DECODE_METHODS = ("phase", "phase-griffinlim")


def model_path(name_or_path: str | os.PathLike | None = None) -> Path:
    """The folder ``load`` reads: a bundled model's name, a model or checkpoint folder, or a run folder's newest
    checkpoint; None is the bundled default."""
    return loading.resolve_model_folder(name_or_path, what="GANSynth model", default=BUNDLED_MODEL, family="gansynth")


def load(name_or_path: str | os.PathLike | None = None, device: str | torch.device | None = None, *,
         decode: str = "phase-griffinlim", n_iter: int = 8, batch_size: int = 64) -> Synth:
    """Load a trained note model: a GANSynth as a :class:`Synth`, a harmonic-plus-noise instrument (family
    ``ddspgan``) as a :class:`~ganaudio.synth.harmonic.HarmonicSynth`. Both generate notes, timbres and MIDI
    pieces with the same methods.

    Parameters
    ----------
    name_or_path : str or path-like, optional
        None: the bundled model; a name: ``ganaudio/assets/<name>/``; a path:
        any checkpoint folder (``run/checkpoints/step_N``).
    device : str or torch.device, optional
        Where the generator runs (default cpu).
    decode, n_iter, batch_size
        See :class:`Synth`.

    Raises
    ------
    CheckpointError
        If the folder is missing or is not a GANSynth checkpoint.

    Examples
    --------
    >>> synth = load()                                   # bundled
    >>> synth = load("runs/tiny/checkpoints/step_00020000", device="cuda")
    """
    path = model_path(name_or_path)
    try:
        dev = torch.device(device or "cpu")
    except RuntimeError:
        raise ParameterError(f"device {device!r} is not a torch device (try cpu or cuda)") from None
    family = loading.model_family(path)
    if family == "ddspgan":
        from ganaudio.synth.harmonic import load_ddspgan

        return load_ddspgan(path, device=dev)
    if family not in (None, "gansynth"):
        raise CheckpointError(f"{path} holds a {family!r} model, not a note model (gansynth or ddspgan); "
                                      f"load it with ganaudio.load_model")
    generator, rep, normalizer, config = load_gansynth(path, device=dev)
    return Synth(generator, rep, normalizer, n_frames=int(config.get("n_frames", generator.image_shape[1])),
                 name=path.name, decode=decode, n_iter=n_iter, batch_size=batch_size)


class Synth(PiecePlayer, TimbreBank):
    """A GANSynth generator with its representation, playing notes and MIDI as numpy audio.

    Parameters
    ----------
    generator : ganaudio.models.gansynth.Generator
    representation : IFMel (or another phase representation)
        Decodes the generator's images; gives ``sample_rate``.
    normalizer : Normalizer
        Maps the generator's [-1, 1] images back to the representation's units.
    n_frames : int
        Frames per generated note (``note_length = samples_for(n_frames) / sample_rate``).
    name : str
        Shown in timbre files and messages.
    decode : {"phase-griffinlim", "phase"}
        "phase-griffinlim" (default): Griffin-Lim started from the generated
        IF's phase, ``n_iter`` iterations (8). "phase": the one-step inverse,
        1.5x faster per render, but about 3x the spectral convergence on real
        notes (0.33 against 0.105 through the tiny model's IF-Mel; see
        benchmarks/render.py).
    batch_size : int
        Notes per generator call.
    sustain : (float, float)
        Region of a generated note (fractions of its length) looped to hold notes longer than the model's.

    Attributes
    ----------
    sample_rate : int
        Hz, the model's.
    pitch_range : (int, int)
        Lowest and highest MIDI pitch, inclusive.
    latent_dim : int
    note_length : float
        Seconds of one generated note.
    model_id : str
        Hash of the generator's weights; timbre files carry it.
    """

    def __init__(self, generator, representation, normalizer, *, n_frames: int, name: str = "model",
                 decode: str = "phase-griffinlim", n_iter: int = 8, batch_size: int = 64,
                 sustain: tuple[float, float] = (0.3, 0.65)):
        if decode not in DECODE_METHODS:
            raise ParameterError(f"decode must be one of {DECODE_METHODS}, got {decode!r}")
        if batch_size < 1 or n_iter < 0:
            raise ParameterError(f"need batch_size >= 1 and n_iter >= 0, got {batch_size}, {n_iter}")
        self.generator = generator.eval()
        self.representation, self.normalizer = representation, normalizer
        self.n_frames, self.name = int(n_frames), name
        self.decode, self.n_iter, self.batch_size, self.sustain = decode, int(n_iter), int(batch_size), sustain
        self.device = next(generator.parameters()).device
        self.sample_rate = int(representation.sample_rate)
        self.pitch_range = (int(generator.lowest_pitch), int(generator.lowest_pitch + generator.n_pitches - 1))
        self.latent_dim = int(generator.latent_dim)
        self.note_samples = int(representation.samples_for(self.n_frames))
        self.note_length = self.note_samples / self.sample_rate
        self.model_id = model_id(generator)

    def __repr__(self) -> str:
        return (f"Synth({self.name!r}, {self.sample_rate} Hz, MIDI {self.pitch_range[0]}-{self.pitch_range[1]}, "
                f"{self.note_length:.2f} s notes, latent {self.latent_dim}, {self.device})")

    # ----------------------------------------------------------------- notes
    def _check_pitches(self, pitches) -> np.ndarray:
        p = np.asarray(pitches)
        if p.ndim != 1 or not np.issubdtype(p.dtype, np.integer):
            raise ParameterError(f"pitches must be whole MIDI numbers, got {pitches!r}")
        low, high = self.pitch_range
        bad = p[(p < low) | (p > high)]
        if bad.size:
            raise ParameterError(f"pitch {int(bad[0])} is outside this model's MIDI {low}-{high}")
        return p.astype(np.int64)

    @torch.inference_mode()
    def raw_notes(self, latents: np.ndarray, pitches: np.ndarray, *, progress: bool = False,
                  desc: str = "generating notes") -> tuple[np.ndarray, np.ndarray]:
        """Generate each distinct (pitch, latent) pair once: ``(unique waves (m, note_samples), index (n,))``.

        ``waves[index]`` is the note for every input row; identical rows share one generation.
        """
        from tqdm.auto import tqdm

        latents = np.ascontiguousarray(latents, dtype=np.float32)
        keys = np.concatenate([latents, np.asarray(pitches, np.float32)[:, None]], axis=1)
        unique, index = np.unique(keys, axis=0, return_inverse=True)
        waves = np.empty((len(unique), self.note_samples), np.float32)
        starts = range(0, len(unique), self.batch_size)
        for start in tqdm(starts, desc=desc, unit="batch", disable=not progress or len(starts) < 2, leave=False):
            chunk = unique[start:start + self.batch_size]
            z = torch.from_numpy(chunk[:, :-1]).to(self.device)
            pitch = self.generator.pitch_index(chunk[:, -1].astype(np.int64).tolist()).to(self.device)
            spec = self.normalizer.denormalize(self.generator(z, pitch).float())
            wave = self.representation.decode(spec, length=self.note_samples, method=self.decode, n_iter=self.n_iter)
            waves[start:start + len(chunk)] = wave.cpu().numpy()
        return waves, index.reshape(-1)

    def generate_many(self, pitches: Sequence[int], timbres: Timbre | Sequence[Timbre] | None = None,
                      velocities: int | Sequence[int] = 100, durations: float | Sequence[float] | None = None, *,
                      release: float = 0.1) -> np.ndarray:
        """Many notes at once (batched, identical ones generated once): float32 ``(n, time)``.

        Parameters
        ----------
        pitches : sequence of int, length n
            MIDI pitches inside ``pitch_range``.
        timbres : Timbre or sequence of n Timbres, optional
            None plays ``random_timbre(0)``.
        velocities : int or sequence of int
            1-127; sets the gain ``(velocity / 127) ** 2``.
        durations : float or sequence of float, optional
            Seconds each note is held before a ``release``-second fade; None
            gives each note as generated (``note_length`` seconds). Notes
            longer than the model's are extended by looping a sustained region.
            Rows are zero-padded to the longest note.

        Examples
        --------
        >>> synth.generate_many([48, 55, 60], synth.random_timbre(4), durations=[1.0, 1.0, 2.5]).shape
        (3, 41600)
        """
        p = self._check_pitches(list(pitches) if not isinstance(pitches, np.ndarray) else pitches)
        n = len(p)
        if n == 0:
            raise ParameterError("generate_many needs at least one pitch")
        if timbres is None or isinstance(timbres, Timbre):
            latent = self.check_timbre(timbres or self.random_timbre(0)).latent
            latents = np.broadcast_to(latent, (n, self.latent_dim))
        else:
            timbres = list(timbres)
            if len(timbres) != n:
                raise ParameterError(f"got {len(timbres)} timbres for {n} pitches")
            latents = np.stack([self.check_timbre(t).latent for t in timbres])
        gain = dsp.velocity_gain(np.broadcast_to(np.asarray(velocities), (n,)))
        waves, index = self.raw_notes(latents, p)
        if durations is None:
            return dsp.limit_rows(waves[index] * gain[:, None].astype(np.float32))
        d = np.broadcast_to(np.asarray(durations, dtype=np.float64), (n,))
        if not np.all(np.isfinite(d)) or np.any(d <= 0) or release < 0:
            raise ParameterError(f"durations must be positive seconds and release >= 0, got {durations!r}, {release!r}")
        held = np.round(d * self.sample_rate).astype(int)
        rel = round(release * self.sample_rate)
        out = np.zeros((n, int(held.max()) + rel), np.float32)
        for i in range(n):
            note = self._shaped(waves[index[i]], int(p[i]), held[i], rel, attack=0)
            out[i, :len(note)] = note * gain[i]
        return dsp.limit_rows(out)

    def _shaped(self, raw: np.ndarray, pitch: int, held: int, release: int, *, attack: int) -> np.ndarray:
        period = self.sample_rate / dsp.midi_to_hz(pitch)
        long = dsp.extend_note(raw, held + release, period=period, sustain=self.sustain)
        return dsp.shape_note(long, held=held, attack=attack, release=release)

    def _shaped_segment(self, raw: np.ndarray, pitch: int, held: int, release: int, *, attack: int, first: int,
                        stop: int) -> np.ndarray:
        """Samples ``first:stop`` of ``_shaped(raw, pitch, held, release, attack=attack)``, computed alone."""
        period = self.sample_rate / dsp.midi_to_hz(pitch)
        long = dsp.extend_note_segment(raw, held + release, first, stop, period=period, sustain=self.sustain)
        return dsp.shape_segment(long, first, held=held, attack=attack, release=release)

    def generate(self, pitch: int, timbre: Timbre | None = None, velocity: int = 100,
                 duration: float | None = None, *, release: float = 0.1) -> np.ndarray:
        """One note: float32 ``(time,)`` at ``sample_rate``.

        ``duration`` None gives the note as generated (``note_length``
        seconds); otherwise it is held ``duration`` seconds and released over
        ``release`` seconds (``duration + release`` in all). See :meth:`generate_many`.

        Examples
        --------
        >>> y = synth.generate(60, synth.random_timbre(1), velocity=100, duration=2.0)
        >>> y.dtype, y.shape[0] == round(2.1 * synth.sample_rate)
        (dtype('float32'), True)
        """
        if isinstance(pitch, bool) or not isinstance(pitch, (int, np.integer)):
            raise ParameterError(f"pitch must be a whole MIDI number, got {pitch!r}")
        return self.generate_many([int(pitch)], timbre, velocity, None if duration is None else [duration],
                                  release=release)[0]

    # ----------------------------------------------------------------- MIDI (render, render_to: PiecePlayer)
    def _note_source(self, notes, latents: np.ndarray, *, attack: float, release: float, progress: bool):
        """The notes' distinct generated waves as a :class:`~ganaudio.synth.render.SampledNotes` source."""
        waves, index = self.raw_notes(latents, notes.pitch, progress=progress)
        log.info("%s: %d notes, %d generated after removing repeats", notes.label, len(notes), len(waves))
        return SampledNotes(self, notes, waves, index, attack=attack, release=release)

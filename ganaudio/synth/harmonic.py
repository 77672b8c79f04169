"""Play a harmonic-plus-noise GAN instrument: notes of any length at its own rate, timbre from a recording.

:class:`HarmonicSynth` is the ``ddspgan`` family's object (``load_model``
returns it). Notes are generated as they are played: the key is held for the
asked duration, then the gate closes and the model plays its own release, so
nothing is looped. Velocity is a control input: it changes the timbre, not
only the level. :meth:`HarmonicSynth.timbre_from_audio` turns a recorded note
into a timbre that plays at every pitch.

Shapes: notes are float32 ``(time,)`` or ``(n, time)`` at ``sample_rate``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch

from ganaudio.errors import ParameterError
from ganaudio.io import check_sample_rate, check_waveform, resample
from ganaudio.limits import MAX_NOTE_SECONDS
from ganaudio.loading import build_from_config, load_weights, open_model
from ganaudio.models.ddspgan import HIGHEST_PITCH, LOWEST_PITCH, HarmonicInstrument
from ganaudio.synth.note_check import check_single_note
from ganaudio.synth.piece import PiecePlayer
from ganaudio.synth.timbre import Timbre, TimbreBank, model_id

__all__ = ["HarmonicSynth", "load_ddspgan"]

MIN_RECORDING_SECONDS = 0.1
DEFAULT_HOLD = 1.0  # seconds a note is held when no duration is given
FADE_SECONDS = 0.02  # the last moment of a release tail fades out, so a cut tail never clicks


class HarmonicSynth(PiecePlayer, TimbreBank):
    """A :class:`HarmonicInstrument` playing notes, with timbres as latent vectors of its encoder's space.

    Parameters
    ----------
    instrument : HarmonicInstrument
    name : str
        Shown in timbre files and messages.
    release : float
        Default seconds of release tail after the key goes up.

    Attributes
    ----------
    sample_rate : int
    pitch_range : (int, int)
        MIDI 21-108.
    latent_dim : int
    model_id : str
    """

    def __init__(self, instrument: HarmonicInstrument, *, name: str = "model", release: float = 1.0):
        self.instrument = instrument.eval()
        self.name, self.release = name, float(release)
        self.default_release = self.release
        self.sample_rate, self.hop = int(instrument.sample_rate), int(instrument.hop)
        self.pitch_range = (LOWEST_PITCH, HIGHEST_PITCH)
        self.latent_dim = int(instrument.z_dim)
        self.model_id = model_id(instrument.decoder)
        self.device = next(instrument.parameters()).device

    def __repr__(self) -> str:
        return (f"HarmonicSynth({self.name!r}, {self.sample_rate} Hz, MIDI {self.pitch_range[0]}-"
                f"{self.pitch_range[1]}, notes of any length, latent {self.latent_dim})")

    # ----------------------------------------------------------------- notes
    def _latents(self, timbres, n: int) -> np.ndarray:
        if timbres is None or isinstance(timbres, Timbre):
            latent = self.check_timbre(timbres or self.random_timbre(0)).latent
            return np.broadcast_to(latent, (n, self.latent_dim))
        timbres = list(timbres)
        if len(timbres) != n:
            raise ParameterError(f"got {len(timbres)} timbres for {n} pitches")
        return np.stack([self.check_timbre(t).latent for t in timbres])

    def _check(self, pitches, velocities, durations, release: float | None):
        p = np.asarray(pitches, dtype=np.float64)
        if p.ndim != 1 or p.size == 0:
            raise ParameterError(f"pitches must be a non-empty sequence of MIDI numbers, got {pitches!r}")
        low, high = self.pitch_range
        bad = p[(p < low) | (p > high) | ~np.isfinite(p)]
        if bad.size:
            raise ParameterError(f"pitch {bad[0]:g} is outside this model's MIDI {low}-{high}")
        v = np.broadcast_to(np.asarray(velocities, dtype=np.float64), p.shape)
        if np.any((v < 1) | (v > 127)):
            raise ParameterError(f"velocities must be 1-127, got {velocities!r}")
        d = np.broadcast_to(np.asarray(DEFAULT_HOLD if durations is None else durations, dtype=np.float64), p.shape)
        release = self.release if release is None else float(release)
        if not np.all(np.isfinite(d)) or np.any(d <= 0) or not 0 <= release <= 10:
            raise ParameterError(f"durations must be positive seconds and release 0-10 s, got {durations!r}, "
                                 f"{release!r}")
        if d.max() + release > MAX_NOTE_SECONDS:
            raise ParameterError(f"a note of {d.max() + release:g} s is longer than the limit of "
                                 f"{MAX_NOTE_SECONDS:g} s; render long notes through a MIDI file instead")
        return p, v, d, release

    @torch.inference_mode()
    def generate_many(self, pitches: Sequence[float], timbres: Timbre | Sequence[Timbre] | None = None,
                      velocities: int | Sequence[int] = 100, durations: float | Sequence[float] | None = None, *,
                      release: float | None = None) -> np.ndarray:
        """Notes held ``durations`` seconds (None: 1 s) then released (``release`` s of the model's own tail):
        ``(n, time)``.

        Rows are zero-padded to the longest note.

        Examples
        --------
        >>> synth.generate_many([21, 60, 108], synth.random_timbre(4), durations=[0.5, 2.0, 1.0]).shape
        (3, 132300)
        """
        p, v, d, release = self._check(pitches, velocities, durations, release)
        return self._notes(p, self._latents(timbres, len(p)), v, d, release)

    @torch.inference_mode()
    def _notes(self, p: np.ndarray, latents: np.ndarray, v: np.ndarray, d: np.ndarray, release: float) -> np.ndarray:
        """Checked pitches, latents ``(n, latent_dim)``, velocities, held seconds -> notes ``(n, time)``."""
        latents = torch.tensor(np.asarray(latents, np.float32))
        held = np.ceil(d * self.sample_rate / self.hop).astype(int)
        frames = int(held.max()) + int(np.ceil(release * self.sample_rate / self.hop))
        t = torch.arange(frames)
        gate = (t[None, :] < torch.from_numpy(held)[:, None]).float()
        shape = (len(p), frames)
        pitch = torch.tensor(p, dtype=torch.float32)[:, None].expand(shape)
        velocity = torch.tensor(v / 127, dtype=torch.float32)[:, None].expand(shape)
        audio, _ = self.instrument(latents.to(self.device), pitch.to(self.device), velocity.to(self.device),
                                   gate.to(self.device))
        audio = audio.cpu().numpy()
        lengths = np.round((d + release) * self.sample_rate).astype(int)
        fade = min(int(FADE_SECONDS * self.sample_rate), int(lengths.min()))
        out = np.zeros((len(p), int(lengths.max())), np.float32)
        for i, n in enumerate(lengths):
            note = audio[i, :n].copy()
            if release > 0 and fade:
                note[n - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
            out[i, :n] = note
        return out

    def generate(self, pitch: float, timbre: Timbre | None = None, velocity: int = 100, duration: float | None = None, *,
                 release: float | None = None) -> np.ndarray:
        """One note ``(time,)``: held ``duration`` s, then ``release`` s of its own release tail.

        Examples
        --------
        >>> y = synth.generate(60, synth.random_timbre(1), velocity=110, duration=8.0)
        """
        return self.generate_many([pitch], timbre, velocity, None if duration is None else [duration],
                                  release=release)[0]

    def _note_source(self, notes, latents: np.ndarray, *, attack: float, release: float, progress: bool):
        """A MIDI piece's notes (PiecePlayer), each played by the model, generated as the mix reaches them."""
        from ganaudio.synth.harmonic_notes import HarmonicNotes

        self._check(notes.pitch, notes.velocity, np.maximum(notes.offset - notes.onset, 1e-3), release)
        return HarmonicNotes(self, notes, latents, release=release, progress=progress)

    # ----------------------------------------------------------------- timbre from audio
    @torch.inference_mode()
    def timbre_from_audio(self, y: np.ndarray, sample_rate: int) -> Timbre:
        """The timbre of one recorded note (or one-shot sample), playable at every pitch.

        Parameters
        ----------
        y : np.ndarray
            ``(time,)`` or ``(channels, time)`` (mixed down), any rate (resampled).
        sample_rate : int

        Raises
        ------
        ParameterError
            For audio under 0.1 s, silence, or sound with no clear pitch (noise,
            a chord): the encoder was trained on single pitched notes.

        Examples
        --------
        >>> y, sr = ganaudio.load_audio("cello_c3.wav")
        >>> cello = synth.timbre_from_audio(y, sr)
        >>> synth.generate(72, cello, duration=2.0)            # the cello an octave and a half up
        """

        sample_rate = check_sample_rate(sample_rate)
        y = check_waveform(y)
        if y.ndim == 2:
            y = y.mean(axis=0)
        elif y.ndim != 1:
            raise ParameterError(f"audio must be (time,) or (channels, time), got {y.shape}")
        if len(y) < MIN_RECORDING_SECONDS * sample_rate:
            raise ParameterError(f"the recording is {len(y) / sample_rate:.3f} s long; a timbre needs at least "
                                 f"{MIN_RECORDING_SECONDS} s of one note")
        if sample_rate != self.sample_rate:
            y = resample(y, orig_sr=sample_rate, target_sr=self.sample_rate)
        y = check_single_note(y, sample_rate=self.sample_rate)
        mean, _ = self.instrument.encode(torch.from_numpy(np.ascontiguousarray(y))[None].to(self.device))
        return Timbre(mean[0].cpu().numpy(), model_id=self.model_id)


def load_ddspgan(name_or_path: str | os.PathLike | None = None, *, device: str | torch.device | None = None,
                 ema: bool = True) -> HarmonicSynth:
    """A harmonic-plus-noise GAN instrument as a :class:`HarmonicSynth`.

    ``name_or_path``: a bundled name, a model or checkpoint folder, or a run
    folder (its newest checkpoint). ``ema`` picks the EMA weights when the folder has them.

    Raises
    ------
    CheckpointError
        If the folder is missing, holds another family, or its weights do not fit its config.
    """
    folder = open_model(name_or_path, family="ddspgan", what="harmonic-plus-noise instrument")
    instrument = build_from_config(folder, lambda c: HarmonicInstrument.from_config(c["generator"]))
    load_weights(instrument, folder, keys=("generator_ema", "generator") if ema else ("generator",),
                 convert=lambda t: t.float())
    return HarmonicSynth(instrument.to(device or "cpu"), name=folder.path.name)

"""Compose multitrack MIDI with a trained MuseGAN: ``load_composer()`` then ``composer.compose(bars, seed)``.

A piece longer than the model's phrase is a chain of phrases that share the
time-independent latents (the shared one and each track's: the piece's
"style" in MuseGAN's terms) and draw new time-dependent ones for each phrase,
cut to the bars asked for. The same seed gives the same piece on the same
device and torch version.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np
import pretty_midi
import torch

from ganaudio.errors import CheckpointError, ParameterError
from ganaudio.loading import build_from_config, load_weights, open_model, resolve_model_folder

__all__ = ["BUNDLED_COMPOSERS", "Composer", "load_composer", "load_musegan", "roll_to_tracks_midi"]

log = logging.getLogger(__name__)

BUNDLED_COMPOSERS = ("musegan_chorales",)
_DEFAULT = "musegan_chorales"


def roll_to_tracks_midi(roll, *, names, programs, is_drum, steps_per_beat: int, pitch_offset: int,
                        qpm: float, velocity: int = 90) -> pretty_midi.PrettyMIDI:
    """MIDI of a binary roll ``(tracks, time, pitch)`` with one named instrument per track, silent ones included.

    Each run of sounding steps is a note (:func:`ganaudio.functional.pianoroll.roll_to_midi`);
    the file gets a constant tempo ``qpm`` and a 4/4 time signature.

    Examples
    --------
    >>> midi = roll_to_tracks_midi(torch.zeros(4, 64, 56), names=["S", "A", "T", "B"], programs=[52] * 4,
    ...                            is_drum=[False] * 4, steps_per_beat=4, pitch_offset=32, qpm=100)
    >>> [i.name for i in midi.instruments]
    ['S', 'A', 'T', 'B']
    """
    from ganaudio.functional.pianoroll import roll_to_midi

    arr = roll.detach().cpu().numpy() if isinstance(roll, torch.Tensor) else np.asarray(roll)
    if arr.ndim != 3 or arr.shape[0] != len(names):
        raise ParameterError(f"roll must have shape ({len(names)}, time, pitch), got {arr.shape}")
    midi = roll_to_midi(arr > 0, resolution=steps_per_beat, tempo=qpm, programs=programs, is_drum=is_drum,
                        pitch_offset=pitch_offset, velocity=velocity, threshold=0.5)
    sounding = iter(midi.instruments)
    tracks = []
    for i, name in enumerate(names):
        inst = next(sounding) if arr[i].any() else pretty_midi.Instrument(program=int(programs[i]),
                                                                          is_drum=bool(is_drum[i]))
        inst.name = str(name)
        tracks.append(inst)
    midi.instruments = tracks
    midi.time_signature_changes = [pretty_midi.TimeSignature(4, 4, 0.0)]
    return midi


class Composer:
    """A trained MuseGAN generator with its phrase layout (use :func:`load_composer`).

    Attributes
    ----------
    generator : ganaudio.models.musegan.Generator
    layout : dict
        Track ``names``, ``programs``, ``is_drum``; ``n_bars``, ``steps_per_bar``, ``steps_per_beat``,
        ``n_pitches``, ``pitch_offset``.
    threshold : float
        Cells whose probability exceeds it sound.
    qpm : float
        Default tempo of composed MIDI (quarter notes per minute).
    monophonic : list of bool
        Tracks decoded one pitch per step (``layout["monophonic"]``; all False if the config has none).
    path : Path
        The model folder.
    """

    def __init__(self, generator, config: dict, path: str | os.PathLike):
        self.generator, self.config, self.path = generator, config, Path(path)
        self.layout = dict(config["layout"])
        self.threshold, self.qpm = float(config.get("threshold", 0.5)), float(config.get("qpm", 100.0))
        self.monophonic = [bool(m) for m in self.layout.get("monophonic", [False] * generator.n_tracks)]

    @property
    def device(self) -> torch.device:
        return next(self.generator.parameters()).device

    def _latents(self, n: int, seed: int) -> torch.Tensor:
        from ganaudio.limits import reduce_seed

        return torch.randn(n, self.generator.latent_dim, generator=torch.Generator().manual_seed(reduce_seed(seed)))

    @torch.no_grad()
    def phrases(self, n: int, *, seed: int = 0, monophonic=None) -> torch.Tensor:
        """``n`` independent phrases: binary float ``(n, tracks, bars * steps_per_bar, pitch)`` on the CPU.

        ``monophonic`` overrides :attr:`monophonic` (False: plain thresholding in every track).
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ParameterError(f"n must be a positive integer, got {n!r}")
        z = self._latents(n, seed).to(self.device)
        mono = self.monophonic if monophonic is None else monophonic
        return self.generator.generate(z, threshold=self.threshold, monophonic=mono).cpu()

    @torch.no_grad()
    def roll(self, bars: int, *, seed: int = 0) -> torch.Tensor:
        """A piece of ``bars`` bars as a binary roll ``(tracks, bars * steps_per_bar, pitch)`` (see module notes)."""
        if isinstance(bars, bool) or not isinstance(bars, (int, np.integer)) or bars < 1:
            raise ParameterError(f"bars must be a positive integer, got {bars!r}")
        G = self.generator
        n = math.ceil(int(bars) / G.n_bars)
        z = self._latents(n, seed)
        d_s, d_t, d_i, _ = G.parts
        z[:, :d_s] = z[:1, :d_s]                                   # shared, time-independent
        z[:, d_s + d_t:d_s + d_t + d_i] = z[:1, d_s + d_t:d_s + d_t + d_i]  # each track's time-independent
        rolls = G.generate(z.to(self.device), threshold=self.threshold, monophonic=self.monophonic).cpu()
        piece = torch.cat(list(rolls), dim=1)
        return piece[:, :int(bars) * G.steps_per_bar]

    def compose(self, bars: int = 8, seed: int = 0, *, qpm: float | None = None) -> pretty_midi.PrettyMIDI:
        """A piece of ``bars`` bars as MIDI with one named track per voice (programs from the training data).

        Parameters
        ----------
        bars : int
            Length in 4/4 bars.
        seed : int
            Same seed, same piece.
        qpm : float, optional
            Tempo; default the model's (100 for the chorale model).

        Examples
        --------
        >>> midi = load_composer().compose(bars=8, seed=3)
        >>> [inst.name for inst in midi.instruments]
        ['Soprano', 'Alto', 'Tenor', 'Bass']
        >>> midi.write("chorale.mid")
        """
        qpm = self.qpm if qpm is None else float(qpm)
        if not (math.isfinite(qpm) and 10 <= qpm <= 400):
            raise ParameterError(f"qpm must lie in 10-400 quarter notes per minute, got {qpm!r}")
        lay = self.layout
        return roll_to_tracks_midi(self.roll(bars, seed=seed), names=lay["names"], programs=lay["programs"],
                                   is_drum=lay["is_drum"], steps_per_beat=lay["steps_per_beat"],
                                   pitch_offset=lay["pitch_offset"], qpm=qpm)


def load_musegan(name_or_path: str | os.PathLike | None = None, *, device: str | torch.device = "cpu",
                 ema: bool = True):
    """A trained MuseGAN generator: ``(generator, config)``, the generator in eval mode.

    ``name_or_path``: a bundled name (None: ``musegan_chorales``), a model or checkpoint folder, or a
    run folder (its newest checkpoint). ``ema`` picks the EMA weights when the folder has them.

    Raises
    ------
    CheckpointError
        If the folder is not a MuseGAN model or its weights do not fit its config.

    Examples
    --------
    >>> generator, config = load_musegan()
    >>> config["layout"]["names"]
    ['Soprano', 'Alto', 'Tenor', 'Bass']
    """
    from ganaudio.models.musegan import Generator

    folder = open_model(name_or_path, family="musegan", what="MuseGAN model", default=_DEFAULT)
    generator = build_from_config(folder, lambda c: Generator.from_config(c["generator"]))
    layout = build_from_config(folder, lambda c: c["layout"])
    try:
        n_names = len(layout["names"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{folder.path}/config.json lacks or garbles {exc}") from None
    if n_names != generator.n_tracks:
        raise CheckpointError(f"{folder.path}: layout names {n_names} tracks, generator has {generator.n_tracks}")
    load_weights(generator, folder, keys=("generator_ema", "generator") if ema else ("generator",))
    return generator.to(device).eval(), folder.config


def load_composer(name_or_path: str | os.PathLike | None = None, device: str | torch.device | None = None) -> Composer:
    """A :class:`Composer` from a bundled model name, a model folder or a training checkpoint.

    Parameters
    ----------
    name_or_path : str or path-like, optional
        ``"musegan_chorales"`` (the default, trained on the Bach chorales), a folder written by
        :func:`ganaudio.train.musegan.export_musegan`, or ``RUN/checkpoints/step_*``.
    device : str or torch.device, optional
        Default CPU.

    Raises
    ------
    CheckpointError
        If the model is missing, not a MuseGAN model, or its weights do not fit.

    Examples
    --------
    >>> composer = load_composer()
    >>> composer.compose(bars=8, seed=0).write("chorale.mid")
    """
    folder = resolve_model_folder(name_or_path, what="MuseGAN model", default=_DEFAULT, family="musegan")
    generator, config = load_musegan(folder, device=device or "cpu")
    return Composer(generator, config, folder)

"""Piano-roll representation: MIDI <-> multitrack roll tensors ``(tracks, time, pitch)``.

A thin parameter holder over :mod:`ganaudio.functional.pianoroll`; see there for
the time grid, the repeated-note rule and the meta format.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pretty_midi
import torch

from ganaudio.errors import ParameterError
from ganaudio.functional.pianoroll import (
    DRUM_MODES,
    GROUPINGS,
    OVERLAPS,
    PROGRAM_FAMILIES,
    RollMeta,
    _check_grid,
    midi_to_roll,
    roll_to_midi,
)

__all__ = ["PianoRoll"]


@dataclasses.dataclass(frozen=True)
class PianoRoll:
    """Multitrack piano roll with an exact inverse for grid-aligned MIDI.

    ``encode``: a MIDI path or ``pretty_midi.PrettyMIDI`` to ``(tracks, time, pitch)``
    float32, ``pitch = pitch_range[1] - pitch_range[0]``. ``decode``: ``(..., tracks,
    time, pitch)`` back to ``PrettyMIDI`` (a list per leading batch index).

    Parameters
    ----------
    resolution : int
        Steps per beat (quarter note), following the tempo map. Ignored when ``fs`` is set.
    fs : float, optional
        Frames per second instead of beats.
    pitch_range : (int, int)
        MIDI pitches ``[lo, hi)``; MuseGAN's 84 pitches from C1 are ``(24, 108)``.
    grouping : {"instrument", "program_family", "merged"}
    binary : bool
    drums : {"separate", "drop", "merge"}
    separate_repeats : bool
        One empty step before a repeated note of the same pitch so it decodes as its own note.
    overlap : {"sum", "max"}
    pedal_threshold : int or None
    pitch_bends : bool
    threshold : float
        ``decode`` turns steps above it into notes (0.5 suits a sigmoid generator).
    velocity : int
        ``decode`` velocity for binary rolls.

    Examples
    --------
    >>> rep = PianoRoll(resolution=24, pitch_range=(24, 108), grouping="instrument")
    >>> roll, meta = rep.encode("samples/bach_chorale.mid", return_meta=True)
    >>> roll.shape
    torch.Size([4, 864, 84])
    >>> midi = rep.decode(roll, meta)      # note for note, repeated notes one step shorter
    """

    resolution: int = 24
    fs: float | None = None
    pitch_range: tuple = (0, 128)
    grouping: str = "instrument"
    binary: bool = False
    drums: str = "separate"
    separate_repeats: bool = True
    overlap: str = "sum"
    pedal_threshold: int | None = 64
    pitch_bends: bool = True
    threshold: float = 0.0
    velocity: int = 100
    name: ClassVar[str] = "pianoroll"

    def __post_init__(self) -> None:
        object.__setattr__(self, "pitch_range", tuple(int(x) for x in self.pitch_range))
        _check_grid(self.resolution, self.fs)
        lo, hi = self.pitch_range if len(self.pitch_range) == 2 else (-1, -1)
        if not 0 <= lo < hi <= 128:
            raise ParameterError(f"pitch_range must be (lo, hi) with 0 <= lo < hi <= 128, got {self.pitch_range}")
        for field, value, allowed in (("grouping", self.grouping, GROUPINGS), ("drums", self.drums, DRUM_MODES),
                                      ("overlap", self.overlap, OVERLAPS)):
            if value not in allowed:
                raise ParameterError(f"{field} must be one of {allowed}, got {value!r}")
        if not 1 <= self.velocity <= 127:
            raise ParameterError(f"velocity must be 1-127, got {self.velocity!r}")

    # ------------------------------------------------------------------ helpers
    def config(self) -> dict:
        """JSON-able description: ``{"type": "pianoroll", **constructor arguments}``."""
        config = dataclasses.asdict(self)
        config["pitch_range"] = list(self.pitch_range)
        return {"type": self.name, **config}

    @classmethod
    def from_config(cls, config: dict) -> PianoRoll:
        """Inverse of :meth:`config`; unknown keys raise ParameterError naming them."""
        if not isinstance(config, dict):
            raise ParameterError(f"a PianoRoll config must be a dict, got {type(config).__name__}")
        params = dict(config)
        kind = params.pop("type", cls.name)
        if kind != cls.name:
            raise ParameterError(f"config is for {kind!r}, not {cls.name!r}")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(params) - fields)
        if unknown:
            raise ParameterError(f"pianoroll has no parameter(s) {unknown}; it takes {sorted(fields)}")
        return cls(**params)

    @property
    def n_pitches(self) -> int:
        return self.pitch_range[1] - self.pitch_range[0]

    def default_meta(self, n_tracks: int) -> RollMeta:
        """Meta for a roll without one (e.g. a generator's output): programs follow ``grouping``.

        "program_family" rolls get each family's first program (and drums last when
        ``drums="separate"``); other groupings get program 0.
        """
        programs, flags = [0] * n_tracks, [False] * n_tracks
        names = [f"Track {i}" for i in range(n_tracks)]
        if self.grouping in ("program_family", "merged"):
            n_pitched = 16 if self.grouping == "program_family" else 1
            if n_tracks != n_pitched + (self.drums == "separate"):
                raise ParameterError(f"a {self.grouping} roll with drums={self.drums!r} has "
                                     f"{n_pitched + (self.drums == 'separate')} tracks, got {n_tracks}")
            if self.grouping == "program_family":
                programs[:16], names[:16] = [8 * f for f in range(16)], list(PROGRAM_FAMILIES)
            if self.drums == "separate":
                flags[-1], names[-1] = True, "Drums"
        return RollMeta(names=names, programs=programs, is_drum=flags,
                        resolution=None if self.fs is not None else self.resolution, fs=self.fs,
                        pitch_offset=self.pitch_range[0], binary=self.binary)

    # -------------------------------------------------------------- interface
    def encode(self, midi, *, return_meta: bool = False):
        """Roll ``(tracks, time, pitch)`` of a MIDI path or PrettyMIDI; with ``return_meta``, ``(roll, meta)``."""
        roll, meta = midi_to_roll(
            midi, resolution=self.resolution, fs=self.fs, pitch_range=self.pitch_range, grouping=self.grouping,
            binary=self.binary, drums=self.drums, separate_repeats=self.separate_repeats, overlap=self.overlap,
            pedal_threshold=self.pedal_threshold, pitch_bends=self.pitch_bends,
        )
        return (roll, meta) if return_meta else roll

    def decode(self, roll: torch.Tensor, meta: RollMeta | dict | None = None) -> pretty_midi.PrettyMIDI:
        """MIDI from ``roll`` ``(..., tracks, time, pitch)``; without ``meta``, :meth:`default_meta` at 120 qpm."""
        if roll.shape[-1] != self.n_pitches:
            raise ParameterError(f"pianoroll expects {self.n_pitches} pitches (pitch_range {self.pitch_range}), "
                                 f"got a roll of shape {tuple(roll.shape)}")
        if meta is None:
            if roll.ndim < 2:
                raise ParameterError(f"roll must have shape (..., tracks, time, pitch), got {tuple(roll.shape)}")
            meta = self.default_meta(roll.shape[-3] if roll.ndim >= 3 else 1)
        return roll_to_midi(roll, meta, velocity=self.velocity, threshold=self.threshold)

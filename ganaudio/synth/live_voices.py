"""Voice pools for live play: where a sounding note's samples come from.

A pool fills the ``pending`` buffer of each sounding note (a :class:`LiveVoice`)
with at least as many samples as the next audio block needs. The engine
(:mod:`ganaudio.synth.live`) decides which notes sound; a pool only makes
their audio:

* :class:`HarmonicVoices` streams a harmonic-plus-noise instrument. Every
  sounding note is one row of a batch: one call of the control network and
  one call of the synthesizer per control frame serve all voices that need a
  frame (16 voices cost about twice one voice). A voice's state is carried
  between calls, so a live note equals the same note rendered whole.
* :class:`SampleVoices` plays notes generated ahead of time, for note models
  that cannot stream (GANSynth): every pitch of the range is rendered once when
  the pool is made, then read back with pitch bend as a playback rate and a
  release ramp when the key goes up.

Shapes: audio is float32 ``(samples,)`` at the pool's ``sample_rate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ganaudio.errors import ParameterError
from ganaudio.functional.harmonic import NOISE_PERIOD, SynthState, synth_harmonic_noise
from ganaudio.io import resample
from ganaudio.models.ddspgan import ControlGenerator, flush_denormals

__all__ = ["LiveVoice", "HarmonicVoices", "SampleVoices"]

NOISE_STRIDE = 1021
"""Noise frames between consecutive notes' starting points: simultaneous notes never share noise."""


@dataclass(eq=False)
class LiveVoice:
    """One sounding note: what the engine knows of it and what its pool carries.

    Attributes
    ----------
    key : int
        MIDI note number.
    velocity : float
        0-1 (MIDI velocity / 127).
    number : int
        How many notes started before this one (oldest first when stealing).
    delay : int
        Samples of silence before its first sample in the next block (its note-on's offset).
    held, sustained : bool
        The key is down; the key is up but the sustain pedal holds the note.
    frames : int
        Control frames (or samples, for sample voices) rendered so far.
    released_for : int
        Samples played since the gate closed.
    fade_left, fade_total : int
        A fading voice (stolen, or rung out) has ``fade_left >= 0`` samples left of a ``fade_total`` ramp.
    finished : bool
        Set by a pool whose note has run out (sample voices).
    tag : object
        The note-on event's tag (the engine records when each tagged note first sounds).
    pending : np.ndarray
        ``(n,)`` rendered samples not handed out yet.
    state : object
        The pool's per-voice state (a GeneratorState, a playback position...).
    """

    key: int
    velocity: float
    number: int
    delay: int = 0
    held: bool = True
    sustained: bool = False
    frames: int = 0
    released_for: int = 0
    fade_left: int = -1
    fade_total: int = 0
    quiet: int = 0
    finished: bool = False
    tag: object = None
    pending: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    state: object = None

    @property
    def gate(self) -> bool:
        """The note is held, by its key or the pedal."""
        return self.held or self.sustained

    @property
    def fading(self) -> bool:
        return self.fade_left >= 0


class HarmonicVoices:
    """Streams every voice of a harmonic-plus-noise :class:`ControlGenerator`, batched.

    The voices' states live in one batch of slots (GRU state and synthesizer
    state, one row per voice): a control frame gathers the rows of the voices
    that need it, runs the network and the synthesizer once on them, and
    writes their rows back. A note's frames start at its note-on, so with
    blocks shorter than a frame the voices spread their frames over the
    blocks. (Pulling every voice into one call per frame halved the CPU time
    at 128-sample blocks but doubled the xruns: one block then carries all
    the work.)

    Parameters
    ----------
    decoder : ControlGenerator
        In eval mode.
    release : float
        Seconds a released note may ring before the engine fades it out.
    pitch_range : (int, int)
        Notes the engine plays.
    slots : int
        Voices with room made in advance (sounding and fading notes); more
        grow the batch, an allocation in the audio thread.

    Examples
    --------
    >>> G = ControlGenerator(hidden=16, z_dim=4, n_harmonics=32, table_size=128).eval()
    >>> pool = HarmonicVoices(G)
    >>> voices = [LiveVoice(60, 0.8, 0), LiveVoice(64, 0.8, 1)]
    >>> for v in voices: pool.start(v)
    >>> pool.fill(voices, [300, 300], latent=np.zeros(4, np.float32), morph=0.0, bend=0.0)
    >>> [len(v.pending) for v in voices]
    [512, 512]
    """

    streams = True

    def __init__(self, decoder: ControlGenerator, *, release: float = 1.0, pitch_range: tuple[int, int] = (21, 108),
                 slots: int = 32):
        self.decoder = decoder.eval()
        self.sample_rate, self.hop = int(decoder.sample_rate), int(decoder.hop)
        self.release, self.pitch_range, self.latent_dim = float(release), pitch_range, int(decoder.z_dim)
        self._latent_key: bytes | None = None
        self._latent = torch.zeros(1, self.latent_dim)
        self._free: list[int] = []
        self._slots = 0
        self._grow(max(1, int(slots)))

    def _grow(self, slots: int) -> None:
        """Room for ``slots`` voices (a voice keeps its slot until the engine drops it)."""
        G, old = self.decoder, self._slots
        extra = slots - old

        def more(tensor: torch.Tensor | None, shape, dtype=torch.float32, dim=0) -> torch.Tensor:
            new = torch.zeros(shape, dtype=dtype)
            return new if tensor is None else torch.cat([tensor, new], dim=dim)

        first = old == 0
        self.hidden = more(None if first else self.hidden, (1, extra, G.gru.hidden_size), dim=1)
        self.phase = more(None if first else self.phase, (extra,), torch.float64)
        self.f0 = more(None if first else self.f0, (extra,))
        self.harmonics = more(None if first else self.harmonics, (extra, G.n_harmonics))
        self.noise_tail = more(None if first else self.noise_tail, (extra, self.hop))
        self.frame = more(None if first else self.frame, (extra,), torch.long)
        self._free += range(old, slots)
        self._slots = slots

    def start(self, voice: LiveVoice) -> None:
        """Give ``voice`` a slot, silent, reading the noise sequence where no recent note did."""
        if not self._free:
            self._grow(2 * self._slots)
        slot = self._free.pop(0)
        self.hidden[:, slot] = 0.0
        self.phase[slot] = 0.0
        self.harmonics[slot] = 0.0
        self.noise_tail[slot] = 0.0
        self.frame[slot] = (voice.number * NOISE_STRIDE) % (NOISE_PERIOD // self.hop)
        voice.state = slot

    def stop(self, voice: LiveVoice) -> None:
        """Free ``voice``'s slot (the engine dropped it)."""
        if voice.state is not None:
            self._free.append(int(voice.state))
            voice.state = None

    def _z(self, latent: np.ndarray) -> torch.Tensor:
        key = latent.tobytes()
        if key != self._latent_key:
            self._latent_key, self._latent = key, torch.from_numpy(np.array(latent, np.float32)).reshape(1, -1)
        return self._latent

    def fill(self, voices: list[LiveVoice], needs: list[int], *, latent: np.ndarray, morph: float,
             bend: float) -> None:
        """Render control frames until each ``voices[i]`` holds at least ``needs[i]`` pending samples.

        All voices short of samples get their next frame from one batched call
        (voices started this block included); ``latent`` ``(z_dim,)`` (the
        morphed timbre; ``morph`` is not used) and ``bend`` (semitones) apply
        to every frame rendered now.
        """
        frames = [max(0, -(-(need - len(v.pending)) // self.hop)) for v, need in zip(voices, needs)]
        z = self._z(latent)
        for step in range(max(frames, default=0)):
            self._frame([v for v, f in zip(voices, frames) if f > step], z, bend)

    @torch.inference_mode()
    def _frame(self, rows: list[LiveVoice], z: torch.Tensor, bend: float) -> None:
        """One control frame for every voice in ``rows``: one network call and one synthesis call."""
        batch = len(rows)
        index = torch.tensor([v.state for v in rows])
        controls = torch.tensor([[v.key + bend, v.velocity, 1.0 if v.gate or v.frames == 0 else 0.0, v.frames == 0]
                                 for v in rows], dtype=torch.float32)
        # a note released before its first frame still plays that frame held: an audible, click-free start
        pitch, velocity, gate, fresh = controls[:, :1], controls[:, 1:2], controls[:, 2:3], controls[:, 3] > 0
        G = self.decoder
        with flush_denormals():
            out, hidden = G.controls(z.expand(batch, -1), pitch, velocity, gate, self.hidden[:, index])
            f0 = out["f0"]
            # a note's first span keeps its first frame's pitch (as SynthState.start does)
            state = SynthState(self.phase[index], torch.where(fresh, f0[:, 0], self.f0[index]),
                               self.harmonics[index], self.noise_tail[index], self.frame[index])
            audio, state = synth_harmonic_noise(f0, out["harmonics"], out["noise"], hop=self.hop,
                                                sample_rate=G.sample_rate, table_size=G.table_size, state=state)
        self.hidden[:, index] = hidden
        self.phase[index], self.f0[index], self.harmonics[index] = state.phase, state.f0, state.harmonics
        self.noise_tail[index], self.frame[index] = state.noise_tail, state.frame
        audio = audio.numpy()
        for i, v in enumerate(rows):
            v.pending = np.concatenate([v.pending, audio[i]]) if len(v.pending) else audio[i]
            v.frames += 1


class SampleVoices:
    """Plays notes generated ahead: every pitch of ``synth``'s range, in one or two timbres.

    Parameters
    ----------
    synth : object
        A note model with ``generate_many(pitches, timbre, velocities, durations, release=)``,
        ``pitch_range`` and ``sample_rate`` (``api.Synth``, ``HarmonicSynth``).
    timbres : list of Timbre
        One, or two to morph between (the engine's morph control mixes their notes).
    sample_rate : int, optional
        Output rate; notes are resampled to it once (default the model's).
    hold : float
        Seconds each note is rendered held; a key held longer lets the note end.
    velocity : int
        The velocity notes are rendered at; other velocities scale the level by
        ``(velocity / rendered) ** 2`` (GANSynth's own velocity response is that gain).
    release : float
        Seconds of the release ramp after the key goes up.
    pitch_range : (int, int), optional
        Notes to generate (default the model's whole range; GANSynth makes about ten notes a second on 2 cores).
    """

    streams = False

    def __init__(self, synth, timbres, *, sample_rate: int | None = None, hold: float = 3.0, velocity: int = 100,
                 release: float = 0.1, pitch_range: tuple[int, int] | None = None):
        if not 1 <= len(timbres) <= 2:
            raise ParameterError(f"sample voices play one or two timbres, got {len(timbres)}")
        if not 0 < hold <= 30 or not 0 < release <= 10 or not 1 <= velocity <= 127:
            raise ParameterError(f"need 0 < hold <= 30 s, 0 < release <= 10 s and velocity 1-127, got {hold!r}, "
                                 f"{release!r}, {velocity!r}")
        low, high = synth.pitch_range
        if pitch_range is not None:
            if not low <= pitch_range[0] <= pitch_range[1] <= high:
                raise ParameterError(f"pitch_range {pitch_range} is not inside the model's MIDI {low}-{high}")
            low, high = pitch_range
        self.pitch_range, self.velocity, self.release = (int(low), int(high)), int(velocity), float(release)
        self.sample_rate = int(sample_rate or synth.sample_rate)
        self.latent_dim = int(synth.latent_dim)
        pitches = list(range(self.pitch_range[0], self.pitch_range[1] + 1))
        self.notes = []  # one (pitches, samples) float32 array per timbre
        for timbre in timbres:
            notes = np.asarray(synth.generate_many(pitches, timbre, velocities=self.velocity, durations=hold,
                                                   release=min(release, 0.05)), np.float32)
            if self.sample_rate != synth.sample_rate:
                notes = resample(notes, orig_sr=synth.sample_rate, target_sr=self.sample_rate).astype(np.float32)
            self.notes.append(notes)

    def start(self, voice: LiveVoice) -> None:
        voice.state = [0.0, None]  # playback position in samples, samples rendered when the gate closed

    def stop(self, voice: LiveVoice) -> None:
        """Nothing to free."""

    def fill(self, voices: list[LiveVoice], needs: list[int], *, latent: np.ndarray, morph: float,
             bend: float) -> None:
        """Read each voice's note at the bent rate until it holds ``needs[i]`` samples; release ramps included.

        ``morph`` (0-1) mixes the second timbre's notes into the first's; ``latent`` is not used.
        """
        rate = 2.0 ** (bend / 12.0)
        ramp = max(1, int(self.release * self.sample_rate))
        weights = (1.0 - morph, morph) if len(self.notes) == 2 else (1.0,)
        for voice, need in zip(voices, needs):
            missing = need - len(voice.pending)
            if missing <= 0:
                continue
            position, released = voice.state
            if released is None and not voice.gate:
                released = voice.frames
            reading = position + rate * np.arange(missing)
            out = np.zeros(missing, np.float32)
            for weight, notes in zip(weights, self.notes):
                if weight > 0:
                    note = notes[voice.key - self.pitch_range[0]]
                    out += weight * np.interp(reading, np.arange(len(note)), note, right=0.0).astype(np.float32)
            out *= (voice.velocity * 127 / self.velocity) ** 2
            if released is not None:  # a linear ramp down from the sample where the gate closed
                since = voice.frames - released + np.arange(missing)
                out *= np.clip(1.0 - since / ramp, 0.0, 1.0).astype(np.float32)
                voice.finished = since[-1] >= ramp
            voice.state = [position + rate * missing, released]
            voice.finished = voice.finished or voice.state[0] >= self.notes[0].shape[-1]
            voice.pending = np.concatenate([voice.pending, out])
            voice.frames += missing

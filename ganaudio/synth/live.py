"""Live play: a polyphonic engine that turns MIDI events into audio blocks of any size.

:class:`LiveEngine` does no audio or MIDI input/output itself: a front end
(``ganaudio play``, a plug-in host, a test) hands it events and asks it for
blocks. Events queued with :meth:`LiveEngine.send` (from a MIDI thread, say)
take effect at the start of the next block; events passed to
:meth:`LiveEngine.render` with a sample ``offset`` take effect there, so a
note-on starts sample-accurately inside the block.

What it plays:

* notes on and off with voice stealing: at ``max_voices`` sounding notes, a
  new note takes the voice of the oldest released note, else of the oldest
  note, which fades out over ``steal_fade`` seconds;
* the sustain pedal (controller 64), pitch bend (``bend_range`` semitones),
  and a morph between two timbres on a chosen controller (the mod wheel,
  controller 1, by default): the latent moves along the great circle (slerp);
* all notes off (controller 123) and all sound off (controller 120).

A harmonic-plus-noise instrument is streamed frame by frame
(:class:`~ganaudio.synth.live_voices.HarmonicVoices`): nothing is rendered
ahead, and release, bend and timbre changes take effect at the next control
frame (``hop`` samples, 5.8 ms at 44.1 kHz). Note models that cannot stream
play notes generated ahead (:class:`~ganaudio.synth.live_voices.SampleVoices`).

Shapes: blocks are float32 ``(n,)`` (mono) at ``engine.sample_rate``.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ganaudio.errors import ParameterError
from ganaudio.models.ddspgan import ControlGenerator
from ganaudio.synth.live_voices import HarmonicVoices, LiveVoice, SampleVoices
from ganaudio.synth.timbre import slerp

__all__ = ["LiveEvent", "LiveEngine", "event_from_midi"]

KINDS = ("note_on", "note_off", "control", "bend")
SUSTAIN_CC, ALL_SOUND_OFF_CC, ALL_NOTES_OFF_CC = 64, 120, 123
QUIET = 1e-4                 # -80 dBFS: a released voice this quiet for QUIET_SECONDS has ended
QUIET_SECONDS = 0.05
MAX_BLOCK = 8192


@dataclass(frozen=True)
class LiveEvent:
    """One performance event.

    Attributes
    ----------
    kind : str
        ``"note_on"``, ``"note_off"``, ``"control"`` or ``"bend"``.
    offset : int
        Sample of the block it takes effect at (0 for queued events).
    note : int
        MIDI note number, or the controller number of a ``"control"`` event.
    value : float
        Velocity 0-127 (note on; 0 means note off), controller value 0-127, or
        bend in -1..1 (full range).
    tag : object
        Any label for a note on; the engine records when a tagged note first sounds.

    Examples
    --------
    >>> LiveEvent("note_on", note=60, value=100)
    LiveEvent(kind='note_on', offset=0, note=60, value=100, tag=None)
    """

    kind: str
    offset: int = 0
    note: int = 0
    value: float = 0
    tag: object = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ParameterError(f"event kind must be one of {KINDS}, got {self.kind!r}")
        if not 0 <= self.note <= 127 or self.offset < 0:
            raise ParameterError(f"event note/controller must be 0-127 and offset >= 0, got {self.note}, {self.offset}")


def event_from_midi(message: Sequence[int], *, offset: int = 0, tag: object = None) -> LiveEvent | None:
    """A :class:`LiveEvent` from a raw MIDI message (status byte and data bytes), any channel.

    Returns None for messages the engine does not play (clock, aftertouch, program change...).

    Examples
    --------
    >>> event_from_midi([0x90, 60, 100]).kind, event_from_midi([0x90, 60, 0]).kind
    ('note_on', 'note_off')
    >>> event_from_midi([0xE0, 0, 0x40]).value
    0.0
    """
    if len(message) < 2:
        return None
    status = int(message[0]) & 0xF0
    data = [int(b) & 0x7F for b in message[1:3]]
    if status == 0x90 and len(data) == 2:
        kind = "note_on" if data[1] > 0 else "note_off"
        return LiveEvent(kind, offset=offset, note=data[0], value=data[1], tag=tag)
    if status == 0x80 and len(data) == 2:
        return LiveEvent("note_off", offset=offset, note=data[0], value=data[1])
    if status == 0xB0 and len(data) == 2:
        return LiveEvent("control", offset=offset, note=data[0], value=data[1])
    if status == 0xE0 and len(data) == 2:
        bend = ((data[1] << 7) | data[0]) - 8192
        return LiveEvent("bend", offset=offset, value=max(-1.0, bend / 8192))
    return None


class LiveEngine:
    """A polyphonic instrument: events in, mono audio blocks out.

    Parameters
    ----------
    pool : HarmonicVoices or SampleVoices
        Where the voices' samples come from (see :meth:`for_synth`).
    latents : sequence of np.ndarray
        One or two ``(latent_dim,)`` timbre latents; with two, the morph
        controller moves between them.
    max_voices : int
        Notes sounding at once (1-64); more steal voices.
    bend_range : float
        Semitones of a full pitch bend.
    morph_cc : int
        Controller that morphs from the first timbre (0) to the second (127).
    gain : float
        Output level of the mix; the block is clipped to [-1, 1] (``stats["clipped"]`` counts blocks).
    steal_fade : float
        Seconds over which a stolen voice fades out.
    release : float, optional
        Seconds a released note rings before it fades out (default: the pool's).
    onset_threshold : float
        An output level (after ``gain``); a tagged note's first sample at or above it is
        recorded in :attr:`onsets` (absolute sample index).

    Examples
    --------
    >>> engine = LiveEngine.for_synth(synth, synth.random_timbre(3), max_voices=16)
    >>> engine.send(LiveEvent("note_on", note=60, value=100))
    >>> block = engine.render(128)          # (128,) float32
    >>> block = engine.render(128, [LiveEvent("note_off", offset=40, note=60)])
    """

    def __init__(self, pool, *, latents: Sequence[np.ndarray], max_voices: int = 16, bend_range: float = 2.0,
                 morph_cc: int = 1, gain: float = 0.5, steal_fade: float = 0.005, release: float | None = None,
                 onset_threshold: float = 1e-3):
        if isinstance(max_voices, bool) or not isinstance(max_voices, int) or not 1 <= max_voices <= 64:
            raise ParameterError(f"max_voices must be a whole number within 1-64, got {max_voices!r}")
        if not 1 <= len(latents) <= 2:
            raise ParameterError(f"give one or two timbre latents, got {len(latents)}")
        if not 0 <= morph_cc <= 127 or morph_cc == SUSTAIN_CC:
            raise ParameterError(f"the morph controller must be 0-127 and not the sustain pedal (64), got {morph_cc}")
        if not (0 <= bend_range <= 24 and gain > 0 and 0 < steal_fade <= 1 and onset_threshold > 0):
            raise ParameterError("need bend_range 0-24 semitones, gain > 0, steal_fade within 0-1 s and "
                                 "onset_threshold > 0")
        self.pool, self.sample_rate = pool, int(pool.sample_rate)
        self.latents = [np.asarray(z, np.float32).reshape(-1) for z in latents]
        if any(z.shape != (pool.latent_dim,) for z in self.latents):
            raise ParameterError(f"timbre latents must be ({pool.latent_dim},), got {[z.shape for z in self.latents]}")
        self.max_voices, self.bend_range, self.morph_cc, self.gain = max_voices, float(bend_range), morph_cc, gain
        self.steal_samples = max(1, int(steal_fade * self.sample_rate))
        self.release_samples = int((pool.release if release is None else release) * self.sample_rate)
        self.quiet_samples = int(QUIET_SECONDS * self.sample_rate)
        self.onset_threshold = float(onset_threshold)
        self.voices: list[LiveVoice] = []
        self.onsets: dict[object, int] = {}
        self.stats = {"notes": 0, "stolen": 0, "ignored": 0, "clipped": 0}
        self.position = 0  # samples rendered so far
        self.bend, self.morph, self.pedal = 0.0, 0.0, False
        self._latent = self.latents[0]
        self._queue: collections.deque[LiveEvent] = collections.deque()
        self._count = 0

    @classmethod
    def for_synth(cls, synth, timbre, timbre2=None, *, sample_rate: int | None = None, **options) -> LiveEngine:
        """An engine for any note model: streamed if it is a harmonic-plus-noise instrument, else from samples.

        ``timbre`` and ``timbre2`` must be the model's (``synth.check_timbre``);
        ``sample_rate`` resamples generated-ahead notes (a streamed instrument
        plays at its own rate). ``options`` go to the constructor.
        """
        timbres = [synth.check_timbre(t) for t in (timbre, timbre2) if t is not None]
        decoder = getattr(getattr(synth, "instrument", None), "decoder", None)
        if isinstance(decoder, ControlGenerator):
            pool = HarmonicVoices(decoder, release=synth.release, pitch_range=tuple(synth.pitch_range),
                                  slots=2 * options.get("max_voices", 16))  # stolen voices fade beside new ones
        else:
            pool = SampleVoices(synth, timbres, sample_rate=sample_rate)
        return cls(pool, latents=[t.latent for t in timbres], **options)

    # ------------------------------------------------------------------ events
    def send(self, event: LiveEvent) -> None:
        """Queue an event for the start of the next block (safe to call from another thread)."""
        if not isinstance(event, LiveEvent):
            raise ParameterError(f"expected a LiveEvent, got {type(event).__name__}")
        self._queue.append(event)

    def _apply(self, event: LiveEvent, n: int) -> None:
        kind, key = event.kind, event.note
        offset = min(event.offset, n - 1)
        if kind == "note_on":
            self._note_on(key, float(event.value), offset, event.tag)
        elif kind == "note_off":
            self._key_up(key)
        elif kind == "bend":
            self.bend = float(np.clip(event.value, -1.0, 1.0)) * self.bend_range
        elif key == SUSTAIN_CC:
            self.pedal = event.value >= 64
            if not self.pedal:
                for voice in self.voices:
                    voice.sustained = False
        elif key == self.morph_cc:
            self.morph = float(np.clip(event.value / 127.0, 0.0, 1.0))
            if len(self.latents) == 2:
                self._latent = slerp(*self.latents, np.array([self.morph]))[0].astype(np.float32)
        elif key in (ALL_NOTES_OFF_CC, ALL_SOUND_OFF_CC):
            for voice in self.voices:
                voice.held = voice.sustained = False
                if key == ALL_SOUND_OFF_CC and not voice.fading:
                    voice.fade_left = voice.fade_total = self.steal_samples

    def _key_up(self, key: int) -> None:
        for voice in self.voices:
            if voice.key == key and voice.held:
                voice.held, voice.sustained = False, self.pedal

    def _note_on(self, key: int, velocity: float, offset: int, tag) -> None:
        low, high = self.pool.pitch_range
        if velocity <= 0:
            return self._key_up(key)
        if not low <= key <= high:
            self.stats["ignored"] += 1
            return None
        for voice in self.voices:  # the same key struck again: the old note goes into its release
            if voice.key == key and voice.gate:
                voice.held = voice.sustained = False
        sounding = [v for v in self.voices if not v.fading]
        if len(sounding) >= self.max_voices:
            released = [v for v in sounding if not v.gate]
            victim = min(released or sounding, key=lambda v: v.number)
            victim.fade_left = victim.fade_total = self.steal_samples
            self.stats["stolen"] += 1
        voice = LiveVoice(key=key, velocity=min(velocity, 127.0) / 127.0, number=self._count, delay=offset, tag=tag)
        self.pool.start(voice)
        self.voices.append(voice)
        self._count += 1
        self.stats["notes"] += 1
        return None

    # ------------------------------------------------------------------ audio
    def render(self, n: int, events: Iterable[LiveEvent] = ()) -> np.ndarray:
        """The next ``n`` samples ``(n,)`` float32: queued events at sample 0, ``events`` at their offsets.

        Note-ons start at their offset; other events take effect from the next
        control frame rendered.
        """
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_BLOCK:
            raise ParameterError(f"block size must be a whole number within 1-{MAX_BLOCK}, got {n!r}")
        queued = []
        while self._queue:
            queued.append(self._queue.popleft())
        for event in queued + sorted(events, key=lambda e: e.offset):
            self._apply(event, n)
        needs = [n - v.delay for v in self.voices]
        self.pool.fill(self.voices, needs, latent=self._latent, morph=self.morph, bend=self.bend)
        out = np.zeros(n, np.float32)
        for voice, need in zip(self.voices, needs):
            chunk, voice.pending = voice.pending[:need], voice.pending[need:]
            if voice.fading:
                left = voice.fade_left - np.arange(need)
                chunk = chunk * (np.clip(left, 0, None) / voice.fade_total).astype(np.float32)
                voice.fade_left = max(0, voice.fade_left - need)
            if voice.tag is not None and voice.tag not in self.onsets:
                loud = np.flatnonzero(np.abs(chunk) * self.gain >= self.onset_threshold)
                if loud.size:
                    self.onsets[voice.tag] = self.position + voice.delay + int(loud[0])
            out[voice.delay:] += chunk
            voice.delay = 0
            self._age(voice, chunk)
        ended = [v for v in self.voices if v.finished or v.fade_left == 0]
        for voice in ended:
            self.pool.stop(voice)
        if ended:
            self.voices = [v for v in self.voices if not (v.finished or v.fade_left == 0)]
        self.position += n
        out *= self.gain
        if np.abs(out).max(initial=0.0) > 1.0:
            self.stats["clipped"] += 1
            np.clip(out, -1.0, 1.0, out=out)
        return out

    def _age(self, voice: LiveVoice, chunk: np.ndarray) -> None:
        """Count a released voice's time and quiet; it ends when quiet, or fades out past the release time."""
        if voice.gate:
            return
        voice.released_for += len(chunk)
        voice.quiet = voice.quiet + len(chunk) if np.abs(chunk).max(initial=0.0) < QUIET else 0
        if voice.quiet >= self.quiet_samples:
            voice.finished = True
        elif voice.released_for >= self.release_samples and not voice.fading:
            voice.fade_left = voice.fade_total = self.steal_samples

    def all_notes_off(self) -> None:
        """Silence everything at once (the next block starts from silence)."""
        self._queue.clear()
        for voice in self.voices:
            self.pool.stop(voice)
        self.voices = []
        self.bend, self.pedal = 0.0, False

"""One timbre of a note model as a multisampled sampler instrument: SFZ (24-bit WAVs) or one SoundFont 2 file.

Works with any note model that ``ganaudio.load_model`` returns (a GANSynth
``Synth``, a ``HarmonicSynth``): it asks the model for notes, nothing else.

* Keys: a sample every ``step`` semitones across the model's range; each
  sample plays the keys nearest to it, and the lowest and highest samples
  stretch to MIDI 0 and 127.
* Velocity layers: one sample per rendered velocity (default 40, 80, 120),
  rendered by the model at that velocity, so the layers differ as the model's
  notes do (its velocity input changes the spectrum of a HarmonicSynth note,
  the gain of a GANSynth note); layer splits lie half-way between them, and
  the player adds no velocity scaling of its own.
* Loops: the held part of each note is measured; a note that fades by less
  than :data:`DECAY_LIMIT` dB/s is looped (``ganaudio.synth.loops``), a
  fading one plays through unlooped.
* Release: when the key goes up, the amplitude envelope fades the note over
  the model's own release time, measured on each sample (the time its release
  tail takes to fall 60 dB after the model's key-up); a looped note leaves its
  loop then and plays on into the rest of its sample, the model's release tail
  (SFZ ``loop_sustain``, SF2 ``sampleModes`` 3).

Samples are written at :data:`SAMPLE_RATE` (44.1 kHz; a 16 kHz model's notes
are resampled), scaled by one gain for the whole instrument so the loudest
peaks at -1 dBFS and the model's dynamics between notes are kept.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import ganaudio.synth.loops as loops
import ganaudio.synth.sf2 as sf2
from ganaudio.errors import ParameterError
from ganaudio.io import resample, save_audio
from ganaudio.outputs import atomic_folder, check_output, check_output_folder

__all__ = ["SamplerInstrument", "SamplerZone", "export_sf2", "export_sfz", "key_splits", "render_instrument",
           "sampler_pitches", "velocity_splits"]

SAMPLE_RATE = 44100
DEFAULT_VELOCITIES = (40, 80, 120)
DEFAULT_STEP = 3
DEFAULT_HOLD = 2.0
#: Notes whose held part fades faster than this (dB per second) are not looped.
DECAY_LIMIT = 6.0
PEAK = 10 ** (-1 / 20)  # -1 dBFS
TAIL_FLOOR_DB = 80.0  # a release tail is cut where it is this far below the note's level at key-up
FADE_SECONDS = 0.005
LOOP_WINDOW_SECONDS = 0.01  # waveform windows compared by the loop search, and the baked crossfade
PITCHES_PER_CALL = 8  # pitches rendered in one batched model call
MIN_RELEASE = 0.02  # seconds: the shortest envelope release, so that no note stops with a click


@dataclasses.dataclass
class SamplerZone:
    """One sample of the instrument and where it plays.

    ``audio`` float32 ``(time,)`` at :data:`SAMPLE_RATE`; ``loop`` ``(start, end)``
    in samples, end exclusive, or None; ``release`` seconds of the amplitude
    envelope's release; ``decay`` the held part's fade in dB/s; ``seam`` the
    loop's :func:`~ganaudio.synth.loops.seam_quality` plus its match before baking.
    """

    pitch: int
    velocity: int
    keys: tuple[int, int]
    velocities: tuple[int, int]
    audio: np.ndarray
    loop: tuple[int, int] | None
    release: float
    decay: float
    seam: dict | None = None

    @property
    def name(self) -> str:
        return f"p{self.pitch:03d}_v{self.velocity:03d}"


@dataclasses.dataclass
class SamplerInstrument:
    """The rendered zones of one timbre, with where they came from."""

    name: str
    model: str
    timbre: str
    zones: list[SamplerZone]
    gain: float
    seconds: float = 0.0

    def summary(self) -> dict:
        """Counts and loop figures for reports: zones, looped share, worst seam."""
        looped = [z for z in self.zones if z.loop is not None]
        seams = [z.seam for z in looped if z.seam]
        return {
            "name": self.name, "model": self.model, "timbre": self.timbre, "sample_rate": SAMPLE_RATE,
            "pitches": sorted({z.pitch for z in self.zones}), "velocities": sorted({z.velocity for z in self.zones}),
            "samples": len(self.zones), "looped": len(looped), "gain": self.gain,
            "sample_seconds": round(sum(len(z.audio) for z in self.zones) / SAMPLE_RATE, 3),
            "render_seconds": round(self.seconds, 2),
            "worst_seam_jump": max((s["jump"] for s in seams), default=None),
            "worst_loop_match": min((s["match"] for s in seams), default=None),
        }


def sampler_pitches(pitch_range: tuple[int, int], *, step: int = DEFAULT_STEP) -> list[int]:
    """A pitch every ``step`` semitones from the lowest of ``pitch_range``, the highest always included.

    Examples
    --------
    >>> sampler_pitches((36, 84), step=5)
    [36, 41, 46, 51, 56, 61, 66, 71, 76, 81, 84]
    """
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 1 <= step <= 24:
        raise ParameterError(f"step must be 1-24 semitones, got {step!r}")
    low, high = int(pitch_range[0]), int(pitch_range[1])
    out = list(range(low, high + 1, int(step)))
    return out if out[-1] == high else [*out, high]


def key_splits(pitches: Sequence[int]) -> list[tuple[int, int]]:
    """Inclusive key ranges: each of the sorted ``pitches`` plays the keys nearest to it, over MIDI 0-127.

    Examples
    --------
    >>> key_splits([48, 60, 72])
    [(0, 54), (55, 66), (67, 127)]
    """
    p = sorted(int(x) for x in pitches)
    lows = [0] + [(a + b) // 2 + 1 for a, b in zip(p, p[1:])]
    return list(zip(lows, [lo - 1 for lo in lows[1:]] + [127]))


def velocity_splits(velocities: Sequence[int]) -> list[tuple[int, int]]:
    """Inclusive velocity ranges over 1-127, split half-way between the sorted rendered ``velocities``.

    Examples
    --------
    >>> velocity_splits([40, 80, 120])
    [(1, 60), (61, 100), (101, 127)]
    """
    v = sorted(int(x) for x in velocities)
    lows = [1] + [(a + b) // 2 + 1 for a, b in zip(v, v[1:])]
    return list(zip(lows, [lo - 1 for lo in lows[1:]] + [127]))


def _check_choices(synth, pitches, velocities, hold: float) -> tuple[list[int], list[int]]:
    low, high = synth.pitch_range
    pitches = sorted({int(p) for p in pitches})
    velocities = sorted({int(v) for v in velocities})
    if not pitches or any(not low <= p <= high for p in pitches):
        raise ParameterError(f"pitches must lie in this model's MIDI {low}-{high}, got {pitches}")
    if not velocities or any(not 1 <= v <= 127 for v in velocities):
        raise ParameterError(f"velocities must be 1-127, got {velocities}")
    if not (isinstance(hold, (int, float)) and math.isfinite(hold) and 0.5 <= hold <= 30):
        raise ParameterError(f"hold must be 0.5-30 seconds, got {hold!r}")
    return pitches, velocities


def _render_notes(synth, timbre, pitches: list[int], velocities: list[int], hold: float):
    """Every velocity of each of ``pitches``, pitch by pitch: ``(notes (n, time) at the model's rate, key-up,
    (steady start, end))``.

    A model with notes of one generated length (``note_samples``, GANSynth)
    gives them as generated: its release begins after its sustained region
    (``sustain``, fractions of the note). Any other model holds the key
    ``hold`` seconds (whole control frames of ``hop`` samples when it has them)
    and then plays its own release.
    """
    p = [pitch for pitch in pitches for _ in velocities]
    v = velocities * len(pitches)
    if getattr(synth, "note_samples", None):
        notes = synth.generate_many(p, timbre, v)
        a, b = (int(f * notes.shape[1]) for f in getattr(synth, "sustain", (0.3, 0.65)))
        return notes, b, (a, b)
    hop = int(getattr(synth, "hop", 1))
    key_up = int(math.ceil(hold * synth.sample_rate / hop)) * hop
    notes = synth.generate_many(p, timbre, v, [key_up / synth.sample_rate] * len(p))
    return notes, key_up, (int(0.35 * key_up), key_up)


def _zone(y: np.ndarray, *, pitch: int, velocity: int, key_up: int, steady: tuple[int, int]) -> SamplerZone:
    """Measure, loop and trim one note ``y`` ``(time,)`` at :data:`SAMPLE_RATE`."""
    sr = SAMPLE_RATE
    decay = loops.decay_rate(y, sample_rate=sr, start=steady[0], stop=steady[1])
    t60 = loops.release_seconds(y, sample_rate=sr, key_up=key_up)
    tail = loops.release_seconds(y, sample_rate=sr, key_up=key_up, floor_db=TAIL_FLOOR_DB)
    end = min(len(y), key_up + int((tail + 0.02) * sr))
    loop = seam = None
    if decay < DECAY_LIMIT:
        try:
            found = loops.find_loop(y, sample_rate=sr, start=steady[0], stop=steady[1],
                                    window_seconds=LOOP_WINDOW_SECONDS)
        except ParameterError:  # a steady region too short for a loop: the note plays through
            found = None
        if found is not None:
            window = int(LOOP_WINDOW_SECONDS * sr)
            y = loops.bake_loop(y, found, crossfade=window)
            loop = (found.start, found.end)
            seam = {**loops.seam_quality(y, found, window=window), "match": found.correlation}
    y = np.array(y[:end], dtype=np.float32)
    fade = min(int(FADE_SECONDS * sr), len(y) - (loop[1] if loop else 0) - 8)
    if fade > 0:
        y[len(y) - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return SamplerZone(pitch, velocity, (0, 127), (1, 127), y, loop, float(max(t60, MIN_RELEASE)), float(decay), seam)


def render_instrument(synth, timbre, *, pitches: Sequence[int] | None = None, step: int = DEFAULT_STEP,
                      velocities: Sequence[int] = DEFAULT_VELOCITIES, hold: float = DEFAULT_HOLD,
                      name: str | None = None, progress: bool = False) -> SamplerInstrument:
    """Render, measure and loop every zone of ``timbre``'s sampler instrument (nothing is written).

    Parameters
    ----------
    synth : a note model (``Synth``, ``HarmonicSynth``)
    timbre : Timbre of that model
    pitches : sequence of int, optional
        MIDI pitches to sample; default :func:`sampler_pitches` of the model's range with ``step``.
    velocities : sequence of int
        One velocity layer each (1-127).
    hold : float
        Seconds the key is held for models that play notes of any length.
    name : str, optional
        The instrument's name (default ``<model>_<timbre seed>``).
    progress : bool
        A tqdm bar over the pitches.

    Examples
    --------
    >>> inst = render_instrument(synth, synth.random_timbre(3), pitches=[48, 60], velocities=[40, 120])
    >>> len(inst.zones), inst.zones[0].audio.dtype
    (4, dtype('float32'))
    """
    from tqdm.auto import tqdm

    timbre = synth.check_timbre(timbre)
    started = time.perf_counter()
    pitches = sampler_pitches(synth.pitch_range, step=step) if pitches is None else pitches
    pitches, velocities = _check_choices(synth, pitches, velocities, hold)
    ratio = SAMPLE_RATE / synth.sample_rate
    zones, splits = [], list(zip(pitches, key_splits(pitches)))
    with tqdm(total=len(pitches), desc="rendering samples", unit="pitch", disable=not progress, leave=False) as bar:
        for first in range(0, len(splits), PITCHES_PER_CALL):  # several pitches a call: batched, faster
            chunk = splits[first:first + PITCHES_PER_CALL]
            notes, key_up, steady = _render_notes(synth, timbre, [p for p, _ in chunk], velocities, hold)
            if synth.sample_rate != SAMPLE_RATE:
                notes = resample(notes, orig_sr=synth.sample_rate, target_sr=SAMPLE_RATE)
            key_up, steady = round(key_up * ratio), (round(steady[0] * ratio), round(steady[1] * ratio))
            rows = iter(notes)
            for pitch, keys in chunk:
                for velocity, vel_range in zip(velocities, velocity_splits(velocities)):
                    zone = _zone(next(rows), pitch=pitch, velocity=velocity, key_up=key_up, steady=steady)
                    zone.keys, zone.velocities = keys, vel_range
                    zones.append(zone)
                bar.update(1)
    peak = max(float(np.abs(z.audio).max()) for z in zones)
    gain = PEAK / peak if peak > 0 else 1.0
    for z in zones:
        z.audio = (z.audio * gain).astype(np.float32)
    origin = f"seed {timbre.seed}" if timbre.seed is not None else f"latent |z|={np.linalg.norm(timbre.latent):.3f}"
    label = name or f"{synth.name}_{timbre.seed if timbre.seed is not None else 'timbre'}"
    return SamplerInstrument(label, synth.name, origin, zones, float(gain), time.perf_counter() - started)


def sfz_text(instrument: SamplerInstrument, *, sample_dir: str = "samples") -> str:
    """The ``.sfz`` file of ``instrument``, its samples named ``<sample_dir>/<zone name>.wav``."""
    info = instrument.summary()
    lines = [f"// {instrument.name}: ganaudio sampler export of model {instrument.model}, timbre {instrument.timbre}",
             f"// {info['samples']} samples at {SAMPLE_RATE} Hz, 24-bit; {info['looped']} looped; "
             f"gain {instrument.gain:.4g}",
             "<control>",
             "// load every sample with the instrument instead of streaming it from disk (an ARIA opcode, sfizz "
             "honours it)",
             "hint_ram_based=1", f"default_path={sample_dir}/", "", "<global>",
             "// the samples carry the model's own velocity response: no velocity scaling on top",
             "amp_veltrack=0", ""]
    for lo, hi in sorted({z.velocities for z in instrument.zones}):
        lines += [f"<group> lovel={lo} hivel={hi}"]
        for z in (z for z in instrument.zones if z.velocities == (lo, hi)):
            region = (f"<region> sample={z.name}.wav lokey={z.keys[0]} hikey={z.keys[1]} pitch_keycenter={z.pitch} "
                      f"ampeg_release={z.release:.4f}")
            if z.loop is None:
                region += " loop_mode=no_loop"
            else:  # SFZ loop_end is the loop's last sample
                region += f" loop_mode=loop_sustain loop_start={z.loop[0]} loop_end={z.loop[1] - 1}"
            lines.append(region)
        lines.append("")
    return "\n".join(lines)


def _estimate_bytes(synth, pitches, velocities, hold: float, *, bytes_per_sample: int) -> int:
    seconds = getattr(synth, "note_length", None) or hold + 1.0
    return int(len(pitches) * len(velocities) * seconds * SAMPLE_RATE * bytes_per_sample)


def _plan(synth, pitches, step):
    return sampler_pitches(synth.pitch_range, step=step) if pitches is None else list(pitches)


def export_sfz(synth, timbre, out_dir: str | os.PathLike, *, pitches: Sequence[int] | None = None,
               step: int = DEFAULT_STEP, velocities: Sequence[int] = DEFAULT_VELOCITIES, hold: float = DEFAULT_HOLD,
               name: str | None = None, replace: bool = False, progress: bool = False) -> SamplerInstrument:
    """Write ``timbre`` as an SFZ instrument: ``out_dir/<name>.sfz``, ``samples/*.wav`` (44.1 kHz 24-bit), ``export.json``.

    The folder is built beside ``out_dir`` and renamed into place when
    complete; a failure leaves nothing. See :func:`render_instrument` for the
    arguments.

    Raises
    ------
    OutputError
        If ``out_dir`` exists and holds files (unless ``replace``), or cannot be written.

    Examples
    --------
    >>> export_sfz(synth, synth.random_timbre(7), "out/seven")          # doctest: +SKIP
    """
    pitches, velocities = _check_choices(synth, _plan(synth, pitches, step), velocities, hold)
    check_output_folder(out_dir, replace=replace,
                        estimated_bytes=_estimate_bytes(synth, pitches, velocities, hold, bytes_per_sample=3))
    instrument = render_instrument(synth, timbre, pitches=pitches, velocities=velocities, hold=hold, name=name,
                                   progress=progress)
    stem = _file_stem(instrument.name)
    with atomic_folder(out_dir, replace=replace) as tmp:
        for z in instrument.zones:
            save_audio(tmp / "samples" / f"{z.name}.wav", z.audio, SAMPLE_RATE, subtype="PCM_24")
        (tmp / f"{stem}.sfz").write_text(sfz_text(instrument))
        (tmp / "export.json").write_text(json.dumps(_report(instrument), indent=1) + "\n")
    return instrument


def export_sf2(synth, timbre, path: str | os.PathLike, *, pitches: Sequence[int] | None = None,
               step: int = DEFAULT_STEP, velocities: Sequence[int] = DEFAULT_VELOCITIES, hold: float = DEFAULT_HOLD,
               name: str | None = None, progress: bool = False) -> SamplerInstrument:
    """Write ``timbre`` as one SoundFont 2 file (24-bit samples), atomically.

    Every program of bank 0 plays the instrument, so a MIDI file plays it
    whatever its program changes (drums, bank 128, stay silent).

    See :func:`render_instrument` for the arguments.

    Raises
    ------
    OutputError
        If ``path`` cannot be written (nothing is left there then).

    Examples
    --------
    >>> export_sf2(synth, synth.random_timbre(7), "out/seven.sf2")      # doctest: +SKIP
    """
    path = Path(path)
    if path.suffix.lower() != ".sf2":
        raise ParameterError(f"a SoundFont file name must end in .sf2, got {str(path)!r}")
    pitches, velocities = _check_choices(synth, _plan(synth, pitches, step), velocities, hold)
    check_output(path, estimated_bytes=_estimate_bytes(synth, pitches, velocities, hold, bytes_per_sample=3))
    instrument = render_instrument(synth, timbre, pitches=pitches, velocities=velocities, hold=hold, name=name,
                                   progress=progress)
    samples = [sf2.SF2Sample(z.name, z.audio, SAMPLE_RATE, z.pitch, loop=z.loop) for z in instrument.zones]
    zones = [sf2.SF2Zone(i, keys=z.keys, velocities=z.velocities, release=z.release,
                         mode=sf2.NO_LOOP if z.loop is None else sf2.LOOP_UNTIL_RELEASE)
             for i, z in enumerate(instrument.zones)]
    comment = f"ganaudio sampler export of model {instrument.model}, timbre {instrument.timbre}"
    sf2.write_sf2(path, instrument.name, samples, zones, comment=comment, programs=range(128))
    return instrument


def _file_stem(name: str) -> str:
    """``name`` made safe as a file name."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("._")
    return safe or "instrument"


def _report(instrument: SamplerInstrument) -> dict:
    zones = [{"sample": f"samples/{z.name}.wav", "pitch": z.pitch, "velocity": z.velocity, "keys": list(z.keys),
              "velocities": list(z.velocities), "loop": list(z.loop) if z.loop else None,
              "release": round(z.release, 4), "decay_db_per_s": round(z.decay, 3),
              "seam": {k: round(v, 4) for k, v in z.seam.items()} if z.seam else None} for z in instrument.zones]
    return {"format": "ganaudio-sampler-export", **instrument.summary(), "zones": zones}

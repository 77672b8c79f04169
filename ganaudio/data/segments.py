"""Audio corpora for unpaired models: fixed-length segments and one-timbre MIDI renders.

:func:`prepare_audio` cuts a folder of recordings into equal-length WAV
segments at one sample rate with the silences taken out. :func:`render_midi`
renders MIDI pieces through a SoundFont with every melodic track forced onto
one GM program, so the same melodies exist in as many timbres as programs
rendered (CycleGAN-style timbre transfer data).

Both write atomically, skip work already on disk when rerun, and skip (and
report) unreadable inputs instead of stopping.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import numpy as np

from ganaudio.data.soundfont import RENDER_RATE, SoundFontSynth, check_program
from ganaudio.errors import AudioFileError, DataError, MidiFileError, ParameterError
from ganaudio.io import atomic_path, check_sample_rate, load_audio, resample, save_audio

__all__ = ["AUDIO_EXTENSIONS", "MIDI_EXTENSIONS", "audio_files", "midi_events", "prepare_audio", "render_midi"]

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff", ".au", ".opus")
MIDI_EXTENSIONS = (".mid", ".midi")
_SAVE_EVERY_S = 30.0


def audio_files(data: str | os.PathLike, *, what: str = "audio folder") -> list[Path]:
    """The audio files a trainer reads: ``data`` itself, or every audio file under it, sorted.

    Raises
    ------
    DataError
        If ``data`` is missing (named as ``what``) or holds no audio file.

    Examples
    --------
    >>> audio_files("samples", what="vocoder data")[:1]   # doctest: +SKIP
    [PosixPath('samples/flute_phrase.wav')]
    """
    root = Path(data)
    if not root.exists():
        raise DataError(f"{what} {str(root)!r} does not exist")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*")
                                                  if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())
    if not files:
        raise DataError(f"{root} holds no audio files (looked for {', '.join(AUDIO_EXTENSIONS)})")
    return files


def _find(src: Path, extensions: tuple[str, ...], out_dir: Path, what: str) -> list[Path]:
    if not src.exists():
        raise DataError(f"{what} source {str(src)!r} does not exist")
    if src.is_file():
        return [src]
    out = out_dir.resolve()
    files = sorted(p for p in src.rglob("*") if p.suffix.lower() in extensions and p.is_file()
                   and out not in p.resolve().parents)
    if not files:
        raise DataError(f"{src} holds no {what} files (looked for {', '.join(extensions)})")
    return files


def _flat_name(path: Path, src: Path) -> str:
    """``a/b/piece.wav`` under ``src`` -> ``a__b__piece`` (unique, flat)."""
    rel = path.relative_to(src) if src.is_dir() else Path(path.name)
    return "__".join(rel.with_suffix("").parts)


def _read_manifest(path: Path, settings: dict) -> dict:
    if not path.is_file():
        return {"settings": settings, "sources": {}, "failed": {}}
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the manifest of an earlier run ({exc}); delete it") from None
    if manifest.get("settings") != settings:
        raise DataError(f"{path.parent} was prepared with other settings ({manifest.get('settings')}); "
                        f"use a new folder or delete it")
    manifest["failed"] = {}  # retried
    return manifest


def _write_json(path: Path, data) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))


def _short(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__


def prepare_audio(
    src: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    sample_rate: int = 16000,
    segment_seconds: float = 2.0,
    hop_seconds: float | None = None,
    top_db: float = 40.0,
    min_rms: float = 1e-3,
    progress: bool = True,
) -> dict:
    """Cut every audio file under ``src`` into fixed-length mono WAV segments.

    Each file is loaded mono at ``sample_rate``; stretches quieter than
    ``top_db`` below its peak (``librosa.effects.split``) are removed and the
    rest joined; segments of ``segment_seconds`` are cut every ``hop_seconds``;
    the remainder shorter than a segment and segments with RMS below
    ``min_rms`` are dropped.

    Parameters
    ----------
    src : path-like
        A folder (searched recursively for :data:`AUDIO_EXTENSIONS`) or one file.
    out_dir : path-like
        Gets ``audio/<source path with / as __>-<k:04d>.wav`` (16-bit PCM) and
        ``segments.json`` (settings, segments per source, failures).
    sample_rate : int
        Output rate in Hz.
    segment_seconds, hop_seconds : float
        Segment length and step; ``hop_seconds=None`` means no overlap.
    top_db : float
        Silence threshold in dB below each file's peak.
    min_rms : float
        Drop segments quieter than this RMS (linear; 1e-3 = -60 dBFS).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    dict
        ``files``, ``processed``, ``existing`` (done by an earlier run),
        ``failed`` (path -> reason), ``segments`` (total in out_dir),
        ``seconds_kept``, ``seconds_trimmed``, ``quiet_segments``, ``out_dir``.

    Raises
    ------
    DataError
        If ``src`` is missing or holds no audio, or ``out_dir`` was prepared
        with other settings.

    Examples
    --------
    >>> summary = prepare_audio("recordings/cello", "data/cello_2s", segment_seconds=2.0)
    >>> summary["segments"]  # doctest: +SKIP
    412
    """
    import librosa
    from tqdm.auto import tqdm

    sample_rate = check_sample_rate(sample_rate)
    hop_seconds = segment_seconds if hop_seconds is None else hop_seconds
    if not (np.isfinite(segment_seconds) and segment_seconds > 0 and np.isfinite(hop_seconds) and hop_seconds > 0):
        raise ParameterError(f"segment_seconds and hop_seconds must be positive, got {segment_seconds!r}, "
                             f"{hop_seconds!r}")
    if not top_db > 0 or not min_rms >= 0:
        raise ParameterError(f"top_db must be > 0 and min_rms >= 0, got {top_db!r}, {min_rms!r}")
    src, out_dir = Path(src), Path(out_dir)
    files = _find(src, AUDIO_EXTENSIONS, out_dir, "audio")
    seg = round(segment_seconds * sample_rate)
    hop = round(hop_seconds * sample_rate)
    settings = {"sample_rate": sample_rate, "segment_seconds": float(segment_seconds),
                "hop_seconds": float(hop_seconds), "top_db": float(top_db), "min_rms": float(min_rms)}
    audio_dir = out_dir / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / "segments.json"
    manifest = _read_manifest(manifest_path, settings)
    sources, failed = manifest["sources"], manifest["failed"]
    counts = {"processed": 0, "existing": 0, "seconds_kept": 0.0, "seconds_trimmed": 0.0, "quiet_segments": 0}
    last_save = time.perf_counter()
    try:
        for path in tqdm(files, unit="file", disable=not progress, desc="segmenting"):
            key = str(path.relative_to(src)) if src.is_dir() else path.name
            known = sources.get(key)
            if known is not None and all((audio_dir / name).is_file() for name in known["segments"]):
                counts["existing"] += 1
                continue
            try:
                y, _ = load_audio(path, sample_rate=sample_rate, mono=True)
            except AudioFileError as exc:
                failed[key] = str(exc)
                log.warning("skipping %s: %s", path, exc)
                continue
            intervals = librosa.effects.split(y, top_db=top_db, frame_length=2048, hop_length=512)
            voiced = np.concatenate([y[a:b] for a, b in intervals]) if len(intervals) else y[:0]
            names = []
            for k, start in enumerate(range(0, len(voiced) - seg + 1, hop)):
                piece = voiced[start:start + seg]
                if float(np.sqrt(np.mean(piece**2))) < min_rms:
                    counts["quiet_segments"] += 1
                    continue
                name = f"{_flat_name(path, src)}-{k:04d}.wav"
                save_audio(audio_dir / name, np.clip(piece, -1.0, 32767 / 32768), sample_rate, subtype="PCM_16")
                names.append(name)
            sources[key] = {"segments": names, "seconds": round(len(y) / sample_rate, 3),
                            "seconds_voiced": round(len(voiced) / sample_rate, 3)}
            counts["processed"] += 1
            counts["seconds_kept"] += len(names) * seg / sample_rate
            counts["seconds_trimmed"] += (len(y) - len(voiced)) / sample_rate
            if time.perf_counter() - last_save > _SAVE_EVERY_S:
                _write_json(manifest_path, manifest)
                last_save = time.perf_counter()
    finally:
        _write_json(manifest_path, manifest)
    return {"out_dir": str(out_dir), "files": len(files), **counts, "failed": dict(failed),
            "segments": sum(len(s["segments"]) for s in sources.values()),
            "seconds_kept": round(counts["seconds_kept"], 2), "seconds_trimmed": round(counts["seconds_trimmed"], 2)}


def midi_events(midi, *, program: int) -> tuple[list[tuple], list[int]]:
    """Event list for :meth:`SoundFontSynth.render_events`: melodic tracks only, one channel each.

    Drum tracks are dropped; every other track keeps its notes, control changes
    and pitch bends on its own channel (skipping GM's drum channel 9).

    Returns
    -------
    events : list of ``(time_s, kind, channel, a, b)``, time-sorted, note-offs first at equal times
    channels : list of int, the channels used
    """
    program = check_program(program)
    events, channels = [], []
    free = [c for c in range(SoundFontSynth.channels) if c != 9]
    melodic = [inst for inst in midi.instruments if not inst.is_drum and inst.notes]
    if len(melodic) > len(free):
        raise ParameterError(f"{len(melodic)} melodic tracks exceed the {len(free)} synth channels")
    for inst, channel in zip(melodic, free):
        channels.append(channel)
        for note in inst.notes:
            events.append((note.start, 2, "on", channel, note.pitch, note.velocity))
            events.append((note.end, 0, "off", channel, note.pitch, 0))
        for change in inst.control_changes:
            events.append((change.time, 1, "cc", channel, change.number, change.value))
        for bend in inst.pitch_bends:
            events.append((bend.time, 1, "bend", channel, bend.pitch, 0))
    events.sort(key=lambda e: (e[0], e[1]))
    return [(t, kind, ch, a, b) for t, _, kind, ch, a, b in events], channels


def render_midi(
    src: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    soundfont: str | os.PathLike,
    program: int,
    sample_rate: int = 16000,
    mono: bool = True,
    gain: float = 0.8,
    progress: bool = True,
) -> dict:
    """Render MIDI pieces with every melodic track played by one GM ``program``.

    Drum tracks are dropped; notes, velocities, sustain and other controllers
    and pitch bends are kept. The synth runs at 44.1 kHz, dry, and the result
    is resampled to ``sample_rate``. A render that would clip is redone at
    half the gain (up to 4 times).

    Parameters
    ----------
    src : path-like
        A folder searched recursively for ``.mid``/``.midi`` files, or one file.
    out_dir : path-like
        Gets ``<source path with / as __>.wav`` (16-bit PCM) per piece, so two
        renders of the same folder with different programs pair up by name.
    soundfont : path-like
        The ``.sf2`` file.
    program : int
        GM program 0-127 (bank 0) for every melodic track.
    sample_rate : int
        Output rate in Hz.
    mono : bool
        Mix to mono; False writes stereo.
    gain : float
        FluidSynth master gain.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    dict
        ``files``, ``rendered``, ``existing``, ``failed`` (path -> reason),
        ``seconds`` (audio rendered), ``out_dir``, ``program``.

    Raises
    ------
    DataError
        If ``src`` or the SoundFont is missing, or the SoundFont lacks ``program``.

    Examples
    --------
    >>> render_midi("midi/bach", "data/bach_violin", soundfont="/usr/share/sounds/sf2/FluidR3_GM.sf2",
    ...             program=40)  # doctest: +SKIP
    """
    import pretty_midi
    from tqdm.auto import tqdm

    sample_rate = check_sample_rate(sample_rate)
    program = check_program(program)
    src, out_dir = Path(src), Path(out_dir)
    render_rate = max(RENDER_RATE, sample_rate)
    synth = SoundFontSynth(soundfont, render_rate=render_rate, gain=gain)
    if not synth.has_program(program):
        synth.close()
        raise DataError(f"SoundFont {str(soundfont)!r} has no preset for program {program} in bank 0")
    files = _find(src, MIDI_EXTENSIONS, out_dir, "MIDI")
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {"out_dir": str(out_dir), "program": program, "files": len(files), "rendered": 0, "existing": 0,
               "failed": {}, "seconds": 0.0}
    try:
        for path in tqdm(files, unit="piece", disable=not progress, desc="rendering MIDI"):
            target = out_dir / f"{_flat_name(path, src)}.wav"
            if target.is_file():
                summary["existing"] += 1
                continue
            try:
                try:
                    midi = pretty_midi.PrettyMIDI(str(path))
                except Exception as exc:  # noqa: BLE001  (mido and pretty_midi raise many types)
                    raise MidiFileError(f"{path}: not a readable MIDI file ({_short(exc)})") from None
                events, channels = midi_events(midi, program=program)
                if not events:
                    raise MidiFileError(f"{path}: no melodic notes (only drums or empty)")
                y = _render_piece(synth, events, channels, program, gain)
            except (MidiFileError, ParameterError) as exc:
                summary["failed"][str(path)] = str(exc)
                log.warning("skipping %s", exc)
                continue
            y = y.mean(axis=0) if mono else y
            y = np.clip(resample(y, orig_sr=render_rate, target_sr=sample_rate), -1.0, 32767 / 32768)
            save_audio(target, y, sample_rate, subtype="PCM_16")
            summary["rendered"] += 1
            summary["seconds"] += y.shape[-1] / sample_rate
    finally:
        synth.close()
    summary["seconds"] = round(summary["seconds"], 2)
    return summary


def _render_piece(synth: SoundFontSynth, events, channels, program: int, gain: float) -> np.ndarray:
    for attempt in range(5):
        synth.set_gain(gain / 2**attempt)
        synth.reset()
        for channel in channels:
            synth.select(channel, program)
        y = synth.render_events(events)
        if y.size == 0 or float(np.max(np.abs(y))) < 1.0:
            if attempt:
                log.info("rendered at gain %.3g to avoid clipping", gain / 2**attempt)
            return y
    return y / float(np.max(np.abs(y)))  # still clipping at 1/16 gain: float output, scale it down

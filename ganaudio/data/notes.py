"""Render single SoundFont notes into an NSynth-style data set.

The output folder has NSynth's layout, so :func:`ganaudio.data.load_note_examples`
reads it like the real thing::

    out_dir/audio/<note_str>.wav   16-bit mono WAV, one note each
    out_dir/examples.json          {note_str: {pitch, velocity, instrument_str, ..., split}}
    out_dir/summary.json           counts, settings and the notes left out (silent or clipped)

Every file is written atomically, so any WAV present is complete; a rerun skips
notes already on disk and notes already found silent or clipped, and refuses a
folder rendered with different settings.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ganaudio.data.soundfont import (
    ACOUSTIC_PROGRAMS,
    NSYNTH_FAMILIES,
    NSYNTH_SOURCES,
    RENDER_RATE,
    SoundFontSynth,
    check_program,
    check_soundfont,
    fork_safe,
    gm_instrument,
)
from ganaudio.errors import DataError, ParameterError
from ganaudio.io import atomic_path, check_sample_rate, resample, save_audio

__all__ = ["SPLITS", "assign_splits", "note_str", "render_notes"]

log = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")
_SAVE_EVERY_S = 30.0


def note_str(instrument_str: str, pitch: int, velocity: int) -> str:
    """NSynth's note name, ``<instrument_str>-<pitch:03d>-<velocity:03d>``.

    Examples
    --------
    >>> note_str("guitar_acoustic_024", 60, 100)
    'guitar_acoustic_024-060-100'
    """
    return f"{instrument_str}-{int(pitch):03d}-{int(velocity):03d}"


def assign_splits(keys: Iterable[str], *, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
                  ) -> dict[str, str]:
    """Deal ``keys`` into train/valid/test deterministically from ``seed``.

    Keys are sorted, then shuffled with ``numpy.random.default_rng(seed)``; the
    first ``round(n * fractions[1])`` go to valid, the next ``round(n * fractions[2])``
    to test, the rest to train. A split with a non-zero fraction gets at least
    one key when there are enough keys for every such split.

    Returns
    -------
    dict mapping each key to ``"train"``, ``"valid"`` or ``"test"``

    Examples
    --------
    >>> assign_splits(["a", "b", "c"], fractions=(0.4, 0.3, 0.3), seed=0)  # doctest: +SKIP
    {'b': 'train', 'c': 'valid', 'a': 'test'}
    """
    fractions = _check_fractions(fractions)
    keys = sorted(set(keys))
    n = len(keys)
    order = np.random.default_rng(seed).permutation(n)
    counts = [round(n * f) for f in fractions]
    if n >= sum(f > 0 for f in fractions):
        counts = [max(c, 1) if f > 0 else c for c, f in zip(counts, fractions)]
    n_valid, n_test = counts[1], counts[2]
    keep = 1 if fractions[0] > 0 and n > 0 else 0  # train keeps at least one key
    while n_valid + n_test > n - keep:
        if n_valid >= n_test:
            n_valid -= 1
        else:
            n_test -= 1
    labels = ["valid"] * n_valid + ["test"] * n_test + ["train"] * (n - n_valid - n_test)
    return {keys[i]: labels[rank] for rank, i in enumerate(order)}


def _check_fractions(fractions) -> tuple[float, float, float]:
    try:
        values = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        raise ParameterError(f"split_fractions must be three numbers, got {fractions!r}") from None
    if len(values) != 3 or any(not np.isfinite(f) or f < 0 for f in values) or abs(sum(values) - 1) > 1e-6:
        raise ParameterError(f"split_fractions must be three non-negative numbers summing to 1 "
                             f"(train, valid, test), got {fractions!r}")
    return values


def _check_ints(values, name: str, low: int, high: int) -> list[int]:
    try:
        out = sorted({int(v) for v in values})
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be whole numbers in {low}-{high}, got {values!r}") from None
    if not out or out[0] < low or out[-1] > high:
        raise ParameterError(f"{name} must be a non-empty set of whole numbers in {low}-{high}, got {values!r}")
    return out


def render_notes(
    soundfont: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    programs: Iterable[int] | None = None,
    pitches: Iterable[int] = range(24, 85),
    velocities: Iterable[int] = (25, 50, 75, 100, 127),
    sample_rate: int = 16000,
    duration: float = 4.0,
    release: float = 1.0,
    mono: bool = True,
    gain: float = 0.8,
    silence_threshold: float = 1e-3,
    workers: int = 2,
    split: str = "instrument",
    split_fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Render every (program, pitch, velocity) note of a SoundFont to an NSynth-style folder.

    Each note is held ``duration - release`` seconds, released, and rendered to
    ``duration`` seconds in total, from silence, with reverb and chorus off. The
    synth runs at 44.1 kHz (no aliasing) and the note is resampled to
    ``sample_rate`` and saved as 16-bit PCM, NSynth's format.

    Parameters
    ----------
    soundfont : path-like
        The ``.sf2`` file, e.g. ``/usr/share/sounds/sf2/FluidR3_GM.sf2``.
    out_dir : path-like
        Output folder (created); see the module notes for its layout.
    programs : iterable of int, optional
        GM programs (bank 0). None: :data:`ganaudio.data.ACOUSTIC_PROGRAMS`, less any
        the SoundFont lacks (warned about); an explicit program it lacks is an error.
    pitches, velocities : iterable of int
        MIDI pitches (0-127) and velocities (1-127) to render.
    sample_rate : int
        Output rate in Hz.
    duration, release : float
        Note length and the release part of it, in seconds.
    mono : bool
        Mix the synth's stereo output to mono; False keeps ``(2, time)`` files.
    gain : float
        FluidSynth master gain (see :class:`ganaudio.data.SoundFontSynth`).
    silence_threshold : float
        Notes whose peak is below this (linear, 1e-3 = -60 dBFS) are left out
        as silent; notes touching 16-bit full scale are left out as clipped.
    workers : int
        Processes, each with its own synth; 1 renders in this process.
    split : {"instrument", "note"}
        Deal whole instruments (no timbre shared between splits, NSynth's way)
        or single notes into train/valid/test.
    split_fractions : (train, valid, test)
        Fractions summing to 1; see :func:`assign_splits`.
    seed : int
        Seed of the split.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    dict
        Summary, also written to ``out_dir/summary.json``: ``requested``,
        ``rendered``, ``existing`` (found on disk), ``silent``, ``clipped``,
        ``examples``, ``splits``, ``programs``, ``missing_programs``,
        ``seconds``, ``bytes`` and ``rejected`` (note_str -> reason).

    Raises
    ------
    DataError
        If the SoundFont is missing or unreadable, or ``out_dir`` was rendered
        with other settings.
    ParameterError
        For out-of-range arguments.

    Examples
    --------
    >>> summary = render_notes("/usr/share/sounds/sf2/TimGM6mb.sf2", "data/tim_notes",
    ...                        programs=[0, 24, 40], pitches=range(48, 73), velocities=[100])
    >>> summary["examples"]
    75
    """
    started = time.perf_counter()
    sample_rate = check_sample_rate(sample_rate)
    pitches = _check_ints(pitches, "pitches", 0, 127)
    velocities = _check_ints(velocities, "velocities", 1, 127)
    if not (np.isfinite(duration) and np.isfinite(release) and 0 <= release < duration):
        raise ParameterError(f"need 0 <= release < duration (seconds), got duration={duration!r}, "
                             f"release={release!r}")
    if split not in ("instrument", "note"):
        raise ParameterError(f"split must be 'instrument' or 'note', got {split!r}")
    fractions = _check_fractions(split_fractions)
    if int(workers) < 1:
        raise ParameterError(f"workers must be >= 1, got {workers!r}")
    if not 0 < silence_threshold < 1:
        raise ParameterError(f"silence_threshold must be in (0, 1), got {silence_threshold!r}")

    render_rate = max(RENDER_RATE, sample_rate)
    soundfont = check_soundfont(soundfont)
    out_dir = Path(out_dir)
    audio_dir = out_dir / "audio"
    settings = {"soundfont": soundfont.name, "soundfont_bytes": soundfont.stat().st_size,
                "sample_rate": sample_rate, "duration": float(duration), "release": float(release),
                "mono": bool(mono), "gain": float(gain), "silence_threshold": float(silence_threshold)}
    previous = _read_json(out_dir / "summary.json")
    if previous and previous.get("settings") not in (None, settings):
        raise DataError(f"{out_dir} holds notes rendered with other settings ({previous['settings']}); "
                        f"render into a new folder or delete it")
    rejected: dict[str, str] = dict(previous.get("rejected", {})) if previous else {}
    job = {"soundfont": str(soundfont), "render_rate": render_rate, "gain": gain, "sample_rate": sample_rate,
           "duration": duration, "release": release, "mono": mono, "silence_threshold": silence_threshold,
           "audio_dir": str(audio_dir)}
    with _Workers(job, int(workers)) as pool:
        programs, missing, names = pool.call(_worker_probe, None if programs is None else list(programs))
        if missing:
            log.warning("%s lacks GM programs %s; rendering the other %d", soundfont.name, missing, len(programs))
        audio_dir.mkdir(parents=True, exist_ok=True)
        for stale in audio_dir.glob(".*.wav"):  # temporaries of workers killed mid-write
            stale.unlink(missing_ok=True)
        entries = _entries(programs, pitches, velocities, names, sample_rate, soundfont.name)
        return _render(entries, pool, out_dir, rejected, split, fractions, seed, progress,
                       {"programs": programs, "missing_programs": missing, "settings": settings, "started": started})


def _entries(programs, pitches, velocities, names, sample_rate, soundfont_name) -> dict[str, dict]:
    entries = {}
    for program in programs:
        family, source, gm_name = gm_instrument(program)
        instrument_str = f"{family}_{source}_{program:03d}"
        for pitch in pitches:
            for velocity in velocities:
                key = note_str(instrument_str, pitch, velocity)
                entries[key] = {
                    "note_str": key, "pitch": pitch, "velocity": velocity, "instrument": program,
                    "instrument_str": instrument_str, "instrument_family": NSYNTH_FAMILIES.index(family),
                    "instrument_family_str": family, "instrument_source": NSYNTH_SOURCES.index(source),
                    "instrument_source_str": source, "sample_rate": sample_rate, "program": program,
                    "instrument_name": gm_name, "preset_name": names[program], "soundfont": soundfont_name,
                }
    return entries


def _render(entries, pool, out_dir, rejected, split, fractions, seed, progress, info) -> dict:
    """Assign splits, render what is not on disk, and write examples.json and summary.json."""
    audio_dir = out_dir / "audio"
    split_keys = {k: e["instrument_str"] if split == "instrument" else k for k, e in entries.items()}
    splits = assign_splits(set(split_keys.values()), fractions=fractions, seed=seed)
    for index, (key, entry) in enumerate(sorted(entries.items())):
        entry["split"] = splits[split_keys[key]]
        entry["note"] = index

    done = {k for k in entries if (audio_dir / f"{k}.wav").is_file()}
    todo = [e for k, e in entries.items() if k not in done and k not in rejected]
    log.info("%d notes requested: %d on disk, %d known silent/clipped, %d to render",
             len(entries), len(done), sum(k in rejected for k in entries), len(todo))
    existing = len(done)

    def checkpoint(final: bool) -> dict:
        kept = {k: entries[k] for k in sorted(done)}
        _write_json(out_dir / "examples.json", kept)
        summary = _summary(entries, kept, rejected, existing, len(done) - existing, audio_dir, final, out_dir, info)
        _write_json(out_dir / "summary.json", summary)
        return summary

    from tqdm.auto import tqdm

    last_save = time.perf_counter()
    try:
        with tqdm(total=len(todo), unit="note", disable=not progress, desc="rendering notes") as bar:
            for key, status in pool.imap(_worker_render, todo):
                if status == "ok":
                    done.add(key)
                else:
                    rejected[key] = status
                bar.update(1)
                if time.perf_counter() - last_save > _SAVE_EVERY_S:
                    checkpoint(final=False)
                    last_save = time.perf_counter()
    except BaseException:
        checkpoint(final=False)  # keep what is done; a rerun resumes from here
        raise
    return checkpoint(final=True)


def _resolve_programs(synth: SoundFontSynth, programs) -> tuple[list[int], list[int]]:
    if programs is None:
        available = [p for p in ACOUSTIC_PROGRAMS if synth.has_program(p)]
        missing = sorted(set(ACOUSTIC_PROGRAMS) - set(available))
        if not available:
            raise DataError(f"SoundFont {str(synth.path)!r} has none of the default GM programs in bank 0")
        return available, missing
    programs = sorted({check_program(p, "programs") for p in programs})
    if not programs:
        raise ParameterError("programs must name at least one GM program")
    absent = [p for p in programs if not synth.has_program(p)]
    if absent:
        raise DataError(f"SoundFont {str(synth.path)!r} has no preset for program(s) {absent} in bank 0")
    return programs, []


def _summary(entries, kept, rejected, existing, rendered, audio_dir, final, out_dir, info) -> dict:
    reasons = {k: rejected[k] for k in sorted(entries) if k in rejected}
    size = sum((audio_dir / f"{k}.wav").stat().st_size for k in kept)
    counts = {s: sum(e["split"] == s for e in kept.values()) for s in SPLITS}
    return {
        "out_dir": str(out_dir), "complete": final, "requested": len(entries), "rendered": rendered,
        "existing": existing, "silent": sum(r == "silent" for r in reasons.values()),
        "clipped": sum(r == "clipped" for r in reasons.values()), "examples": len(kept), "splits": counts,
        "programs": info["programs"], "missing_programs": info["missing_programs"],
        "seconds": round(time.perf_counter() - info["started"], 2), "bytes": size, "settings": info["settings"],
        "rejected": reasons,
    }


# --------------------------------------------------------------------------- workers

_WORKER: dict = {}


def _worker_init(job: dict) -> None:
    _WORKER["job"] = job
    try:
        _WORKER["synth"] = SoundFontSynth(job["soundfont"], render_rate=job["render_rate"], gain=job["gain"])
    except Exception as exc:  # noqa: BLE001  (a raising initializer makes Pool respawn workers forever)
        _WORKER["error"] = exc


def _worker_render(entry: dict) -> tuple[str, str]:
    if "error" in _WORKER:
        raise _WORKER["error"]
    job, synth = _WORKER["job"], _WORKER["synth"]
    y, clipped = synth.render_note(program=entry["program"], pitch=entry["pitch"], velocity=entry["velocity"],
                                   duration=job["duration"], release=job["release"])
    if clipped:
        return entry["note_str"], "clipped"
    if job["mono"]:
        y = y.mean(axis=0)
    if float(np.max(np.abs(y))) < job["silence_threshold"]:
        return entry["note_str"], "silent"
    y = resample(y, orig_sr=job["render_rate"], target_sr=job["sample_rate"])
    length = round(job["duration"] * job["sample_rate"])
    y = np.clip(y[..., :length], -1.0, 32767 / 32768)  # soxr may overshoot by a hair
    save_audio(Path(job["audio_dir"]) / f"{entry['note_str']}.wav", y, job["sample_rate"], subtype="PCM_16")
    return entry["note_str"], "ok"


def _worker_probe(programs) -> tuple[list[int], list[int], dict[int, str]]:
    if "error" in _WORKER:
        raise _WORKER["error"]
    synth = _WORKER["synth"]
    programs, missing = _resolve_programs(synth, programs)
    return programs, missing, {p: synth.preset_name(p) for p in programs}


class _Workers:
    """This process (workers=1) or a pool of processes, each holding one synth."""

    def __init__(self, job: dict, workers: int):
        self.job, self.workers, self.pool = job, workers, None

    def __enter__(self):
        if self.workers == 1:
            _worker_init(self.job)
            return self
        # fork is quick and needs no `if __name__ == "__main__"` guard in the caller's script, but
        # libfluidsynth's OpenMP threads hang a forked child once this process has loaded a SoundFont
        methods = multiprocessing.get_all_start_methods()
        method = "fork" if "fork" in methods and sys.platform != "darwin" and fork_safe() else "spawn"
        self.pool = multiprocessing.get_context(method).Pool(self.workers, _worker_init, (self.job,))
        return self

    def call(self, func, *args):
        return func(*args) if self.pool is None else self.pool.apply(func, args)

    def imap(self, func, items: list):
        if self.pool is None:
            return map(func, items)
        chunk = max(1, min(16, len(items) // (self.workers * 8)))
        return self.pool.imap_unordered(func, items, chunksize=chunk)

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
        synth = _WORKER.pop("synth", None)
        if synth is not None:
            synth.close()
        _WORKER.clear()


# --------------------------------------------------------------------------- json

def _read_json(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read JSON ({exc})") from None


def _write_json(path: Path, data) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))

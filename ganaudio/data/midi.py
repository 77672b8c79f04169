"""Symbolic data sets (MuseGAN's material): a folder of MIDI files to multitrack piano-roll phrases.

Layout of a prepared folder::

    shard_00000.npy ...   uint8 (n, tracks, bars * 4 * resolution, pitches): 0/1 or velocity
    index.json            settings, track names/programs/drum flags, shards, and per phrase its
                          source file, start step and transposition (written last, atomically)
    summary.json          files read, files skipped with the reason, counts
    settings.json         the settings of the run (written first, so a rerun with other settings
                          into the same folder is refused even after an interruption)

Only 4/4 stretches of a piece are cut (a file without time signatures is 4/4,
as MIDI says); bars are counted from each 4/4 time-signature change. Shards
are ``np.save``'d to a temporary file and renamed, and ``np.load`` runs with
``allow_pickle=False``. A rerun with the same settings and unchanged sources
reuses the folder as it is; otherwise it is rebuilt.

Transposition
    Every phrase is stored once per shift in ``transpose``. Pitched tracks are
    shifted; drum tracks are not (their pitches name instruments). A phrase
    whose pitched notes would leave ``pitch_range`` after a shift is *dropped*
    for that shift, never clipped (counted as ``out_of_range``), so no stored
    phrase has lost notes to the pitch crop. Drum notes outside the range are
    cropped.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from ganaudio.errors import DataError, MidiFileError, ParameterError
from ganaudio.functional.pianoroll import PROGRAM_FAMILIES, midi_to_roll
from ganaudio.io import atomic_path

__all__ = ["MIDI_DATA_FORMAT", "prepare_midi"]

log = logging.getLogger(__name__)

MIDI_DATA_FORMAT = 1
_MIDI_EXTENSIONS = (".mid", ".midi")
_GROUPINGS = ("instrument", "program_family", "merged")


def _start_method() -> str:
    """fork where it is safe (Linux: quick, no re-import), spawn elsewhere; the work is numpy/music21 only."""
    methods = multiprocessing.get_all_start_methods()
    return "fork" if "fork" in methods and sys.platform.startswith("linux") else "spawn"


def _write_json(path: Path, data) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))


def _read_json(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read JSON ({exc}); delete the folder to rebuild") from None


def _check_settings(*, resolution, bars_per_phrase, hop_bars, pitch_range, grouping, tracks, drums, binary,
                    transpose, min_notes_per_phrase, shard_size, workers) -> dict:
    def positive_int(value, name):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ParameterError(f"{name} must be a positive integer, got {value!r}")
        return int(value)

    resolution, bars = positive_int(resolution, "resolution"), positive_int(bars_per_phrase, "bars_per_phrase")
    hop = bars if hop_bars is None else positive_int(hop_bars, "hop_bars")
    positive_int(shard_size, "shard_size")
    positive_int(workers, "workers")
    try:
        lo, hi = (int(x) for x in pitch_range)
    except (TypeError, ValueError):
        raise ParameterError(f"pitch_range must be (lo, hi), got {pitch_range!r}") from None
    if not 0 <= lo < hi <= 128:
        raise ParameterError(f"pitch_range must be (lo, hi) with 0 <= lo < hi <= 128, got {pitch_range!r}")
    if grouping not in _GROUPINGS:
        raise ParameterError(f"grouping must be one of {_GROUPINGS}, got {grouping!r}")
    if drums not in ("separate", "drop"):
        raise ParameterError(f"drums must be 'separate' or 'drop', got {drums!r}")
    if tracks is not None:
        if grouping != "instrument":
            raise ParameterError(f"tracks applies to grouping='instrument' only, got grouping={grouping!r}")
        if isinstance(tracks, (int, np.integer)) and not isinstance(tracks, bool):
            tracks = positive_int(tracks, "tracks")
        elif isinstance(tracks, (list, tuple)) and tracks and all(isinstance(t, str) and t for t in tracks) \
                and len({t.lower() for t in tracks}) == len(tracks):
            tracks = list(tracks)
        else:
            raise ParameterError(f"tracks must be a track count or distinct track names, got {tracks!r}")
    try:
        shifts = sorted({int(t) for t in transpose})
    except (TypeError, ValueError):
        raise ParameterError(f"transpose must be semitone shifts like range(-5, 7), got {transpose!r}") from None
    if not shifts or any(abs(t) >= hi - lo for t in shifts):
        raise ParameterError(f"transpose must be a non-empty set of shifts smaller than the pitch range, "
                             f"got {transpose!r}")
    if isinstance(min_notes_per_phrase, bool) or not isinstance(min_notes_per_phrase, (int, np.integer)) \
            or min_notes_per_phrase < 0:
        raise ParameterError(f"min_notes_per_phrase must be a non-negative integer, got {min_notes_per_phrase!r}")
    return {"format": MIDI_DATA_FORMAT, "resolution": resolution, "bars_per_phrase": bars, "hop_bars": hop,
            "steps_per_bar": 4 * resolution, "pitch_range": [lo, hi], "grouping": grouping, "tracks": tracks,
            "drums": drums, "binary": bool(binary), "transpose": shifts,
            "min_notes_per_phrase": int(min_notes_per_phrase), "shard_size": int(shard_size)}


def _four_four_spans(time_signatures, end_step: int, resolution: int) -> tuple[list, Counter]:
    """``[(start_step, end_step), ...]`` of the 4/4 stretches and a count of other meters' stretches."""
    changes = sorted((float(b), int(n), int(d)) for b, n, d in time_signatures) or [(0.0, 4, 4)]
    if changes[0][0] > 0:  # MIDI: 4/4 until the first time signature
        changes.insert(0, (0.0, 4, 4))
    spans, others = [], Counter()
    for k, (beat, num, den) in enumerate(changes):
        start = round(beat * resolution)
        stop = min(end_step, round(changes[k + 1][0] * resolution)) if k + 1 < len(changes) else end_step
        if stop <= start:
            continue
        if (num, den) == (4, 4):
            spans.append((start, stop))
        else:
            others[f"{num}/{den}"] += 1
    return spans, others


def _select_tracks(roll: np.ndarray, meta, tracks) -> tuple[np.ndarray, dict] | str:
    """Reorder ``roll``'s tracks to ``tracks`` (names or count); a reason string if the file does not fit."""
    names = list(meta.names)
    if isinstance(tracks, list):
        lower = [n.strip().lower() for n in names]
        picks = []
        for want in tracks:
            hits = [i for i, n in enumerate(lower) if n == want.lower()]
            if len(hits) != 1:
                return f"has {len(hits)} tracks named {want!r} (tracks: {names})"
            picks.append(hits[0])
        names = list(tracks)
    else:
        if len(names) != tracks:
            return f"has {len(names)} tracks, expected {tracks}"
        picks = list(range(tracks))
    layout = {"names": names, "programs": [int(meta.programs[i]) for i in picks],
              "is_drum": [bool(meta.is_drum[i]) for i in picks]}
    return roll[picks], layout


def _phrases_of(path: str, settings: dict) -> dict:
    """Cut one MIDI file into phrases (runs in a worker). Returns arrays and counts, or a skip reason."""
    res, spb = settings["resolution"], settings["steps_per_bar"]
    bars, hop = settings["bars_per_phrase"], settings["hop_bars"]
    lo, hi = settings["pitch_range"]
    try:
        roll_t, meta = midi_to_roll(path, resolution=res, pitch_range=(0, 128), grouping=settings["grouping"],
                                    binary=settings["binary"], drums=settings["drums"])
    except MidiFileError as exc:
        return {"skip": "unreadable", "detail": str(exc)}
    except Exception as exc:  # noqa: BLE001  (a broken file must not stop a corpus)
        return {"skip": "unreadable", "detail": f"{type(exc).__name__}: {exc}"}
    roll = roll_t.numpy()
    if settings["grouping"] == "instrument":
        tracks = settings["tracks"] if settings["tracks"] is not None else settings["_first_tracks"]
        picked = _select_tracks(roll, meta, tracks) if tracks is not None else (
            roll, {"names": list(meta.names), "programs": list(meta.programs), "is_drum": list(meta.is_drum)})
        if isinstance(picked, str):
            return {"skip": "tracks", "detail": picked}
        roll, layout = picked
    else:
        n_fam = len(PROGRAM_FAMILIES) if settings["grouping"] == "program_family" else 1
        programs = [8 * f for f in range(n_fam)] if n_fam > 1 else [0]  # canonical, not the file's first
        layout = {"names": list(meta.names), "programs": programs + [0] * (len(meta.names) - n_fam),
                  "is_drum": list(meta.is_drum)}
    spans, others = _four_four_spans(meta.time_signatures, roll.shape[1], res)
    out = {"layout": layout, "meters": dict(others), "phrases": [], "starts": [], "shifts": [], "empty": 0,
           "out_of_range": 0, "four_four": bool(spans)}
    if not spans:
        out["skip"], out["detail"] = "meter", f"no 4/4 section (meters: {sorted(others)})"
        return out
    drum = np.array(layout["is_drum"], bool)
    pitches = np.arange(128)
    for start, stop in spans:
        for k in range(0, (stop - start) // spb - bars + 1, hop):
            a = start + k * spb
            crop = roll[:, a:a + bars * spb]
            active = crop > 0
            onsets = int(active[:, :1].sum()) + int((active[:, 1:] & ~active[:, :-1]).sum())
            if onsets < max(1, settings["min_notes_per_phrase"]):
                out["empty"] += 1
                continue
            used = pitches[crop[~drum].any(axis=(0, 1))] if (~drum).any() else pitches[:0]
            for shift in settings["transpose"]:
                if len(used) and (used.min() + shift < lo or used.max() + shift >= hi):
                    out["out_of_range"] += 1
                    continue
                phrase = np.zeros((crop.shape[0], crop.shape[1], hi - lo), np.uint8)
                a0, a1 = max(lo - shift, 0), min(hi - shift, 128)  # source columns landing in [lo, hi)
                phrase[~drum, :, a0 + shift - lo:a1 + shift - lo] = np.clip(crop[~drum][..., a0:a1], 0, 127)
                phrase[drum] = np.clip(crop[drum][..., lo:hi], 0, 127)
                out["phrases"].append(phrase)
                out["starts"].append(int(a))
                out["shifts"].append(int(shift))
    if not out["phrases"]:
        out["skip"] = "too short" if not out["empty"] and not out["out_of_range"] else "no usable phrase"
        out["detail"] = (f"no {bars}-bar 4/4 phrase" if out["skip"] == "too short" else
                         f"{out['empty']} near-empty and {out['out_of_range']} out-of-range phrases")
    return out


def _worker(job: tuple) -> tuple:
    path, settings = job
    return path, _phrases_of(path, settings)


def _fingerprint(files: list[Path], src: Path) -> list:
    return [[_rel(f, src), f.stat().st_size, f.stat().st_mtime_ns] for f in files]


def _rel(path: Path, src: Path) -> str:
    return str(path.relative_to(src)) if src.is_dir() else path.name


def prepare_midi(src: str | os.PathLike, out_dir: str | os.PathLike, *, resolution: int = 24,
                 bars_per_phrase: int = 4, hop_bars: int | None = None, pitch_range=(24, 108),
                 grouping: str = "instrument", tracks=None, drums: str = "separate", binary: bool = True,
                 transpose=(0,), min_notes_per_phrase: int = 4, shard_size: int = 4096, workers: int = 1,
                 progress: bool = True) -> dict:
    """Cut every MIDI file under ``src`` into multitrack piano-roll phrases in ``.npy`` shards.

    Parameters
    ----------
    src : path-like
        A folder (searched recursively for ``.mid``/``.midi``) or one MIDI file.
    out_dir : path-like
        Output folder (see the module notes for its layout).
    resolution : int
        Steps per beat; a 4/4 bar has ``4 * resolution`` steps (MuseGAN: 24, 96 per bar).
    bars_per_phrase : int
        Phrase length in bars.
    hop_bars : int, optional
        Bars between phrase starts; default ``bars_per_phrase`` (no overlap).
    pitch_range : (int, int)
        MIDI pitches ``[lo, hi)``; ``(24, 108)`` is MuseGAN's 84 pitches from C1.
    grouping : {"instrument", "program_family", "merged"}
        Tracks per instrument, per General MIDI family (16 + drums) or one merged track.
    tracks : int or sequence of str, optional
        With ``grouping="instrument"``: names picked and ordered (case-insensitive, e.g.
        ``["Soprano", "Alto", "Tenor", "Bass"]``) or a track count; files that do not fit
        are skipped. Default: the track count of the first readable file.
    drums : {"separate", "drop"}
    binary : bool
        Store 0/1 instead of velocities (both uint8).
    transpose : iterable of int
        Semitone shifts, each stored as its own phrase (``range(-5, 7)`` for MuseGAN-style
        augmentation). Out-of-range phrases are dropped per shift, never clipped.
    min_notes_per_phrase : int
        Phrases with fewer note onsets (all tracks) are dropped as near-empty.
    shard_size : int
        Phrases per shard file.
    workers : int
        Processes converting files (1: this process).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    dict
        The summary also written to ``summary.json``: ``files``, ``read``, ``used``,
        ``skipped`` (path -> reason), ``not_midi``, ``phrases``, ``phrases_by_shift``,
        ``empty_phrases``, ``out_of_range``, ``other_meters``, ``shape``, ``bytes``, ``seconds``.

    Raises
    ------
    DataError
        ``src`` missing or without a usable phrase, or ``out_dir`` holding another run's settings.

    Examples
    --------
    >>> summary = prepare_midi("midi/chorales", "data/chorales", tracks=["Soprano", "Alto", "Tenor", "Bass"],
    ...                        transpose=range(-5, 7))
    >>> summary["shape"]  # doctest: +SKIP
    [4, 384, 84]
    """
    from tqdm.auto import tqdm

    settings = _check_settings(resolution=resolution, bars_per_phrase=bars_per_phrase, hop_bars=hop_bars,
                               pitch_range=pitch_range, grouping=grouping, tracks=tracks, drums=drums,
                               binary=binary, transpose=transpose, min_notes_per_phrase=min_notes_per_phrase,
                               shard_size=shard_size, workers=workers)
    src, out_dir = Path(src), Path(out_dir)
    if not src.exists():
        raise DataError(f"MIDI source {str(src)!r} does not exist")
    out_res = out_dir.resolve()
    candidates = [src] if src.is_file() else sorted(
        p for p in src.rglob("*") if p.is_file() and out_res not in p.resolve().parents
        and not p.name.startswith("."))
    files = [p for p in candidates if p.suffix.lower() in _MIDI_EXTENSIONS]
    not_midi = [_rel(p, src) for p in candidates if p.suffix.lower() not in _MIDI_EXTENSIONS]
    if not files:
        raise DataError(f"{src} holds no MIDI files (looked for {', '.join(_MIDI_EXTENSIONS)}; "
                        f"{len(not_midi)} other files)")
    old = _read_json(out_dir / "settings.json")
    if old is not None and old != settings:
        raise DataError(f"{out_dir} was prepared with other settings ({old}); use a new folder or delete it")
    fingerprint = _fingerprint(files, src)
    index, summary = _read_json(out_dir / "index.json"), _read_json(out_dir / "summary.json")
    if index is not None and summary is not None and index.get("settings") == settings \
            and index.get("fingerprint") == fingerprint \
            and all((out_dir / s["file"]).is_file() for s in index["shards"]):
        return {**summary, "reused": True}
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_json(out_dir / "settings.json", settings)
    (out_dir / "index.json").unlink(missing_ok=True)
    began = time.perf_counter()
    keys = [_rel(f, src) for f in files]
    if settings["grouping"] == "instrument" and settings["tracks"] is None:
        settings_run = {**settings, "_first_tracks": None}
        first = next((r for f in files if "layout" in (r := _phrases_of(str(f), settings_run))), None)
        settings_run["_first_tracks"] = len(first["layout"]["names"]) if first else None
    else:
        settings_run = {**settings, "_first_tracks": None}
    jobs = [(str(f), settings_run) for f in files]
    skipped, meters, layout = {}, Counter(), None
    counts = Counter()
    sources, rows_source, rows_start, rows_shift, shards, buffer = [], [], [], [], [], []

    def flush(final: bool = False) -> None:
        while len(buffer) >= settings["shard_size"] or (final and buffer):
            chunk = np.stack(buffer[:settings["shard_size"]])
            del buffer[:settings["shard_size"]]
            name = f"shard_{len(shards):05d}.npy"
            with atomic_path(out_dir / name) as tmp:
                np.save(tmp, chunk, allow_pickle=False)
            shards.append({"file": name, "count": len(chunk)})

    pool = None
    if workers > 1 and len(jobs) > 1:
        pool = multiprocessing.get_context(_start_method()).Pool(min(workers, len(jobs)))
        results = pool.imap(_worker, jobs, chunksize=max(1, min(8, len(jobs) // (workers * 8))))
    else:
        results = map(_worker, jobs)
    try:
        for key, (path, res) in tqdm(zip(keys, results), total=len(jobs), unit="file", disable=not progress,
                                     desc="cutting phrases"):
            meters.update(res.get("meters", {}))
            counts["empty"] += res.get("empty", 0)
            counts["out_of_range"] += res.get("out_of_range", 0)
            if "skip" in res:
                skipped[key] = f"{res['skip']}: {res['detail']}"
                if res["skip"] == "unreadable":
                    log.warning("skipping %s: %s", path, res["detail"])
                counts["unreadable" if res["skip"] == "unreadable" else "read"] += 1
                continue
            counts["read"] += 1
            if layout is None:
                layout = res["layout"]
            elif len(res["layout"]["names"]) != len(layout["names"]):
                skipped[key] = f"tracks: has {len(res['layout']['names'])} tracks, expected {len(layout['names'])}"
                continue
            sources.append(key)
            rows_source += [len(sources) - 1] * len(res["phrases"])
            rows_start += res["starts"]
            rows_shift += res["shifts"]
            buffer.extend(res["phrases"])
            flush()
        flush(final=True)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    if not shards:
        raise DataError(f"{src}: no usable {settings['bars_per_phrase']}-bar 4/4 phrase in {len(files)} MIDI "
                        f"files ({len(skipped)} skipped, e.g. {dict(list(skipped.items())[:3])})")
    for stale in out_dir.glob("shard_*.npy"):
        if stale.name not in {s["file"] for s in shards}:
            stale.unlink()
    shape = [len(layout["names"]), settings["bars_per_phrase"] * settings["steps_per_bar"],
             settings["pitch_range"][1] - settings["pitch_range"][0]]
    reasons = Counter(v.split(":", 1)[0] for v in skipped.values())
    summary = {
        "out_dir": str(out_dir), "files": len(files), "read": counts["read"], "unreadable": counts["unreadable"],
        "used": len(sources), "skipped": skipped, "skip_reasons": dict(reasons), "not_midi": not_midi,
        "phrases": len(rows_source), "phrases_by_shift": {str(k): v for k, v in sorted(Counter(rows_shift).items())},
        "empty_phrases": counts["empty"], "out_of_range": counts["out_of_range"], "other_meters": dict(meters),
        "shape": shape, "dtype": "uint8", "bytes": sum((out_dir / s["file"]).stat().st_size for s in shards),
        "seconds": round(time.perf_counter() - began, 2), "reused": False,
    }
    _write_json(out_dir / "summary.json", summary)
    _write_json(out_dir / "index.json", {
        "settings": settings, "fingerprint": fingerprint, "shape": shape, "dtype": "uint8",
        "names": layout["names"], "programs": layout["programs"], "is_drum": layout["is_drum"],
        "resolution": settings["resolution"], "pitch_range": settings["pitch_range"],
        "shards": shards, "sources": sources,
        "phrases": {"source": rows_source, "start_step": rows_start, "transpose": rows_shift}})
    return summary

"""Feature cache: representation tensors of a note folder in memory-mapped ``.npy`` shards.

Layout of one cache (a folder named by its key under ``cache_dir``)::

    shard_00000.npy ...   float32 (n, channels, freq, frames), read with np.load(mmap_mode="r")
    shard_00000.skipped.json ...  the shard's notes left out as unusable, with the reason
    manifest.json         key, settings, shard shapes, the note index, normaliser statistics, skipped notes

Unusable notes (unreadable, NaN/inf, silent, truncated audio; see
:mod:`ganaudio.data.screen`) are found as each file is read for encoding,
left out of the shards and listed, so no bad file is baked into a cache.

The key is a hash of every setting that changes the tensors: the
representation's full ``config()``, the frame count, the filters, and each
note's name, file size and modification time. Change any and a new cache is
built beside the old one. Every file is written atomically and the manifest
last, so an interrupted build never reads as valid; a rerun reuses the shards
already written (their names carry the key) and builds the rest. No pickles:
``np.load`` runs with ``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ganaudio.data.screen import SkipReport, read_checked_audio
from ganaudio.errors import DataError, ParameterError
from ganaudio.io import atomic_path
from ganaudio.representations import Normalizer

__all__ = ["NoteCache", "build_note_cache", "read_note_list"]

log = logging.getLogger(__name__)

CACHE_FORMAT = 2  # 2: unusable notes are left out and listed (shard_*.skipped.json)
_ENCODE_CHUNK = 64


def read_note_list(root: str | os.PathLike, *, split: str | None, pitch_range: tuple[int, int] | None,
                   sources: Sequence[str] | None) -> list[dict]:
    """The notes of an NSynth-layout folder as plain dicts (the one place that reads examples.json).

    Returns
    -------
    list of dict with ``note_str``, ``path``, ``pitch``, ``velocity``, ``instrument_str``, sorted by note_str.
    """
    return _note_list(root, split=split, pitch_range=pitch_range, sources=sources)[0]


def _note_list(root, *, split, pitch_range, sources) -> tuple[list[dict], SkipReport]:
    from ganaudio.data.nsynth import load_note_examples

    notes = load_note_examples(root, split=split, pitch_range=pitch_range, sources=sources)
    return [dict(note_str=n.note_str, path=str(n.path), pitch=n.pitch, velocity=n.velocity,
                 instrument_str=n.instrument_str) for n in notes], notes.skip_report()


def _cache_key(settings: dict, notes: list[dict]) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps({"format": CACHE_FORMAT, **settings}, sort_keys=True).encode())
    for note in notes:
        stat = os.stat(note["path"])
        digest.update(f"{note['note_str']}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


@dataclass(frozen=True)
class NoteCache:
    """A built cache: the index, the normaliser and memory-mapped shards.

    Attributes
    ----------
    path : Path
    index : list of dict
        One entry per note, in order: ``note_str``, ``pitch``, ``velocity``, ``instrument_str``,
        ``instrument`` (index into ``instruments``), ``shard``, ``row``.
    instruments : list of str
    normalizer : Normalizer
        Fitted (min/max per channel) on every cached note.
    representation : dict
        The representation's ``config()``.
    n_frames : int
    skipped : dict
        :meth:`SkipReport.to_dict` of the notes left out (unreadable, NaN, silent, truncated, missing).
    """

    path: Path
    index: list
    instruments: list
    normalizer: Normalizer
    representation: dict
    n_frames: int
    shard_files: tuple
    skipped: dict = field(default_factory=dict)

    @classmethod
    def open(cls, path: str | os.PathLike) -> NoteCache:
        """Open a finished cache folder; DataError if it is incomplete or inconsistent."""
        path = Path(path)
        try:
            manifest = json.loads((path / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            raise DataError(f"{path} is not a finished feature cache (no readable manifest.json: {exc})") from None
        shards = tuple(path / s["file"] for s in manifest["shards"])
        for spec, file in zip(manifest["shards"], shards):
            try:
                arr = np.load(file, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise DataError(f"{file}: unreadable cache shard ({exc}); delete {path} to rebuild") from None
            if list(arr.shape) != spec["shape"]:
                raise DataError(f"{file}: shape {arr.shape} differs from the manifest's {spec['shape']}")
        return cls(path=path, index=manifest["index"], instruments=manifest["instruments"],
                   normalizer=Normalizer.from_dict(manifest["normalizer"]),
                   representation=manifest["representation"], n_frames=manifest["n_frames"], shard_files=shards,
                   skipped=manifest.get("skipped", {}))

    def __len__(self) -> int:
        return len(self.index)

    def skip_report(self) -> SkipReport:
        """The notes this cache left out, as a :class:`~ganaudio.data.screen.SkipReport`."""
        return SkipReport.from_dict(self.skipped or {"what": "notes", "total": len(self.index)})

    def shards(self) -> list[np.ndarray]:
        """The shards as read-only memory maps ``(n, channels, freq, frames)``."""
        return [np.load(f, mmap_mode="r", allow_pickle=False) for f in self.shard_files]


def build_note_cache(
    root: str | os.PathLike,
    cache_dir: str | os.PathLike,
    *,
    representation,
    n_frames: int,
    split: str | None = "train",
    pitch_range: tuple[int, int] | None = (24, 84),
    sources: Sequence[str] | None = ("acoustic",),
    shard_size: int = 1024,
    progress: bool = False,
) -> NoteCache:
    """Encode every note of ``root`` with ``representation`` into shards under ``cache_dir`` (or reuse them).

    Parameters
    ----------
    root : path-like
        NSynth-layout note folder (see :func:`ganaudio.data.nsynth.load_note_examples`).
    cache_dir : path-like
        Parent folder; the cache goes into ``cache_dir/<key>``.
    representation
        A spectral representation (e.g. :class:`ganaudio.representations.IFMel`); notes are loaded at
        its sample rate and encoded to exactly ``n_frames`` frames (cropped or zero-padded). Notes
        whose audio is unreadable, NaN/inf, silent or truncated are left out, logged and listed in
        the cache's ``skipped`` (see :mod:`ganaudio.data.screen`).
    n_frames : int
    split, pitch_range, sources
        Filters passed to the note reader.
    shard_size : int
        Notes per shard.
    progress : bool
        Show a tqdm bar.

    Returns
    -------
    NoteCache

    Raises
    ------
    DataError
        If no note is usable.

    Examples
    --------
    >>> rep = IFMel(sample_rate=16000, n_fft=1024, hop_length=256, n_mels=128)
    >>> cache = build_note_cache("data/notes", "data/notes/.cache", representation=rep, n_frames=64)
    >>> cache.shards()[0].shape                             # doctest: +SKIP
    (1024, 2, 128, 64)
    """
    if not isinstance(n_frames, int) or n_frames < 1:
        raise ParameterError(f"n_frames must be a positive integer, got {n_frames!r}")
    if shard_size < 1:
        raise ParameterError(f"shard_size must be >= 1, got {shard_size!r}")
    notes, report = _note_list(root, split=split, pitch_range=pitch_range, sources=sources)  # counts every note
    settings = {"representation": representation.config(), "n_frames": n_frames, "split": split,
                "pitch_range": list(pitch_range) if pitch_range else None,
                "sources": sorted(sources) if sources else None, "shard_size": shard_size}
    key = _cache_key(settings, notes)
    path = Path(cache_dir) / key
    if (path / "manifest.json").is_file():
        try:
            return NoteCache.open(path)
        except DataError as exc:
            log.warning("rebuilding the feature cache: %s", exc)
            (path / "manifest.json").unlink(missing_ok=True)
    path.mkdir(parents=True, exist_ok=True)
    length = representation.samples_for(n_frames)
    lo = hi = None
    shards, kept = [], []
    from tqdm.auto import tqdm

    with tqdm(total=len(notes), unit="note", desc="caching features", disable=not progress) as bar:
        for s, start in enumerate(range(0, len(notes), shard_size)):
            chunk = notes[start:start + shard_size]
            file = path / f"shard_{s:05d}.npy"
            found = _existing_shard(file, chunk)
            if found is None:
                data, bad = _encode(chunk, representation, n_frames, length)
                # the list of left-out notes goes first: a shard on disk always has its list
                with atomic_path(_skip_file(file)) as tmp:
                    tmp.write_text(json.dumps({"rows": len(data), "skipped": bad}))
                with atomic_path(file) as tmp:
                    np.save(tmp, data, allow_pickle=False)
            else:
                data, bad = found
            for name, (reason, detail) in bad.items():
                report.skip(name, reason, detail)
            if len(data):
                channels = data.reshape(data.shape[0], data.shape[1], -1)
                c_lo, c_hi = channels.min(axis=(0, 2)).astype(float), channels.max(axis=(0, 2)).astype(float)
                lo = c_lo if lo is None else np.minimum(lo, c_lo)
                hi = c_hi if hi is None else np.maximum(hi, c_hi)
            shards.append({"file": file.name, "shape": list(data.shape)})
            kept += [(note, s, row) for row, note in enumerate(n for n in chunk if n["note_str"] not in bad)]
            bar.update(len(chunk))
    report.log_summary(root)
    report.require_some(root)
    instruments = sorted({note["instrument_str"] for note, _, _ in kept})
    inst_index = {name: i for i, name in enumerate(instruments)}
    index = [{"note_str": note["note_str"], "pitch": note["pitch"], "velocity": note["velocity"],
              "instrument_str": note["instrument_str"], "instrument": inst_index[note["instrument_str"]],
              "shard": s, "row": row} for note, s, row in kept]
    normalizer = Normalizer(center=tuple(((hi + lo) / 2).tolist()),
                            scale=tuple(np.maximum((hi - lo) / 2, 1e-8).tolist()))
    manifest = {"format": CACHE_FORMAT, "key": key, "root": str(root), **settings, "shards": shards,
                "instruments": instruments, "normalizer": normalizer.to_dict(), "index": index,
                "skipped": report.to_dict()}
    with atomic_path(path / "manifest.json") as tmp:
        tmp.write_text(json.dumps(manifest))
    log.info("feature cache %s: %d notes in %d shards", path, len(index), len(shards))
    return NoteCache.open(path)


def _skip_file(shard: Path) -> Path:
    return shard.with_name(shard.stem + ".skipped.json")


def _existing_shard(file: Path, chunk: list[dict]) -> tuple[np.ndarray, dict] | None:
    """A shard an interrupted build already wrote, with its left-out notes; None if absent or not this chunk's."""
    if not file.is_file():
        return None
    try:
        bad = {k: tuple(v) for k, v in json.loads(_skip_file(file).read_text())["skipped"].items()}
        data = np.load(file, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    names = {n["note_str"] for n in chunk}
    if not set(bad) <= names or data.shape[0] != len(names) - len(bad) or data.dtype != np.float32:
        return None
    return data, bad


def _encode(chunk: list[dict], representation, n_frames: int, length: int) -> tuple[np.ndarray, dict]:
    """Features ``(n_good, channels, freq, n_frames)`` of the usable notes, and ``{note_str: (reason, detail)}``
    of the others (unreadable, NaN, silent, truncated audio, or features that came out non-finite)."""
    report = SkipReport(what="notes")
    out = []
    for start in range(0, len(chunk), _ENCODE_CHUNK):
        part = chunk[start:start + _ENCODE_CHUNK]
        read = report.each(part, read=lambda n: read_checked_audio(n["path"], sample_rate=representation.sample_rate),
                           name=lambda n: n["note_str"])
        good, waves = [], []
        for note, y in read:
            good.append(note)
            waves.append(y[:length] if len(y) >= length else np.pad(y, (0, length - len(y))))
        if not waves:
            continue
        with torch.no_grad():
            spec = representation.encode(torch.from_numpy(np.stack(waves)), n_frames=n_frames).float().numpy()
        finite = np.isfinite(spec.reshape(len(spec), -1)).all(axis=1)
        for note in (n for n, ok in zip(good, finite) if not ok):
            report.skip(note["note_str"], "NaN", "its features came out NaN or inf")
        out.append(spec[finite])
    if not out:
        with torch.no_grad():
            shape = representation.encode(torch.zeros(1, length), n_frames=n_frames).shape[1:]
        out.append(np.zeros((0, *shape), np.float32))
    bad = {k: list(v) for k, v in report.skipped.items()}
    return np.ascontiguousarray(np.concatenate(out), dtype=np.float32), bad

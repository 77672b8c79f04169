"""torch Datasets: notes over feature caches, audio segments from ``prepare_audio`` folders."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ganaudio.data.cache import NoteCache
from ganaudio.errors import DataError, ParameterError

__all__ = ["NoteDataset", "SegmentDataset"]


class NoteDataset(torch.utils.data.Dataset):
    """Notes of a :class:`~ganaudio.data.cache.NoteCache`: ``(spec, pitch, velocity, instrument)``.

    ``spec`` is ``(channels, freq, frames)`` float32, mapped to [-1, 1] by the
    cache's normaliser when ``normalize``; ``pitch`` and ``velocity`` are MIDI
    numbers; ``instrument`` indexes ``cache.instruments``.

    Examples
    --------
    >>> ds = NoteDataset(cache)
    >>> spec, pitch, velocity, instrument = ds[0]
    >>> specs, pitches, velocities, instruments = ds.batch([0, 1, 2])   # stacked tensors
    """

    def __init__(self, cache: NoteCache, *, normalize: bool = True):
        self.cache = cache
        self.normalizer = cache.normalizer if normalize else None
        self._shards = cache.shards()
        index = cache.index
        self._where = np.array([[e["shard"], e["row"]] for e in index], dtype=np.int64).reshape(-1, 2)
        self.pitches = torch.tensor([e["pitch"] for e in index], dtype=torch.long)
        self.velocities = torch.tensor([e["velocity"] for e in index], dtype=torch.long)
        self.instruments = torch.tensor([e["instrument"] for e in index], dtype=torch.long)
        ch = self._shards[0].shape[1:] if self._shards else (0, 0, 0)
        self._c, self._scale = (None, None)
        if self.normalizer is not None:
            self._c = np.asarray(self.normalizer.center, np.float32).reshape(-1, 1, 1)
            self._scale = np.asarray(self.normalizer.scale, np.float32).reshape(-1, 1, 1)
        self.spec_shape = tuple(ch)

    def __len__(self) -> int:
        return len(self._where)

    def _spec(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), *self.spec_shape), np.float32)
        for shard in np.unique(self._where[rows, 0]):
            mask = self._where[rows, 0] == shard
            local = self._where[rows[mask], 1]
            order = np.argsort(local)  # sorted reads from the memory map
            block = self._shards[shard][local[order]]
            out[np.flatnonzero(mask)[order]] = block
        if self._c is not None:
            out = (out - self._c) / self._scale
        return out

    def __getitem__(self, i: int):
        if not -len(self) <= i < len(self):
            raise IndexError(f"note index {i} out of range for {len(self)} notes")
        i = i % len(self)
        spec = torch.from_numpy(self._spec(np.array([i]))[0])
        return spec, int(self.pitches[i]), int(self.velocities[i]), int(self.instruments[i])

    def batch(self, indices: Sequence[int] | torch.Tensor):
        """Stacked ``(specs (B, C, F, T), pitches (B,), velocities (B,), instruments (B,))`` for ``indices``."""
        rows = np.asarray(torch.as_tensor(indices, dtype=torch.long).cpu().numpy(), np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= len(self)):
            raise ParameterError(f"note indices must be in 0-{len(self) - 1}")
        return (torch.from_numpy(self._spec(rows)), self.pitches[rows], self.velocities[rows],
                self.instruments[rows])


class SegmentDataset(torch.utils.data.Dataset):
    """Audio segments of a :func:`~ganaudio.data.prepare_audio` folder: waveforms ``(time,)`` float32.

    Segments are listed in ``segments.json`` in source order; ``sources``
    (names as listed there) keeps only some pieces, so train and held-out
    sets split by piece, never inside one. ``crop`` returns a window of that
    many samples, at a random offset from ``generator`` or at the start when
    none is given.

    Examples
    --------
    >>> ds = SegmentDataset("data/cello_2s")
    >>> y = ds[0]                                   # (32000,) at ds.sample_rate
    >>> train = SegmentDataset("data/cello_2s", sources=ds.sources[:-2])
    """

    def __init__(self, root: str | os.PathLike, *, sources: Sequence[str] | None = None, crop: int | None = None,
                 generator: torch.Generator | None = None):
        self.root = Path(root)
        manifest = self.root / "segments.json"
        if not manifest.is_file():
            raise DataError(f"{self.root} has no segments.json; build it with `ganaudio prepare audio`")
        data = json.loads(manifest.read_text())
        self.sample_rate = int(data["settings"]["sample_rate"])
        known = data["sources"]
        self.sources = sorted(known)
        chosen = self.sources if sources is None else list(sources)
        unknown = [s for s in chosen if s not in known]
        if unknown:
            raise DataError(f"{self.root}: no source named {unknown[0]!r} in segments.json")
        self.files = [self.root / "audio" / name for src in chosen for name in known[src]["segments"]]
        if not self.files:
            raise DataError(f"{self.root} holds no segments for the chosen sources")
        if crop is not None and crop < 1:
            raise ParameterError(f"crop must be a positive number of samples, got {crop!r}")
        self.crop, self.generator = crop, generator

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> torch.Tensor:
        from ganaudio.io import load_audio

        y, _ = load_audio(self.files[i], sample_rate=self.sample_rate, mono=True)
        if self.crop is not None:
            if len(y) < self.crop:
                y = np.pad(y, (0, self.crop - len(y)))
            start = 0
            if self.generator is not None and len(y) > self.crop:
                start = int(torch.randint(len(y) - self.crop + 1, (1,), generator=self.generator))
            y = y[start:start + self.crop]
        return torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))

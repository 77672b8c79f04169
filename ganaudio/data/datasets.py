"""torch Datasets over feature caches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ganaudio.data.cache import NoteCache
from ganaudio.errors import ParameterError

__all__ = ["NoteDataset"]


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

"""torch Dataset over the piano-roll phrase shards that :func:`ganaudio.data.prepare_midi` writes."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ganaudio.data.notes import SPLITS, assign_splits
from ganaudio.data.screen import SkipReport
from ganaudio.errors import DataError, ParameterError, UnusableFileError

__all__ = ["PhraseDataset"]


class PhraseDataset(torch.utils.data.Dataset):
    """Phrases of a prepared MIDI folder as float32 tensors ``(tracks, time, pitch)``.

    Shards are memory-mapped (``np.load(mmap_mode="r")``), opened lazily in each
    process, so DataLoader workers share the page cache instead of copies.
    Splits are dealt by source piece with :func:`ganaudio.data.assign_splits`
    (sorted piece names shuffled by ``seed``), so every phrase and transposition of
    one piece lands in one split, and the same seed gives the same split.

    Parameters
    ----------
    root : path-like
        A folder written by :func:`~ganaudio.data.prepare_midi` (``index.json`` + shards).
    split : {"train", "valid", "test"}, optional
        Only the phrases of that split; None: all.
    seed : int
        Seed of the split.
    fractions : (float, float, float)
        Train, valid and test fractions of the pieces.
    normalize : bool
        Velocity sets are divided by 127 (binary sets are 0/1 either way).

    Attributes
    ----------
    names, programs, is_drum : list
        One entry per track.
    resolution : int
        Steps per beat.
    pitch_offset : int
        MIDI pitch of column 0.
    sources : list of str
        The source piece of each item (relative path); ``transpose``: its shift.
    skipped : dict
        :meth:`~ganaudio.data.screen.SkipReport.to_dict` of the shards left out (missing, unreadable,
        malformed), whose phrases are left out too; only a folder with no usable shard is an error.

    Examples
    --------
    >>> train = PhraseDataset("data/chorales", split="train")
    >>> train[0].shape
    torch.Size([4, 384, 84])
    >>> loader = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True, num_workers=2)
    """

    def __init__(self, root: str | os.PathLike, *, split: str | None = None, seed: int = 0,
                 fractions: Sequence[float] = (0.8, 0.1, 0.1), normalize: bool = True):
        if split is not None and split not in SPLITS:
            raise ParameterError(f"split must be one of {SPLITS} or None, got {split!r}")
        self.root = Path(root)
        try:
            index = json.loads((self.root / "index.json").read_text())
        except (OSError, ValueError) as exc:
            raise DataError(f"{self.root} is not a prepared phrase folder (no readable index.json: {exc}); "
                            f"run `ganaudio prepare midi`") from None
        self.names, self.programs, self.is_drum = index["names"], index["programs"], index["is_drum"]
        self.resolution, self.pitch_offset = index["resolution"], index["pitch_range"][0]
        self.binary = index["settings"]["binary"]
        self.shape = tuple(index["shape"])
        self._files = [self.root / s["file"] for s in index["shards"]]
        counts = [s["count"] for s in index["shards"]]
        report = SkipReport(what="shards")
        usable = {i for i, _ in report.each(range(len(self._files)), read=lambda i: self._check_shard(i, counts[i]),
                                            name=lambda i: str(self._files[i]))}
        report.log_summary(self.root)
        report.require_some(self.root)
        self.skipped, self._usable = report.to_dict(), frozenset(usable)
        shard = np.repeat(np.arange(len(counts)), counts)
        row = np.concatenate([np.arange(c) for c in counts]) if counts else np.zeros(0, np.int64)
        source = np.asarray(index["phrases"]["source"], np.int64)
        if len(source) != len(shard):
            raise DataError(f"{self.root}/index.json lists {len(source)} phrases but its shards hold {len(shard)}")
        keep = np.isin(shard, sorted(usable))   # the phrases of unusable shards are left out
        if split is not None:
            splits = assign_splits(index["sources"], fractions=fractions, seed=seed)
            wanted = np.array([splits[s] == split for s in index["sources"]], bool)
            keep = keep & wanted[source] if len(source) else keep
        self._where = np.stack([shard[keep], row[keep]], axis=1)
        self.sources = [index["sources"][i] for i in source[keep]]
        self.transpose = list(np.asarray(index["phrases"]["transpose"], np.int64)[keep])
        self._scale = 1.0 if self.binary or not normalize else 1.0 / 127.0
        self._shards = None

    def _check_shard(self, i: int, count: int) -> None:
        """UnusableFileError if shard ``i`` is missing, unreadable or not the index's shape and dtype."""
        file = self._files[i]
        if not file.is_file():
            raise UnusableFileError(file, "missing", "listed in index.json; rerun `ganaudio prepare midi`")
        try:
            arr = np.load(file, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise UnusableFileError(file, "unreadable", str(exc)) from None
        if tuple(arr.shape) != (count, *self.shape) or arr.dtype != np.uint8:
            raise UnusableFileError(file, "malformed", f"{arr.dtype} {arr.shape} differs from the index's uint8 "
                                                       f"{(count, *self.shape)}")

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_shards"] = None  # each worker maps the files itself
        return state

    def _open(self) -> list[np.ndarray | None]:
        if self._shards is None:
            shards = []
            for i, file in enumerate(self._files):
                if i not in self._usable:
                    shards.append(None)  # left out at init: none of its phrases is indexed
                    continue
                try:
                    arr = np.load(file, mmap_mode="r", allow_pickle=False)
                except (OSError, ValueError) as exc:
                    raise DataError(f"{file}: unreadable phrase shard ({exc}); rerun `ganaudio prepare midi`") \
                        from None
                if tuple(arr.shape[1:]) != self.shape or arr.dtype != np.uint8:
                    raise DataError(f"{file}: {arr.dtype} {arr.shape} differs from the index's uint8 {self.shape}")
                shards.append(arr)
            self._shards = shards
        return self._shards

    def __len__(self) -> int:
        return len(self._where)

    def __getitem__(self, i: int) -> torch.Tensor:
        """Phrase ``i``: float32 ``(tracks, bars * steps_per_bar, pitch)``."""
        if not -len(self) <= int(i) < len(self):
            raise IndexError(f"phrase {i} out of range for {len(self)} phrases")
        shard, row = self._where[int(i)]
        arr = np.asarray(self._open()[shard][row], dtype=np.float32)
        if self._scale != 1.0:
            arr *= self._scale
        return torch.from_numpy(arr)

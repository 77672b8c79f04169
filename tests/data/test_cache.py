"""Feature cache (memory-mapped shards, keyed by every setting, atomic) and NoteDataset."""

import json

import numpy as np
import pytest
import torch

from ganaudio.data import cache as cache_mod
from ganaudio.data.cache import NoteCache, build_note_cache
from ganaudio.data.datasets import NoteDataset
from ganaudio.errors import DataError
from ganaudio.representations import IFMel
from tests.gan_fixtures import PITCHES, PROGRAMS, note_folder  # noqa: F401  (fixture)


class Killed(Exception):
    pass


REP = IFMel(sample_rate=16000, n_fft=256, hop_length=64, n_mels=32)


def _build(note_folder, cache_dir, rep=REP, **kw):  # noqa: F811
    kw = {"n_frames": 16, "split": None, "pitch_range": (36, 84), "sources": None, "shard_size": 5, **kw}
    return build_note_cache(note_folder, cache_dir, representation=rep, **kw)


def test_build_and_read(note_folder, tmp_path):  # noqa: F811
    cache = _build(note_folder, tmp_path)
    n = len(PROGRAMS) * len(PITCHES)
    assert len(cache) == n and len(cache.shard_files) == 4
    shards = cache.shards()
    assert isinstance(shards[0], np.memmap) and shards[0].shape == (5, 2, 32, 16)
    assert sorted({e["pitch"] for e in cache.index}) == list(PITCHES)
    manifest = json.loads((cache.path / "manifest.json").read_text())
    assert manifest["representation"] == REP.config()
    # the cached tensors are the representation's encoding of the audio
    from ganaudio.io import load_audio
    entry = cache.index[7]
    y, _ = load_audio(note_folder / "audio" / f"{entry['note_str']}.wav", sample_rate=16000)
    expected = REP.encode(torch.from_numpy(y), n_frames=16)
    got = torch.from_numpy(np.array(shards[entry["shard"]][entry["row"]]))
    assert torch.allclose(got, expected, atol=1e-4)


def test_reused_and_invalidated_by_any_parameter(note_folder, tmp_path, monkeypatch):  # noqa: F811
    first = _build(note_folder, tmp_path)
    monkeypatch.setattr(cache_mod, "_encode", lambda *a: pytest.fail("a valid cache was re-encoded"))
    assert _build(note_folder, tmp_path).path == first.path
    monkeypatch.undo()
    other = _build(note_folder, tmp_path, rep=IFMel(sample_rate=16000, n_fft=256, hop_length=64, n_mels=32, fmin=20.0))
    assert other.path != first.path
    assert _build(note_folder, tmp_path, n_frames=8).path not in (first.path, other.path)


def test_interrupted_build_never_reads_as_valid(note_folder, tmp_path, monkeypatch):  # noqa: F811
    real_encode, calls, killed = cache_mod._encode, [], []

    def flaky(chunk, *args):
        calls.append(len(chunk))
        if len(calls) == 2 and not killed:
            killed.append(True)
            raise Killed  # killed while encoding the second shard
        return real_encode(chunk, *args)

    monkeypatch.setattr(cache_mod, "_encode", flaky)
    with pytest.raises(Killed):
        _build(note_folder, tmp_path)
    folder = next(p for p in tmp_path.iterdir() if p.is_dir())
    assert not (folder / "manifest.json").exists()
    assert sorted(p.name for p in folder.iterdir()) == ["shard_00000.npy", "shard_00000.skipped.json"]  # no half shard
    with pytest.raises(DataError, match="not a finished"):
        NoteCache.open(folder)
    calls.clear()
    cache = _build(note_folder, tmp_path)                                  # restart continues
    assert calls == [5, 5, 1] and len(cache) == 16                         # shard 0 reused


def test_corrupt_shard_detected(note_folder, tmp_path):  # noqa: F811
    cache = _build(note_folder, tmp_path)
    cache.shard_files[1].write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DataError):
        NoteCache.open(cache.path)
    assert len(_build(note_folder, tmp_path)) == 16                        # rebuilt on the next run


def test_note_dataset(note_folder, tmp_path):  # noqa: F811
    cache = _build(note_folder, tmp_path)
    ds = NoteDataset(cache)
    spec, pitch, velocity, instrument = ds[3]
    assert spec.shape == (2, 32, 16) and spec.dtype == torch.float32
    assert pitch in PITCHES and velocity == 100 and 0 <= instrument < len(PROGRAMS)
    specs, pitches, velocities, instruments = ds.batch([9, 0, 15, 3])
    assert torch.equal(specs[3], spec) and int(pitches[3]) == pitch
    items = torch.stack([ds[i][0] for i in range(len(ds))])
    assert items.min() >= -1 - 1e-5 and items.max() <= 1 + 1e-5
    assert torch.allclose(items.amin(dim=(0, 2, 3)), torch.tensor([-1.0, -1.0]), atol=1e-5)
    raw = NoteDataset(cache, normalize=False)
    assert torch.allclose(cache.normalizer.normalize(raw[3][0]), spec, atol=1e-5)
    with pytest.raises(IndexError):
        ds[16]


def test_empty_selection_is_a_clear_error(note_folder, tmp_path):  # noqa: F811
    with pytest.raises(DataError, match="no usable notes"):
        _build(note_folder, tmp_path, pitch_range=(80, 84))

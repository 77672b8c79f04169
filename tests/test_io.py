"""Audio I/O: formats, resampling, normalisation, atomic saves and bad input."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from ganaudio.errors import AudioFileError, GanAudioError, OutputError, ParameterError
from ganaudio.io import atomic_path, load_audio, peak_normalize, resample, save_audio


def tone(sr=16000, seconds=0.5, freq=440.0, channels=1):
    t = np.arange(int(sr * seconds)) / sr
    y = 0.5 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return np.stack([y * (c + 1) / channels for c in range(channels)]) if channels > 1 else y


@pytest.mark.parametrize("ext,subtype,tol", [("wav", "FLOAT", 1e-7), ("flac", "PCM_24", 1e-6), ("ogg", "VORBIS", 0.05)])
def test_save_load_round_trip(tmp_path, ext, subtype, tol):
    y = tone()
    path = save_audio(tmp_path / f"a.{ext}", y, 16000, subtype=subtype)
    back, sr = load_audio(path)
    assert sr == 16000 and back.dtype == np.float32 and back.shape == y.shape
    assert np.max(np.abs(back - y)) < tol if ext != "ogg" else np.corrcoef(back, y)[0, 1] > 0.99


def test_mp3_reads(tmp_path):
    path = tmp_path / "a.mp3"
    sf.write(path, tone(), 16000, format="MP3")
    y, sr = load_audio(path)
    assert sr == 16000 and y.ndim == 1 and abs(len(y) - 8000) < 2000


def test_mono_channel_and_resample(tmp_path):
    stereo = tone(sr=44100, channels=2)
    path = save_audio(tmp_path / "s.wav", stereo, 44100)
    both, _ = load_audio(path, mono=False)
    assert both.shape == stereo.shape
    mono, _ = load_audio(path)
    np.testing.assert_allclose(mono, stereo.mean(axis=0), atol=1e-6)
    right, _ = load_audio(path, channel=1)
    np.testing.assert_allclose(right, stereo[1], atol=1e-6)
    down, sr = load_audio(path, sample_rate=16000)
    assert sr == 16000 and len(down) == 8000
    with pytest.raises(ParameterError, match="channel 2"):
        load_audio(path, channel=2)


def test_resample_keeps_pitch_and_batch():
    y = tone(sr=44100, seconds=1.0, freq=1000.0)
    out = resample(np.stack([y, y]), orig_sr=44100, target_sr=16000)
    assert out.shape == (2, 16000)
    spectrum = np.abs(np.fft.rfft(out[0]))
    assert abs(np.argmax(spectrum) - 1000) <= 1  # 1 Hz bins over one second
    np.testing.assert_allclose(out[0], out[1])


def test_peak_normalize():
    y = peak_normalize(tone() * 0.1)
    assert np.isclose(np.max(np.abs(y)), 1.0)
    assert np.all(peak_normalize(np.zeros(10)) == 0)


def test_offset_and_duration(tmp_path):
    path = save_audio(tmp_path / "a.wav", tone(seconds=1.0), 16000)
    y, _ = load_audio(path, offset=0.25, duration=0.5)
    assert len(y) == 8000


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda p: None, "no such audio file"),
        (lambda p: p.write_bytes(b""), "cannot read audio"),
        (lambda p: p.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk"), "cannot read audio"),
        (lambda p: p.write_text("this is not audio at all, just text " * 20), "cannot read audio"),
    ],
)
def test_bad_files(tmp_path, make, match):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(AudioFileError, match=match) as info:
        load_audio(path)
    assert str(path) in str(info.value)


def test_truncated_file(tmp_path):
    path = save_audio(tmp_path / "t.flac", tone(seconds=1.0), 16000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    try:
        y, _ = load_audio(path)
    except AudioFileError as exc:
        assert "t.flac" in str(exc)
    else:  # libsndfile may decode the intact prefix; then it must be shorter
        assert len(y) < 16000


def test_zero_length_and_nan(tmp_path):
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.float32), 16000)
    with pytest.raises(AudioFileError, match="no audio samples"):
        load_audio(empty)
    nan = tmp_path / "nan.wav"
    sf.write(nan, np.array([0.0, np.nan, 0.1], np.float32), 16000, subtype="FLOAT")
    with pytest.raises(AudioFileError, match="NaN"):
        load_audio(nan)


@pytest.mark.parametrize(
    "y,sr,match",
    [
        (np.zeros(100), 0, "sample_rate"),
        (np.zeros(100), -16000, "sample_rate"),
        (np.zeros(100), 16000.5, "whole number"),
        (np.zeros(0), 16000, "time > 0"),
        (np.array([0.0, np.inf]), 16000, "NaN or inf"),
        (np.zeros((2, 2, 10)), 16000, r"\(time,\) or \(channels, time\)"),
        (np.array(["a", "b"]), 16000, "numeric"),
    ],
)
def test_save_bad_input(tmp_path, y, sr, match):
    with pytest.raises(ParameterError, match=match):
        save_audio(tmp_path / "x.wav", y, sr)
    assert not any(tmp_path.iterdir())


def test_save_rejects_unknown_extension_and_clipping(tmp_path):
    with pytest.raises(ParameterError, match=".mp4"):
        save_audio(tmp_path / "x.mp4", tone(), 16000)
    with pytest.raises(ParameterError, match="exceed"):
        save_audio(tmp_path / "x.flac", tone() * 4, 16000)


def test_save_is_atomic(tmp_path, monkeypatch):
    path = save_audio(tmp_path / "keep.wav", tone(), 16000)
    before = path.read_bytes()

    def crash(file, *args, **kwargs):
        with open(file, "wb") as handle:
            handle.write(b"RIFF half")
        raise OSError("disk full")

    monkeypatch.setattr(sf, "write", crash)
    with pytest.raises(OutputError, match="disk full"):  # a write failure is an OutputError (issue 17)
        save_audio(path, tone(freq=220.0), 16000)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.wav"]


def test_atomic_path_mode_and_cleanup(tmp_path):
    with atomic_path(tmp_path / "sub" / "f.txt") as tmp:
        tmp.write_text("hi")
    final = tmp_path / "sub" / "f.txt"
    assert final.read_text() == "hi" and final.stat().st_mode & 0o044  # readable by others as usual
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "g.txt") as tmp:
            tmp.write_text("partial")
            raise RuntimeError
    assert not (tmp_path / "g.txt").exists() and len(os.listdir(tmp_path)) == 1


def test_errors_share_one_base():
    for cls in (ParameterError, AudioFileError):
        assert issubclass(cls, GanAudioError)

"""Writers of the bad files the data rule must skip: NaN, text-as-WAV, truncated, silent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def tone(seconds: float = 0.6, sample_rate: int = 16000, freq: float = 261.6) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_nan(path: Path, sample_rate: int = 16000) -> Path:
    y = tone(sample_rate=sample_rate)
    y[100:200] = np.nan
    sf.write(path, y, sample_rate, subtype="FLOAT")
    return path


def write_text(path: Path) -> Path:
    path.write_text("this is not audio at all, just text renamed to .wav\n" * 20)
    return path


def write_truncated(path: Path, sample_rate: int = 16000, *, seconds: float = 0.6) -> Path:
    """A PCM WAV cut inside its data chunk: the header still promises every frame."""
    sf.write(path, tone(seconds, sample_rate), sample_rate, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: 44 + (len(data) - 44) // 3])
    return path


def write_silent(path: Path, sample_rate: int = 16000) -> Path:
    sf.write(path, np.zeros(int(0.6 * sample_rate), np.float32), sample_rate)
    return path


BAD_WRITERS = {"NaN": write_nan, "unreadable": lambda p, sr=16000: write_text(p),
               "truncated": write_truncated, "silent": write_silent}

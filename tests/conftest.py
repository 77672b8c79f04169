"""Shared fixtures: committed real-instrument samples (FluidR3_GM renders) and speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
NOTE_FILES = ["trumpet_c4", "flute_c3", "violin_a4", "piano_e3"]


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)  # pytest-xdist runs one worker per core
    yield


def load_sample(name: str) -> tuple[torch.Tensor, int]:
    from ganaudio.io import load_audio

    y, sr = load_audio(SAMPLES / f"{name}.wav")
    return torch.from_numpy(y), sr


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture(params=NOTE_FILES)
def real_note(request) -> tuple[str, torch.Tensor, int]:
    y, sr = load_sample(request.param)
    return request.param, y, sr


@pytest.fixture
def speech() -> tuple[torch.Tensor, int]:
    return load_sample("speech")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)

"""Shared fixtures: committed real-instrument samples (FluidR3_GM renders) and speech."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# librosa compiles its numba kernels with cache=True (into site-packages by
# default). numba writes a guvectorize kernel as two cache files with no
# atomicity between them (numba/numba#10128), so processes compiling at the
# same time can leave a mixed pair that segfaults whoever loads it next: on a
# clean clone the two pytest-xdist workers crashed in pyin's and onset_detect's
# gufuncs. Every test process (the xdist controller, each worker, anything they
# spawn) therefore compiles into its own fresh directory, about 20 s once per
# worker. The variable is overwritten, not inherited: workers would otherwise
# share the controller's directory.
_numba_cache = tempfile.mkdtemp(prefix=f"ganaudio-numba-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-")
os.environ["NUMBA_CACHE_DIR"] = _numba_cache
atexit.register(shutil.rmtree, _numba_cache, ignore_errors=True)

import numpy as np  # noqa: E402  (after NUMBA_CACHE_DIR is set)
import pytest  # noqa: E402
import torch  # noqa: E402

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

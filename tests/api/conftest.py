"""A GANSynth checkpoint trained for 2 steps on a tiny TimGM6mb note render, shared by the API and CLI tests.

The weights are barely trained: tests check shapes, determinism, file handling
and rendering mechanics, never sound quality.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gan_fixtures import note_folder  # noqa: F401  (session fixture)


def train_tiny_checkpoint(notes: Path, work: Path) -> Path:
    """Train the test-sized GANSynth for 2 steps; return its checkpoint folder."""
    from ganaudio.train.checkpoint import latest_checkpoint
    from tests.train.helpers import trainer

    trainer(notes, work / "run", work / "cache", checkpoint_every=2, sample_every=100).fit(2)
    return latest_checkpoint(work / "run" / "checkpoints")


@pytest.fixture(scope="session")
def checkpoint(note_folder, tmp_path_factory) -> Path:  # noqa: F811
    """Checkpoint folder (model.safetensors + config.json): MIDI 48-72, 32 mel bands, 16 frames."""
    return train_tiny_checkpoint(note_folder, tmp_path_factory.mktemp("gansynth"))


@pytest.fixture(scope="session")
def other_checkpoint(checkpoint, tmp_path_factory) -> Path:
    """Another model of the same shape (the generator's weights nudged), for refusing its timbres."""
    import shutil

    import torch
    from safetensors.torch import load_file, save_file

    out = tmp_path_factory.mktemp("other") / "model"
    out.mkdir()
    shutil.copy(checkpoint / "config.json", out / "config.json")
    weights = load_file(str(checkpoint / "model.safetensors"))
    gen = torch.Generator().manual_seed(1)
    save_file({k: v + 0.01 * torch.randn(v.shape, generator=gen) if v.is_floating_point() else v
               for k, v in weights.items()}, str(out / "model.safetensors"))
    return out


@pytest.fixture(scope="session")
def synth(checkpoint):
    import ganaudio.api

    return ganaudio.api.load(checkpoint)

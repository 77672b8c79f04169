"""Checkpoints: a model folder (``model.safetensors`` + ``config.json``) plus ``train_state.pt``.

Layout of a run::

    RUN/checkpoints/step_00001000/
        model.safetensors   weights, keys prefixed by module name ("generator.", "generator_ema.", ...)
        config.json         family, constructor arguments, representation, normaliser, version, data recipe
        train_state.pt      step, optimizer states, RNG states; torch.load(weights_only=True)

A checkpoint is written into a hidden temporary folder and renamed into
place, so a folder named ``step_*`` is always complete. Only the newest
``keep`` are kept. Loading never unpickles arbitrary objects: weights come
from safetensors, settings from JSON, and ``train_state.pt`` through
``torch.load(weights_only=True)``, which refuses any pickled object that is
not a tensor or plain container; such a file raises CheckpointError.

Reading, listing and exporting model folders live in :mod:`ganaudio.loading`
(inference reads them too); this module adds what only training writes.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import tempfile
from pathlib import Path

import torch

from ganaudio.errors import CheckpointError
from ganaudio.loading import CHECKPOINT_FORMAT, latest_checkpoint, list_checkpoints, write_model_folder
from ganaudio.loading import read_model_folder as load_checkpoint

__all__ = [
    "CHECKPOINT_FORMAT",
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "load_train_state",
    "save_checkpoint",
    "write_model_folder",
]

log = logging.getLogger(__name__)


def save_checkpoint(
    directory: str | os.PathLike,
    *,
    step: int,
    modules: dict[str, torch.nn.Module],
    config: dict,
    train_state: dict | None = None,
    keep: int | None = None,
) -> Path:
    """Write ``directory/step_<step>`` atomically and prune all but the newest ``keep``.

    Parameters
    ----------
    directory : path-like
        The run's checkpoints folder.
    step : int
        Training steps done.
    modules : dict of name -> nn.Module
        Their state dicts go into ``model.safetensors`` under ``<name>.`` prefixes.
    config : dict
        JSON-able; ``format``, ``step`` and ``ganaudio_version`` are added.
    train_state : dict, optional
        Tensors and plain containers only (optimizer state dicts, RNG states).
    keep : int, optional
        Number of checkpoints to keep (None keeps all).

    Returns
    -------
    Path of the new checkpoint folder.
    """
    from safetensors.torch import save_file

    from ganaudio._version import __version__

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"step_{step:08d}"
    tmp = Path(tempfile.mkdtemp(prefix=f".step_{step:08d}.", dir=directory))
    try:
        tensors = {}
        for name, module in modules.items():
            for key, value in module.state_dict().items():
                tensors[f"{name}.{key}"] = value.detach().to("cpu").contiguous().clone()
        save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        full = {"format": CHECKPOINT_FORMAT, "step": int(step), "ganaudio_version": __version__, **config}
        (tmp / "config.json").write_text(json.dumps(full, indent=2, sort_keys=True))
        if train_state is not None:
            torch.save(train_state, tmp / "train_state.pt")
        os.chmod(tmp, 0o755)
        if final.exists():  # the same step written again after a resume: swap atomically enough
            old = directory / f".old_{final.name}.{os.getpid()}"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if keep is not None:
        for old in list_checkpoints(directory)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    log.info("checkpoint %s", final)
    return final


def load_train_state(path: str | os.PathLike, *, map_location: str | torch.device = "cpu") -> dict | None:
    """Read ``train_state.pt`` with ``torch.load(weights_only=True)``; None if the folder has none.

    Raises
    ------
    CheckpointError
        If the file carries a pickled object beyond tensors and plain containers
        (it is refused, never executed), or is unreadable.
    """
    file = Path(path) / "train_state.pt"
    if not file.is_file():
        return None
    try:
        state = torch.load(file, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, AttributeError, TypeError) as exc:
        raise CheckpointError(f"{file} carries a pickled object that is not a tensor or plain container; "
                              f"refusing to load it ({str(exc).splitlines()[0]})") from None
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        raise CheckpointError(f"{file} is unreadable ({str(exc).splitlines()[0] if str(exc) else exc!r})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{file}: expected a dict, got {type(state).__name__}")
    return state

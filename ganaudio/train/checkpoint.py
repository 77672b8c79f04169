"""Checkpoints: a model folder (``model.safetensors`` + ``config.json``) plus ``train_state.pt``.

Layout of a run::

    RUN/checkpoints/step_00001000/
        model.safetensors   weights, keys prefixed by module name ("generator.", "generator_ema.", ...)
        config.json         family, constructor arguments, representation, normaliser, version, data recipe
        train_state.pt      step, optimizer states, RNG states; torch.load(weights_only=True)

A checkpoint is written into a hidden temporary folder (``.step_<step>.<pid>.*``),
its files synced to disk, and renamed into place, so a folder named ``step_*``
is always complete and a run killed during a save (even with SIGKILL)
resumes from the previous one. :func:`remove_stale` deletes the temporary
folders such a kill leaves; trainers call it when they start. Only the newest
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
import re
import shutil
import tempfile
import time
from pathlib import Path

import torch

from ganaudio.errors import CheckpointError
from ganaudio.loading import (
    CHECKPOINT_FORMAT,
    latest_checkpoint,
    list_checkpoints,
    write_model_folder,
)
from ganaudio.loading import read_model_folder as load_checkpoint

__all__ = [
    "CHECKPOINT_FORMAT",
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "load_train_state",
    "remove_stale",
    "config_differences",
    "save_checkpoint",
    "write_model_folder",
]

log = logging.getLogger(__name__)

_TEMP_DIR = re.compile(r"^\.(?:old_|pruned_)?step_(\d{8,})\.(?:(\d+)\.)?")
# Test hook, read only by save_checkpoint: "STEP:SECONDS" makes the save of that step sleep after
# writing model.safetensors (before config.json and train_state.pt), so a test can SIGKILL the
# process in the middle of a checkpoint write. Unset in normal use.
PAUSE_ENV = "GANAUDIO_TEST_PAUSE_IN_SAVE"


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
    tmp = Path(tempfile.mkdtemp(prefix=f".step_{step:08d}.{os.getpid()}.", dir=directory))
    try:
        tensors = {}
        for name, module in modules.items():
            for key, value in module.state_dict().items():
                tensors[f"{name}.{key}"] = value.detach().to("cpu").contiguous().clone()
        save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        _test_pause(step)
        full = {"format": CHECKPOINT_FORMAT, "step": int(step), "ganaudio_version": __version__, **config}
        (tmp / "config.json").write_text(json.dumps(full, indent=2, sort_keys=True))
        if train_state is not None:
            torch.save(train_state, tmp / "train_state.pt")
        for file in tmp.iterdir():
            _fsync(file)
        os.chmod(tmp, 0o755)
        if final.exists():  # the same step written again after a resume: swap atomically enough
            old = directory / f".old_{final.name}.{os.getpid()}."
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
        _fsync(directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if keep is not None:
        for old in list_checkpoints(directory)[:-keep]:
            # renamed first, so a kill during the deletion never leaves a partial folder named step_*
            doomed = directory / f".pruned_{old.name}.{os.getpid()}."
            os.replace(old, doomed)
            shutil.rmtree(doomed, ignore_errors=True)
    log.info("checkpoint %s", final)
    return final


def _fsync(path: Path) -> None:
    """Flush a file's (or a folder's entries') data to disk, so a rename never exposes an empty file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _test_pause(step: int) -> None:
    value = os.environ.get(PAUSE_ENV)
    if value:
        at, _, seconds = value.partition(":")
        if int(at) == step:
            time.sleep(float(seconds or 60))


def remove_stale(directory: str | os.PathLike) -> list[Path]:
    """Delete the temporary folders a save killed midway left in a run's checkpoints folder; returns them.

    ``.step_<step>.<pid>.*`` (a checkpoint being written) and ``.pruned_step_*``
    (an old one being deleted) are removed unless the process ``pid`` still runs
    (another live save); ``.old_step_*`` (the previous copy of a step being
    rewritten) is renamed back when the kill came before its replacement was in
    place, else removed. Complete ``step_*`` folders are never
    touched. Each removal is logged.

    Examples
    --------
    >>> remove_stale("runs/tiny/checkpoints")   # doctest: +SKIP
    [PosixPath('runs/tiny/checkpoints/.step_00000400.1234.k2j3h4')]
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    removed = []
    for path in sorted(directory.iterdir()):
        match = _TEMP_DIR.match(path.name)
        if not match or not path.is_dir():
            continue
        pid = int(match.group(2)) if match.group(2) else None
        if pid is not None and pid != os.getpid() and _alive(pid):
            continue
        final = directory / f"step_{match.group(1)}"
        if path.name.startswith(".old_") and not final.exists() and (path / "config.json").is_file():
            os.replace(path, final)
            log.warning("restored %s from %s (a save was killed while replacing it)", final.name, path.name)
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
        log.warning("removed %s, a checkpoint left half-written by an interrupted save", path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def config_differences(saved: dict, now: dict, *, limit: int = 6, width: int = 40) -> list[str]:
    """The fields whose values differ, as ``"n_mels 128 (checkpoint) vs 256 (now)"``; at most ``limit`` + a count.

    Nested dicts are compared field by field (``generator.channels``); long
    values are cut to ``width`` characters, so the list stays short whatever
    the configs hold.

    Examples
    --------
    >>> config_differences({"n_mels": 128, "lr": 1e-3}, {"n_mels": 256, "lr": 1e-3})
    ['n_mels 128 (checkpoint) vs 256 (now)']
    """
    flat_saved, flat_now = _flatten(saved), _flatten(now)
    keys = list(flat_saved) + [k for k in flat_now if k not in flat_saved]  # the configs' own order
    missing = object()
    out = []
    for key in keys:
        a, b = flat_saved.get(key, missing), flat_now.get(key, missing)
        if _same(a, b):
            continue
        show = [("absent" if v is missing else _short(v, width)) for v in (a, b)]
        out.append(f"{key} {show[0]} (checkpoint) vs {show[1]} (now)")
    if len(out) > limit:
        out = out[:limit] + [f"and {len(out) - limit} more"]
    return out


def _same(a, b) -> bool:
    norm = (lambda v: list(v) if isinstance(v, tuple) else v)
    return norm(a) == norm(b)


def _flatten(config, prefix: str = "") -> dict:
    if not isinstance(config, dict):
        return {prefix.rstrip("."): config} if prefix else {"": config}
    out = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _short(value, width: int) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= width else text[:width - 3] + "..."


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

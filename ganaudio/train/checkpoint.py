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
from ganaudio.model_config import validate_model_config

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

CHECKPOINT_FORMAT = 1
_STEP_DIR = re.compile(r"^step_(\d{8,})$")
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

    from ganaudio import __version__

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


def write_model_folder(out_dir: str | os.PathLike, *, tensors: dict[str, torch.Tensor], config: dict) -> Path:
    """Write an exported model folder (``model.safetensors`` + ``config.json``) atomically.

    The folder is built beside ``out_dir`` and renamed into place (replacing an
    old one), so ``out_dir`` is complete or absent; files are world-readable
    (package data).
    """
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp / "model.safetensors"),
                  metadata={"format": "pt"})
        (tmp / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True))
        for file in tmp.iterdir():
            os.chmod(file, 0o644)
        os.chmod(tmp, 0o755)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def list_checkpoints(directory: str | os.PathLike) -> list[Path]:
    """Complete checkpoint folders under ``directory``, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if p.is_dir() and _STEP_DIR.match(p.name)
             and (p / "config.json").is_file() and (p / "model.safetensors").is_file()]
    return sorted(found, key=lambda p: int(_STEP_DIR.match(p.name).group(1)))


def latest_checkpoint(directory: str | os.PathLike) -> Path | None:
    """The newest complete checkpoint folder, or None."""
    found = list_checkpoints(directory)
    return found[-1] if found else None


def find_model_folder(name_or_path: str | os.PathLike, *, what: str, bundled: dict[str, Path]) -> Path:
    """The folder a loader reads: a bundled name, a model or checkpoint folder, or a run folder's newest checkpoint.

    Parameters
    ----------
    name_or_path : str or path-like
    what : str
        The kind of model, for the error message ("vocoder", "CycleGAN model").
    bundled : dict
        ``{name: folder}`` of the bundled models of this kind.

    Raises
    ------
    CheckpointError
        If nothing loadable is found; the message lists the bundled names.
    """
    text = str(name_or_path)
    if text in bundled:
        return Path(bundled[text])
    path = Path(name_or_path)
    if (path / "config.json").is_file():
        return path
    if (path / "checkpoints").is_dir():
        latest = latest_checkpoint(path / "checkpoints")
        if latest is not None:
            return latest
    raise CheckpointError(f"no {what} {text!r}: not a bundled name ({', '.join(sorted(bundled)) or 'none'}), "
                          f"a model folder with config.json, or a run folder with checkpoints")


def load_checkpoint(path: str | os.PathLike) -> tuple[dict, dict[str, dict[str, torch.Tensor]]]:
    """Read a model folder: ``(config, {module name: state dict})``.

    Raises
    ------
    CheckpointError
        If a file is missing, not safetensors / JSON, or from a newer format.

    Examples
    --------
    >>> config, states = load_checkpoint("run/checkpoints/step_00001000")
    >>> G = Generator(**config["generator"]); G.load_state_dict(states["generator_ema"])  # doctest: +SKIP
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"{path}: no such model folder (expected model.safetensors and config.json)")
    try:
        config = json.loads((path / "config.json").read_text())
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read config.json ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise CheckpointError(f"{path}/config.json is not valid JSON ({exc})") from None
    if not isinstance(config, dict) or "format" not in config:
        raise CheckpointError(f"{path}/config.json is not a ganaudio checkpoint config (no 'format' key)")
    if config["format"] > CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} has checkpoint format {config['format']}; this ganaudio reads up to "
                              f"{CHECKPOINT_FORMAT} (upgrade ganaudio)")
    validate_model_config(config, source=f"{path}/config.json")  # absurd sizes are refused before any allocation
    try:
        flat = load_file(str(path / "model.safetensors"))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: model.safetensors is missing") from None
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}/model.safetensors is not a valid safetensors file ({exc})") from None
    states: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in flat.items():
        name, _, rest = key.partition(".")
        states.setdefault(name, {})[rest] = value
    return config, states


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

"""The one module that knows model folders: where they are, how they are read and written, and which family loads them.

A model is a folder: ``model.safetensors`` (weights, keys prefixed by module
name: ``generator.``, ``generator_ema.``, ``discriminator.``...) and
``config.json`` (``format``, ``family``, constructor arguments, representation,
normalisation...). A training run keeps them under ``RUN/checkpoints/step_*``.

* :func:`bundled_models` and :data:`ASSETS`: the folders shipped in ``ganaudio/assets``.
* :func:`resolve_model_folder`: a bundled name, a model folder or a run folder (its newest checkpoint) to a path.
* :func:`validate_model_config`: sizes in a config.json (latent size, channels, n_fft...) checked against
  :mod:`ganaudio.limits` before anything is built, so a garbled or hostile file cannot ask for terabytes.
* :func:`read_model_folder` / :func:`write_model_folder`: the only code that opens or writes one.
* :func:`open_model`: resolve, read and check the family, in one call; :func:`build_from_config`
  and :func:`load_weights` turn its config and weights into modules with clear errors.
* :func:`load_model`: any model folder as its family's object (a :class:`~ganaudio.api.Synth`, a
  :class:`~ganaudio.compose.Composer`, a :class:`~ganaudio.vocoders.GANVocoder`...), through
  :data:`FAMILY_LOADERS`, the one place where a family registers its loader.

Examples
--------
>>> from ganaudio.loading import load_model
>>> composer = load_model("musegan_chorales")          # family read from config.json
>>> voc = load_model("vocoder_16k", family="vocoder")  # checked: CheckpointError for another family
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from ganaudio.errors import CheckpointError, ParameterError
from ganaudio.limits import (
    MAX_MODEL_DEPTH,
    MAX_MODEL_WIDTH,
    MAX_N_FFT,
    MAX_N_MELS,
    MAX_SAMPLE_RATE,
    MAX_TIME_STEPS,
    MIN_SAMPLE_RATE,
)

__all__ = ["ASSETS", "CHECKPOINT_FORMAT", "FAMILY_LOADERS", "MODEL_SECTIONS", "ModelFolder", "build_from_config", "bundled_models", "model_family",
           "latest_checkpoint", "list_checkpoints", "load_model", "load_weights", "open_model", "read_model_folder",
           "resolve_model_folder", "size_range", "validate_model_config", "write_model_folder"]

ASSETS = Path(__file__).resolve().parent / "assets"
CHECKPOINT_FORMAT = 1
_STEP_DIR = re.compile(r"^step_(\d{8,})$")

# family -> ("module:function" returning the family's object, how errors name the family). The loader takes
# (name_or_path, *, device) and is imported on first use: the objects it builds live in higher layers (synth,
# compose, vocoders, transfer, eval) that may import this module. A new family adds one line here.
FAMILY_LOADERS: dict[str, tuple[str, str]] = {
    "gansynth": ("ganaudio.api:load", "gansynth"),
    "musegan": ("ganaudio.compose:load_composer", "musegan"),
    "vocoder": ("ganaudio.vocoders.gan:load_vocoder", "a vocoder"),
    "cyclegan": ("ganaudio.transfer.cyclegan:load_cyclegan", "a CycleGAN timbre-transfer model (family 'cyclegan')"),
    "evaluator": ("ganaudio.eval.evaluator:load_evaluator", "an evaluator"),
    "ddspgan": ("ganaudio.synth.harmonic:load_ddspgan", "a harmonic-plus-noise instrument (family 'ddspgan')"),
}


# ---------------------------------------------------------------------------------------------- finding
def bundled_models(family: str | None = None) -> list[str]:
    """Names of the model folders shipped in ``ganaudio/assets`` (of one ``family`` when given).

    Examples
    --------
    >>> bundled_models("vocoder")
    ['vocoder_16k']
    """
    if not ASSETS.is_dir():
        return []
    names = sorted(p.name for p in ASSETS.iterdir() if (p / "config.json").is_file())
    return names if family is None else [n for n in names if _family_on_disk(ASSETS / n) == family]


def model_family(folder: str | os.PathLike) -> str | None:
    """The ``family`` a model folder's config.json names (None when it names none or cannot be read)."""
    return _family_on_disk(Path(folder))


def _family_on_disk(folder: Path) -> str | None:
    try:
        return json.loads((folder / "config.json").read_text()).get("family")
    except (OSError, ValueError, AttributeError):
        return None


def resolve_model_folder(name_or_path: str | os.PathLike | None, *, what: str = "model",
                         default: str | None = None, family: str | None = None) -> Path:
    """The folder a loader reads: a model or checkpoint folder, a run folder's newest checkpoint, or a bundled name.

    Parameters
    ----------
    name_or_path : str, path-like or None
        None: the bundled model ``default``.
    what : str
        The kind of model, for messages ("vocoder", "CycleGAN model").
    default : str, optional
        The bundled model that None stands for.
    family : str, optional
        Lists only this family's bundled models in messages.

    Raises
    ------
    CheckpointError
        If nothing loadable is found; the message lists the bundled names.

    Examples
    --------
    >>> resolve_model_folder("vocoder_16k").name
    'vocoder_16k'
    >>> resolve_model_folder("runs/vocos", what="vocoder")   # doctest: +SKIP
    PosixPath('runs/vocos/checkpoints/step_00009000')
    """
    known = ", ".join(bundled_models(family)) or "none installed"
    if name_or_path is None:
        if default is None:
            raise ParameterError(f"name a {what}: a bundled name ({known}) or a model folder")
        if not (ASSETS / default / "config.json").is_file():
            raise CheckpointError(f"the bundled model {default!r} is not installed in {ASSETS}; pass a model folder "
                                  f"instead (bundled models: {known})")
        return ASSETS / default
    text, path = str(name_or_path), Path(name_or_path)
    if (path / "config.json").is_file():
        return path
    if (path / "checkpoints").is_dir() and latest_checkpoint(path / "checkpoints") is not None:
        return latest_checkpoint(path / "checkpoints")
    if os.sep not in text and (ASSETS / text / "config.json").is_file():
        return ASSETS / text
    if path.is_dir():
        raise CheckpointError(f"no {what} in {text!r}: the folder has no config.json (not a model folder) and no "
                              f"complete checkpoints/ (not a run folder); bundled models: {known}")
    raise CheckpointError(f"model {text!r}: no {what} of that name: no such model folder, and neither a bundled "
                          f"model name ({known}) nor a run folder with checkpoints")


def list_checkpoints(directory: str | os.PathLike) -> list[Path]:
    """Complete checkpoint folders (``step_*`` with config and weights) under ``directory``, oldest first."""
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


# ---------------------------------------------------------------------------------------------- validation
#: The parts of a config that hold constructor arguments and analysis settings.
MODEL_SECTIONS = ("generator", "discriminator", "evaluator", "representation", "layout")

# (pattern on the field name, lowest, highest): the first match wins. Lists are checked item by item.
_RULES: tuple[tuple[str, int, int], ...] = (
    (r"sample_rate", MIN_SAMPLE_RATE, MAX_SAMPLE_RATE),
    (r"n_fft|win_length", 2, MAX_N_FFT),
    (r"hop_length", 1, MAX_N_FFT),
    (r"n_mels", 1, MAX_N_MELS),
    (r"n_pitches|n_tracks", 1, 128),
    (r"lowest_pitch|pitch_offset|programs", 0, 127),
    (r"n_bars|steps_per_bar|steps_per_beat|n_frames|image_shape", 1, MAX_TIME_STEPS),
    (r"latent_dim|embedding_dim", 1, MAX_MODEL_WIDTH),
    (r"n_families|resblock_type", 1, MAX_MODEL_DEPTH),
    (r"n_layers|n_blocks|n_downsample|mbstd_group", 0, MAX_MODEL_DEPTH),  # 0 turns a part off
    (r".*(kernel|rates|periods|dilation).*", 1, 1024),
    (r".*(channel|dim|hidden|branch|width).*", 0, MAX_MODEL_WIDTH),  # 0 turns a branch off (freq_branch)
)


def size_range(field: str) -> tuple[int, int] | None:
    """The allowed ``(low, high)`` of an integer config field, or None for a field that is not a size.

    Examples
    --------
    >>> size_range("latent_dim")
    (1, 4096)
    >>> size_range("dropout") is None
    True
    """
    for pattern, low, high in _RULES:
        if re.fullmatch(pattern, field):
            return low, high
    return None


def validate_model_config(config: dict, *, family: str | None = None, source: str = "config.json") -> dict:
    """Refuse a model config whose sizes are absurd, negative or not whole numbers; return it unchanged.

    Every field of :data:`MODEL_SECTIONS` whose name marks a size (see
    :func:`size_range`) must be a whole number, or a list of them, inside its
    range; every number anywhere in those sections must be finite.

    Parameters
    ----------
    config : dict
        The parsed ``config.json``.
    family : str, optional
        The family the caller expects; a config of another family is refused.
    source : str
        How to name the file in messages (e.g. ``"models/tiny/config.json"``).

    Raises
    ------
    CheckpointError
        Naming the field, its value and the allowed range, e.g.
        ``config.json: generator.latent_dim is 1000000000; allowed 1 to 4096``.

    Examples
    --------
    >>> validate_model_config({"family": "gansynth", "generator": {"latent_dim": 64}})["generator"]
    {'latent_dim': 64}
    """
    if not isinstance(config, dict):
        raise CheckpointError(f"{source}: expected a JSON object, got {type(config).__name__}")
    if family is not None and config.get("family") != family:
        raise CheckpointError(f"{source} holds a {config.get('family')!r} model, not {family}")
    for section in MODEL_SECTIONS:
        if section in config:
            _check(config[section], section, None, source)
    return config


def _check(value, where: str, bounds: tuple[int, int] | None, source: str) -> None:
    """Walk ``value``; ``bounds`` is the range of the nearest enclosing size field (None: not a size)."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check(item, f"{where}.{key}", size_range(str(key)), source)
    elif isinstance(value, list):
        for k, item in enumerate(value):
            _check(item, f"{where}[{k}]", bounds, source)
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        if bounds is not None and isinstance(value, bool):
            raise CheckpointError(f"{source}: {where} is {value!r}; expected a whole number from {bounds[0]} to "
                                  f"{bounds[1]}")
    elif isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise CheckpointError(f"{source}: {where} is {value!r}; expected a finite number")
        if bounds is None:
            return
        low, high = bounds
        if isinstance(value, float):
            raise CheckpointError(f"{source}: {where} is {value!r}; expected a whole number from {low} to {high}")
        if not low <= value <= high:
            raise CheckpointError(f"{source}: {where} is {value}; allowed {low} to {high}")


# ---------------------------------------------------------------------------------------------- reading and writing
def read_model_folder(path: str | os.PathLike) -> tuple[dict, dict[str, dict[str, torch.Tensor]]]:
    """Read a model folder: ``(config, {module name: state dict})``.

    Nothing is unpickled: weights come from safetensors, settings from JSON.

    Raises
    ------
    CheckpointError
        If a file is missing, not safetensors / JSON, or from a newer format.

    Examples
    --------
    >>> config, states = read_model_folder("run/checkpoints/step_00001000")     # doctest: +SKIP
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


# ---------------------------------------------------------------------------------------------- opening by family
@dataclasses.dataclass
class ModelFolder:
    """A read model folder: where it is, its config.json and its weights by module name."""

    path: Path
    config: dict
    states: dict[str, dict[str, torch.Tensor]]


def open_model(name_or_path: str | os.PathLike | None, *, family: str, what: str | None = None,
               default: str | None = None, resolve: bool = True) -> ModelFolder:
    """Resolve ``name_or_path`` (see :func:`resolve_model_folder`), read it and check that it holds ``family``.

    ``resolve=False`` reads ``name_or_path`` as the folder itself.

    Raises
    ------
    CheckpointError
        If nothing is found, the folder is unreadable, or it holds another family
        ("... holds a 'vocoder' model, not gansynth").
    """
    what = what or f"{family} model"
    path = resolve_model_folder(name_or_path, what=what, default=default, family=family) if resolve \
        else Path(name_or_path)
    config, states = read_model_folder(path)
    if config.get("family") != family:
        label = FAMILY_LOADERS[family][1] if family in FAMILY_LOADERS else family
        raise CheckpointError(f"{path} holds a {config.get('family')!r} model, not {label}")
    return ModelFolder(path, config, states)


def build_from_config(folder: ModelFolder, build: Callable[[dict], object]):
    """``build(config)``, with a missing or malformed config entry raised as CheckpointError naming the folder.

    Examples
    --------
    >>> G = build_from_config(folder, lambda c: Generator.from_config(c["generator"]))   # doctest: +SKIP
    """
    try:
        return build(folder.config)
    except (KeyError, TypeError, ValueError, ParameterError) as exc:
        raise CheckpointError(f"{folder.path}/config.json lacks or garbles {exc}") from None


def load_weights(module: torch.nn.Module, folder: ModelFolder, *, keys: Sequence[str] = ("generator_ema", "generator"),
                 what: str = "generator", convert: Callable | None = None) -> torch.nn.Module:
    """Load the first of ``keys`` that the folder holds into ``module`` (the EMA generator before the raw one).

    ``convert`` maps each tensor first (e.g. ``lambda t: t.float()`` for float16 exports).

    Raises
    ------
    CheckpointError
        If none of ``keys`` is there or the weights do not fit ``module``.
    """
    key = next((k for k in keys if k in folder.states), keys[-1])
    try:
        state = folder.states[key]
        module.load_state_dict({k: convert(v) for k, v in state.items()} if convert else state)
    except (KeyError, RuntimeError) as exc:
        raise CheckpointError(f"{folder.path}: {what} weights do not fit its config "
                              f"({str(exc).splitlines()[0]})") from None
    return module


def load_model(name_or_path: str | os.PathLike, family: str | None = None, *,
               device: str | torch.device | None = None):
    """Any model folder as its family's object, the family read from its config.json.

    ========== ===================================================== ==================================
    family     returns                                               same as
    ========== ===================================================== ==================================
    gansynth   :class:`ganaudio.api.Synth`                           ``ganaudio.load``
    musegan    :class:`ganaudio.compose.Composer`                    ``ganaudio.load_composer``
    vocoder    :class:`ganaudio.vocoders.GANVocoder`                 ``ganaudio.load_vocoder``
    cyclegan   :class:`ganaudio.transfer.CycleGANTransfer`           ``ganaudio.transfer.load_cyclegan``
    evaluator  :class:`ganaudio.eval.Evaluator`                      ``ganaudio.load_evaluator``
    ddspgan    :class:`ganaudio.synth.harmonic.HarmonicSynth`        ``load_ddspgan``
    ========== ===================================================== ==================================

    Parameters
    ----------
    name_or_path : str or path-like
        A bundled model's name, a model or checkpoint folder, or a run folder (its newest checkpoint).
    family : str, optional
        The family expected; another family in the folder is a CheckpointError.
    device : str or torch.device, optional
        Where the model runs (default CPU).

    Raises
    ------
    CheckpointError
        If nothing is found, the folder's family is not ``family``, or no loader knows its family.

    Examples
    --------
    >>> load_model("gansynth_tiny").generate(60, 0)        # doctest: +SKIP
    >>> load_model("vocoder_16k", family="gansynth")
    Traceback (most recent call last):
    ...
    ganaudio.errors.CheckpointError: .../vocoder_16k holds a 'vocoder' model, not gansynth
    """
    if family is not None and family not in FAMILY_LOADERS:
        raise CheckpointError(f"unknown model family {family!r}; families: {', '.join(sorted(FAMILY_LOADERS))}")
    path = resolve_model_folder(name_or_path, what=f"{family} model" if family else "model", family=family)
    found = _family_on_disk(path)
    if found not in FAMILY_LOADERS:
        raise CheckpointError(f"{path} holds a model of family {found!r}, which no loader knows; families: "
                              f"{', '.join(sorted(FAMILY_LOADERS))}")
    if family is not None and found != family:
        raise CheckpointError(f"{path} holds a {found!r} model, not {FAMILY_LOADERS[family][1]}")
    module, _, function = FAMILY_LOADERS[found][0].partition(":")
    loader = getattr(importlib.import_module(module), function)
    return loader(path, device=device or "cpu")

"""Validate a model folder's ``config.json`` before anything is built from it.

A config names the sizes of the networks a loader is about to allocate: latent
sizes, channel counts, FFT sizes, pitch ranges. A hostile or garbled file with
a latent size of 10**9, an n_fft of 2**40 or a million channels would make the
constructors ask for terabytes. :func:`validate_model_config` checks every such
field against the ranges in :mod:`ganaudio.limits` and raises
:class:`~ganaudio.errors.CheckpointError` naming the field and its allowed range,
before any weight is allocated. Every loader reads configs through
``ganaudio.train.checkpoint.load_checkpoint``, which calls it.
"""

from __future__ import annotations

import math
import re

from ganaudio.errors import CheckpointError
from ganaudio.limits import (
    MAX_MODEL_DEPTH,
    MAX_MODEL_WIDTH,
    MAX_N_FFT,
    MAX_N_MELS,
    MAX_SAMPLE_RATE,
    MAX_TIME_STEPS,
    MIN_SAMPLE_RATE,
)

__all__ = ["validate_model_config", "MODEL_SECTIONS", "size_range"]

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

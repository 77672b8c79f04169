"""What every preset shares: the base class, type-checked overrides, config files and ``KEY=VALUE`` parsing.

A family's preset is a frozen dataclass deriving from :class:`Preset`, with a
``label`` (its name in messages) and its named presets in a dict;
:func:`ganaudio.presets.load_preset` finds both by family name.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import typing
from pathlib import Path
from typing import ClassVar

from ganaudio.errors import ParameterError

__all__ = ["Preset", "apply_overrides", "parse_assignments", "read_config_file", "replace_checked", "resolve_preset"]


class Preset:
    """Base of every family's preset dataclass: ``to_dict`` for checkpoints, ``label`` for messages."""

    label: ClassVar[str] = ""

    def to_dict(self) -> dict:
        """The settings as JSON-able plain values (tuples as lists), as a checkpoint's config.json stores them."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


def apply_overrides(preset: Preset, overrides: dict) -> Preset:
    """Return ``preset`` with ``overrides`` (``{field: value}``) applied and type-checked, for any family.

    Raises
    ------
    ParameterError
        For an unknown field (naming the nearest valid ones) or a value of the wrong type.

    Examples
    --------
    >>> from ganaudio.presets.gansynth import PRESETS
    >>> apply_overrides(PRESETS["tiny"], {"batch_size": 8, "g_channels": [32, 16, 8]}).batch_size
    8
    """
    return replace_checked(preset, overrides, what=type(preset).label)


def replace_checked(preset, overrides: dict, *, what: str):
    """:func:`apply_overrides` for any dataclass, ``what`` naming the family in errors ("GANSynth", "vocoder")."""
    if not isinstance(overrides, dict):
        raise ParameterError(f"overrides must be a mapping of field names to values, got {type(overrides).__name__}")
    hints = typing.get_type_hints(type(preset))
    fields = {f.name for f in dataclasses.fields(preset)}
    changes = {}
    for key, value in overrides.items():
        if key not in fields:
            near = difflib.get_close_matches(str(key), sorted(fields), n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else f"; fields are {sorted(fields)}"
            raise ParameterError(f"unknown {what} setting {key!r}{hint}")
        changes[key] = coerce(key, hints[key], value)
    return dataclasses.replace(preset, **changes)


def coerce(name: str, hint, value):
    """Convert a parsed YAML/JSON/CLI value to the type ``hint``, or raise ParameterError."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if type(None) in args:
        if value is None:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if value is None:
        raise ParameterError(f"{name} cannot be null")
    if origin is tuple:
        if isinstance(value, (str, int, float)):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ParameterError(f"{name} must be a list, got {value!r}")
        return tuple(coerce(name, args[0], v) for v in value)
    return _scalar(name, hint, value)


def _scalar(name: str, kind, value):
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ParameterError(f"{name} must be true or false, got {value!r}")
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value):
            raise ParameterError(f"{name} must be a whole number, got {value!r}")
        return int(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParameterError(f"{name} must be a number, got {value!r}")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise ParameterError(f"{name} must be a string, got {value!r}")
        return value
    raise ParameterError(f"{name}: unsupported type {kind}")  # pragma: no cover


def resolve_preset(presets: dict, name: str, *, config_file=None, overrides: dict | None = None):
    """A named preset, then a YAML/JSON file's settings, then ``overrides`` (later wins), each type-checked.

    The file may name its own base with ``preset:``. The family's label (in
    errors: "unknown MuseGAN preset ...") comes from the presets' class.

    Raises
    ------
    ParameterError
        For an unknown preset name, an unknown field or a value of the wrong type.
    """
    file_settings = read_config_file(config_file) if config_file is not None else {}
    name = file_settings.pop("preset", name)
    label = type(next(iter(presets.values()))).label
    if name not in presets:
        raise ParameterError(f"unknown {label} preset {name!r}; choose one of {sorted(presets)}")
    return replace_checked(replace_checked(presets[name], file_settings, what=label), overrides or {}, what=label)


def read_config_file(path: str | os.PathLike) -> dict:
    """Read a YAML (.yaml/.yml) or JSON (.json) file holding a flat mapping of settings."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ParameterError(f"cannot read config file {str(path)!r}: {exc.strerror or exc}") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except ValueError as exc:  # json.JSONDecodeError and yaml.YAMLError
        raise ParameterError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'} ({exc})") from None
    except Exception as exc:  # yaml.YAMLError is not a ValueError
        raise ParameterError(f"{path}: not valid YAML ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    return data


def parse_assignments(assignments: typing.Iterable[str]) -> dict:
    """``["batch_size=8", "g_channels=[32,16]"]`` to ``{"batch_size": 8, "g_channels": [32, 16]}`` (YAML values)."""
    import yaml

    out = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"expected KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise ParameterError(f"cannot parse the value in {item!r}: {exc}") from None
    return out

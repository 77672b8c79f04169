"""Type-checked overrides for any preset dataclass (shared by the GANSynth, MuseGAN and vocoder presets)."""

from __future__ import annotations

import dataclasses
import difflib
import typing

from ganaudio.errors import ParameterError

__all__ = ["replace_checked", "resolve_preset"]


def replace_checked(preset, overrides: dict, *, what: str):
    """``preset`` (a dataclass) with ``{field: value}`` converted to each field's declared type.

    ``what`` names the family in errors ("GANSynth", "MuseGAN", "vocoder").

    Raises
    ------
    ParameterError
        For an unknown field (naming the nearest valid ones) or a value of the wrong type.

    Examples
    --------
    >>> from ganaudio.presets.gansynth import PRESETS
    >>> replace_checked(PRESETS["tiny"], {"batch_size": 8}, what="GANSynth").batch_size
    8
    """
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


def resolve_preset(presets: dict, name: str, *, config_file=None, overrides: dict | None = None, what: str = ""):
    """A named preset, then a YAML/JSON file's settings, then ``overrides`` (later wins), each type-checked.

    The file may name its own base with ``preset:``. ``what`` names the family in
    errors ("unknown MuseGAN preset ..."); empty for GANSynth's plain "unknown preset".

    Raises
    ------
    ParameterError
        For an unknown preset name, an unknown field or a value of the wrong type.
    """
    from ganaudio.presets.gansynth import read_config_file

    file_settings = read_config_file(config_file) if config_file is not None else {}
    name = file_settings.pop("preset", name)
    if name not in presets:
        label = f"{what} preset" if what else "preset"
        raise ParameterError(f"unknown {label} {name!r}; choose one of {sorted(presets)}")
    family = what or "GANSynth"
    return replace_checked(replace_checked(presets[name], file_settings, what=family), overrides or {}, what=family)

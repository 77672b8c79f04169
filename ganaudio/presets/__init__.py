"""Dataclass configurations per model family, with YAML/JSON and command-line overrides: one way in for all.

``load_preset(name, family=...)`` takes a named preset of a family, then a
config file's settings, then ``--set`` overrides (later wins), each checked
against the field's type. Only presets, the command line and recipes read
configuration files; models take the explicit keyword arguments a preset's
``generator_kwargs()`` etc. return.
"""

from __future__ import annotations

import os

from ganaudio.errors import ParameterError
from ganaudio.presets.base import Preset, apply_overrides, parse_assignments, read_config_file, resolve_preset
from ganaudio.presets.cyclegan import CYCLEGAN_PRESETS, CycleGANPreset
from ganaudio.presets.ddspgan import DDSPGAN_PRESETS, InstrumentPreset
from ganaudio.presets.gansynth import PRESETS, GANSynthPreset
from ganaudio.presets.musegan import MUSEGAN_PRESETS, MuseGANPreset
from ganaudio.presets.vocoder import VOCODER_PRESETS, VocoderPreset

__all__ = ["CYCLEGAN_PRESETS", "DDSPGAN_PRESETS", "FAMILY_PRESETS", "MUSEGAN_PRESETS", "PRESETS", "VOCODER_PRESETS", "CycleGANPreset",
           "GANSynthPreset", "InstrumentPreset", "MuseGANPreset", "Preset", "VocoderPreset", "apply_overrides", "load_preset",
           "load_vocoder_preset", "parse_assignments", "read_config_file"]

# family -> (its named presets, the default name); a new family adds one line here
FAMILY_PRESETS: dict[str, tuple[dict[str, Preset], str]] = {
    "gansynth": (PRESETS, "tiny"),
    "musegan": (MUSEGAN_PRESETS, "tiny"),
    "vocoder": (VOCODER_PRESETS, "vocos"),
    "cyclegan": (CYCLEGAN_PRESETS, "tiny"),
    "ddspgan": (DDSPGAN_PRESETS, "44k"),
}


def load_preset(name: str | None = None, *, family: str = "gansynth", config_file: str | os.PathLike | None = None,
                overrides: dict | None = None) -> Preset:
    """A family's named preset, then a YAML/JSON file's settings, then ``overrides`` (later wins).

    Parameters
    ----------
    name : str, optional
        A preset of ``family`` (default: the family's default, e.g. ``tiny``). A config file
        may name its own base preset with a ``preset:`` key.
    family : {"gansynth", "musegan", "vocoder", "cyclegan", "ddspgan"}
    config_file : path-like, optional
        YAML (.yaml/.yml) or JSON (.json) holding a flat mapping of settings.
    overrides : dict, optional
        ``{field: value}``, e.g. from :func:`parse_assignments` of ``--set KEY=VALUE`` options.

    Raises
    ------
    ParameterError
        For an unknown family or preset, an unknown field or a value of the wrong type.

    Examples
    --------
    >>> load_preset("paper").n_mels
    1024
    >>> load_preset("tiny", family="musegan", overrides={"steps": 10}).steps
    10
    """
    if family not in FAMILY_PRESETS:
        raise ParameterError(f"unknown model family {family!r} for presets; choose one of {sorted(FAMILY_PRESETS)}")
    presets, default = FAMILY_PRESETS[family]
    return resolve_preset(presets, default if name is None else name, config_file=config_file, overrides=overrides)


def load_vocoder_preset(name: str = "vocos", *, config_file: str | os.PathLike | None = None,
                        overrides: dict | None = None) -> VocoderPreset:
    """``load_preset(name, family="vocoder", ...)``; kept because ``ganaudio.load_vocoder_preset`` is public.

    Examples
    --------
    >>> load_vocoder_preset("v3", overrides={"sample_rate": 22050}).upsample_rates
    (8, 8, 4)
    """
    return load_preset(name, family="vocoder", config_file=config_file, overrides=overrides)

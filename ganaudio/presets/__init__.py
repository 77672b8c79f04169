"""Dataclass configurations per model family (``tiny``, ``paper``), with YAML/JSON and command-line overrides.

Only presets, the command line and recipes read configuration files; models
take the explicit keyword arguments a preset's ``generator_kwargs()`` etc. return.
"""

from ganaudio.presets.gansynth import PRESETS, GANSynthPreset, apply_overrides, load_preset, parse_assignments

__all__ = ["PRESETS", "GANSynthPreset", "apply_overrides", "load_preset", "parse_assignments"]

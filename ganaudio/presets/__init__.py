"""Dataclass configurations per model family (``tiny``, ``paper``), with YAML/JSON and command-line overrides.

Only presets, the command line and recipes read configuration files; models
take the explicit keyword arguments a preset's ``generator_kwargs()`` etc. return.
"""

from ganaudio.presets.gansynth import GANSynthPreset, load_preset, PRESETS, apply_overrides, parse_assignments

__all__ = ["GANSynthPreset", "PRESETS", "load_preset", "apply_overrides", "parse_assignments"]

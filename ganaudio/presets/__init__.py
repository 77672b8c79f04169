"""Dataclass configurations per model family (``tiny``, ``paper``), with YAML/JSON and command-line overrides.

Only presets, the command line and recipes read configuration files; models
take the explicit keyword arguments a preset's ``generator_kwargs()`` etc. return.
"""

from ganaudio.presets.gansynth import PRESETS, GANSynthPreset, apply_overrides, load_preset, parse_assignments
from ganaudio.presets.vocoder import VOCODER_PRESETS, VocoderPreset, load_vocoder_preset

__all__ = ["PRESETS", "VOCODER_PRESETS", "GANSynthPreset", "VocoderPreset", "apply_overrides", "load_preset",
           "load_vocoder_preset", "parse_assignments"]

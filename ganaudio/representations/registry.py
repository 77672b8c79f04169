"""Build a representation by name or from its saved ``config()`` dictionary."""

from __future__ import annotations

import dataclasses

from ganaudio.errors import ParameterError
from ganaudio.representations.cqt import CQT
from ganaudio.representations.pianoroll import PianoRoll
from ganaudio.representations.spectral import IF, STFT, IFMel, Mel

__all__ = ["AUDIO_REPRESENTATIONS", "REPRESENTATIONS", "make", "from_config"]

AUDIO_REPRESENTATIONS = {cls.name: cls for cls in (STFT, Mel, IF, IFMel, CQT)}
REPRESENTATIONS = {**AUDIO_REPRESENTATIONS, PianoRoll.name: PianoRoll}


def make(name: str, **kwargs):
    """Construct the representation called ``name`` (stft, mel, if, ifmel, cqt, pianoroll).

    Unknown keyword arguments raise ParameterError naming them.

    Examples
    --------
    >>> make("ifmel", sample_rate=16000, n_mels=128)
    IFMel(sample_rate=16000, n_fft=1024, hop_length=256, win_length=None, n_mels=128, ...)
    """
    cls = REPRESENTATIONS.get(name)
    if cls is None:
        raise ParameterError(f"unknown representation {name!r}; choose one of {sorted(REPRESENTATIONS)}")
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(kwargs) - fields)
    if unknown:
        raise ParameterError(f"{name} has no parameter(s) {unknown}; it takes {sorted(fields)}")
    return cls(**kwargs)


def from_config(config: dict):
    """Inverse of ``rep.config()``."""
    if not isinstance(config, dict) or "type" not in config:
        raise ParameterError(f"a representation config needs a 'type' key, got {config!r}")
    params = {k: v for k, v in config.items() if k != "type"}
    return make(config["type"], **params)

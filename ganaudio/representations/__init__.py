"""Representations: parameter holders pairing ``encode`` with an exact ``decode``.

Audio: :class:`STFT`, :class:`Mel`, :class:`IF`, :class:`IFMel`, :class:`CQT`;
symbolic: :class:`PianoRoll`. :class:`Normalizer` maps channels to [-1, 1]
with statistics saved beside a data set or model. :func:`from_config` rebuilds
any of them from its ``config()`` dictionary.
"""

from ganaudio.representations.cqt import CQT
from ganaudio.representations.normalize import Normalizer
from ganaudio.representations.pianoroll import PianoRoll
from ganaudio.representations.registry import AUDIO_REPRESENTATIONS, REPRESENTATIONS, from_config, make
from ganaudio.representations.spectral import DECODE_METHODS, IF, STFT, IFMel, Mel, SpectralRepresentation

__all__ = [
    "SpectralRepresentation",
    "STFT",
    "Mel",
    "IF",
    "IFMel",
    "CQT",
    "Normalizer",
    "PianoRoll",
    "REPRESENTATIONS",
    "DECODE_METHODS",
    "AUDIO_REPRESENTATIONS",
    "from_config",
    "make",
]

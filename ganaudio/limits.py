"""Named limits, checked up front: the sizes past which a command would run out of memory or time.

Every numeric limit the command line and the model loaders enforce lives here,
so a message can name it and a user (or a test) can find it. Checks raise
:class:`~ganaudio.errors.ParameterError` naming the value, the limit and, where
there is one, the way past it.
"""

from __future__ import annotations

import hashlib
import math

from ganaudio.errors import ParameterError

__all__ = [
    "MAX_NOTE_SECONDS",
    "MAX_INTERPOLATE_STEPS",
    "MAX_COMPOSE_BARS",
    "MAX_TIMBRES",
    "MAX_N_FFT",
    "ESTIMATE_SAMPLE_RATE",
    "MAX_MODEL_WIDTH",
    "MAX_MODEL_DEPTH",
    "MAX_N_MELS",
    "MIN_SAMPLE_RATE",
    "MAX_SAMPLE_RATE",
    "MAX_TIME_STEPS",
    "SEED_RANGE",
    "reduce_seed",
    "check_count",
    "check_seconds",
]

#: ``generate`` / ``interpolate --duration``: one held note. Ten minutes is 38 MB of float32 audio at 16 kHz;
#: ``generate --duration 600`` peaks at 1.5 GB RSS in 13 s on 2 CPU cores (bundled gansynth_tiny).
MAX_NOTE_SECONDS = 600.0
#: ``interpolate --steps``: notes in one sweep (about 17 minutes of one-second notes).
MAX_INTERPOLATE_STEPS = 1000
#: ``compose --bars``: 2,000 bars of 4/4 are 80 minutes at 100 quarter notes per minute;
#: ``compose --bars 2000`` peaks at 1.2 GB RSS in 7 s (bundled musegan_chorales).
MAX_COMPOSE_BARS = 2000
#: ``timbres --count``: previews drawn in one run (each is a WAV and a timbre file).
MAX_TIMBRES = 1000
#: FFT size: 65,536 samples is 4 s at 16 kHz, far past any front end; 2**40 would ask for terabytes.
MAX_N_FFT = 2**16
#: Sample rate assumed by free-space estimates made before a model (and its rate) is loaded: an upper bound.
ESTIMATE_SAMPLE_RATE = 48_000

# Model-config sizes (ganaudio.loading.validate_model_config): generous beside every preset, far below the
# 10**6 channels or 10**9 latent sizes that would ask for terabytes before a weight is read.
#: Channels, latent and hidden sizes. The largest preset uses 1,536 (vocos-base's intermediate size).
MAX_MODEL_WIDTH = 4096
#: Layers, blocks and other repeat counts.
MAX_MODEL_DEPTH = 256
#: Mel bands.
MAX_N_MELS = 4096
#: Sample rates a model may declare (Hz).
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1000, 384_000
#: Frames, bars, steps and image sizes a model may declare.
MAX_TIME_STEPS = 65_536
#: Seeds the random generators take as they are (torch takes 64 bits, numpy's default_rng non-negative ints).
SEED_RANGE = (0, 2**63)


def reduce_seed(seed: int) -> int:
    """Map any integer to a generator seed in ``[0, 2**63)``, deterministically.

    Seeds already in range are returned unchanged (so existing seeds keep their
    timbres and pieces); others, negative or of any size, are hashed with
    SHA-256 of their decimal text.

    Examples
    --------
    >>> reduce_seed(7)
    7
    >>> reduce_seed(99999999999999999999999) == reduce_seed(99999999999999999999999) < 2**63
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        try:
            seed = int(seed)  # numpy integers
        except (TypeError, ValueError):
            raise ParameterError(f"a seed must be a whole number, got {seed!r}") from None
    low, high = SEED_RANGE
    if low <= seed < high:
        return seed
    digest = hashlib.sha256(str(seed).encode()).digest()
    return int.from_bytes(digest[:8], "little") % high


def check_count(value: int, *, name: str, limit: int, low: int = 1, way_past: str = "") -> int:
    """Return ``value`` if ``low <= value <= limit``, else raise ParameterError naming the limit.

    Examples
    --------
    >>> check_count(8, name="--steps", limit=MAX_INTERPOLATE_STEPS, low=2)
    8
    """
    if value < low:
        raise ParameterError(f"{name} must be >= {low}, got {value}")
    if value > limit:
        raise ParameterError(f"{name} {value} is over the limit of {limit}" + (f"; {way_past}" if way_past else ""))
    return value


def check_seconds(value: float, *, name: str, limit: float, way_past: str = "") -> float:
    """Return ``value`` if it is finite, > 0 and <= ``limit`` seconds, else raise ParameterError.

    Examples
    --------
    >>> check_seconds(2.0, name="--duration", limit=MAX_NOTE_SECONDS)
    2.0
    """
    if not math.isfinite(value) or value <= 0:
        raise ParameterError(f"{name} must be a positive number of seconds, got {value:g}")
    if value > limit:
        raise ParameterError(f"{name} {value:g} s is over the limit of {limit:g} s"
                             + (f"; {way_past}" if way_past else ""))
    return value

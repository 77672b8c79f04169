"""Audio file input and output: the only module that touches audio formats.

Loading goes through libsndfile (``soundfile``), so WAV, FLAC, OGG/Vorbis and
MP3 (libsndfile >= 1.1) all read. Resampling uses ``soxr`` (installed with
librosa). Saving is atomic: the file is written under a temporary name in the
destination folder, fsynced and renamed into place, so a crash never leaves a
half-written file under the final name (see :mod:`ganaudio.outputs`, whose
``atomic_path`` this module re-exports). A WAV cut inside its header is refused;
one whose data is cut is read with a warning naming how much is missing.
"""

from __future__ import annotations

import errno
import logging
import os
import re
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ganaudio.errors import AudioFileError, OutputError, ParameterError
from ganaudio.outputs import OutputSet, atomic_path, output_reason

log = logging.getLogger(__name__)

__all__ = [
    "load_audio",
    "save_audio",
    "resample",
    "peak_normalize",
    "audio_info",
    "atomic_path",
    "audio_format",
    "check_waveform",
    "wav_data_sizes",
]

SAVE_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}


def check_sample_rate(sample_rate: float, name: str = "sample_rate") -> int:
    """Return ``sample_rate`` as int, or raise ParameterError if not positive."""
    try:
        value = float(sample_rate)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a positive number, got {sample_rate!r}") from None
    if not np.isfinite(value) or value <= 0 or value != int(value):
        raise ParameterError(f"{name} must be a positive whole number of Hz, got {sample_rate!r}")
    return int(value)


def check_waveform(y: np.ndarray, *, name: str = "audio") -> np.ndarray:
    """Validate a waveform array ``(..., time)`` and return it as float32.

    Raises
    ------
    ParameterError
        If it is not numeric, has no samples, or holds NaN or inf.
    """
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.number):
        raise ParameterError(f"{name} must be a numeric array, got dtype {y.dtype}")
    if y.ndim == 0 or y.shape[-1] == 0:
        raise ParameterError(f"{name} must have shape (..., time) with time > 0, got {y.shape}")
    y = y.astype(np.float32, copy=False)
    if not np.all(np.isfinite(y)):
        raise ParameterError(f"{name} contains NaN or inf samples")
    return y


#: A cut WAV holding less than this share of the audio its header declares is refused, not read.
MIN_TRUNCATED_FRACTION = 0.1

_UNKNOWN_SIZES = (0, 0xFFFFFFFF, 0xFFFFFFFE)  # streaming writers leave the data size unset
# libsndfile's log line for a cut data chunk: "data : <declared> (should be <present>)"
_DATA_CUT = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


def wav_data_sizes(info) -> tuple[int, int] | None:
    """``(declared, present)`` bytes of a cut WAV data chunk, from libsndfile's header log; None when whole.

    ``info`` is :func:`audio_info`'s result (or a path). libsndfile reads the
    frames that are there and logs ``data : <declared> (should be <present>)``
    when the file ends before the data its header declares. Sizes a streaming
    writer leaves unset (0, 0xFFFFFFFF) are not a cut.

    Examples
    --------
    >>> wav_data_sizes(audio_info("samples/trumpet_c4.wav")) is None
    True
    """
    if isinstance(info, str | os.PathLike):
        info = audio_info(info)
    match = _DATA_CUT.search(getattr(info, "extra_info", "") or "")
    if not match:
        return None
    declared, present = int(match.group(1)), int(match.group(2))
    if declared in _UNKNOWN_SIZES or present >= declared:
        return None
    return declared, present


def _check_truncation(path: Path, info) -> None:
    """Refuse a WAV holding under 10% of the data its header declares; warn when its data is cut."""
    sizes = wav_data_sizes(info)
    if sizes is None:
        return
    declared, present = sizes
    share = present / declared
    per_second = present / info.duration if info.frames else None  # bytes of audio per second, from what is there
    whole = f"{declared / per_second:.2f} s" if per_second else "?"
    if share < MIN_TRUNCATED_FRACTION:
        raise AudioFileError(f"{path}: WAV file is cut: its header declares {declared} bytes of audio ({whole}), "
                             f"only {present} ({share:.1%}) are there; refusing it (less than "
                             f"{MIN_TRUNCATED_FRACTION:.0%} of the audio)")
    missing = f"{(declared - present) / per_second:.2f} s" if per_second else f"{declared - present} bytes"
    log.warning("%s: WAV file is cut: %d of %d data bytes are there, %s of audio missing; reading the "
                "%.2f s present", path, present, declared, missing, info.duration)


def _header_cut(path: Path) -> str | None:
    """How a RIFF file is cut inside its header ('40 of the 64044 bytes it declares'), or None.

    The RIFF form starts with "RIFF", a 32-bit little-endian size of what follows, and "WAVE"
    (Microsoft/IBM, *Multimedia Programming Interface and Data Specifications 1.0*, 1991).
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
        size = path.stat().st_size
    except OSError:
        return None
    if head[:4] != b"RIFF":
        return None
    if len(head) < 8:
        return f"{size} bytes"
    declared = int.from_bytes(head[4:8], "little") + 8
    if declared in (8, 0xFFFFFFFF + 8) or size >= declared:
        return None
    return f"{size} of the {declared} bytes it declares"


def audio_info(path: str | os.PathLike) -> sf._SoundFileInfo:
    """Return libsndfile's info (sample rate, channels, frames) for ``path``.

    A WAV cut inside its header raises AudioFileError saying so.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"{path}: no such audio file")
    try:
        return sf.info(str(path))
    except Exception as exc:  # libsndfile raises several types
        cut = _header_cut(path)
        if cut is not None:
            raise AudioFileError(f"{path}: cannot read audio: WAV file cut inside its header ({cut}; libsndfile: "
                                 f"{_short(exc)})") from None
        raise AudioFileError(f"{path}: cannot read audio ({_short(exc)})") from None


def load_audio(
    path: str | os.PathLike,
    *,
    sample_rate: int | None = None,
    mono: bool = True,
    channel: int | None = None,
    normalize: bool = False,
    offset: float = 0.0,
    duration: float | None = None,
) -> tuple[np.ndarray, int]:
    """Read an audio file into a float32 array.

    Parameters
    ----------
    path : path-like
        Any file libsndfile reads (WAV, FLAC, OGG, MP3, AIFF, ...).
    sample_rate : int, optional
        Resample to this rate (Hz) with soxr; None keeps the file's rate.
    mono : bool
        Mix channels down to one. Ignored when ``channel`` is given.
    channel : int, optional
        Keep only this channel (0-based).
    normalize : bool
        Scale so the peak absolute sample is 1.
    offset, duration : float
        Seconds to skip and to read (None reads to the end).

    Returns
    -------
    y : np.ndarray, float32, shape ``(time,)`` when mono or a channel is
        chosen, else ``(channels, time)``
    sample_rate : int

    Examples
    --------
    >>> y, sr = load_audio("samples/trumpet_c4.wav", sample_rate=16000)
    """
    path = Path(path)
    info = audio_info(path)
    _check_truncation(path, info)
    if sample_rate is not None:
        sample_rate = check_sample_rate(sample_rate)
    start = int(round(offset * info.samplerate))
    frames = -1 if duration is None else int(round(duration * info.samplerate))
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True, start=start, frames=frames)
    except Exception as exc:
        raise AudioFileError(f"{path}: cannot decode audio ({_short(exc)})") from None
    if data.shape[0] == 0:
        raise AudioFileError(f"{path}: file holds no audio samples")
    if not np.all(np.isfinite(data)):
        raise AudioFileError(f"{path}: audio contains NaN or inf samples")
    y = data.T  # (channels, time)
    if channel is not None:
        if not 0 <= channel < y.shape[0]:
            raise ParameterError(f"{path}: channel {channel} requested, file has {y.shape[0]}")
        y = y[channel]
    elif mono:
        y = y.mean(axis=0)
    if sample_rate is not None and sample_rate != sr:
        y = resample(y, orig_sr=sr, target_sr=sample_rate)
        sr = sample_rate
    if normalize:
        y = peak_normalize(y)
    return np.ascontiguousarray(y, dtype=np.float32), int(sr)


def resample(y: np.ndarray, *, orig_sr: int, target_sr: int, quality: str = "HQ") -> np.ndarray:
    """Resample ``y`` of shape ``(..., time)`` from ``orig_sr`` to ``target_sr`` with soxr.

    Examples
    --------
    >>> resample(np.zeros(44100, np.float32), orig_sr=44100, target_sr=16000).shape
    (16000,)
    """
    orig_sr = check_sample_rate(orig_sr, "orig_sr")
    target_sr = check_sample_rate(target_sr, "target_sr")
    y = check_waveform(y)
    if orig_sr == target_sr:
        return y
    lead = y.shape[:-1]
    flat = y.reshape(-1, y.shape[-1])
    # soxr wants (time, channels)
    out = soxr.resample(flat.T, orig_sr, target_sr, quality=quality).T
    return np.ascontiguousarray(out.reshape(*lead, out.shape[-1]), dtype=np.float32)


def peak_normalize(y: np.ndarray, *, peak: float = 1.0) -> np.ndarray:
    """Scale ``y`` so ``max(|y|) == peak``; silence is returned unchanged."""
    y = check_waveform(y)
    top = float(np.max(np.abs(y)))
    if top == 0.0:
        return y
    return (y * (peak / top)).astype(np.float32)


def audio_format(path: str | os.PathLike) -> str:
    """The libsndfile format ``save_audio`` writes for ``path``'s suffix; ParameterError for another suffix.

    Examples
    --------
    >>> audio_format("out/mix.flac")
    'FLAC'
    """
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ParameterError(f"{path}: cannot save audio as {path.suffix!r}; use one of {sorted(SAVE_FORMATS)}")
    return fmt


def save_audio(
    path: str | os.PathLike,
    y: np.ndarray,
    sample_rate: int,
    *,
    subtype: str | None = None,
    outputs: OutputSet | None = None,
) -> Path:
    """Write ``y`` (``(time,)`` or ``(channels, time)``) to WAV, FLAC or OGG atomically.

    Samples outside [-1, 1] raise ParameterError for integer subtypes rather
    than clipping silently; WAV defaults to 32-bit float so nothing is lost.
    With ``outputs`` (an :class:`~ganaudio.outputs.OutputSet`) the file is
    staged in that transaction and renamed with its other outputs.

    Raises
    ------
    OutputError
        ``cannot write PATH (reason)`` when the file cannot be written; an
        older file at ``path`` is left as it was.

    Examples
    --------
    >>> save_audio("out/note.wav", np.zeros(16000, np.float32), 16000)
    PosixPath('out/note.wav')
    """
    path = Path(path)
    fmt = audio_format(path)
    sample_rate = check_sample_rate(sample_rate)
    y = check_waveform(y)
    if y.ndim > 2:
        raise ParameterError(f"audio to save must be (time,) or (channels, time), got {y.shape}")
    if subtype is None:
        subtype = {"WAV": "FLOAT", "FLAC": "PCM_24", "OGG": "VORBIS"}[fmt]
    if not subtype.startswith("FLOAT") and subtype != "VORBIS" and np.max(np.abs(y)) > 1.0:
        raise ParameterError(f"{path}: samples exceed [-1, 1] (peak {np.max(np.abs(y)):.3f}); normalise first")
    data = y.T if y.ndim == 2 else y
    with OutputSet() if outputs is None else nullcontext(outputs) as staged, staged.path(path) as tmp:
        try:
            sf.write(str(tmp), data, sample_rate, format=fmt, subtype=subtype)
        except OSError:
            raise
        except Exception as exc:  # libsndfile's own error types, or a short write
            raise OutputError(path, _write_failure(exc, tmp, data.nbytes)) from None
    return path


def _write_failure(exc: BaseException, tmp: Path, nbytes: int) -> str:
    """Why libsndfile failed to write: it says only "System error." when the disk is full, so look."""
    import shutil

    reason = output_reason(exc)
    try:
        full = shutil.disk_usage(tmp.parent).free < nbytes
    except OSError:
        full = False
    return f"{os.strerror(errno.ENOSPC)}; libsndfile: {reason}" if full else reason


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__

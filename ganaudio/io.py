"""Audio file input and output: the only module that touches audio formats.

Loading goes through libsndfile (``soundfile``), so WAV, FLAC, OGG/Vorbis and
MP3 (libsndfile >= 1.1) all read. Resampling uses ``soxr`` (installed with
librosa). Saving is atomic: the file is written under a temporary name in the
destination folder and renamed into place, so a crash never leaves a
half-written file under the final name.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ganaudio.errors import AudioFileError, ParameterError

__all__ = [
    "load_audio",
    "save_audio",
    "resample",
    "peak_normalize",
    "audio_info",
    "atomic_path",
    "check_waveform",
    "audio_blocks",
    "open_audio_writer",
    "stream_length",
    "AudioWriter",
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


def audio_info(path: str | os.PathLike) -> sf._SoundFileInfo:
    """Return libsndfile's info (sample rate, channels, frames) for ``path``."""
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"{path}: no such audio file")
    try:
        return sf.info(str(path))
    except Exception as exc:  # libsndfile raises several types
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


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The temporary file keeps the destination's suffix so writers that choose a
    format by extension still work. On any exception it is removed and the
    destination is left as it was.

    Examples
    --------
    >>> with atomic_path("out/picture.png") as tmp:
    ...     figure.savefig(tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def save_audio(
    path: str | os.PathLike,
    y: np.ndarray,
    sample_rate: int,
    *,
    subtype: str | None = None,
) -> Path:
    """Write ``y`` (``(time,)`` or ``(channels, time)``) to WAV, FLAC or OGG atomically.

    Samples outside [-1, 1] raise ParameterError for integer subtypes rather
    than clipping silently; WAV defaults to 32-bit float so nothing is lost.

    Examples
    --------
    >>> save_audio("out/note.wav", np.zeros(16000, np.float32), 16000)
    PosixPath('out/note.wav')
    """
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ParameterError(f"{path}: cannot save audio as {path.suffix!r}; use one of {sorted(SAVE_FORMATS)}")
    sample_rate = check_sample_rate(sample_rate)
    y = check_waveform(y)
    if y.ndim > 2:
        raise ParameterError(f"audio to save must be (time,) or (channels, time), got {y.shape}")
    if subtype is None:
        subtype = {"WAV": "FLOAT", "FLAC": "PCM_24", "OGG": "VORBIS"}[fmt]
    if not subtype.startswith("FLOAT") and subtype != "VORBIS" and np.max(np.abs(y)) > 1.0:
        raise ParameterError(f"{path}: samples exceed [-1, 1] (peak {np.max(np.abs(y)):.3f}); normalise first")
    data = y.T if y.ndim == 2 else y
    with atomic_path(path) as tmp:
        try:
            sf.write(str(tmp), data, sample_rate, format=fmt, subtype=subtype)
        except Exception as exc:
            raise AudioFileError(f"{path}: cannot write audio ({_short(exc)})") from None
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


# ------------------------------------------------------------------ streaming
DEFAULT_BLOCK = 1 << 18  # samples per block when streaming (16 s at 16 kHz)


def stream_length(path: str | os.PathLike, *, sample_rate: int | None = None) -> tuple[int, int]:
    """``(samples, sample_rate)`` that :func:`load_audio` would return for ``path``, read from its header only.

    Examples
    --------
    >>> stream_length("samples/trumpet_c4.wav", sample_rate=16000)
    (64000, 16000)
    """
    info = audio_info(path)
    if sample_rate is None or int(sample_rate) == info.samplerate:
        return int(info.frames), int(info.samplerate)
    sample_rate = check_sample_rate(sample_rate)
    # soxr's output length for a whole signal (streamed or not): the input length times the ratio, rounded
    return int(round(info.frames * sample_rate / info.samplerate)), sample_rate


def audio_blocks(
    path: str | os.PathLike, *, sample_rate: int | None = None, block: int = DEFAULT_BLOCK
) -> Iterator[np.ndarray]:
    """Read an audio file as mono float32 blocks ``(<= block,)``, resampled on the fly; memory does not grow.

    The concatenated blocks equal ``load_audio(path, sample_rate=sample_rate)[0]``
    (channels averaged, then soxr's streaming resampler, which gives the same
    samples as a whole-file resample).

    Raises
    ------
    AudioFileError
        If the file cannot be read or holds NaN or inf samples.

    Examples
    --------
    >>> total = sum(len(b) for b in audio_blocks("long.wav", sample_rate=16000))   # doctest: +SKIP
    """
    path = Path(path)
    info = audio_info(path)
    if block < 1:
        raise ParameterError(f"block must be >= 1 sample, got {block}")
    stream = None
    if sample_rate is not None and check_sample_rate(sample_rate) != info.samplerate:
        stream = soxr.ResampleStream(info.samplerate, int(sample_rate), 1, dtype="float32", quality="HQ")
    read = 0
    try:
        with sf.SoundFile(str(path)) as fh:
            while True:
                data = fh.read(block, dtype="float32", always_2d=True)
                last = data.shape[0] < block
                read += data.shape[0]
                if not np.all(np.isfinite(data)):
                    raise AudioFileError(f"{path}: audio contains NaN or inf samples")
                y = np.ascontiguousarray(data.mean(axis=1), dtype=np.float32)
                if stream is not None:
                    y = stream.resample_chunk(y, last=last)
                if len(y):
                    yield y
                if last:
                    break
    except AudioFileError:
        raise
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise AudioFileError(f"{path}: cannot decode audio ({_short(exc)})") from None
    if read == 0:
        raise AudioFileError(f"{path}: file holds no audio samples")


class AudioWriter:
    """Appends float32 blocks ``(time,)`` or ``(time, channels)`` to an open sound file; see :func:`open_audio_writer`."""

    def __init__(self, handle: sf.SoundFile, path: Path, clip: bool):
        self._handle, self.path, self._clip = handle, path, clip
        self.frames = 0
        self.peak = 0.0
        self.sum_squares = 0.0

    def write(self, block: np.ndarray) -> None:
        """Write ``block`` (clipped to [-1, 1] when the writer was opened with ``clip``); tracks peak and energy."""
        block = np.asarray(block, dtype=np.float32)
        if block.size == 0:
            return
        if not np.all(np.isfinite(block)):
            raise ParameterError(f"{self.path}: audio to write contains NaN or inf samples")
        if self._clip:
            block = np.clip(block, -1.0, 1.0)
        self.peak = max(self.peak, float(np.abs(block).max()))
        self.sum_squares += float(np.square(block, dtype=np.float64).sum())
        try:
            self._handle.write(block)
        except (RuntimeError, sf.LibsndfileError) as exc:
            raise AudioFileError(f"{self.path}: cannot write audio ({_short(exc)})") from None
        self.frames += block.shape[0]


@contextmanager
def open_audio_writer(
    path: str | os.PathLike, sample_rate: int, *, channels: int = 1, subtype: str | None = None, clip: bool = False
) -> Iterator[AudioWriter]:
    """Write audio block by block into ``path``, atomically: memory stays that of one block.

    The file is written under a temporary name beside ``path`` (see
    :func:`atomic_path`) and renamed into place when the ``with`` block ends
    without an error; on an error it is removed and an older ``path`` is left
    as it was.

    Parameters
    ----------
    path : path-like
        ``.wav`` (32-bit float by default), ``.flac`` (24-bit) or ``.ogg``.
    sample_rate : int, Hz
    channels : int
    subtype : str, optional
        libsndfile subtype; the default keeps every sample (WAV float).
    clip : bool
        Clip samples to [-1, 1] as they are written.

    Examples
    --------
    >>> with open_audio_writer("out/long.wav", 16000) as out:
    ...     for block in blocks:
    ...         out.write(block)
    """
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ParameterError(f"{path}: cannot save audio as {path.suffix!r}; use one of {sorted(SAVE_FORMATS)}")
    sample_rate = check_sample_rate(sample_rate)
    subtype = subtype or {"WAV": "FLOAT", "FLAC": "PCM_24", "OGG": "VORBIS"}[fmt]
    if not subtype.startswith("FLOAT") and subtype != "VORBIS":
        clip = True  # integer formats cannot hold samples beyond full scale
    try:
        with atomic_path(path) as tmp:
            try:
                handle = sf.SoundFile(str(tmp), "w", samplerate=sample_rate, channels=channels, format=fmt,
                                      subtype=subtype)
            except (RuntimeError, sf.LibsndfileError) as exc:
                raise AudioFileError(f"{path}: cannot write audio ({_short(exc)})") from None
            with handle:
                yield AudioWriter(handle, path, clip)
    except OSError as exc:
        if isinstance(exc, AudioFileError):
            raise
        raise AudioFileError(f"{path}: cannot write ({exc.strerror or exc})") from None

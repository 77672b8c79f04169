"""Audio files read and written block by block: the streaming half of :mod:`ganaudio.io`.

Long recordings are never held whole: :func:`audio_blocks` reads a file as
mono blocks, resampled on the fly (soxr's streaming resampler gives the same
samples as a whole-file resample), :func:`stream_length` gives the length
that reading will have from the header alone, and :func:`open_audio_writer`
writes blocks into a file that is staged, fsynced and renamed into place like
every other output (:mod:`ganaudio.outputs`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ganaudio.errors import AudioFileError, OutputError, ParameterError
from ganaudio.io import _check_truncation, _short, audio_format, audio_info, check_sample_rate
from ganaudio.outputs import OutputSet, output_reason

__all__ = ["DEFAULT_BLOCK", "AudioWriter", "audio_blocks", "open_audio_writer", "stream_length"]

DEFAULT_BLOCK = 1 << 18  # samples per block when streaming (16 s at 16 kHz)


def stream_length(path: str | os.PathLike, *, sample_rate: int | None = None) -> tuple[int, int]:
    """``(samples, sample_rate)`` that :func:`load_audio` would return for ``path``, read from its header only.

    Examples
    --------
    >>> stream_length("samples/trumpet_c4.wav", sample_rate=16000)
    (64000, 16000)
    """
    info = audio_info(Path(path))
    _check_truncation(Path(path), info)
    if info.frames == 0:
        raise AudioFileError(f"{path}: file holds no audio samples")
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
    _check_truncation(path, info)
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
        except OSError:
            raise
        except Exception as exc:  # libsndfile's own error types, or a short write
            raise OutputError(self.path, output_reason(exc)) from None
        self.frames += block.shape[0]


def open_audio_writer(
    path: str | os.PathLike, sample_rate: int, *, channels: int = 1, subtype: str | None = None, clip: bool = False,
    outputs: OutputSet | None = None,
):
    """Write audio block by block into ``path``, atomically: memory stays that of one block.

    The file is written under a temporary name beside ``path`` and renamed
    into place when the ``with`` block ends without an error (with ``outputs``,
    when that :class:`~ganaudio.outputs.OutputSet` commits, together with its
    other files); on an error it is removed and an older ``path`` is left as it
    was. A failure to write is an :class:`~ganaudio.errors.OutputError`.

    Parameters
    ----------
    path : path-like
        ``.wav`` (32-bit float by default), ``.flac`` (24-bit) or ``.ogg``.
    sample_rate : int, Hz
    channels : int
    subtype : str, optional
        libsndfile subtype; the default keeps every sample (WAV float).
    clip : bool
        Clip samples to [-1, 1] as they are written (always done for integer subtypes).
    outputs : OutputSet, optional
        Stage the file in this transaction instead of a transaction of its own.

    Examples
    --------
    >>> with open_audio_writer("out/long.wav", 16000) as out:
    ...     for block in blocks:
    ...         out.write(block)
    """
    return _audio_writer(Path(path), sample_rate, channels=channels, subtype=subtype, clip=clip, outputs=outputs)


@contextmanager
def _audio_writer(path: Path, sample_rate, *, channels, subtype, clip, outputs) -> Iterator[AudioWriter]:
    fmt = audio_format(path)
    sample_rate = check_sample_rate(sample_rate)
    subtype = subtype or {"WAV": "FLOAT", "FLAC": "PCM_24", "OGG": "VORBIS"}[fmt]
    if not subtype.startswith("FLOAT") and subtype != "VORBIS":
        clip = True  # integer formats cannot hold samples beyond full scale
    with OutputSet() if outputs is None else nullcontext(outputs) as staged, staged.path(path) as tmp:
        try:
            handle = sf.SoundFile(str(tmp), "w", samplerate=sample_rate, channels=channels, format=fmt,
                                  subtype=subtype)
        except OSError:
            raise
        except Exception as exc:  # libsndfile's own error types
            raise OutputError(path, output_reason(exc)) from None
        with handle:
            yield AudioWriter(handle, path, clip)

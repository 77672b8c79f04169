"""Block-by-block analysis and synthesis that equal whole-clip ``encode`` and ``decode``, in bounded memory.

A long recording is never held whole: :class:`StreamingEncoder` takes the
waveform a block at a time and returns the spectrogram frames each block
completes, with the same values as ``rep.encode`` on the whole signal (the
centred STFT's frames only need ``n_fft`` samples; the IF channels carry their
previous frame and their running phase across blocks). :func:`synthesize_blocks`
turns frames back into samples a block at a time, each block run with enough
frames of context on both sides that its core equals the whole-clip result
(``context_frames`` gives that radius for each inversion: one STFT window for
the one-shot inverse, one more per Griffin-Lim iteration, a GAN vocoder's
receptive field). The one exception is Griffin-Lim from a *random* start,
whose random phase is drawn per block.

The constant-Q transform (librosa, recursive downsampling) does not stream;
:func:`estimate_bytes` sizes it so callers can refuse long inputs up front.

>>> enc = StreamingEncoder(rep)
>>> frames = [enc.push(block) for block in blocks] + [enc.finish()]
>>> torch.allclose(torch.cat(frames, dim=-1), rep.encode(torch.cat(blocks)), atol=1e-4)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch

from ganaudio.errors import ParameterError
from ganaudio.functional import spectral as F
from ganaudio.representations.spectral import IF, STFT, IFMel, Mel

__all__ = ["FramePooler", "StreamingDistance", "StreamingEncoder", "context_frames", "encode_blocks", "estimate_bytes", "rechunk", "streams",
           "synthesize_blocks"]

BYTES_PER_VALUE = 4  # float32


def streams(rep) -> bool:
    """Whether ``rep`` can be analysed block by block (the STFT family; not the CQT)."""
    return isinstance(rep, (STFT, Mel, IF))


def estimate_bytes(rep, num_samples: int) -> int:
    """Bytes of ``rep.encode`` of ``num_samples`` samples as one float32 tensor ``(channels, bins, frames)``.

    Examples
    --------
    >>> estimate_bytes(IFMel(sample_rate=16000, n_fft=1024, hop_length=256, n_mels=512), 3600 * 16000) / 1e9
    0.9216...
    """
    return int(rep.channels * rep.n_bins * rep.frames_for(int(num_samples)) * BYTES_PER_VALUE)


class StreamingEncoder:
    """``rep.encode`` of a waveform given block by block; memory is that of one block.

    ``push(block)`` takes the next samples ``(time,)`` and returns the frames they
    complete, ``(channels, bins, k)`` (``k`` may be 0); ``finish()`` returns the
    last frames. Concatenated along the last axis they equal ``rep.encode`` of
    the whole signal (up to float rounding of matrix products). With ``raw`` the
    blocks are the complex STFT ``(n_fft // 2 + 1, k)`` instead.

    Raises
    ------
    ParameterError
        For a representation that does not stream (see :func:`streams`).
    """

    def __init__(self, rep, *, raw: bool = False):
        if not streams(rep):
            raise ParameterError(f"the {getattr(rep, 'name', rep)} representation cannot be computed block by block")
        self.rep, self.raw = rep, raw
        self._pad = rep.n_fft // 2
        self._buf = torch.zeros(self._pad)  # the zero-padded signal from the next frame's first sample on
        self._samples = 0
        self._done = 0  # frames returned so far
        self._phase = None  # last frame's phase (IF) and mel phase (IF-Mel), and the running unwrapped phase
        self._unwrapped = None
        self._mel_phase = None

    @property
    def samples(self) -> int:
        """Samples pushed so far."""
        return self._samples

    def push(self, block) -> torch.Tensor:
        block = torch.as_tensor(np.asarray(block, dtype=np.float32) if not isinstance(block, torch.Tensor) else block,
                                dtype=torch.float32).reshape(-1)
        self._samples += block.shape[0]
        self._buf = torch.cat([self._buf, block])
        return self._frames(final=False)

    def finish(self) -> torch.Tensor:
        """The frames left once the signal has ended (the centred STFT's zero padding on the right)."""
        total = 1 + (self._samples + 2 * self._pad - self.rep.n_fft) // self.rep.hop_length
        need = (total - self._done - 1) * self.rep.hop_length + self.rep.n_fft
        self._buf = torch.cat([self._buf, torch.zeros(max(self._pad, need - self._buf.shape[0]))])
        return self._frames(final=True, count=total - self._done)

    def _frames(self, *, final: bool, count: int | None = None) -> torch.Tensor:
        n_fft, hop = self.rep.n_fft, self.rep.hop_length
        k = max(0, (self._buf.shape[0] - n_fft) // hop + 1) if count is None else max(0, count)
        if k == 0:
            return torch.zeros(self.rep.n_fft // 2 + 1, 0, dtype=torch.complex64) if self.raw else \
                torch.zeros(self.rep.channels, self.rep.n_bins, 0)
        spec = F.stft(self._buf[:(k - 1) * hop + n_fft], n_fft=n_fft, hop_length=hop,
                      win_length=self.rep.win_length, center=False)
        self._buf = self._buf[k * hop:]
        self._done += k
        return spec if self.raw else self._encode(spec)

    def _if(self, phase: torch.Tensor, previous: torch.Tensor | None) -> torch.Tensor:
        if previous is None:
            return F.instantaneous_frequency(phase)
        return F.instantaneous_frequency(torch.cat([previous, phase], dim=-1))[..., 1:]

    def _encode(self, spec: torch.Tensor) -> torch.Tensor:
        rep = self.rep
        if isinstance(rep, STFT):
            logmag = F.log_magnitude(spec)
            return torch.stack([logmag, spec.angle()]) if rep.with_phase else logmag[None]
        if isinstance(rep, IF):
            phase = spec.angle()
            out = torch.stack([F.log_magnitude(spec), self._if(phase, self._phase)])
            self._phase = phase[..., -1:]
            return out
        power = spec.abs().pow(2)
        log_mel = torch.log(torch.matmul(rep.filterbank(power), power) + rep.eps)
        if not isinstance(rep, IFMel):
            return log_mel[None]
        phase = spec.angle()
        steps = self._if(phase, self._phase) * math.pi
        self._phase = phase[..., -1:]
        if self._unwrapped is not None:  # continue the running sum exactly where the last block left it
            steps = torch.cat([self._unwrapped, steps], dim=-1)
        unwrapped = torch.cumsum(steps, dim=-1)[..., (0 if self._unwrapped is None else 1):]
        self._unwrapped = unwrapped[..., -1:]
        to_mel, _ = rep._phase_matrices(power)
        mel_phase = torch.matmul(to_mel, unwrapped)
        mel_if = self._if(mel_phase, self._mel_phase)
        self._mel_phase = mel_phase[..., -1:]
        return torch.stack([log_mel, mel_if])


def encode_blocks(rep, blocks: Iterable) -> Iterator[torch.Tensor]:
    """Spectrogram frames ``(channels, bins, k)`` of a waveform given as blocks; see :class:`StreamingEncoder`."""
    encoder = StreamingEncoder(rep)
    for block in blocks:
        frames = encoder.push(block)
        if frames.shape[-1]:
            yield frames
    if encoder.samples == 0:
        raise ParameterError("the waveform has no samples")
    frames = encoder.finish()
    if frames.shape[-1]:
        yield frames


def context_frames(rep, vocoder=None, *, method: str | None = None, n_iter: int = 0) -> int:
    """Frames of context either side that make a block's inverse equal the whole clip's.

    ``vocoder`` is a vocoder object (its ``name`` and ``n_iter``, or a GAN
    vocoder's ``receptive_frames``); or give ``method`` and ``n_iter`` of ``rep.decode``.
    """
    window = -(-rep.n_fft // rep.hop_length) + 1
    if vocoder is not None and hasattr(vocoder, "receptive_frames"):
        return int(vocoder.receptive_frames) + 1
    if vocoder is not None:
        method, n_iter = vocoder.name, getattr(vocoder, "n_iter", 0)
    if method == "phase":
        return window
    return (int(n_iter) + 1) * window + 1


def synthesize_blocks(frame_blocks: Iterable[torch.Tensor], synth: Callable, *, hop_length: int, length: int,
                      context: int, block_frames: int = 1024, phase_channel: int | None = None
                      ) -> Iterator[np.ndarray]:
    """Samples of ``synth(spec, length=...)`` over a long spectrogram, computed ``block_frames`` frames at a time.

    Parameters
    ----------
    frame_blocks : iterable of torch.Tensor ``(..., frames_k)``
        The spectrogram in pieces of any size, in time order.
    synth : callable
        ``synth(spec_window, length=n) -> (n,)`` samples, the whole-clip inverse
        (a vocoder bound to its representation).
    hop_length : int
    length : int
        Samples of the whole output.
    context : int
        Frames either side of a block that can change it (:func:`context_frames`).
    block_frames : int
        Frames per block.
    phase_channel : int, optional
        The channel holding instantaneous frequency (IF, IF-Mel): each block's
        first frame there is replaced by the running phase up to it, so the
        phase integrated inside a block continues the whole clip's.

    Yields
    ------
    np.ndarray float32 ``(samples,)``: consecutive pieces of the ``length``-sample output.
    """
    if block_frames < 1 or context < 0:
        raise ParameterError(f"need block_frames >= 1 and context >= 0, got {block_frames}, {context}")
    context = max(1, int(context))
    buf: torch.Tensor | None = None
    running = None  # IF channel's running phase (radians, per bin) at each buffered frame
    start = seen = core = 0  # global frame index of buf[..., 0], frames received, next frame to synthesise

    def run(f0: int, f1: int, final: bool) -> np.ndarray:
        a, b = max(0, f0 - context), seen if final else min(seen, f1 + context)
        window = buf[..., a - start:b - start]
        if phase_channel is not None and a > 0:
            window = window.clone()
            window[..., phase_channel, :, 0] = running[..., a - start] / math.pi
        if final and b == seen:
            y = synth(window, length=length - a * hop_length)
            stop = length - a * hop_length if f1 == seen else (f1 - a) * hop_length
        else:
            y = synth(window, length=(b - a - 1) * hop_length)
            stop = (f1 - a) * hop_length
        return np.asarray(y.detach().float().cpu().numpy().reshape(-1)[(f0 - a) * hop_length:stop], np.float32)

    for blk in frame_blocks:
        blk = torch.as_tensor(blk, dtype=torch.float32)
        if phase_channel is not None:
            steps = blk[..., phase_channel, :, :] * math.pi
            if running is not None:
                steps = torch.cat([running[..., -1:], steps], dim=-1)
            cum = torch.cumsum(steps, dim=-1)[..., (0 if running is None else 1):]
            running = cum if running is None else torch.cat([running, cum], dim=-1)
        buf = blk if buf is None else torch.cat([buf, blk], dim=-1)
        seen += blk.shape[-1]
        while seen - core >= block_frames + context:
            yield run(core, core + block_frames, final=False)
            core += block_frames
            drop = core - context - start
            if drop > 0:
                buf = buf[..., drop:]
                running = None if running is None else running[..., drop:]
                start += drop
    if buf is None:
        raise ParameterError("the spectrogram has no frames")
    while core < seen:
        end = min(core + block_frames, seen)
        yield run(core, end, final=True)
        core = end


class FramePooler:
    """Averages every ``pool`` consecutive frames of a streamed spectrogram ``(channels, bins, k)``.

    Channel 0 (a log magnitude or power) is averaged; the others (phase, IF)
    keep the first frame of each group, since an average of angles means
    little. A picture of a long recording is drawn from the pooled frames, so its
    size stays bounded. ``push`` adds frames; ``finish()`` pools the last,
    possibly shorter, group and returns every pooled frame ``(channels, bins,
    ceil(frames / pool))``. The result is written into one tensor allocated at
    the first push (``frames`` in all are expected), so a long stream does not
    scatter small pieces over the heap.
    """

    def __init__(self, pool: int, *, frames: int):
        if pool < 1:
            raise ParameterError(f"pool must be >= 1 frame, got {pool}")
        self.pool = int(pool)
        self.columns = max(1, -(-int(frames) // self.pool))
        self._rest: torch.Tensor | None = None
        self._out: torch.Tensor | None = None
        self._filled = 0

    def _reduce(self, x: torch.Tensor) -> None:
        c, b, k = x.shape
        if k == 0:
            return
        groups = x.reshape(c, b, k // self.pool, self.pool) if k % self.pool == 0 else x.reshape(c, b, 1, k)
        n = groups.shape[2]
        if self._out is None:
            self._out = torch.zeros(c, b, self.columns)
        if self._filled + n > self.columns:  # more frames than announced: grow (not expected)
            self._out = torch.cat([self._out, torch.zeros(c, b, self._filled + n - self.columns)], dim=-1)
            self.columns = self._out.shape[-1]
        view = self._out[..., self._filled:self._filled + n]
        view.copy_(groups[..., 0])
        view[0] = groups[0].mean(dim=-1)
        self._filled += n

    def push(self, frames: torch.Tensor) -> None:
        x = frames if self._rest is None else torch.cat([self._rest, frames], dim=-1)
        whole = x.shape[-1] // self.pool * self.pool
        self._rest = x[..., whole:].clone()
        self._reduce(x[..., :whole])

    def finish(self) -> torch.Tensor:
        rest, self._rest = self._rest, None
        if rest is not None:
            self._reduce(rest)
        if self._out is None:
            raise ParameterError("no frames were pooled")
        return self._out[..., :self._filled]


class StreamingDistance:
    """SNR and spectral convergence of an estimate against a reference, both given block by block.

    Equal to :func:`ganaudio.functional.spectral.snr_db` and
    :func:`~ganaudio.functional.spectral.spectral_convergence` on the whole
    signals (sums accumulated in float64). Blocks of the two signals must have
    equal lengths.
    """

    def __init__(self, *, sample_rate: int, n_fft: int = 1024, hop_length: int = 256):
        rep = STFT(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, with_phase=False)
        self._ref, self._est = StreamingEncoder(rep, raw=True), StreamingEncoder(rep, raw=True)
        self._energy = self._error = self._spec_energy = self._spec_error = 0.0

    def push(self, estimate, reference) -> None:
        est, ref = (torch.as_tensor(np.asarray(x, dtype=np.float32)).reshape(-1) for x in (estimate, reference))
        if est.shape != ref.shape:
            raise ParameterError(f"estimate and reference blocks differ in length: {est.shape[0]} vs {ref.shape[0]}")
        self._energy += float(ref.double().pow(2).sum())
        self._error += float((ref.double() - est.double()).pow(2).sum())
        self._spectra(self._est.push(est), self._ref.push(ref))

    def _spectra(self, est: torch.Tensor, ref: torch.Tensor) -> None:
        r, e = ref.abs(), est.abs()
        self._spec_energy += float(r.double().pow(2).sum())
        self._spec_error += float((r - e).double().pow(2).sum())

    def result(self) -> tuple[float, float]:
        """``(snr_db, spectral_convergence)`` over everything pushed; call once, at the end."""
        self._spectra(self._est.finish(), self._ref.finish())
        snr = 10 * math.log10(max(self._energy, 1e-20) / max(self._error, 1e-20))
        return snr, math.sqrt(self._spec_error) / max(math.sqrt(self._spec_energy), 1e-12)


def rechunk(blocks: Iterable[np.ndarray]) -> Callable[[int], np.ndarray]:
    """A function ``take(n)`` returning the next ``n`` samples of ``blocks`` (fewer at the end)."""
    source = iter(blocks)
    pending: list[np.ndarray] = []
    held = 0

    def take(n: int) -> np.ndarray:
        nonlocal held
        while held < n:
            block = next(source, None)
            if block is None:
                break
            pending.append(np.asarray(block, np.float32))
            held += len(block)
        joined = np.concatenate(pending) if pending else np.zeros(0, np.float32)
        out, rest = joined[:n], joined[n:]
        pending[:] = [rest] if len(rest) else []
        held = len(rest)
        return out

    return take

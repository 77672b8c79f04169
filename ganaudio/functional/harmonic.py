"""Differentiable harmonic-plus-noise synthesis that streams frame by frame.

The synthesizer of DDSP (Engel et al., ICLR 2020), laid out for a GAN that
plays notes of any length at 44.1 kHz and for live play:

* **Harmonics** are read from per-frame wavetables. Each control frame's
  harmonic amplitudes become one single-cycle table through an inverse FFT
  (``sum_k a_k sin(2 pi k phi)``), and the tables are read at the running
  oscillator phase with linear interpolation. This costs one small inverse FFT
  per frame instead of one sine per harmonic per sample.
* **Noise** is a fixed white-noise sequence shaped per frame by band
  magnitudes: each frame filters a Hann-windowed stretch of ``2 * hop`` noise
  samples in the frequency domain, and the frames overlap-add at 50 %.
* **Time** runs in spans of ``hop`` samples. Span ``t`` moves every control
  linearly from frame ``t - 1`` to frame ``t`` (it ends exactly at frame
  ``t``'s values), so a frame's output needs no future frame: the synthesis is
  causal. The state carried between calls (:class:`SynthState`: oscillator
  phase, the previous frame, the noise overlap tail, the frame counter) makes a
  note rendered in chunks of frames equal the whole note within float
  tolerance.

Exactness: harmonic ``k`` (1-based) sits at ``k * f0``, and a harmonic is
silenced for a whole span whenever ``k * f0`` would reach the Nyquist frequency
anywhere in that span, so nothing is synthesised at or above Nyquist.

Shapes: controls are ``(..., frames)`` or ``(..., frames, channels)`` with any
leading batch shape; audio is ``(..., frames * hop)``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ganaudio.errors import ParameterError

__all__ = [
    "SynthState",
    "harmonic_tables",
    "nyquist_mask",
    "normalized_harmonics",
    "synth_harmonic",
    "synth_noise",
    "synth_harmonic_noise",
    "noise_sequence",
    "frames_for",
]

NOISE_PERIOD = 2**18
"""Length of the white-noise sequence the noise branch reads cyclically (about 6 s at 44.1 kHz)."""


@dataclass(frozen=True)
class SynthState:
    """What one call of :func:`synth_harmonic_noise` hands to the next.

    Attributes
    ----------
    phase : torch.Tensor
        ``(...)`` oscillator phase in cycles, float64, in [0, 1).
    f0 : torch.Tensor
        ``(...)`` the last frame's fundamental in Hz.
    harmonics : torch.Tensor
        ``(..., n_harmonics)`` the last frame's harmonic amplitudes (overall
        amplitude already applied).
    noise_tail : torch.Tensor
        ``(..., hop)`` the second half of the last noise frame, still to be
        added to the next span.
    frame : int or torch.Tensor
        Where the next frame reads the noise sequence, in frames (how many
        frames have been synthesised, plus the start frame). An int for the
        whole batch, or an int64 ``(batch,)`` tensor, one per row, for rows of
        notes that started at different times (a live voice bank).
    """

    phase: torch.Tensor
    f0: torch.Tensor
    harmonics: torch.Tensor
    noise_tail: torch.Tensor
    frame: int | torch.Tensor

    def detach(self) -> SynthState:
        """The same state cut from the autograd graph (for truncated backpropagation or live play)."""
        return SynthState(self.phase.detach(), self.f0.detach(), self.harmonics.detach(),
                          self.noise_tail.detach(), self.frame)

    @classmethod
    def start(cls, f0: torch.Tensor, *, n_harmonics: int, hop: int, frame: int | torch.Tensor = 0,
              dtype: torch.dtype = torch.float32) -> SynthState:
        """The state before a note's first frame: silent, phase 0, gliding from the first frame's ``f0``.

        Parameters
        ----------
        f0 : torch.Tensor
            ``(...)`` the first frame's fundamental in Hz (the first span keeps it steady).
        frame : int or torch.Tensor
            Noise start position in frames: an int, or int64 ``(batch,)`` per row.

        Examples
        --------
        >>> SynthState.start(torch.tensor([220.0, 330.0]), n_harmonics=8, hop=4).harmonics.shape
        torch.Size([2, 8])
        """
        batch = f0.shape
        return cls(phase=torch.zeros(batch, dtype=torch.float64, device=f0.device), f0=f0.detach(),
                   harmonics=torch.zeros(*batch, n_harmonics, dtype=dtype, device=f0.device),
                   noise_tail=torch.zeros(*batch, hop, dtype=dtype, device=f0.device), frame=frame)


def nyquist_mask(f0: torch.Tensor, n_harmonics: int, *, sample_rate: float) -> torch.Tensor:
    """1 where harmonic ``k = 1..n_harmonics`` of ``f0`` lies strictly below Nyquist, else 0.

    Parameters
    ----------
    f0 : torch.Tensor
        ``(...)`` fundamental frequencies in Hz.

    Returns
    -------
    torch.Tensor
        ``(..., n_harmonics)`` of 0.0 / 1.0 in ``f0``'s dtype.

    Examples
    --------
    >>> nyquist_mask(torch.tensor([10000.0]), 3, sample_rate=44100).tolist()
    [[1.0, 1.0, 0.0]]
    """
    k = torch.arange(1, n_harmonics + 1, dtype=f0.dtype, device=f0.device)
    return (f0.unsqueeze(-1) * k < sample_rate / 2).to(f0.dtype)


def normalized_harmonics(distribution: torch.Tensor, f0: torch.Tensor, *, sample_rate: float) -> torch.Tensor:
    """Mask a non-negative harmonic distribution at Nyquist and scale each frame to sum 1.

    Parameters
    ----------
    distribution : torch.Tensor
        ``(..., frames, n_harmonics)`` non-negative weights (e.g. a softplus or
        softmax of a network's output).
    f0 : torch.Tensor
        ``(..., frames)`` in Hz.

    Returns
    -------
    torch.Tensor
        ``(..., frames, n_harmonics)``, each frame summing to 1 over the
        harmonics below Nyquist (0 where none is).
    """
    masked = distribution * nyquist_mask(f0, distribution.shape[-1], sample_rate=sample_rate)
    return masked / masked.sum(-1, keepdim=True).clamp_min(1e-7)


def harmonic_tables(amplitudes: torch.Tensor, *, table_size: int) -> torch.Tensor:
    """Single-cycle wavetables ``sum_k a_k sin(2 pi k n / table_size)``, one per frame.

    Parameters
    ----------
    amplitudes : torch.Tensor
        ``(..., n_harmonics)``; ``n_harmonics < table_size / 2``.

    Returns
    -------
    torch.Tensor
        ``(..., table_size + 1)``: the table with its first sample repeated at
        the end, so linear interpolation never wraps.

    Examples
    --------
    >>> t = harmonic_tables(torch.tensor([1.0]), table_size=8)
    >>> [round(v, 3) for v in t[:3].tolist()]
    [0.0, 0.707, 1.0]
    """
    n_harmonics = amplitudes.shape[-1]
    if n_harmonics >= table_size // 2:
        raise ParameterError(f"table_size {table_size} holds fewer than {n_harmonics} harmonics; "
                             f"use a table of at least {2 * n_harmonics + 2} samples")
    table = _open_tables(amplitudes, table_size=table_size)
    return torch.cat([table, table[..., :1]], dim=-1)


def _open_tables(amplitudes: torch.Tensor, *, table_size: int) -> torch.Tensor:
    """:func:`harmonic_tables` without the repeated first sample: ``(..., table_size)``.

    The spectrum holds only DC and the harmonics; ``irfft`` pads it with zeros up to ``table_size``.
    """
    spectrum = torch.zeros(*amplitudes.shape[:-1], amplitudes.shape[-1] + 1, dtype=torch.complex64
                           if amplitudes.dtype != torch.float64 else torch.complex128, device=amplitudes.device)
    spectrum[..., 1:] = -0.5j * table_size * amplitudes
    return torch.fft.irfft(spectrum, n=table_size)


@functools.lru_cache(maxsize=8)
def _noise(seed: int, device: str, dtype: torch.dtype) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(NOISE_PERIOD, generator=generator, dtype=torch.float64) * 2 - 1).to(device=device, dtype=dtype)


def noise_sequence(start: int | torch.Tensor, length: int, *, seed: int = 0, device=None,
                   dtype=torch.float32) -> torch.Tensor:
    """Samples ``start .. start + length`` of the cyclic white-noise sequence (uniform in [-1, 1]).

    The same absolute sample always gets the same value, whichever block asks
    for it: this is what keeps block-wise noise equal to whole-note noise.

    Parameters
    ----------
    start : int or torch.Tensor
        First sample, or an int64 ``(batch,)`` tensor of first samples, one per row.

    Returns
    -------
    torch.Tensor
        ``(length,)``, or ``(batch, length)`` for a tensor ``start``.
    """
    table = _noise(int(seed), str(device or "cpu"), dtype)
    index = torch.arange(length, device=table.device)
    if isinstance(start, torch.Tensor):
        index = start.to(table.device).unsqueeze(-1) + index
    else:
        index = index + start
    return table[index % NOISE_PERIOD]


def synth_harmonic(f0: torch.Tensor, harmonics: torch.Tensor, *, hop: int, sample_rate: float,
                   prev_f0: torch.Tensor, prev_harmonics: torch.Tensor, phase: torch.Tensor,
                   table_size: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    """The harmonic branch over ``frames`` spans, from the previous frame's values.

    Parameters
    ----------
    f0 : torch.Tensor
        ``(..., frames)`` Hz, the value each span ends on.
    harmonics : torch.Tensor
        ``(..., frames, n_harmonics)`` amplitudes of harmonics 1..n (overall
        amplitude included).
    prev_f0, prev_harmonics : torch.Tensor
        ``(...)`` and ``(..., n_harmonics)``: the frame before the first one.
    phase : torch.Tensor
        ``(...)`` float64 oscillator phase in cycles at the first sample.

    Returns
    -------
    audio : torch.Tensor
        ``(..., frames * hop)``.
    phase : torch.Tensor
        ``(...)`` float64 phase after the last sample, in [0, 1).
    """
    frames, n_harmonics = harmonics.shape[-2], harmonics.shape[-1]
    f0_ends = torch.cat([prev_f0.unsqueeze(-1), f0], dim=-1)                    # (..., frames + 1)
    amp_ends = torch.cat([prev_harmonics.unsqueeze(-2), harmonics], dim=-2)      # (..., frames + 1, K)
    # a span's harmonics must stay below Nyquist at the span's highest f0
    if n_harmonics >= table_size // 2:
        raise ParameterError(f"table_size {table_size} holds fewer than {n_harmonics} harmonics; "
                             f"use a table of at least {2 * n_harmonics + 2} samples")
    mask = nyquist_mask(torch.maximum(f0_ends[..., :-1], f0_ends[..., 1:]), n_harmonics, sample_rate=sample_rate)
    right = _open_tables(amp_ends[..., 1:, :] * mask, table_size=table_size)   # (..., frames, S)
    # a span's left table is the previous span's right table wherever both spans mask the same harmonics
    # (a steady pitch): only the first span and those where the count of live harmonics changes are new
    alive = mask.sum(-1)                                                          # (..., frames)
    fresh = torch.ones_like(alive, dtype=torch.bool)
    fresh[..., 1:] = alive[..., 1:] != alive[..., :-1]
    left = torch.cat([right[..., :1, :], right[..., :-1, :]], dim=-2)
    left[fresh] = _open_tables(amp_ends[..., :-1, :][fresh] * mask[fresh], table_size=table_size)

    ramp = torch.arange(1, hop + 1, dtype=torch.float64, device=f0.device) / hop  # (hop,): ends at 1
    f0_64 = f0_ends.to(torch.float64)
    freq = f0_64[..., :-1, None] + (f0_64[..., 1:, None] - f0_64[..., :-1, None]) * ramp   # (..., frames, hop)
    increments = (freq / sample_rate).flatten(-2)
    running = torch.cumsum(increments, dim=-1)
    cycles = phase.unsqueeze(-1) + running - increments                         # exclusive: first sample at `phase`
    new_phase = torch.remainder(phase + running[..., -1], 1.0)
    position = torch.remainder(cycles, 1.0) * table_size
    index = position.floor().clamp(max=table_size - 1)
    frac = (position - index).to(harmonics.dtype).unflatten(-1, (frames, hop))
    index = index.long().unflatten(-1, (frames, hop))

    after = torch.where(index == table_size - 1, 0, index + 1)  # the table is one cycle: it wraps

    def read(table: torch.Tensor) -> torch.Tensor:
        low = torch.gather(table, -1, index)
        high = torch.gather(table, -1, after)
        return low + (high - low) * frac

    weight = ramp.to(harmonics.dtype)
    audio = read(left) * (1 - weight) + read(right) * weight
    return audio.flatten(-2), new_phase


def synth_noise(bands: torch.Tensor, *, hop: int, first_frame: int, tail: torch.Tensor,
                seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The noise branch: white noise shaped per frame by band magnitudes, overlap-added.

    Parameters
    ----------
    bands : torch.Tensor
        ``(..., frames, n_bands)`` non-negative magnitudes of ``n_bands``
        bands spaced linearly from 0 Hz to Nyquist (interpolated across the
        ``hop + 1`` FFT bins of a ``2 * hop`` frame).
    first_frame : int or torch.Tensor
        Absolute index of the first frame (positions the noise sequence); an
        int64 ``(batch,)`` tensor gives each row of 2-D ``bands`` its own.
    tail : torch.Tensor
        ``(..., hop)`` the previous call's overlap tail (zeros at a note's start).

    Returns
    -------
    audio : torch.Tensor
        ``(..., frames * hop)``.
    tail : torch.Tensor
        ``(..., hop)`` to pass to the next call.
    """
    frames, n_bands = bands.shape[-2], bands.shape[-1]
    n_fft = 2 * hop
    start = first_frame * hop
    noise = noise_sequence(start, (frames + 1) * hop, seed=seed, device=bands.device, dtype=bands.dtype)
    segments = noise.unfold(-1, n_fft, hop)                                      # ([batch,] frames, 2 hop)
    shape = F.interpolate(bands.reshape(-1, 1, n_bands), size=hop + 1, mode="linear", align_corners=True)
    shape = shape.reshape(*bands.shape[:-1], hop + 1)                            # (..., frames, hop + 1)
    window = torch.hann_window(n_fft, periodic=True, dtype=bands.dtype, device=bands.device)
    filtered = torch.fft.irfft(torch.fft.rfft(segments) * shape, n=n_fft) * window   # (..., frames, 2 hop)
    # overlap-add at hop: span t = second half of frame t - 1 + first half of frame t
    first, second = filtered[..., :hop], filtered[..., hop:]
    previous = torch.cat([tail.unsqueeze(-2), second[..., :-1, :]], dim=-2)
    audio = (first + previous).flatten(-2)
    return audio, second[..., -1, :]


def synth_harmonic_noise(f0: torch.Tensor, harmonics: torch.Tensor, noise_bands: torch.Tensor, *, hop: int,
                         sample_rate: float, state: SynthState | None = None, table_size: int = 4096,
                         seed: int = 0, start_frame: int | torch.Tensor = 0) -> tuple[torch.Tensor, SynthState]:
    """Harmonic plus filtered noise for ``frames`` control frames, continuing from ``state``.

    Parameters
    ----------
    f0 : torch.Tensor
        ``(..., frames)`` fundamental in Hz (pitch deviations included).
    harmonics : torch.Tensor
        ``(..., frames, n_harmonics)`` amplitudes of harmonics ``1..n_harmonics``
        (overall amplitude times a harmonic distribution).
    noise_bands : torch.Tensor
        ``(..., frames, n_bands)`` noise band magnitudes.
    hop : int
        Samples per control frame (256 at 44.1 kHz is 172 frames a second).
    state : SynthState, optional
        What the previous call returned; ``None`` starts a note from silence
        (the first span fades in from zero amplitude at the first frame's f0).
    start_frame : int or torch.Tensor
        With no ``state``: where the note starts reading the noise sequence,
        in frames (an int64 ``(batch,)`` tensor gives each row its own, so
        simultaneous notes get different noise).

    Returns
    -------
    audio : torch.Tensor
        ``(..., frames * hop)``.
    state : SynthState
        To continue the note seamlessly in the next call.

    Examples
    --------
    >>> frames = 40
    >>> f0 = torch.full((frames,), 261.63)
    >>> harm = torch.zeros(frames, 64); harm[:, 0] = 0.5
    >>> audio, state = synth_harmonic_noise(f0, harm, torch.zeros(frames, 16), hop=256, sample_rate=44100)
    >>> audio.shape, state.frame
    (torch.Size([10240]), 40)
    """
    if hop < 2 or hop % 2:
        raise ParameterError(f"hop must be an even number of samples >= 2, got {hop}")
    if f0.shape != harmonics.shape[:-1] or f0.shape != noise_bands.shape[:-1]:
        raise ParameterError(f"controls disagree: f0 {tuple(f0.shape)}, harmonics {tuple(harmonics.shape)}, "
                             f"noise bands {tuple(noise_bands.shape)}; expected (..., frames) and (..., frames, n)")
    if f0.shape[-1] == 0:
        raise ParameterError("controls have no frames")
    if state is None:
        state = SynthState.start(f0[..., 0], n_harmonics=harmonics.shape[-1], hop=hop, frame=start_frame,
                                 dtype=harmonics.dtype)
    elif state.noise_tail.shape[-1] != hop or state.harmonics.shape != harmonics.shape[:-2] + harmonics.shape[-1:]:
        raise ParameterError("state does not match these controls (another hop, batch or harmonic count)")
    harm, phase = synth_harmonic(f0, harmonics, hop=hop, sample_rate=sample_rate, prev_f0=state.f0,
                                 prev_harmonics=state.harmonics, phase=state.phase, table_size=table_size)
    noise, tail = synth_noise(noise_bands, hop=hop, first_frame=state.frame, tail=state.noise_tail, seed=seed)
    new_state = SynthState(phase=phase, f0=f0[..., -1], harmonics=harmonics[..., -1, :], noise_tail=tail,
                           frame=state.frame + f0.shape[-1])
    return harm + noise, new_state


def frames_for(seconds: float, *, hop: int, sample_rate: float) -> int:
    """Control frames that cover ``seconds`` of audio (rounded up)."""
    return max(1, math.ceil(seconds * sample_rate / hop))

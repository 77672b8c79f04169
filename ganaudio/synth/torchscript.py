"""A harmonic-plus-noise instrument as a TorchScript module: load it where ganaudio is not installed.

:func:`export_torchscript` writes one timbre of a :class:`HarmonicSynth` as a
scripted :class:`StreamingSynth`: the control network and the synthesizer,
with the state a note carries between calls (GRU state, oscillator phase, the
last frame's controls, the noise overlap and position) kept inside the module
as buffers. A host loads it with ``torch.jit.load`` alone and calls it block
by block:

``forward(pitch, velocity, gate) -> audio``
    ``pitch``, ``velocity``, ``gate``: float32 ``(frames,)``, one value per
    control frame (MIDI pitch, fractional for a bend; velocity 0-1; gate 1
    while the key is held, 0 after). Returns float32 ``(frames * hop,)`` at
    ``sample_rate``. Consecutive calls continue one note seamlessly.
``reset()``
    Forget the state: the next call starts a new note from silence.

Attributes ``sample_rate`` and ``hop`` are readable on the loaded module; the
file's extra entry ``ganaudio.json`` names the model, the timbre and this
signature.

The computation is the one of :meth:`ControlGenerator.forward` written
out in TorchScript's subset (tests check the two agree call by call).
"""

from __future__ import annotations

import copy
import json
import math
import os
import warnings
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ganaudio.errors import ParameterError
from ganaudio.functional.harmonic import NOISE_PERIOD, noise_sequence
from ganaudio.models.ddspgan import HIGHEST_PITCH, LOWEST_PITCH, ControlGenerator

__all__ = ["StreamingSynth", "export_torchscript", "SIGNATURE"]

SIGNATURE = ("forward(pitch: float32 (frames,) MIDI, velocity: float32 (frames,) 0-1, gate: float32 (frames,) "
             "1 held / 0 released) -> float32 (frames * hop,) audio at sample_rate; reset() starts a new note")


def _exp_sigmoid(x: torch.Tensor, max_value: float = 2.0) -> torch.Tensor:
    return max_value * torch.sigmoid(x) ** math.log(10.0) + 1e-7


class StreamingSynth(nn.Module):
    """One timbre of a :class:`ControlGenerator`, streaming, in TorchScript's subset.

    Parameters
    ----------
    decoder : ControlGenerator
        Copied (the module owns its weights).
    latent : torch.Tensor
        ``(z_dim,)`` timbre latent.

    Examples
    --------
    >>> G = ControlGenerator(hidden=16, z_dim=4, n_harmonics=32, table_size=128).eval()
    >>> m = torch.jit.script(StreamingSynth(G, torch.zeros(4)))
    >>> m(torch.full((3,), 60.0), torch.full((3,), 0.8), torch.ones(3)).shape
    torch.Size([768])
    """

    def __init__(self, decoder: ControlGenerator, latent: torch.Tensor):
        super().__init__()
        if latent.shape != (decoder.z_dim,):
            raise ParameterError(f"latent must be ({decoder.z_dim},), got {tuple(latent.shape)}")
        decoder = copy.deepcopy(decoder).eval().float()
        self.pre, self.gru, self.post, self.head = decoder.pre, decoder.gru, decoder.post, decoder.head
        for weight in self.parameters():  # inference only: no call builds an autograd graph across the state
            weight.requires_grad_(False)
        self.sample_rate: int = int(decoder.sample_rate)
        self.hop: int = int(decoder.hop)
        self.n_harmonics: int = int(decoder.n_harmonics)
        self.n_envelope: int = int(decoder.n_envelope)
        self.n_detail: int = int(decoder.n_detail)
        self.n_noise_bands: int = int(decoder.n_noise_bands)
        self.table_size: int = int(decoder.table_size)
        self.max_cents: float = float(decoder.max_cents)
        self.pitch_centre: float = (LOWEST_PITCH + HIGHEST_PITCH) / 2.0
        self.pitch_half: float = (HIGHEST_PITCH - LOWEST_PITCH) / 2.0
        self.noise_period: int = NOISE_PERIOD
        hidden = decoder.gru.hidden_size
        self.register_buffer("z", latent.detach().float().reshape(1, 1, -1).clone())
        self.register_buffer("envelope_log_hz", decoder.envelope_log_hz.detach().clone())
        self.register_buffer("noise", noise_sequence(0, NOISE_PERIOD, seed=0))
        self.register_buffer("window", torch.hann_window(2 * self.hop, periodic=True))
        self.register_buffer("hidden", torch.zeros(1, 1, hidden))
        self.register_buffer("phase", torch.zeros(1, dtype=torch.float64))
        self.register_buffer("prev_f0", torch.zeros(1))
        self.register_buffer("prev_harmonics", torch.zeros(1, self.n_harmonics))
        self.register_buffer("noise_tail", torch.zeros(1, self.hop))
        self.register_buffer("frame", torch.zeros(1, dtype=torch.long))
        self.register_buffer("started", torch.zeros(1, dtype=torch.long))

    @torch.jit.export
    def reset(self) -> None:
        """Forget the carried state: the next call starts a new note from silence."""
        self.hidden.zero_()
        self.phase.zero_()
        self.prev_f0.zero_()
        self.prev_harmonics.zero_()
        self.noise_tail.zero_()
        self.frame.zero_()
        self.started.zero_()

    def _controls(self, pitch: torch.Tensor, velocity: torch.Tensor, gate: torch.Tensor):
        frames = pitch.shape[0]
        x = torch.cat([self.z.expand(1, frames, self.z.shape[-1]),
                       ((pitch - self.pitch_centre) / self.pitch_half).reshape(1, -1, 1),
                       velocity.reshape(1, -1, 1), gate.reshape(1, -1, 1)], dim=-1)
        core, hidden = self.gru(self.pre(x), self.hidden)
        out = self.head(self.post(torch.cat([core, x], dim=-1)))
        rest = out[..., 2:]
        envelope = rest[..., :self.n_envelope]
        detail = rest[..., self.n_envelope:self.n_envelope + self.n_detail]
        noise = rest[..., self.n_envelope + self.n_detail:]
        f0 = 440.0 * torch.pow(2.0, (pitch.reshape(1, -1) + self.max_cents / 100.0 * torch.tanh(out[..., 1])
                                     - 69.0) / 12.0)
        k = torch.arange(1, self.n_harmonics + 1, dtype=f0.dtype)
        partial_hz = f0.unsqueeze(-1) * k
        grid = self.envelope_log_hz
        n_grid = grid.shape[0]
        position = (partial_hz.clamp_min(1e-3).log() - grid[0]) / (grid[-1] - grid[0]) * (n_grid - 1)
        position = position.clamp(0, n_grid - 1)
        low = position.floor().long().clamp(max=n_grid - 2)
        frac = position - low
        values = _exp_sigmoid(envelope)
        weights = torch.gather(values, -1, low) * (1 - frac) + torch.gather(values, -1, low + 1) * frac
        if self.n_detail > 0:
            weights = torch.cat([weights[..., :self.n_detail] * _exp_sigmoid(detail),
                                 weights[..., self.n_detail:]], dim=-1)
        weights = weights * (partial_hz < self.sample_rate / 2.0)
        distribution = weights / weights.sum(-1, keepdim=True).clamp_min(1e-7)
        amplitude = _exp_sigmoid(out[..., 0])
        return f0, distribution * amplitude.unsqueeze(-1), _exp_sigmoid(noise) * 0.1, hidden

    def _tables(self, amplitudes: torch.Tensor) -> torch.Tensor:
        size = self.table_size
        spectrum = torch.zeros(amplitudes.shape[0], amplitudes.shape[1], size // 2 + 1, dtype=torch.complex64)
        spectrum[..., 1:self.n_harmonics + 1] = torch.complex(torch.zeros_like(amplitudes), -0.5 * size * amplitudes)
        table = torch.fft.irfft(spectrum, n=size)
        return torch.cat([table, table[..., :1]], dim=-1)

    def _harmonic(self, f0: torch.Tensor, harmonics: torch.Tensor) -> torch.Tensor:
        frames, hop, size = f0.shape[-1], self.hop, self.table_size
        f0_ends = torch.cat([self.prev_f0.unsqueeze(-1), f0], dim=-1)
        amp_ends = torch.cat([self.prev_harmonics.unsqueeze(-2), harmonics], dim=-2)
        k = torch.arange(1, self.n_harmonics + 1, dtype=f0.dtype)
        mask = ((torch.maximum(f0_ends[..., :-1], f0_ends[..., 1:]).unsqueeze(-1) * k)
                < self.sample_rate / 2.0).to(f0.dtype)
        left = self._tables(amp_ends[..., :-1, :] * mask)
        right = self._tables(amp_ends[..., 1:, :] * mask)
        ramp = torch.arange(1, hop + 1, dtype=torch.float64) / hop
        f0_64 = f0_ends.to(torch.float64)
        freq = f0_64[..., :-1, None] + (f0_64[..., 1:, None] - f0_64[..., :-1, None]) * ramp
        increments = (freq / self.sample_rate).flatten(-2)
        running = torch.cumsum(increments, dim=-1)
        cycles = self.phase.unsqueeze(-1) + running - increments
        self.phase.copy_(torch.remainder(self.phase + running[..., -1], 1.0))
        position = torch.remainder(cycles, 1.0) * size
        index = position.floor().clamp(max=size - 1)
        frac = (position - index).to(harmonics.dtype).reshape(1, frames, hop)
        index = index.long().reshape(1, frames, hop)
        weight = ramp.to(harmonics.dtype)
        low_l, high_l = torch.gather(left, -1, index), torch.gather(left, -1, index + 1)
        low_r, high_r = torch.gather(right, -1, index), torch.gather(right, -1, index + 1)
        audio = (low_l + (high_l - low_l) * frac) * (1 - weight) + (low_r + (high_r - low_r) * frac) * weight
        return audio.flatten(-2)

    def _noise(self, bands: torch.Tensor) -> torch.Tensor:
        frames, hop = bands.shape[-2], self.hop
        index = (self.frame * hop + torch.arange((frames + 1) * hop)) % self.noise_period
        segments = self.noise[index].unfold(-1, 2 * hop, hop)                   # (frames, 2 hop)
        shape = F.interpolate(bands.reshape(-1, 1, self.n_noise_bands), size=hop + 1, mode="linear",
                              align_corners=True).reshape(1, frames, hop + 1)
        filtered = torch.fft.irfft(torch.fft.rfft(segments) * shape, n=2 * hop) * self.window
        first, second = filtered[..., :hop], filtered[..., hop:]
        previous = torch.cat([self.noise_tail.unsqueeze(-2), second[..., :-1, :]], dim=-2)
        self.noise_tail.copy_(second[..., -1, :])
        return (first + previous).flatten(-2)

    def forward(self, pitch: torch.Tensor, velocity: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        """``pitch``, ``velocity``, ``gate`` float32 ``(frames,)`` -> audio ``(frames * hop,)``; state carried."""
        if pitch.dim() != 1 or velocity.shape != pitch.shape or gate.shape != pitch.shape or pitch.shape[0] == 0:
            raise ValueError("pitch, velocity and gate must be non-empty 1-D tensors of one length (frames,)")
        f0, harmonics, noise, hidden = self._controls(pitch.float(), velocity.float(), gate.float())
        if int(self.started[0]) == 0:  # a new note: the first span fades in at the first frame's pitch
            self.prev_f0.copy_(f0[:, 0])
            self.started.fill_(1)
        audio = self._harmonic(f0, harmonics) + self._noise(noise)
        self.hidden.copy_(hidden)
        self.prev_f0.copy_(f0[:, -1])
        self.prev_harmonics.copy_(harmonics[:, -1, :])
        self.frame.add_(f0.shape[-1])
        return audio[0]


def export_torchscript(synth, timbre, path: str | os.PathLike, *, model_name: str | None = None) -> Path:
    """Write ``timbre`` of a harmonic-plus-noise ``synth`` as a TorchScript file (atomically).

    Parameters
    ----------
    synth : HarmonicSynth
        A streaming instrument (other note models cannot stream: ParameterError).
    timbre : Timbre
        One of ``synth``'s timbres (another model's: ParameterError).
    path : path-like
        The ``.ts`` (or ``.pt``) file to write.

    Examples
    --------
    >>> export_torchscript(synth, synth.random_timbre(3), "synth.ts")
    >>> m = torch.jit.load("synth.ts")                      # no ganaudio needed
    >>> audio = m(torch.full((8,), 60.0), torch.full((8,), 0.8), torch.ones(8))   # (8 * m.hop,)
    """
    from ganaudio.io import atomic_path

    decoder = getattr(getattr(synth, "instrument", None), "decoder", None)
    if not isinstance(decoder, ControlGenerator):
        raise ParameterError(f"{getattr(synth, 'name', 'this model')} cannot stream (only harmonic-plus-noise "
                             "instruments export as TorchScript); export its notes as a sampler instrument instead")
    timbre = synth.check_timbre(timbre)
    path = Path(path)
    with warnings.catch_warnings():  # torch 2.9+ marks TorchScript deprecated; hosts (nn~, Neutone) still load it
        warnings.simplefilter("ignore", FutureWarning)
        scripted = torch.jit.script(StreamingSynth(decoder.cpu(), torch.from_numpy(timbre.latent.copy())))
        info = {"format": "ganaudio-torchscript", "model": model_name or synth.name, "model_id": synth.model_id,
                "timbre": {"seed": timbre.seed, "latent": [float(v) for v in timbre.latent]},
                "sample_rate": scripted.sample_rate, "hop": scripted.hop, "signature": SIGNATURE}
        with atomic_path(path) as tmp:
            torch.jit.save(scripted, str(tmp), _extra_files={"ganaudio.json": json.dumps(info, indent=1)})
    return path

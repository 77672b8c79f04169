"""A harmonic-plus-noise GAN instrument: a causal control generator driving a DDSP synthesizer.

Three networks (DDSP, Engel et al. 2020; MIDI-DDSP, Wu et al. 2022):

* :class:`ControlGenerator` maps, frame by frame, a timbre latent ``z``, the
  asked pitch, the velocity and a note gate (1 while the key is held) to the
  synthesizer's controls. Its core is a GRU, so it runs over any number of
  frames and carries its state between calls: a note has any length, and its
  release follows the gate closing. Harmonic amplitudes come from a smooth
  spectral envelope over log frequency read at each partial's frequency
  (times a per-partial detail for the lowest partials), so one envelope serves
  every pitch from MIDI 21 to 108; the pitch may deviate from the asked one by
  at most ``max_cents``.
* :class:`NoteEncoder` maps a recorded note to the mean and log-variance of
  ``z``: it is trained with a reconstruction loss, and it is how a timbre is
  taken from a recording.
* :class:`MelDiscriminator` judges log-mel spectrograms at several
  resolutions (mel bands rather than linear bins keep it cheap on a CPU), with
  a projection term for pitch and velocity.

Shapes: per-frame inputs ``(batch, frames)``; ``z`` ``(batch, z_dim)`` or
``(batch, frames, z_dim)``; audio ``(batch, samples)`` with ``samples = frames
* hop``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torchaudio
from torch import nn
from torch.nn import functional as F

from ganaudio.errors import ParameterError
from ganaudio.functional.harmonic import SynthState, synth_harmonic_noise

__all__ = ["ControlGenerator", "GeneratorState", "HarmonicInstrument", "MelDiscriminator", "NoteEncoder", "exp_sigmoid"]

LOWEST_PITCH, HIGHEST_PITCH = 21, 108


def exp_sigmoid(x: torch.Tensor, *, exponent: float = math.log(10.0), max_value: float = 2.0) -> torch.Tensor:
    """DDSP's positive output nonlinearity: ``max_value * sigmoid(x) ** exponent + 1e-7``."""
    return max_value * torch.sigmoid(x) ** exponent + 1e-7


@contextlib.contextmanager
def flush_denormals():
    """Flush denormal floats to zero inside the block (torch's default, off, afterwards).

    Saturated GRU gates produce denormals, which make CPU arithmetic 10-50x
    slower (measured: a 430-frame GRU pass took 1.4 s instead of 0.15 s).
    Training entry points switch it on for the whole run instead, since the
    backward pass runs outside this block.
    """
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def _inverse_exp_sigmoid(value, *, exponent: float = math.log(10.0), max_value: float = 2.0) -> torch.Tensor:
    """The logit ``x`` with ``exp_sigmoid(x) == value`` (0 < value < max_value)."""
    p = (torch.as_tensor(value, dtype=torch.float32) / max_value) ** (1 / exponent)
    return torch.log(p / (1 - p))


def midi_to_hz(pitch: torch.Tensor) -> torch.Tensor:
    """Equal-tempered Hz of (fractional) MIDI pitches, A4 = 69 = 440 Hz."""
    return 440.0 * torch.pow(2.0, (pitch - 69.0) / 12.0)


@dataclass(frozen=True)
class GeneratorState:
    """The control network's GRU state and the synthesizer's state, carried between calls."""

    hidden: torch.Tensor
    synth: SynthState

    def detach(self) -> GeneratorState:
        return GeneratorState(self.hidden.detach(), self.synth.detach())


def _positive(name: str, value, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


class ControlGenerator(nn.Module):
    """Timbre latent, pitch, velocity and gate per frame to synthesizer controls and audio.

    Parameters
    ----------
    sample_rate : int
        Output rate in Hz (44100).
    hop : int
        Samples per control frame (256: 172 frames a second at 44.1 kHz).
    z_dim : int
        Size of the timbre latent.
    hidden : int
        Width of the MLPs and the GRU.
    n_harmonics : int
        Partials synthesised (727 reach 20 kHz at MIDI 21); those at or above
        Nyquist are silenced.
    n_envelope : int
        Points of the harmonic spectral envelope, spaced on log frequency
        from ``envelope_low_hz`` to Nyquist.
    n_detail : int
        Lowest partials that also get a free per-partial gain (odd/even
        structure, formant detail the envelope is too smooth for).
    n_noise_bands : int
        Noise band magnitudes from 0 Hz to Nyquist.
    max_cents : float
        Largest deviation from the asked pitch the network may add (vibrato,
        attack glide); 0 plays the asked pitch exactly.
    table_size : int
        Wavetable length, more than twice ``n_harmonics``.

    Examples
    --------
    >>> G = ControlGenerator(hidden=32, n_harmonics=64, table_size=256, z_dim=8)
    >>> frames = 20
    >>> pitch = torch.full((2, frames), 60.0); vel = torch.full((2, frames), 0.8); gate = torch.ones(2, frames)
    >>> audio, state = G(torch.randn(2, 8), pitch, vel, gate)
    >>> audio.shape
    torch.Size([2, 5120])
    """

    def __init__(self, *, sample_rate: int = 44100, hop: int = 256, z_dim: int = 64, hidden: int = 256,
                 n_harmonics: int = 727, n_envelope: int = 96, n_detail: int = 32, n_noise_bands: int = 65,
                 max_cents: float = 25.0, envelope_low_hz: float = 20.0, table_size: int = 4096):
        super().__init__()
        for name, value in (("sample_rate", sample_rate), ("hop", hop), ("z_dim", z_dim), ("hidden", hidden),
                            ("n_harmonics", n_harmonics), ("n_envelope", n_envelope),
                            ("n_noise_bands", n_noise_bands), ("table_size", table_size)):
            _positive(name, value, 2 if name in ("hop", "n_envelope", "n_noise_bands") else 1)
        _positive("n_detail", n_detail, 0)
        if table_size <= 2 * n_harmonics:
            raise ParameterError(f"table_size {table_size} must exceed 2 * n_harmonics = {2 * n_harmonics}")
        if not 0 <= max_cents <= 100:
            raise ParameterError(f"max_cents must be within 0-100, got {max_cents!r}")
        self._config = dict(sample_rate=sample_rate, hop=hop, z_dim=z_dim, hidden=hidden, n_harmonics=n_harmonics,
                            n_envelope=n_envelope, n_detail=min(n_detail, n_harmonics),
                            n_noise_bands=n_noise_bands, max_cents=float(max_cents),
                            envelope_low_hz=float(envelope_low_hz), table_size=table_size)
        self.sample_rate, self.hop, self.z_dim = sample_rate, hop, z_dim
        self.n_harmonics, self.n_detail, self.table_size = n_harmonics, min(n_detail, n_harmonics), table_size
        self.max_cents = float(max_cents)
        n_in = z_dim + 3  # z, normalised pitch, velocity, gate
        self.pre = nn.Sequential(nn.Linear(n_in, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                 nn.LeakyReLU(0.2))
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.post = nn.Sequential(nn.Linear(hidden + n_in, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                  nn.LeakyReLU(0.2))
        self.n_envelope, self.n_noise_bands = n_envelope, n_noise_bands
        self.head = nn.Linear(hidden, 2 + n_envelope + self.n_detail + n_noise_bands)
        log_low, log_high = math.log(envelope_low_hz), math.log(sample_rate / 2)
        self.register_buffer("envelope_log_hz", torch.linspace(log_low, log_high, n_envelope), persistent=False)
        self._init_head()

    @torch.no_grad()
    def _init_head(self) -> None:
        """Start from a quiet, dull harmonic tone with almost no noise.

        With a flat envelope and loud noise at the start, the reconstruction
        loss first silences the (too bright) harmonics and fits the spectrum
        with noise; the harmonic amplitude then sits where ``exp_sigmoid``
        has no gradient and never comes back. So the head's biases start at
        amplitude 0.1, an envelope falling 6 dB per octave above 200 Hz,
        and noise 60 dB down (DDSP starts its noise at -5 as well).
        """
        self.head.weight.mul_(0.1)
        bias = self.head.bias
        bias[0] = _inverse_exp_sigmoid(0.1)
        bias[1] = 0.0
        hz = self.envelope_log_hz.exp()
        envelope = (200.0 / hz.clamp_min(200.0)).clamp_min(1e-3)  # -6 dB per octave above 200 Hz
        bias[2:2 + self.n_envelope] = _inverse_exp_sigmoid(envelope)
        bias[2 + self.n_envelope:2 + self.n_envelope + self.n_detail] = _inverse_exp_sigmoid(1.0)
        bias[2 + self.n_envelope + self.n_detail:] = -5.0

    def config(self) -> dict:
        """Constructor arguments, JSON-able; ``ControlGenerator(**config)`` rebuilds the module."""
        return dict(self._config)

    @classmethod
    def from_config(cls, config: dict) -> ControlGenerator:
        return cls(**config)

    def _inputs(self, z: torch.Tensor, pitch: torch.Tensor, velocity: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        if pitch.dim() != 2 or velocity.shape != pitch.shape or gate.shape != pitch.shape:
            raise ParameterError(f"pitch, velocity and gate must share a (batch, frames) shape, got "
                                 f"{tuple(pitch.shape)}, {tuple(velocity.shape)}, {tuple(gate.shape)}")
        batch, frames = pitch.shape
        if z.dim() == 2:
            z = z.unsqueeze(1).expand(batch, frames, z.shape[-1])
        if z.shape != (batch, frames, self.z_dim):
            raise ParameterError(f"z must be (batch, {self.z_dim}) or (batch, frames, {self.z_dim}), got {tuple(z.shape)}")
        centre, half = (LOWEST_PITCH + HIGHEST_PITCH) / 2, (HIGHEST_PITCH - LOWEST_PITCH) / 2
        return torch.cat([z, ((pitch - centre) / half).unsqueeze(-1), velocity.unsqueeze(-1),
                          gate.unsqueeze(-1)], dim=-1)

    def controls(self, z: torch.Tensor, pitch: torch.Tensor, velocity: torch.Tensor, gate: torch.Tensor,
                 hidden: torch.Tensor | None = None) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Per-frame controls and the GRU state after the last frame.

        Parameters
        ----------
        z : torch.Tensor
            ``(batch, z_dim)`` or ``(batch, frames, z_dim)`` (a drifting timbre).
        pitch : torch.Tensor
            ``(batch, frames)`` asked MIDI pitch (fractional allowed: pitch bend).
        velocity : torch.Tensor
            ``(batch, frames)`` in [0, 1] (MIDI velocity / 127).
        gate : torch.Tensor
            ``(batch, frames)``: 1 while the note is held, 0 after release.
        hidden : torch.Tensor, optional
            ``(1, batch, hidden)`` from the previous call.

        Returns
        -------
        controls : dict
            ``f0`` ``(batch, frames)`` Hz; ``amplitude`` ``(batch, frames)``;
            ``harmonics`` ``(batch, frames, n_harmonics)`` amplitudes (the
            distribution, Nyquist-masked and summing to 1, times amplitude);
            ``noise`` ``(batch, frames, n_noise_bands)``.
        hidden : torch.Tensor
            ``(1, batch, hidden)``.
        """
        x = self._inputs(z, pitch, velocity, gate)
        with flush_denormals():
            core, hidden = self.gru(self.pre(x), hidden)
        out = self.head(self.post(torch.cat([core, x], dim=-1)))
        amp_logit, cents_logit, rest = out[..., 0], out[..., 1], out[..., 2:]
        envelope, detail, noise = rest.split([self.n_envelope, self.n_detail, self.n_noise_bands], dim=-1)
        f0 = midi_to_hz(pitch + self.max_cents / 100 * torch.tanh(cents_logit))
        k = torch.arange(1, self.n_harmonics + 1, device=pitch.device, dtype=pitch.dtype)
        partial_hz = f0.unsqueeze(-1) * k                                                  # (B, T, K)
        weights = self._envelope_at(envelope, partial_hz)
        if self.n_detail:
            weights = torch.cat([weights[..., :self.n_detail] * exp_sigmoid(detail, max_value=2.0),
                                 weights[..., self.n_detail:]], dim=-1)
        weights = weights * (partial_hz < self.sample_rate / 2)
        distribution = weights / weights.sum(-1, keepdim=True).clamp_min(1e-7)
        amplitude = exp_sigmoid(amp_logit)
        return {"f0": f0, "amplitude": amplitude, "harmonics": distribution * amplitude.unsqueeze(-1),
                "noise": exp_sigmoid(noise) * 0.1}, hidden

    def _envelope_at(self, envelope: torch.Tensor, partial_hz: torch.Tensor) -> torch.Tensor:
        """Read the log-frequency envelope ``(B, T, n_envelope)`` (logits) at ``partial_hz`` ``(B, T, K)``."""
        grid = self.envelope_log_hz
        position = (partial_hz.clamp_min(1e-3).log() - grid[0]) / (grid[-1] - grid[0]) * (len(grid) - 1)
        position = position.clamp(0, len(grid) - 1)
        low = position.floor().long().clamp(max=len(grid) - 2)
        frac = position - low
        values = exp_sigmoid(envelope)
        return torch.gather(values, -1, low) * (1 - frac) + torch.gather(values, -1, low + 1) * frac

    def forward(self, z: torch.Tensor, pitch: torch.Tensor, velocity: torch.Tensor, gate: torch.Tensor,
                state: GeneratorState | None = None, *, seed: int = 0) -> tuple[torch.Tensor, GeneratorState]:
        """Synthesize ``frames * hop`` samples, continuing from ``state`` (None: a new note from silence).

        Returns ``(audio (batch, frames * hop), state)``; calling again with the
        next frames and the returned state continues the same note seamlessly.
        """
        controls, hidden = self.controls(z, pitch, velocity, gate, None if state is None else state.hidden)
        audio, synth = synth_harmonic_noise(controls["f0"], controls["harmonics"], controls["noise"], hop=self.hop,
                                            sample_rate=self.sample_rate, table_size=self.table_size,
                                            state=None if state is None else state.synth, seed=seed)
        return audio, GeneratorState(hidden, synth)


class NoteEncoder(nn.Module):
    """A recorded note ``(batch, samples)`` at ``sample_rate`` to ``(mean, logvar)`` of ``z``, each ``(batch, z_dim)``.

    Log-mel frames go through dilated 1-D convolutions (parallel over time:
    a recurrent encoder was 50x slower on 2 CPU cores); frames are pooled
    with a learned attention over time, so notes of any length (at least one
    frame) map to one latent.

    Examples
    --------
    >>> E = NoteEncoder(z_dim=8, channels=16, n_mels=32)
    >>> mean, logvar = E(torch.randn(3, 22050))
    >>> mean.shape, logvar.shape
    (torch.Size([3, 8]), torch.Size([3, 8]))
    """

    def __init__(self, *, sample_rate: int = 44100, z_dim: int = 64, n_fft: int = 2048, hop: int = 256,
                 n_mels: int = 128, channels: int = 128):
        super().__init__()
        for name, value in (("sample_rate", sample_rate), ("z_dim", z_dim), ("n_fft", n_fft), ("hop", hop),
                            ("n_mels", n_mels), ("channels", channels)):
            _positive(name, value)
        self._config = dict(sample_rate=sample_rate, z_dim=z_dim, n_fft=n_fft, hop=hop, n_mels=n_mels,
                            channels=channels)
        self.mel = torchaudio.transforms.MelSpectrogram(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop,
                                                        n_mels=n_mels, f_min=20.0, power=1.0, center=True)
        layers: list[nn.Module] = [nn.Conv1d(n_mels, channels, 3, padding=1), nn.LeakyReLU(0.2)]
        for dilation in (1, 2, 4, 8, 1, 2, 4, 8):  # receptive field of about 60 frames (0.35 s at hop 256)
            layers += [nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation), nn.LeakyReLU(0.2)]
        self.convs = nn.Sequential(*layers)
        self.attention = nn.Conv1d(channels, 1, 1)
        self.out = nn.Linear(channels, 2 * z_dim)

    def config(self) -> dict:
        return dict(self._config)

    @classmethod
    def from_config(cls, config: dict) -> NoteEncoder:
        return cls(**config)

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if audio.dim() != 2 or audio.shape[-1] < 1:
            raise ParameterError(f"audio must be (batch, samples) with samples >= 1, got {tuple(audio.shape)}")
        n_fft = self._config["n_fft"]
        if audio.shape[-1] <= n_fft // 2:  # reflect padding needs more than half a window: pad with silence
            audio = F.pad(audio, (0, n_fft // 2 + 1 - audio.shape[-1]))
        logmel = torch.log(self.mel(audio).clamp_min(1e-5))                         # (B, n_mels, frames)
        h = self.convs(logmel)                                                        # (B, C, frames)
        weights = torch.softmax(self.attention(h), dim=-1)                             # (B, 1, frames)
        pooled = (weights * h).sum(-1)
        mean, logvar = self.out(pooled).chunk(2, dim=-1)
        return mean, logvar.clamp(-10, 4)


class _MelScale(nn.Module):
    """2-D convolutions over one log-mel resolution; returns a score map and features."""

    def __init__(self, *, sample_rate: int, n_fft: int, hop: int, n_mels: int, channels: int, n_conditions: int):
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop,
                                                        n_mels=n_mels, f_min=20.0, power=1.0, center=True)
        norm = nn.utils.parametrizations.weight_norm
        self.convs = nn.ModuleList([
            norm(nn.Conv2d(1, channels, (3, 9), padding=(1, 4))),
            norm(nn.Conv2d(channels, channels, (3, 9), stride=(2, 2), padding=(1, 4))),
            norm(nn.Conv2d(channels, channels, (3, 9), stride=(2, 2), padding=(1, 4))),
            norm(nn.Conv2d(channels, channels, (3, 3), padding=(1, 1))),
        ])
        self.out = norm(nn.Conv2d(channels, 1, (3, 3), padding=(1, 1)))
        self.embed = nn.Linear(n_conditions, channels, bias=False)

    def forward(self, audio: torch.Tensor, condition: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = torch.log(self.mel(audio).clamp_min(1e-5)).unsqueeze(1)                 # (B, 1, mels, frames)
        features = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
            features.append(x)
        score = self.out(x)
        # projection (Miyato & Koyama): <embed(condition), pooled features> per example
        projection = (self.embed(condition) * x.mean(dim=(2, 3))).sum(-1)
        features.append(score)
        return score.flatten(1).mean(-1) + projection, features


class MelDiscriminator(nn.Module):
    """Log-mel discriminators at several ``(n_fft, hop, n_mels)`` resolutions, projected on pitch and velocity.

    Call with audio ``(batch, samples)``, pitch ``(batch,)`` MIDI and velocity
    ``(batch,)`` in [0, 1]; returns one ``(score (batch,), features)`` pair per
    resolution.

    Examples
    --------
    >>> D = MelDiscriminator(resolutions=((512, 128, 32),), channels=8)
    >>> out = D(torch.randn(2, 8192), torch.tensor([60.0, 72.0]), torch.tensor([0.5, 1.0]))
    >>> len(out), out[0][0].shape
    (1, torch.Size([2]))
    """

    def __init__(self, *, sample_rate: int = 44100,
                 resolutions: Sequence[Sequence[int]] = ((2048, 512, 128), (1024, 256, 96), (512, 128, 64)),
                 channels: int = 32):
        super().__init__()
        _positive("channels", channels)
        self._config = dict(sample_rate=sample_rate, resolutions=[list(r) for r in resolutions], channels=channels)
        self.n_pitches = HIGHEST_PITCH - LOWEST_PITCH + 1
        self.scales = nn.ModuleList(
            _MelScale(sample_rate=sample_rate, n_fft=n, hop=h, n_mels=m, channels=channels,
                      n_conditions=self.n_pitches + 1)
            for n, h, m in resolutions)

    def config(self) -> dict:
        return dict(self._config)

    @classmethod
    def from_config(cls, config: dict) -> MelDiscriminator:
        return cls(**config)

    def condition(self, pitch: torch.Tensor, velocity: torch.Tensor) -> torch.Tensor:
        """One-hot pitch (MIDI 21-108, rounded) beside the velocity: ``(batch, 89)``."""
        index = (pitch.round().long() - LOWEST_PITCH).clamp(0, self.n_pitches - 1)
        return torch.cat([F.one_hot(index, self.n_pitches).to(velocity.dtype), velocity.unsqueeze(-1)], dim=-1)

    def forward(self, audio: torch.Tensor, pitch: torch.Tensor,
                velocity: torch.Tensor) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
        condition = self.condition(pitch, velocity)
        return [scale(audio, condition) for scale in self.scales]


class HarmonicInstrument(nn.Module):
    """The generator side of the family: a :class:`NoteEncoder` and a :class:`ControlGenerator` that share ``z``.

    ``encoder`` and ``decoder`` hold their own constructor arguments;
    :meth:`config` nests them so ``HarmonicInstrument(**config)`` rebuilds it.

    Examples
    --------
    >>> net = HarmonicInstrument(decoder=dict(hidden=16, z_dim=4, n_harmonics=32, table_size=128),
    ...                          encoder=dict(z_dim=4, channels=8, n_mels=16))
    >>> mean, logvar = net.encode(torch.randn(1, 4096))
    >>> audio, _ = net(mean, torch.full((1, 8), 60.0), torch.full((1, 8), 0.5), torch.ones(1, 8))
    >>> audio.shape
    torch.Size([1, 2048])
    """

    def __init__(self, *, decoder: dict | None = None, encoder: dict | None = None):
        super().__init__()
        self.decoder = ControlGenerator(**(decoder or {}))
        encoder = {"sample_rate": self.decoder.sample_rate, "z_dim": self.decoder.z_dim, **(encoder or {})}
        self.encoder = NoteEncoder(**encoder)
        if self.encoder.config()["z_dim"] != self.decoder.z_dim:
            raise ParameterError(f"encoder z_dim {self.encoder.config()['z_dim']} differs from the decoder's "
                                 f"{self.decoder.z_dim}")
        self.sample_rate, self.hop, self.z_dim = self.decoder.sample_rate, self.decoder.hop, self.decoder.z_dim

    def config(self) -> dict:
        return {"decoder": self.decoder.config(), "encoder": self.encoder.config()}

    @classmethod
    def from_config(cls, config: dict) -> HarmonicInstrument:
        return cls(**config)

    def encode(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Audio ``(batch, samples)`` at ``sample_rate`` to ``(mean, logvar)``, each ``(batch, z_dim)``."""
        return self.encoder(audio)

    def forward(self, z: torch.Tensor, pitch: torch.Tensor, velocity: torch.Tensor, gate: torch.Tensor,
                state: GeneratorState | None = None, *, seed: int = 0) -> tuple[torch.Tensor, GeneratorState]:
        """See :meth:`ControlGenerator.forward`."""
        return self.decoder(z, pitch, velocity, gate, state, seed=seed)

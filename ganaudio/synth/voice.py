"""One note of a harmonic-plus-noise instrument, rendered block by block with carried state.

A :class:`Voice` turns the control generator's frame-wise state into an audio
stream of any block size: it renders whole control frames as they are needed
and keeps the samples it has not handed out yet. Rendering a note in blocks of
64, 100 or 2,048 samples gives the same samples as rendering it whole (the
control network and the synthesizer carry their state from frame to frame).

Events (release, pitch bend, timbre change) take effect at the next control
frame not yet rendered, at most ``hop - 1`` samples after they were asked for.
"""

from __future__ import annotations

import numpy as np
import torch

from ganaudio.errors import ParameterError
from ganaudio.models.ddspgan import ControlGenerator, GeneratorState

__all__ = ["Voice"]


class Voice:
    """A note of ``decoder`` at ``pitch`` and ``velocity`` in timbre ``z``, from its onset.

    Parameters
    ----------
    decoder : ControlGenerator
        In eval mode (its state is carried, no gradients are kept).
    z : torch.Tensor
        ``(z_dim,)`` timbre latent.
    pitch : float
        MIDI pitch (fractional for a bend).
    velocity : float
        0-1 (MIDI velocity / 127).
    seed : int
        Noise sequence of this voice (give simultaneous voices different seeds).

    Examples
    --------
    >>> G = ControlGenerator(hidden=16, z_dim=4, n_harmonics=32, table_size=128).eval()
    >>> voice = Voice(G, torch.zeros(4), pitch=60, velocity=0.8)
    >>> voice.render(100).shape, voice.render(300).shape
    ((100,), (300,))
    >>> voice.release(); voice.gate
    0.0
    """

    def __init__(self, decoder: ControlGenerator, z: torch.Tensor, *, pitch: float, velocity: float, seed: int = 0):
        if z.shape != (decoder.z_dim,):
            raise ParameterError(f"z must be ({decoder.z_dim},), got {tuple(z.shape)}")
        if not 0 <= velocity <= 1:
            raise ParameterError(f"velocity must be within 0-1, got {velocity!r}")
        self.decoder, self.seed = decoder, int(seed)
        self.z = z.detach().reshape(1, -1)
        self.pitch, self.velocity, self.gate = float(pitch), float(velocity), 1.0
        self.state: GeneratorState | None = None
        self.frames_rendered = 0
        self._pending = np.zeros(0, dtype=np.float32)

    def release(self) -> None:
        """Close the gate: the note goes into its release from the next control frame."""
        self.gate = 0.0

    def bend(self, pitch: float) -> None:
        """Glide to ``pitch`` (MIDI, fractional) from the next control frame."""
        self.pitch = float(pitch)

    def set_timbre(self, z: torch.Tensor) -> None:
        """Morph to timbre ``z`` ``(z_dim,)`` from the next control frame."""
        if z.shape != (self.decoder.z_dim,):
            raise ParameterError(f"z must be ({self.decoder.z_dim},), got {tuple(z.shape)}")
        self.z = z.detach().reshape(1, -1)

    @torch.no_grad()
    def render_frames(self, frames: int) -> np.ndarray:
        """``frames * hop`` new samples at the current controls (bypasses the block buffer)."""
        shape = (1, frames)
        pitch = torch.full(shape, self.pitch)
        velocity = torch.full(shape, self.velocity)
        gate = torch.full(shape, self.gate)
        audio, self.state = self.decoder(self.z, pitch, velocity, gate, self.state, seed=self.seed)
        self.frames_rendered += frames
        return audio[0].numpy()

    def render(self, n: int) -> np.ndarray:
        """The next ``n`` samples ``(n,)`` float32."""
        if n < 0:
            raise ParameterError(f"block size must be >= 0, got {n}")
        missing = n - len(self._pending)
        if missing > 0:
            frames = -(-missing // self.decoder.hop)
            self._pending = np.concatenate([self._pending, self.render_frames(frames)])
        out, self._pending = self._pending[:n], self._pending[n:]
        return out

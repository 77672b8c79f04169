"""Pictures of representations (matplotlib, Agg backend; no global pyplot state)."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure

__all__ = ["plot_representation"]

CHANNEL_LABELS = {
    "stft": ("log magnitude", "phase (rad)"),
    "if": ("log magnitude", "instantaneous frequency / pi"),
    "mel": ("log mel power",),
    "ifmel": ("log mel power", "mel instantaneous frequency / pi"),
    "cqt": ("log magnitude", "phase (rad)"),
}


def _frequency_axis(rep, n_bins: int) -> tuple[np.ndarray, str]:
    import librosa

    if rep.name in ("mel", "ifmel") and n_bins == rep.n_mels:
        return np.asarray(rep.band_frequencies()), "Hz (mel)"
    if rep.name in ("mel", "ifmel"):
        return librosa.mel_frequencies(n_bins, fmin=rep.fmin, fmax=rep.fmax or rep.sample_rate / 2, htk=rep.htk), "Hz (mel)"
    if rep.name == "cqt":
        return librosa.cqt_frequencies(n_bins, fmin=rep.fmin, bins_per_octave=rep.bins_per_octave), "Hz (log)"
    return np.linspace(0, rep.sample_rate / 2, n_bins), "Hz"


def plot_representation(spec: torch.Tensor, rep, *, title: str = "", frame_step: int = 1) -> Figure:
    """A figure with one panel per channel, time in seconds, frequency in Hz and a colour bar.

    Parameters
    ----------
    spec : torch.Tensor, shape ``(channels, freq, frames)``
    rep : a representation (gives sample rate, hop and the frequency scale)
    frame_step : int
        Frames of ``rep`` per column of ``spec`` (a long recording's frames pooled
        by :class:`ganaudio.representations.streaming.FramePooler`).

    Examples
    --------
    >>> fig = plot_representation(rep.encode(y), rep, title="trumpet C4")
    >>> fig.savefig("trumpet.png")
    """
    arr = spec.detach().cpu().float().numpy()
    if arr.ndim != 3:
        raise ValueError(f"expected (channels, freq, frames), got {arr.shape}")
    channels, n_bins, frames = arr.shape
    freqs, unit = _frequency_axis(rep, n_bins)
    times = np.arange(frames) * rep.hop_length * frame_step / rep.sample_rate
    figure = Figure(figsize=(8, 3 * channels), layout="constrained")
    labels = CHANNEL_LABELS.get(rep.name, ("channel 0", "channel 1"))
    for c in range(channels):
        ax = figure.add_subplot(channels, 1, c + 1)
        # Bands are drawn evenly (as the network sees them) and labelled in Hz.
        mesh = ax.pcolormesh(times, np.arange(n_bins), arr[c], shading="nearest",
                             cmap="magma" if c == 0 else "twilight")
        ticks = np.linspace(0, n_bins - 1, 6).round().astype(int)
        ax.set_yticks(ticks, [f"{freqs[t]:.0f}" for t in ticks])
        ax.set_ylabel(f"frequency ({unit})")
        ax.set_xlabel("time (s)")
        ax.set_title(f"{title}: {labels[c] if c < len(labels) else f'channel {c}'}" if title else labels[c])
        figure.colorbar(mesh, ax=ax, label=labels[c] if c < len(labels) else "")
    return figure

"""The evaluator network: a small log-mel CNN that names a note's pitch and instrument family.

GANSynth judges generated notes with a pitch classifier trained on real
notes: its pitch posteriors give the Inception Score and its penultimate
layer the embedding for the Frechet distance. :class:`NoteEvaluator` is that
network for ganaudio, with a second head for the instrument family (NSynth's
eleven). :class:`Evaluator` pairs it with its front end (log-mel) so it reads
waveforms; :func:`load_evaluator` opens the bundled one or any trained folder
(``ganaudio train evaluator``).
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ganaudio.data.soundfont import NSYNTH_FAMILIES
from ganaudio.errors import ParameterError
from ganaudio.loading import build_from_config, load_weights, open_model

__all__ = ["NoteEvaluator", "Evaluator", "EvaluatorOutput", "load_evaluator", "BUNDLED_EVALUATOR"]

BUNDLED_EVALUATOR = "evaluator"  # folder name under ganaudio/assets


class NoteEvaluator(nn.Module):
    """Log-mel ``(batch, 1, n_mels, n_frames)`` to pitch logits, family logits and an embedding.

    Four conv blocks (3x3 conv, batch norm, leaky ReLU, max-pool), a
    frequency-coordinate channel at the input (pitch is an absolute
    frequency), an average over time that keeps the frequency axis, then a
    linear map to the embedding and two linear heads.

    Parameters
    ----------
    n_mels, n_frames : int
        Input image size.
    n_pitches : int
        Pitch classes; class ``i`` is MIDI ``lowest_pitch + i``.
    lowest_pitch : int
    n_families : int
        Instrument-family classes (NSynth's eleven by default).
    channels : tuple of int
        Channels of the conv blocks.
    embedding_dim : int
        Size of the penultimate layer (the Frechet-distance embedding).
    dropout : float
        Dropout before the heads (training only).

    Examples
    --------
    >>> net = NoteEvaluator(n_mels=128, n_frames=32, n_pitches=49, lowest_pitch=36)
    >>> pitch, family, emb = net(torch.randn(2, 1, 128, 32))
    >>> pitch.shape, family.shape, emb.shape
    (torch.Size([2, 49]), torch.Size([2, 11]), torch.Size([2, 64]))
    """

    def __init__(self, *, n_mels: int = 128, n_frames: int = 32, n_pitches: int = 49, lowest_pitch: int = 36,
                 n_families: int = len(NSYNTH_FAMILIES), channels: tuple[int, ...] = (24, 48, 64, 96),
                 embedding_dim: int = 64, dropout: float = 0.2):
        super().__init__()
        for name, value in (("n_mels", n_mels), ("n_frames", n_frames), ("n_pitches", n_pitches),
                            ("n_families", n_families), ("embedding_dim", embedding_dim)):
            if not isinstance(value, int) or value < 1:
                raise ParameterError(f"{name} must be a positive integer, got {value!r}")
        channels = tuple(int(c) for c in channels)
        self._config = dict(n_mels=n_mels, n_frames=n_frames, n_pitches=n_pitches, lowest_pitch=lowest_pitch,
                            n_families=n_families, channels=list(channels), embedding_dim=embedding_dim,
                            dropout=dropout)
        self.n_mels, self.n_frames, self.n_pitches, self.lowest_pitch = n_mels, n_frames, n_pitches, lowest_pitch
        # Per-band input standardisation, fitted on the training notes (saved with the weights).
        self.register_buffer("mean", torch.zeros(n_mels))
        self.register_buffer("std", torch.ones(n_mels))
        self.register_buffer("coord", torch.linspace(-1.0, 1.0, n_mels).view(1, 1, n_mels, 1))
        blocks, c_in, freq, frames = [], 2, n_mels, n_frames
        for i, c_out in enumerate(channels):
            pool = (2, 2) if i < 2 else (1, 2)  # keep frequency detail in the later blocks
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                       nn.LeakyReLU(0.2), nn.MaxPool2d(pool)]
            c_in, freq, frames = c_out, freq // pool[0], frames // pool[1]
        if freq < 1 or frames < 1:
            raise ParameterError(f"input {n_mels} x {n_frames} is too small for {len(channels)} blocks")
        self.features = nn.Sequential(*blocks)
        self.project = nn.Linear(c_in * freq, embedding_dim)
        self.dropout = nn.Dropout(dropout)
        self.pitch_head = nn.Linear(embedding_dim, n_pitches)
        self.family_head = nn.Linear(embedding_dim, n_families)

    def config(self) -> dict:
        """Constructor arguments, JSON-able."""
        return dict(self._config)

    def forward(self, log_mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(batch, 1, n_mels, n_frames)`` -> pitch logits ``(batch, n_pitches)``, family logits, embedding."""
        expected = (1, self.n_mels, self.n_frames)
        if log_mel.ndim != 4 or tuple(log_mel.shape[1:]) != expected:
            raise ParameterError(f"expected log-mel of shape (batch, {', '.join(map(str, expected))}), "
                                 f"got {tuple(log_mel.shape)}")
        x = (log_mel - self.mean.view(1, 1, -1, 1)) / self.std.view(1, 1, -1, 1)
        x = torch.cat([x, self.coord.expand(x.shape[0], 1, -1, x.shape[-1])], dim=1)
        h = self.features(x).mean(dim=-1).flatten(1)
        embedding = F.leaky_relu(self.project(h), 0.2)
        h = self.dropout(embedding)
        return self.pitch_head(h), self.family_head(h), embedding


@dataclasses.dataclass(frozen=True)
class EvaluatorOutput:
    """What :meth:`Evaluator.predict` returns for ``n`` notes.

    Attributes
    ----------
    pitch_probs : np.ndarray ``(n, n_pitches)``, rows sum to 1
    family_probs : np.ndarray ``(n, n_families)``
    embedding : np.ndarray ``(n, embedding_dim)``, float64
    pitches : np.ndarray ``(n,)``, the most likely MIDI pitch of each note
    families : list of str, the most likely family of each note
    """

    pitch_probs: np.ndarray
    family_probs: np.ndarray
    embedding: np.ndarray
    pitches: np.ndarray
    families: list


class Evaluator:
    """A trained :class:`NoteEvaluator` with its log-mel front end: waveforms in, predictions out.

    Parameters
    ----------
    net : NoteEvaluator
    representation : ganaudio.representations.Mel
    families : sequence of str
        Family names, one per family class.

    Examples
    --------
    >>> evaluator = load_evaluator()                # the bundled one
    >>> out = evaluator.predict(np.stack([trumpet_c4[:16000]]), sample_rate=16000)
    >>> out.pitches, out.families
    (array([60]), ['brass'])
    """

    def __init__(self, net: NoteEvaluator, representation, families, *, config: dict | None = None):
        self.net = net.eval()
        self.representation = representation
        self.families = list(families)
        self.config = dict(config or {})
        if len(self.families) != net.family_head.out_features:
            raise ParameterError(f"{len(self.families)} family names for {net.family_head.out_features} classes")

    @property
    def sample_rate(self) -> int:
        return self.representation.sample_rate

    @property
    def n_samples(self) -> int:
        """Waveform length the network reads (longer notes are cropped, shorter zero-padded)."""
        return self.representation.samples_for(self.net.n_frames)

    @property
    def pitch_classes(self) -> np.ndarray:
        """MIDI pitch of each pitch class."""
        return self.net.lowest_pitch + np.arange(self.net.n_pitches)

    def log_mel(self, audio: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Waveforms ``(n, time)`` at :attr:`sample_rate` to the network's input ``(n, 1, n_mels, n_frames)``."""
        audio = torch.as_tensor(np.asarray(audio, dtype=np.float32))
        if audio.ndim != 2 or audio.shape[0] == 0:
            raise ParameterError(f"expected waveforms (n, time) with n >= 1, got shape {tuple(audio.shape)}")
        with torch.no_grad():
            return self.representation.encode(audio, n_frames=self.net.n_frames)

    @torch.no_grad()
    def predict(self, audio: np.ndarray, *, sample_rate: int, batch_size: int = 64) -> EvaluatorOutput:
        """Pitch and family posteriors and embeddings of notes ``(n, time)`` (mono, ``sample_rate`` Hz).

        Audio at another rate is resampled; each note is cropped or padded to
        :attr:`n_samples` from its start.
        """
        from ganaudio.io import check_sample_rate, resample

        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim != 2 or audio.shape[0] == 0:
            raise ParameterError(f"expected notes as (n, time) with n >= 1, got shape {audio.shape}")
        if check_sample_rate(sample_rate) != self.sample_rate:
            audio = np.stack([resample(y, orig_sr=sample_rate, target_sr=self.sample_rate) for y in audio])
        device = next(self.net.parameters()).device
        pitch, family, embedding = [], [], []
        for start in range(0, len(audio), batch_size):
            spec = self.log_mel(audio[start:start + batch_size]).to(device)
            p, f, e = self.net(spec)
            pitch.append(p.softmax(-1).double().cpu())
            family.append(f.softmax(-1).double().cpu())
            embedding.append(e.double().cpu())
        pitch_probs = torch.cat(pitch).numpy()
        family_probs = torch.cat(family).numpy()
        return EvaluatorOutput(
            pitch_probs=pitch_probs, family_probs=family_probs, embedding=torch.cat(embedding).numpy(),
            pitches=self.pitch_classes[pitch_probs.argmax(1)],
            families=[self.families[i] for i in family_probs.argmax(1)],
        )

    def to(self, device: str | torch.device) -> Evaluator:
        self.net.to(device)
        return self


def load_evaluator(path: str | os.PathLike | None = None, *, device: str | torch.device = "cpu") -> Evaluator:
    """An evaluator from a model folder (``model.safetensors`` + ``config.json``); None: the bundled one.

    Raises
    ------
    CheckpointError
        If the folder is missing, is not an evaluator, or its weights do not fit its config.

    Examples
    --------
    >>> evaluator = load_evaluator()                       # trained on FluidR3 notes, ships with ganaudio
    >>> evaluator = load_evaluator("runs/evaluator/best")  # from `ganaudio train evaluator`
    """
    from ganaudio.representations import from_config

    folder = open_model(path, family="evaluator", what="evaluator", default=BUNDLED_EVALUATOR)
    net, rep, families = build_from_config(folder, lambda c: (NoteEvaluator(**c["evaluator"]),
                                                              from_config(c["representation"]), c["families"]))
    load_weights(net, folder, keys=("evaluator",), what="evaluator")
    config = folder.config
    return Evaluator(net.to(device), rep, families, config=config)

"""MuseGAN (Dong et al. 2018): multitrack piano-roll phrases from a hybrid generator, judged whole.

Rolls are ``(batch, tracks, bars * steps_per_bar, pitch)`` in [0, 1]; every size
(tracks, bars per phrase, steps per bar, pitches) is a constructor argument,
normally read from the prepared data (:class:`ganaudio.data.PhraseDataset`).

Generator (the paper's *hybrid* model)
    One flat latent ``z`` of :attr:`Generator.latent_dim` values is split into four
    parts: a shared, time-independent vector (style of the whole phrase); a
    shared, time-dependent vector that the *temporal generator* turns into one
    vector per bar (the phrase's development, common to all tracks); and per
    track a time-independent vector and a time-dependent one that the track's
    own temporal generator turns into per-bar vectors. For bar ``b`` of track
    ``i`` the track's *bar generator* reads the four vectors concatenated and
    paints a ``(steps_per_bar, pitch)`` bar; bar generators share no weights.
    Each stage doubles time and pitch (a 4 x 4 transposed convolution, stride
    2), starting from ``ceil(size / 2**stages)``, and the output is cropped to
    the exact size at the end.
Binarisation
    The generator ends in a sigmoid: cell probabilities. ``binarize="none"``
    hands those to the discriminator in training (MuseGAN's original setting);
    ``binarize="ste"`` hands it hard 0/1 cells (``p > 0.5``) in the forward
    pass with the sigmoid's gradient in the backward pass (the straight-through
    estimator of BinaryMuseGAN's deterministic binary neurons), so the critic
    judges exactly what a user gets. In eval mode the generator returns
    probabilities either way; :meth:`Generator.generate` thresholds them
    (``threshold=0.5``), which is what composing uses, and can keep only the
    most probable pitch per step in tracks that sing one note at a time
    (``monophonic``; the chorale model's four voices).
Discriminator
    Over the whole phrase: a convolutional bar encoder (tracks as channels, time
    and pitch halved per stage) beside a chroma stream (each track's 12 pitch
    classes per beat, from ``pitch_offset``) and an onset stream (note starts
    per step and track, which exposes fragmented notes), concatenated per bar;
    then a convolution across bars and a linear score. No normalisation layers
    (WGAN-GP needs per-example gradients). It returns ``(score (B,), logits (B, 1))``:
    the single-class zero logits make the shared engine's auxiliary-classifier term 0.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn
from torch.nn import functional as F

from ganaudio.errors import ParameterError

__all__ = ["BINARIZE_MODES", "Discriminator", "Generator"]

BINARIZE_MODES = ("none", "ste")
_SLOPE = 0.2


def _positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(f"{name} must be a positive integer, got {value!r}")
    return value


def _channels(name: str, value) -> tuple[int, ...]:
    value = tuple(value)
    if not value or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in value):
        raise ParameterError(f"{name} must be a non-empty sequence of positive integers, got {value!r}")
    return value


class GroupedLinear(nn.Module):
    """``groups`` independent linear maps: ``(..., groups, in_features)`` to ``(..., groups, out_features)``.

    Examples
    --------
    >>> GroupedLinear(4, 8, 3)(torch.randn(2, 4, 8)).shape
    torch.Size([2, 4, 3])
    """

    def __init__(self, groups: int, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(groups, in_features, out_features) / math.sqrt(in_features))
        self.bias = nn.Parameter(torch.zeros(groups, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("...gi,gio->...go", x, self.weight) + self.bias


class TemporalGenerator(nn.Module):
    """Per-bar latents from one latent per group: ``(B, groups, in_dim)`` to ``(B, bars, groups, out_dim)``.

    Examples
    --------
    >>> TemporalGenerator(groups=4, in_dim=8, hidden=16, out_dim=8, bars=4)(torch.randn(2, 4, 8)).shape
    torch.Size([2, 4, 4, 8])
    """

    def __init__(self, *, groups: int, in_dim: int, hidden: int, out_dim: int, bars: int):
        super().__init__()
        self.groups, self.bars, self.out_dim = groups, bars, out_dim
        self.fc1 = GroupedLinear(groups, in_dim, hidden)
        self.bn1 = nn.BatchNorm1d(groups * hidden)
        self.fc2 = GroupedLinear(groups, hidden, bars * out_dim)
        self.bn2 = nn.BatchNorm1d(groups * bars * out_dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        B = z.shape[0]
        h = F.relu(self.bn1(self.fc1(z).reshape(B, -1))).reshape(B, self.groups, -1)
        h = F.relu(self.bn2(self.fc2(h).reshape(B, -1)))
        return h.reshape(B, self.groups, self.bars, self.out_dim).transpose(1, 2)


def _bar_generator(*, in_dim: int, t0: int, p0: int, channels: tuple[int, ...]) -> nn.Sequential:
    """One track's bar generator: ``(N, in_dim)`` to logits ``(N, 1, t0 * 2**stages, p0 * 2**stages)``."""
    layers: list[nn.Module] = [nn.Linear(in_dim, channels[0] * t0 * p0), nn.Unflatten(1, (channels[0], t0, p0)),
                               nn.BatchNorm2d(channels[0]), nn.ReLU()]
    for c_in, c_out in itertools.pairwise(channels):
        layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]
    layers.append(nn.Conv2d(channels[-1], 1, 3, padding=1))
    return nn.Sequential(*layers)


class BarGenerators(nn.Module):
    """One bar generator per track (no shared weights).

    Each doubles time and pitch per stage (4 x 4 transposed convolutions, stride 2)
    from ``ceil(size / 2**stages)``, ends in a 3 x 3 convolution, and is cropped to
    the exact bar size.

    Shapes: ``(N, tracks, in_dim)`` to logits ``(N, tracks, steps_per_bar, n_pitches)``.

    Examples
    --------
    >>> BarGenerators(tracks=4, in_dim=16, steps_per_bar=16, n_pitches=50, channels=(32, 16, 8))(
    ...     torch.randn(3, 4, 16)).shape
    torch.Size([3, 4, 16, 50])
    """

    def __init__(self, *, tracks: int, in_dim: int, steps_per_bar: int, n_pitches: int, channels: tuple[int, ...]):
        super().__init__()
        stages = len(channels) - 1
        self.steps, self.pitches = steps_per_bar, n_pitches
        t0, p0 = math.ceil(steps_per_bar / 2 ** stages), math.ceil(n_pitches / 2 ** stages)
        self.tracks = nn.ModuleList(_bar_generator(in_dim=in_dim, t0=t0, p0=p0, channels=channels)
                                    for _ in range(tracks))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        out = torch.cat([gen(h[:, i]) for i, gen in enumerate(self.tracks)], dim=1)
        return out[:, :, :self.steps, :self.pitches]


class Generator(nn.Module):
    """MuseGAN's hybrid generator: latent ``(B, latent_dim)`` to roll probabilities ``(B, tracks, bars * steps, pitch)``.

    Parameters
    ----------
    n_tracks, n_bars, steps_per_bar, n_pitches : int
        Phrase layout (from the data: 4, 4, 48, 54 for the SATB chorales at 12 steps per beat).
    shared_dim, temporal_dim, track_dim, track_temporal_dim : int
        Sizes of the four latent parts (time-independent shared, time-dependent shared,
        and per track each of those).
    temporal_hidden : int
        Hidden width of the temporal generators.
    channels : sequence of int
        Channels per track of the bar generators, first to last; ``len - 1`` upsampling stages.
    binarize : {"none", "ste"}
        What the discriminator sees in training (module notes).

    Examples
    --------
    >>> G = Generator(n_tracks=4, n_bars=4, steps_per_bar=16, n_pitches=48)
    >>> G.eval()(torch.randn(2, G.latent_dim)).shape
    torch.Size([2, 4, 64, 48])
    """

    def __init__(self, *, n_tracks: int, n_bars: int, steps_per_bar: int, n_pitches: int, shared_dim: int = 32,
                 temporal_dim: int = 32, track_dim: int = 32, track_temporal_dim: int = 32,
                 temporal_hidden: int = 256, channels=(256, 128, 64, 32, 16), binarize: str = "none"):
        super().__init__()
        for name, value in (("n_tracks", n_tracks), ("n_bars", n_bars), ("steps_per_bar", steps_per_bar),
                            ("n_pitches", n_pitches), ("shared_dim", shared_dim), ("temporal_dim", temporal_dim),
                            ("track_dim", track_dim), ("track_temporal_dim", track_temporal_dim),
                            ("temporal_hidden", temporal_hidden)):
            _positive(name, value)
        if binarize not in BINARIZE_MODES:
            raise ParameterError(f"binarize must be one of {BINARIZE_MODES}, got {binarize!r}")
        channels = _channels("channels", channels)
        self._config = {"n_tracks": n_tracks, "n_bars": n_bars, "steps_per_bar": steps_per_bar, "n_pitches": n_pitches,
                            "shared_dim": shared_dim, "temporal_dim": temporal_dim, "track_dim": track_dim,
                            "track_temporal_dim": track_temporal_dim, "temporal_hidden": temporal_hidden,
                            "channels": list(channels), "binarize": binarize}
        self.n_tracks, self.n_bars, self.steps_per_bar, self.n_pitches = n_tracks, n_bars, steps_per_bar, n_pitches
        self.binarize = binarize
        self.parts = (shared_dim, temporal_dim, n_tracks * track_dim, n_tracks * track_temporal_dim)
        self.latent_dim = sum(self.parts)
        self.temporal = TemporalGenerator(groups=1, in_dim=temporal_dim, hidden=temporal_hidden,
                                          out_dim=temporal_dim, bars=n_bars)
        self.track_temporal = TemporalGenerator(groups=n_tracks, in_dim=track_temporal_dim, hidden=temporal_hidden,
                                                out_dim=track_temporal_dim, bars=n_bars)
        self.bars = BarGenerators(tracks=n_tracks, in_dim=shared_dim + temporal_dim + track_dim + track_temporal_dim,
                                  steps_per_bar=steps_per_bar, n_pitches=n_pitches, channels=channels)

    def config(self) -> dict:
        """Constructor arguments (JSON-able); ``Generator(**G.config())`` rebuilds it."""
        return dict(self._config)

    @classmethod
    def from_config(cls, config: dict) -> Generator:
        return cls(**config)

    def split_latent(self, z: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``(shared (B, d_s), temporal (B, d_t), track (B, tracks, d_i), track_temporal (B, tracks, d_it))``."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ParameterError(f"z must have shape (batch, {self.latent_dim}), got {tuple(z.shape)}")
        shared, temporal, track, track_temporal = torch.split(z, self.parts, dim=1)
        B = z.shape[0]
        return shared, temporal, track.reshape(B, self.n_tracks, -1), track_temporal.reshape(B, self.n_tracks, -1)

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        """Cell logits ``(B, tracks, bars * steps_per_bar, pitch)`` before the sigmoid."""
        shared, temporal, track, track_temporal = self.split_latent(z)
        B, T, bars = z.shape[0], self.n_tracks, self.n_bars
        per_bar = self.temporal(temporal[:, None]).expand(B, bars, T, -1)          # (B, bars, T, d_t)
        per_track_bar = self.track_temporal(track_temporal)                          # (B, bars, T, d_it)
        h = torch.cat([shared[:, None, None].expand(B, bars, T, -1), per_bar,
                       track[:, None].expand(B, bars, T, -1), per_track_bar], dim=-1)
        out = self.bars(h.reshape(B * bars, T, -1))                                  # (B * bars, T, steps, P)
        out = out.reshape(B, bars, T, self.steps_per_bar, self.n_pitches).transpose(1, 2)
        return out.reshape(B, T, bars * self.steps_per_bar, self.n_pitches)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Probabilities in [0, 1], or straight-through 0/1 cells in training with ``binarize="ste"``.

        ``labels`` is accepted (and ignored) for the shared training engine's ``G(z, labels)`` call.
        """
        prob = torch.sigmoid(self.logits(z))
        if self.training and self.binarize == "ste":
            return (prob > 0.5).to(prob.dtype) + (prob - prob.detach())
        return prob

    @torch.no_grad()
    def generate(self, z: torch.Tensor, *, threshold: float = 0.5, monophonic=False) -> torch.Tensor:
        """Binary rolls ``(B, tracks, bars * steps, pitch)`` (float 0/1) from latents ``(B, latent_dim)``.

        A cell sounds where its probability exceeds ``threshold`` (MuseGAN's hard
        thresholding). ``monophonic`` (a bool, or one per track) keeps only the most
        probable pitch of each step in those tracks (e.g. the voices of a chorale).

        Examples
        --------
        >>> G = Generator(n_tracks=4, n_bars=4, steps_per_bar=16, n_pitches=56).eval()
        >>> roll = G.generate(torch.randn(1, G.latent_dim), monophonic=True)
        >>> int(roll.sum(-1).max()) <= 1
        True
        """
        if not 0.0 < threshold < 1.0:
            raise ParameterError(f"threshold must lie in (0, 1), got {threshold!r}")
        mono = [bool(monophonic)] * self.n_tracks if isinstance(monophonic, bool) else [bool(m) for m in monophonic]
        if len(mono) != self.n_tracks:
            raise ParameterError(f"monophonic needs one flag per track ({self.n_tracks}), got {monophonic!r}")
        prob = torch.sigmoid(self.logits(z))
        out = (prob > threshold).float()
        if any(mono):
            top = F.one_hot(prob.argmax(-1), self.n_pitches).to(out.dtype)
            mask = torch.tensor(mono, device=out.device)[:, None, None]
            out = torch.where(mask, out * top, out)
        return out


class Discriminator(nn.Module):
    """A WGAN critic over whole phrases: ``(B, tracks, bars * steps, pitch)`` to ``(score (B,), logits (B, 1))``.

    Parameters
    ----------
    n_tracks, n_bars, steps_per_bar, n_pitches : int
        Phrase layout, as the generator's.
    steps_per_beat : int
        Chroma windows are beats.
    pitch_offset : int
        MIDI pitch of column 0 (for pitch classes).
    channels : sequence of int
        Channels of the bar encoder's stages (each halves time and pitch).
    feature_dim : int
        Width of each stream's per-bar feature.
    chroma, onsets : bool
        Add the chroma and the onset streams.

    Examples
    --------
    >>> D = Discriminator(n_tracks=4, n_bars=4, steps_per_bar=16, n_pitches=48, steps_per_beat=4, pitch_offset=36)
    >>> D(torch.rand(2, 4, 64, 48))[0].shape
    torch.Size([2])
    """

    def __init__(self, *, n_tracks: int, n_bars: int, steps_per_bar: int, n_pitches: int, steps_per_beat: int,
                 pitch_offset: int, channels=(32, 64, 128, 128), feature_dim: int = 128, chroma: bool = True,
                 onsets: bool = True):
        super().__init__()
        for name, value in (("n_tracks", n_tracks), ("n_bars", n_bars), ("steps_per_bar", steps_per_bar),
                            ("n_pitches", n_pitches), ("steps_per_beat", steps_per_beat),
                            ("feature_dim", feature_dim)):
            _positive(name, value)
        if steps_per_bar % steps_per_beat:
            raise ParameterError(f"steps_per_bar {steps_per_bar} is not a whole number of beats of {steps_per_beat}")
        if isinstance(pitch_offset, bool) or not isinstance(pitch_offset, int) or not 0 <= pitch_offset <= 127:
            raise ParameterError(f"pitch_offset must be a MIDI pitch 0-127, got {pitch_offset!r}")
        channels = _channels("channels", channels)
        self._config = {"n_tracks": n_tracks, "n_bars": n_bars, "steps_per_bar": steps_per_bar, "n_pitches": n_pitches,
                            "steps_per_beat": steps_per_beat, "pitch_offset": pitch_offset, "channels": list(channels),
                            "feature_dim": feature_dim, "chroma": bool(chroma), "onsets": bool(onsets)}
        self.n_tracks, self.n_bars, self.steps_per_bar = n_tracks, n_bars, steps_per_bar
        self.beats = steps_per_bar // steps_per_beat
        layers, c_in, t, p = [], n_tracks, steps_per_bar, n_pitches
        for c_out in channels:
            stride = (2 if t > 1 else 1, 2 if p > 1 else 1)
            layers += [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), nn.LeakyReLU(_SLOPE)]
            c_in, t, p = c_out, (t + stride[0] - 1) // stride[0], (p + stride[1] - 1) // stride[1]
        self.encoder = nn.Sequential(*layers)
        self.encoder_fc = nn.Linear(c_in * t * p, feature_dim)
        streams = 1
        if chroma:
            classes = (torch.arange(n_pitches) + pitch_offset) % 12
            self.register_buffer("pitch_class", F.one_hot(classes, 12).float(), persistent=False)
            self.chroma_fc = nn.Linear(n_tracks * self.beats * 12, feature_dim)
            streams += 1
        if onsets:
            self.onset_fc = nn.Linear(n_tracks * steps_per_bar, feature_dim)
            streams += 1
        self.across = nn.Conv1d(streams * feature_dim, feature_dim, 3, padding=1)
        self.score = nn.Linear(feature_dim * n_bars, 1)

    def config(self) -> dict:
        """Constructor arguments (JSON-able)."""
        return dict(self._config)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        c = self._config
        expected = (c["n_tracks"], c["n_bars"] * c["steps_per_bar"], c["n_pitches"])
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ParameterError(f"expected rolls (batch, {', '.join(map(str, expected))}), got {tuple(x.shape)}")
        B, T, bars, S = x.shape[0], self.n_tracks, self.n_bars, self.steps_per_bar
        bar = x.reshape(B, T, bars, S, -1).transpose(1, 2)                          # (B, bars, T, S, P)
        feats = [self.encoder_fc(self.encoder(bar.reshape(B * bars, T, S, -1)).flatten(1))]
        if c["chroma"]:
            chroma = (bar @ self.pitch_class).reshape(B * bars, T, self.beats, -1, 12).mean(3)
            feats.append(self.chroma_fc(chroma.flatten(1)))
        if c["onsets"]:
            prev = F.pad(bar, (0, 0, 1, 0))[..., :-1, :]
            onset = F.relu(bar - prev).sum(-1)                                      # (B, bars, T, S)
            feats.append(self.onset_fc(onset.reshape(B * bars, -1)))
        h = F.leaky_relu(torch.cat(feats, dim=1), _SLOPE).reshape(B, bars, -1).transpose(1, 2)
        h = F.leaky_relu(self.across(h), _SLOPE)
        return self.score(h.flatten(1)).squeeze(1), x.new_zeros(B, 1)

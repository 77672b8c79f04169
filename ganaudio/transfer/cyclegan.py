"""Spectrogram timbre transfer with a trained CycleGAN: audio -> log-mel -> generator -> vocoder -> audio.

A model is a folder (``model.safetensors`` + ``config.json`` with ``"family":
"cyclegan"``): a training checkpoint, a run folder (its newest checkpoint), an
exported model (:func:`ganaudio.train.cyclegan.export_cyclegan`) or a bundled
name in ``ganaudio/assets``. The generator is fully convolutional along time
and local (see :mod:`ganaudio.models.cyclegan`), so any length is converted in
chunks of ``chunk_frames`` frames, each with its receptive field of context on
both sides and a linear crossfade over ``overlap_frames``: the result equals
converting the clip whole, in bounded memory. Clips longer than
``block_frames`` frames are also analysed and vocoded block by block,
crossfaded in the waveform.

>>> import ganaudio
>>> from ganaudio.transfer.cyclegan import load_cyclegan
>>> model = load_cyclegan("runs/piano2violin")
>>> y, sr = ganaudio.load_audio("piano.wav", sample_rate=model.sample_rate)
>>> out = model.convert(y, direction="violin")           # or "a2b"
>>> ganaudio.save_audio("violin.wav", out, model.sample_rate)
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch

from ganaudio.errors import CheckpointError, ParameterError
from ganaudio.loading import build_from_config, load_weights, open_model, resolve_model_folder

__all__ = ["CycleGANTransfer", "find_cyclegan", "load_cyclegan"]

log = logging.getLogger(__name__)

SILENT_PEAK = 1e-4  # input whose peak is below this (-80 dBFS) is silence: silent output, no model run
BLOCK_FADE = 16  # frames of waveform crossfade between analysis/vocoding blocks of long clips


def find_cyclegan(name_or_path: str | os.PathLike) -> Path:
    """The model folder for a bundled name, a model/checkpoint folder, or a run folder (newest checkpoint).

    Raises
    ------
    CheckpointError
        If nothing loadable is found there.
    """
    return resolve_model_folder(name_or_path, what="CycleGAN model", family="cyclegan")


def load_cyclegan(name_or_path: str | os.PathLike, *, device: str | torch.device = "cpu") -> CycleGANTransfer:
    """Load a trained CycleGAN (EMA generators when present) for :meth:`CycleGANTransfer.convert`.

    Raises
    ------
    CheckpointError
        If the folder holds another model family, or its config or weights do not fit.

    Examples
    --------
    >>> model = load_cyclegan("runs/p2v/checkpoints/step_00002500")  # doctest: +SKIP
    >>> model.domains
    ('piano', 'violin')
    """
    from ganaudio.models.cyclegan import CycleGANGenerators
    from ganaudio.representations import from_config

    folder = open_model(name_or_path, family="cyclegan", what="CycleGAN model")
    path, config = folder.path, folder.config
    generator, rep, mean, std, domains = build_from_config(folder, lambda c: (
        CycleGANGenerators(**c["generator"]), from_config(c["representation"]), float(c["normalization"]["mean"]),
        float(c["normalization"]["std"]), tuple(str(d) for d in c["domain_names"])))
    if getattr(rep, "name", None) != "mel" or rep.n_mels != generator.a2b.n_mels or len(domains) != 2:
        raise CheckpointError(f"{path}: representation {config['representation']} or domains {domains} do not fit "
                              f"the generator (n_mels={generator.a2b.n_mels})")
    load_weights(generator, folder, convert=lambda t: t.float())
    generator = generator.to(device).eval().requires_grad_(False)
    return CycleGANTransfer(generator, rep, mean=mean, std=std, domains=domains, config=config, source=str(path))


class CycleGANTransfer:
    """A trained pair of generators with its mel analysis and normalisation.

    Attributes
    ----------
    generator : CycleGANGenerators
    representation : ganaudio.representations.Mel
    sample_rate : int
    domains : (str, str)
        Names of domain A and domain B.
    config : dict
        The model folder's config.json.
    """

    def __init__(self, generator, representation, *, mean: float, std: float, domains: tuple[str, str],
                 config: dict | None = None, source: str = ""):
        self.generator, self.representation = generator, representation
        self.mean, self.std = float(mean), float(std)
        self.domains, self.config, self.source = tuple(domains), dict(config or {}), source
        self._vocoders: dict = {}

    @property
    def sample_rate(self) -> int:
        return self.representation.sample_rate

    def __repr__(self) -> str:
        return f"CycleGANTransfer({self.domains[0]!r} <-> {self.domains[1]!r}, {self.sample_rate} Hz, {self.source})"

    def direction(self, direction: str) -> str:
        """``"a2b"``/``"b2a"``, or a target domain's name, as ``"a2b"`` or ``"b2a"``.

        Raises
        ------
        ParameterError
            For anything else; the message lists the accepted names.
        """
        if direction in ("a2b", "b2a"):
            return direction
        if direction == self.domains[1]:
            return "a2b"
        if direction == self.domains[0]:
            return "b2a"
        raise ParameterError(f"direction must be 'a2b', 'b2a' or a target domain ({self.domains[0]!r} or "
                             f"{self.domains[1]!r}), got {direction!r}")

    def convert_mel(self, logmel, *, direction: str = "a2b", chunk_frames: int = 256, overlap_frames: int = 32,
                    progress: bool = False):
        """Convert a log-mel spectrogram (``Mel.encode`` units) ``(n_mels, frames)`` to the other domain.

        Returns the same type (numpy or torch, on the CPU) and shape. Frames of digital
        silence in the input (mel power within 10 dB of the floor) stay silent.
        """
        as_numpy = isinstance(logmel, np.ndarray)
        x = torch.as_tensor(np.asarray(logmel) if as_numpy else logmel, dtype=torch.float32).cpu()
        n_mels = self.representation.n_mels
        if x.ndim != 2 or x.shape[0] != n_mels or x.shape[1] < 1:
            raise ParameterError(f"expected a log-mel spectrogram ({n_mels}, frames), got {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise ParameterError("the log-mel spectrogram holds NaN or inf values")
        y = _crossfade_convert(self.generator, (x - self.mean) / self.std, direction=self.direction(direction),
                               chunk_frames=chunk_frames, overlap_frames=overlap_frames, progress=progress)
        floor = float(np.log(self.representation.eps))
        y = (y * self.std + self.mean).clamp(floor, max(float(x.max()), 0.0) + 10.0)
        silent = x.amax(dim=0) < floor + np.log(10.0)
        y[:, silent] = floor
        return y.numpy() if as_numpy else y

    def convert(self, y: np.ndarray, *, direction: str = "a2b", vocoder="auto", chunk_frames: int = 256,
                overlap_frames: int = 32, progress: bool = False, sample_rate: int | None = None,
                block_frames: int = 4096) -> np.ndarray:
        """Convert a waveform to the other domain: float32 ``(time,)`` at :attr:`sample_rate`, same duration.

        Parameters
        ----------
        y : np.ndarray ``(time,)``
            Mono audio at :attr:`sample_rate` (or at ``sample_rate``, resampled first).
        direction : str
            ``"a2b"``, ``"b2a"`` or the name of the target domain.
        vocoder : "auto", "griffinlim", a vocoder name or a vocoder object
            ``"auto"`` plays the bundled GAN vocoder when its mel settings are the model's, else
            Griffin-Lim (32 iterations); a :class:`~ganaudio.vocoders.GANVocoder` must match the model's mel.
        chunk_frames, overlap_frames : int
            Generator chunk and crossfade lengths in frames (memory, not the result, depends on them).
        block_frames : int
            Clips longer than this many frames are analysed and vocoded block by block.

        Silent input (peak below -80 dBFS) gives silent output and a warning.

        Raises
        ------
        ParameterError
            For non-mono, empty or non-finite input, a bad direction, or a vocoder for other mel settings.
        """
        y = np.asarray(y)
        if y.ndim != 1 or y.size == 0:
            raise ParameterError(f"expected mono audio (time,), got shape {y.shape}; mix stereo down first "
                                 f"(ganaudio.load_audio does)")
        if not np.all(np.isfinite(y)):
            raise ParameterError("the audio holds NaN or inf samples")
        y = y.astype(np.float32)
        if sample_rate is not None and int(sample_rate) != self.sample_rate:
            from ganaudio.io import resample

            y = resample(y, orig_sr=int(sample_rate), target_sr=self.sample_rate)
        direction = self.direction(direction)
        if float(np.abs(y).max(initial=0.0)) < SILENT_PEAK:
            log.warning("the input is silent (peak below %.0f dBFS); the output is silence",
                        20 * np.log10(SILENT_PEAK))
            return np.zeros(len(y), np.float32)
        return np.concatenate(list(self.convert_blocks([y], length=len(y), direction=direction, vocoder=vocoder,
                                                       chunk_frames=chunk_frames, overlap_frames=overlap_frames,
                                                       progress=progress, block_frames=block_frames)))

    def convert_blocks(self, blocks, *, length: int, direction: str = "a2b", vocoder="auto", chunk_frames: int = 256,
                       overlap_frames: int = 32, progress: bool = False, block_frames: int = 4096):
        """:meth:`convert` of non-silent audio given as blocks ``(time,)`` at :attr:`sample_rate`, ``length`` samples.

        Yields the converted audio in consecutive pieces; only one block of
        ``block_frames`` frames and its context is held at a time, and the
        pieces equal :meth:`convert` on the whole recording.
        """
        from tqdm.auto import tqdm

        from ganaudio.representations.streaming import rechunk

        if block_frames < 64:
            raise ParameterError(f"block_frames must be >= 64, got {block_frames}")
        direction = self.direction(direction)
        rep, hop = self.representation, self.representation.hop_length
        kwargs = dict(direction=direction, chunk_frames=chunk_frames, overlap_frames=overlap_frames)
        short = rep.frames_for(length) <= block_frames

        def block(segment: np.ndarray) -> np.ndarray:
            mel = rep.encode(torch.from_numpy(np.ascontiguousarray(segment, np.float32)))[0]
            out = self.convert_mel(mel, progress=progress and short, **kwargs)
            return _vocode(out, rep, vocoder, cache=self._vocoders, length=len(segment))

        take = rechunk(blocks)
        if short:
            yield np.clip(block(take(length)), -1.0, 1.0)
            return
        # long clips: blocks with context on both sides (exact mel and generator there), each starting on the
        # generator's strided grid (a multiple of time_multiple frames), crossfaded in the waveform
        m = self.generator.time_multiple
        radius = self.generator.a2b.receptive_radius() + rep.n_fft // hop + 2
        radius += getattr(_resolve_vocoder(vocoder, rep, cache=self._vocoders), "receptive_frames", 0)
        context = -(-radius // m) * m * hop
        fade = -(-BLOCK_FADE // m) * m
        spans = _spans(length, block_frames // m * m * hop, fade * hop)
        buf, buf_start = np.zeros(0, np.float32), 0  # input samples [buf_start, buf_start + len(buf))
        acc, done = np.zeros(0, np.float32), 0  # output samples [done, done + len(acc)) still being added to
        for i, (s, e) in enumerate(tqdm(spans, unit="block", desc="converting", disable=not progress)):
            a, b = max(0, s - context), min(length, e + context)
            if b > buf_start + len(buf):
                buf = np.concatenate([buf, take(b - buf_start - len(buf))])
            buf, buf_start = buf[a - buf_start:], a
            piece = block(buf[:b - a])[s - a: e - a]
            piece = piece * _fade(e - s, fade * hop, first=i == 0, last=i == len(spans) - 1).numpy()
            acc = np.concatenate([acc, np.zeros(e - done - len(acc), np.float32)])
            acc[s - done:e - done] += piece
            final = (spans[i + 1][0] if i + 1 < len(spans) else e) - done
            yield np.clip(acc[:final], -1.0, 1.0)
            acc, done = acc[final:], done + final


def _spans(n: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` covering ``range(n)`` in pieces of ``size``, neighbours sharing ``overlap``."""
    spans = [(0, min(size, n))]
    while spans[-1][1] < n:
        start = spans[-1][0] + size - overlap
        spans.append((start, min(start + size, n)))
    return spans


def _fade(length: int, overlap: int, *, first: bool, last: bool) -> torch.Tensor:
    """Crossfade weights ``(length,)``: linear ramps over ``overlap`` at the shared ends; neighbours sum to 1."""
    w = torch.ones(length)
    if overlap:
        ramp = (torch.arange(overlap) + 0.5) / overlap
        if not first:
            w[:overlap] = ramp
        if not last:
            w[-overlap:] *= 1 - ramp
    return w


@torch.no_grad()
def _crossfade_convert(generator, x: torch.Tensor, *, direction: str, chunk_frames: int, overlap_frames: int,
                       progress: bool = False) -> torch.Tensor:
    """Normalised ``(n_mels, frames)`` through ``generator`` chunk by chunk; equals one whole-clip call.

    Each chunk is run with the generator's receptive field of context on both sides (then
    cut off), starting on the strided layers' grid, and neighbours are crossfaded over the overlap.
    """
    from tqdm.auto import tqdm

    m = generator.time_multiple
    if chunk_frames < 2 * m or overlap_frames < 0:
        raise ParameterError(f"chunk_frames must be >= {2 * m} and overlap_frames >= 0, got {chunk_frames}, "
                             f"{overlap_frames}")
    step = (chunk_frames - overlap_frames) // m * m
    overlap = chunk_frames - step
    if step < 1 or 2 * overlap > chunk_frames:
        raise ParameterError(f"overlap_frames={overlap_frames} must be at most half of chunk_frames={chunk_frames} "
                             f"(after rounding the hop to a multiple of {m})")
    context = -(-generator.a2b.receptive_radius() // m) * m
    device = next(generator.parameters()).device
    n = x.shape[-1]
    spans = _spans(n, chunk_frames, overlap)
    out = torch.zeros_like(x)
    for i, (s, e) in enumerate(tqdm(spans, unit="chunk", desc="transfer", disable=not progress)):
        a, b = max(0, s - context), min(n, e + context)
        y = generator(x[None, None, :, a:b].to(device), direction)[0, 0, :, s - a: e - a].float().cpu()
        out[:, s:e] += y * _fade(e - s, overlap, first=i == 0, last=i == len(spans) - 1)
    return out


def _vocode(logmel: torch.Tensor, representation, vocoder, *, cache: dict, length: int) -> np.ndarray:
    """Log-mel ``(n_mels, frames)`` to float32 ``(length,)`` with ``vocoder`` (see :meth:`CycleGANTransfer.convert`)."""
    voc = _resolve_vocoder(vocoder, representation, cache=cache)
    wave = voc(torch.as_tensor(logmel, dtype=torch.float32)[None], representation, length=length)
    return wave.detach().float().cpu().numpy().reshape(-1)[:length].astype(np.float32)


def _resolve_vocoder(vocoder, representation, *, cache: dict):
    """The vocoder object ``vocoder`` names (``"auto"``, ``"griffinlim"``, a name, or the object itself)."""
    from ganaudio.vocoders.spectral import GriffinLimVocoder, make_vocoder

    if isinstance(vocoder, str):
        if vocoder == "auto":
            if "auto" not in cache:
                cache["auto"] = _auto_vocoder(representation)
            voc = cache["auto"]
        elif vocoder == "griffinlim":
            voc = GriffinLimVocoder()
        else:
            if vocoder not in cache:
                cache[vocoder] = make_vocoder(vocoder)
            voc = cache[vocoder]
    elif callable(vocoder):
        voc = vocoder
    else:
        raise ParameterError(f"vocoder must be 'auto', 'griffinlim', a vocoder name or a vocoder object, "
                             f"got {vocoder!r}")
    return voc


def _auto_vocoder(representation):
    """The bundled GAN vocoder when it inverts exactly ``representation``, else Griffin-Lim."""
    from ganaudio.vocoders.gan import load_vocoder
    from ganaudio.vocoders.spectral import GriffinLimVocoder

    try:
        voc = load_vocoder()
        voc.check_representation(representation)
        return voc
    except (CheckpointError, ParameterError) as exc:
        log.info("using Griffin-Lim: the bundled GAN vocoder does not fit (%s)", exc)
        return GriffinLimVocoder()

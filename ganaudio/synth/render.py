"""Place generated notes in time: extend, shape, weight by velocity, overlap-add, level and limit, block by block.

A piece is mixed one block of samples at a time (:func:`mix_blocks`): only the
notes sounding in that block are shaped, and only over that block (a note held
for hours is looped a block at a time), so memory does not grow with the
piece's length or the number of tracks' samples. The automatic level needs a
first pass over the mix (:func:`stream_gain`); the limiter then runs block by
block with its look-ahead as context (:class:`ganaudio.synth.dsp.StreamingLimiter`),
so :func:`render_blocks` gives the same samples whatever the block size.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from ganaudio.synth import dsp
from ganaudio.synth.schedule import NoteTable

__all__ = ["BLOCK", "PictureStream", "SampledNotes", "auto_gain", "mix_blocks", "render_blocks", "mix_notes",
           "spectrogram_figure", "stream_gain", "write_render"]

LEVEL_PERCENTILE = 99.5   # of the non-silent samples' magnitude ...
LEVEL_TARGET = 0.6        # ... is brought to this (about -4.4 dBFS); the limiter catches the rarer peaks
CEILING = 0.98
BLOCK = 1 << 16           # samples per mixing block (4 s at 16 kHz)
# magnitudes are counted in log-spaced bins from 1e-12 to 1e6: 0.016 % wide, so the streamed level is within that
_HIST_LOW, _HIST_HIGH, _HIST_BINS = math.log(1e-12), math.log(1e6), 1 << 18


def auto_gain(mix: np.ndarray) -> float:
    """Master gain bringing the mix's 99.5th-percentile magnitude (over non-silent samples) to 0.6."""
    mag = np.abs(mix)
    loud = mag[mag > 1e-4 * max(float(mag.max()), 1e-12)]
    level = float(np.percentile(loud, LEVEL_PERCENTILE)) if loud.size else 0.0
    return LEVEL_TARGET / level if level > 0 else 1.0


def stream_gain(blocks) -> float:
    """:func:`auto_gain` of a mix given as blocks ``(time,)``, from a histogram (within 0.02 % of it).

    Examples
    --------
    >>> abs(stream_gain(np.array_split(mix, 7)) / auto_gain(mix) - 1) < 2e-4
    True
    """
    step = (_HIST_HIGH - _HIST_LOW) / _HIST_BINS
    counts = np.zeros(_HIST_BINS, np.int64)
    top = 0.0
    for block in blocks:
        mag = np.abs(np.asarray(block, np.float64))
        if mag.size == 0:
            continue
        top = max(top, float(mag.max()))
        mag = mag[mag > 1e-12]
        idx = np.clip(((np.log(mag) - _HIST_LOW) / step).astype(np.int64), 0, _HIST_BINS - 1)
        counts += np.bincount(idx, minlength=_HIST_BINS)
    threshold = 1e-4 * max(top, 1e-12)
    first = int(np.clip(math.floor((math.log(threshold) - _HIST_LOW) / step) + 1, 0, _HIST_BINS))
    loud = counts[first:]
    total = int(loud.sum())
    if total == 0:
        return 1.0
    cum = np.cumsum(loud)

    def value(rank: int) -> float:  # the rank-th smallest loud magnitude, interpolated inside its bin
        b = int(np.searchsorted(cum, rank, side="right"))
        before = int(cum[b - 1]) if b else 0
        frac = (rank - before + 0.5) / int(loud[b])
        return min(math.exp(_HIST_LOW + (first + b + frac) * step), top)

    rank = LEVEL_PERCENTILE / 100 * (total - 1)
    lo, hi = math.floor(rank), math.ceil(rank)
    level = value(lo) + (rank - lo) * (value(hi) - value(lo))
    return LEVEL_TARGET / level if level > 0 else 1.0


class SampledNotes:
    """A GANSynth piece's notes as a note source: distinct generated waves, looped, shaped and weighted.

    Row ``i`` of ``notes`` plays ``waves[index[i]]``, held ``offset - onset``
    seconds (looped when longer than a generated note), shaped by a
    raised-cosine attack and a ``release``-second fade, and scaled by its
    velocity gain.

    A note source has ``notes``, ``sample_rate``, ``release`` (seconds a note
    sounds after its note-off), ``segment(i, first, stop)`` (samples
    ``first:stop`` of note ``i`` from its onset, float32) and ``done(i)``
    (note ``i`` will not be asked for again).
    """

    def __init__(self, synth, notes: NoteTable, waves: np.ndarray, index: np.ndarray, *, attack: float,
                 release: float):
        self.synth, self.notes, self.waves, self.index = synth, notes, waves, index
        self.sample_rate, self.release = int(synth.sample_rate), float(release)
        self.attack = round(attack * self.sample_rate)
        self.vgain = dsp.velocity_gain(notes.velocity).astype(np.float32)
        self.start, self.held, self.rel, self.total = _plan(self.sample_rate, notes, release)

    def segment(self, i: int, first: int, stop: int) -> np.ndarray:
        return self.synth._shaped_segment(self.waves[self.index[i]], int(self.notes.pitch[i]), int(self.held[i]),
                                          self.rel, attack=self.attack, first=first, stop=stop) * self.vgain[i]

    def done(self, i: int) -> None:
        pass


def _plan(sample_rate: int, notes: NoteTable, release: float) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Onset and held samples of every note, release samples, and the piece's length in samples."""
    sr = sample_rate
    start = np.round(notes.onset * sr).astype(np.int64)
    held = np.maximum(1, np.round(notes.offset * sr).astype(np.int64) - start)
    total = math.ceil((float(notes.offset.max()) + release) * sr)
    return start, held, round(release * sr), total


def mix_blocks(source, *, stems: bool, block: int = BLOCK) -> Iterator[np.ndarray]:
    """The unlevelled mix (``stems=False``: ``(1, k)``) or the per-track parts (``(tracks, k)``), block by block.

    Every note of ``source.notes`` sounds from its onset for its held time plus
    ``source.release``, as the source gives it (:class:`SampledNotes`), added at
    its onset. Notes are taken in onset order; only those sounding in a block
    are computed there, and a note is handed back (``source.done``) once it has ended.
    """
    notes = source.notes
    start, held, rel, total = _plan(source.sample_rate, notes, source.release)
    order = np.argsort(start, kind="stable")
    rows = len(notes.track_names) if stems else 1
    active: list[int] = []
    nxt = 0
    for s0 in range(0, total, block):
        s1 = min(total, s0 + block)
        while nxt < len(order) and start[order[nxt]] < s1:
            active.append(int(order[nxt]))
            nxt += 1
        active.sort()  # notes are added in table order, as a whole-piece mix adds them
        parts = np.zeros((rows, s1 - s0), np.float32)
        still = []
        for i in active:
            end = min(start[i] + held[i] + rel, total)
            a, b = max(s0, start[i]), min(s1, end)
            if a < b:
                piece = source.segment(i, int(a - start[i]), int(b - start[i]))
                parts[notes.track[i] if stems else 0, a - s0:b - s0] += piece
            if end > s1:
                still.append(i)
            else:
                source.done(i)
        active = still
        yield parts


CACHE_BYTES = 1 << 28  # mixes up to this size are kept from the levelling pass instead of being mixed again


def render_blocks(source, *, gain: float | None, stems: bool, block: int = BLOCK, progress: bool = False
                  ) -> Iterator[tuple[np.ndarray, list[np.ndarray]]]:
    """Levelled, limited ``(mix block, [stem blocks])`` pairs in time order.

    ``gain`` None levels the mix automatically (:func:`stream_gain`): the
    unlevelled blocks of a piece up to 256 MB are kept from that pass, longer
    pieces are mixed a second time, so memory stays bounded. Every block but
    the last has ``block`` samples.
    """
    from tqdm.auto import tqdm

    total = _plan(source.sample_rate, source.notes, source.release)[3]
    n_blocks = -(-total // block)
    rows = len(source.notes.track_names) if stems else 1
    bar = dict(total=n_blocks, unit="block", leave=False, disable=not progress or n_blocks < 4)
    kept = None
    if gain is None:
        keep = total * rows * 4 <= CACHE_BYTES
        kept = [] if keep else None

        def first_pass():
            for parts in mix_blocks(source, stems=stems, block=block):
                if kept is not None:
                    kept.append(parts)
                yield parts.sum(axis=0) if stems else parts[0]

        gain = stream_gain(tqdm(first_pass(), desc="levelling", **bar))
    g = float(gain)
    lookahead = max(1, int(0.005 * source.sample_rate))
    mix_limiter = dsp.StreamingLimiter(ceiling=CEILING, lookahead=lookahead)
    stem_limiters = [dsp.StreamingLimiter(ceiling=CEILING) for _ in source.notes.track_names] if stems else []
    blocks = kept if kept is not None else tqdm(mix_blocks(source, stems=stems, block=block), desc="mixing", **bar)
    for parts in blocks:
        mix = parts.sum(axis=0) if stems else parts[0]
        out = mix_limiter.push(mix * g)
        tracks = [lim.push(parts[k] * g) for k, lim in enumerate(stem_limiters)]
        if len(out):
            yield out, tracks
    yield mix_limiter.finish(), [lim.finish() for lim in stem_limiters]


def mix_notes(source, *, gain: float | None, stems: bool):
    """:func:`render_blocks` gathered into a mono mix ``(time,)`` (+ a dict of stems when ``stems``)."""
    pieces = list(render_blocks(source, gain=gain, stems=stems))
    out = np.concatenate([p[0] for p in pieces])
    if not stems:
        return out
    return out, {name: np.concatenate([p[1][k] for p in pieces]) for k, name in enumerate(source.notes.track_names)}


def write_render(source, output, *, stems_dir=None, png=None, gain: float | None, progress: bool = False,
                 outputs=None) -> tuple[int, list]:
    """Stream :func:`render_blocks` into ``output``, ``stems_dir/<track>.wav`` and a ``png`` picture.

    Returns ``(samples written, [stem paths])``.

    Every file is written under a temporary name and renamed into place only
    when all of them are complete; an error removes them all. With ``outputs``
    (an :class:`~ganaudio.outputs.OutputSet`) they join that transaction instead.
    """
    from contextlib import ExitStack, nullcontext
    from pathlib import Path

    from ganaudio.audio_stream import open_audio_writer
    from ganaudio.outputs import OutputSet

    sr, notes = source.sample_rate, source.notes
    with OutputSet() if outputs is None else nullcontext(outputs) as outputs, ExitStack() as stack:
        mix_out = stack.enter_context(open_audio_writer(output, sr, outputs=outputs))
        stem_outs = [stack.enter_context(open_audio_writer(Path(stems_dir) / f"{name}.wav", sr, outputs=outputs))
                     for name in notes.track_names] if stems_dir is not None else []
        picture = PictureStream(sr, total=_plan(sr, notes, source.release)[3]) if png is not None else None
        for mix, tracks in render_blocks(source, gain=gain, stems=stems_dir is not None, progress=progress):
            mix_out.write(mix)
            for out, track in zip(stem_outs, tracks):
                out.write(track)
            if picture is not None:
                picture.push(mix)
        if picture is not None:
            figure = picture.figure(title=getattr(notes, "label", ""))
            with outputs.path(png) as tmp:
                figure.savefig(tmp, dpi=100, bbox_inches="tight")
    return mix_out.frames, [out.path for out in stem_outs]


def _picture_rep(sample_rate: int, n_mels: int):
    from ganaudio.representations import Mel

    n_fft = 1 << max(8, round(math.log2(sample_rate * 0.064)))   # about 64 ms windows at any rate
    return Mel(sample_rate=sample_rate, n_fft=n_fft, hop_length=n_fft // 4, n_mels=n_mels)


def spectrogram_figure(y: np.ndarray, sample_rate: int, *, title: str = "", n_mels: int = 128):
    """A matplotlib Figure of the log-mel spectrogram of ``y`` ``(time,)`` (frequency in Hz, time in seconds).

    Examples
    --------
    >>> spectrogram_figure(mix, synth.sample_rate, title="prelude").savefig("prelude.png")
    """
    picture = PictureStream(sample_rate, total=len(y), n_mels=n_mels)
    picture.push(y)
    return picture.figure(title=title)


class PictureStream:
    """The log-mel picture of a mix given block by block, pooled to at most ``columns`` frames.

    ``total`` is the mix's length in samples (it sets the pooling); memory is
    that of the picture, not of the mix.
    """

    def __init__(self, sample_rate: int, *, total: int, n_mels: int = 128, columns: int = 2000):
        from ganaudio.representations.streaming import FramePooler, StreamingEncoder

        self.rep = _picture_rep(sample_rate, n_mels)
        frames = self.rep.frames_for(int(total))
        self.pool = max(1, -(-frames // columns))
        self._encoder, self._pooler = StreamingEncoder(self.rep), FramePooler(self.pool, frames=frames)

    def push(self, block: np.ndarray) -> None:
        self._pooler.push(self._encoder.push(np.ascontiguousarray(block, np.float32)))

    def figure(self, *, title: str = ""):
        from ganaudio.plotting import plot_representation

        self._pooler.push(self._encoder.finish())
        return plot_representation(self._pooler.finish(), self.rep, title=title, frame_step=self.pool)

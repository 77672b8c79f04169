"""Note-level timbre transfer: audio to notes to MIDI, played again by a GANSynth timbre.

The input is transcribed by :func:`ganaudio.eval.transcription.transcribe`
(pYIN pitch plus onset detection). The transcription is **monophonic**: one
note at a time, the most salient pitch, so polyphonic input (chords, several
voices) comes out as its leading voice only. The notes become a one-track
MIDI piece that a :class:`ganaudio.api.Synth` renders with the chosen timbre.

>>> import ganaudio
>>> from ganaudio.transfer.resynth import resynthesize
>>> y, sr = ganaudio.load_audio("samples/flute_phrase.wav", sample_rate=16000)
>>> out, out_sr, notes = resynthesize(y, sample_rate=sr, timbre=3, midi_out="phrase.mid")
>>> [n.pitch for n in notes]
[72, 74, 76, 77, 79]
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ganaudio.errors import ParameterError

__all__ = ["Resynthesis", "notes_to_midi", "resolve_timbre", "resynthesize", "resynthesize_file", "transcribe_blocks",
           "transcribe_long"]

log = logging.getLogger(__name__)

SILENCE_DB = -60.0  # input quieter than this (RMS, dBFS) is treated as silence


class Resynthesis(NamedTuple):
    """What :func:`resynthesize` returns: unpack as ``audio, sample_rate, notes``."""

    audio: np.ndarray
    """float32 ``(time,)``: the input's duration at ``sample_rate``."""
    sample_rate: int
    """Hz, the synth's."""
    notes: list
    """The transcribed :class:`ganaudio.eval.transcription.Note` list, in time order."""


def resolve_timbre(synth, timbre):
    """A :class:`Timbre` for ``synth`` from a Timbre, a seed (int or digit string) or a timbre file path.

    Raises
    ------
    ParameterError
        If ``timbre`` is none of these, or a timbre file saved from another model.
    """
    from ganaudio.synth.timbre import Timbre

    if isinstance(timbre, Timbre):
        return synth.check_timbre(timbre)
    if isinstance(timbre, (int, np.integer)) and not isinstance(timbre, bool):
        return synth.random_timbre(int(timbre))
    if isinstance(timbre, str) and timbre.strip().isdigit():
        return synth.random_timbre(int(timbre.strip()))
    if isinstance(timbre, (str, os.PathLike)) and Path(timbre).is_file():
        return synth.load_timbre(timbre)
    raise ParameterError(f"timbre {timbre!r} is neither a seed (a whole number >= 0), a Timbre, "
                         f"nor an existing timbre file")


def transcribe_long(y: np.ndarray, *, sample_rate: int, chunk_seconds: float = 60.0, context_seconds: float = 2.0,
                    hop_length: int = 256, min_duration: float = 0.06) -> list:
    """:func:`~ganaudio.eval.transcription.transcribe` in chunks, so memory stays bounded on long recordings.

    pYIN holds every frame of its input at once (about 30 KB per frame), so a
    recording is tracked ``chunk_seconds`` at a time, each chunk analysed with
    ``context_seconds`` of audio either side. A chunk keeps the notes that start
    inside it; a note still sounding at its end is extended by the next chunk's
    view of the same note.

    Parameters
    ----------
    y : np.ndarray, shape ``(time,)``
    sample_rate : int, Hz
    chunk_seconds, context_seconds : float
        Seconds kept from each analysis, and seconds of context analysed on each side of it.

    Returns
    -------
    list of :class:`~ganaudio.eval.transcription.Note`, in time order (monophonic)

    Examples
    --------
    >>> notes = transcribe_long(hour_of_violin, sample_rate=16000)   # doctest: +SKIP
    """
    return transcribe_blocks([y], sample_rate=sample_rate, total=len(y), chunk_seconds=chunk_seconds,
                             context_seconds=context_seconds, hop_length=hop_length, min_duration=min_duration)


def transcribe_blocks(blocks, *, sample_rate: int, total: int, chunk_seconds: float = 60.0,
                      context_seconds: float = 2.0, hop_length: int = 256, min_duration: float = 0.06,
                      progress: bool = False) -> list:
    """:func:`transcribe_long` of a recording given as blocks ``(time,)`` of ``total`` samples in all.

    Only one chunk and its context are held at a time, so a recording of any
    length is transcribed in the same memory; ``progress`` shows a bar of
    chunks on stderr. The notes equal :func:`transcribe_long` on the whole array.
    """
    from tqdm.auto import tqdm

    from ganaudio.eval.transcription import Note, transcribe
    from ganaudio.representations.streaming import rechunk

    if not chunk_seconds > 0 or not context_seconds >= 0:
        raise ParameterError(f"need chunk_seconds > 0 and context_seconds >= 0, got {chunk_seconds!r}, "
                             f"{context_seconds!r}")
    chunk = max(hop_length, int(chunk_seconds * sample_rate) // hop_length * hop_length)
    context = int(context_seconds * sample_rate) // hop_length * hop_length
    take = rechunk(blocks)
    buf, buf_start = np.zeros(0, np.float32), 0  # samples [buf_start, buf_start + len(buf)) of the recording
    notes: list = []
    cores = range(0, total, chunk)
    for core in tqdm(cores, desc="transcribing", unit="chunk", disable=not progress or len(cores) < 2, leave=False):
        first, stop = max(0, core - context), min(total, core + chunk + context)
        more = stop - (buf_start + len(buf))
        if more > 0:
            buf = np.concatenate([buf, take(more)])
        buf, buf_start = buf[first - buf_start:], first
        part = buf[:stop - first]
        if len(part) < 4 * hop_length:
            continue
        offset, core_start, core_end = first / sample_rate, core / sample_rate, (core + chunk) / sample_rate
        for n in transcribe(part, sample_rate=sample_rate, hop_length=hop_length, min_duration=min_duration):
            n = Note(n.start + offset, n.end + offset, n.pitch, n.velocity)
            if n.start >= core_end:
                break
            if n.start >= core_start:
                notes.append(n)
            elif notes and notes[-1].pitch == n.pitch and n.start <= notes[-1].end < n.end:
                last = notes[-1]  # the same note, seen further by this chunk
                notes[-1] = Note(last.start, n.end, last.pitch, last.velocity)
    return notes


def notes_to_midi(notes, *, program: int = 0, name: str = "transcription"):
    """A ``pretty_midi.PrettyMIDI`` with one track (GM ``program``) holding ``notes``."""
    import pretty_midi

    from ganaudio.data.soundfont import check_program

    midi = pretty_midi.PrettyMIDI()
    track = pretty_midi.Instrument(program=check_program(program), name=name)
    track.notes = [pretty_midi.Note(velocity=int(n.velocity), pitch=int(n.pitch), start=float(n.start),
                                    end=float(n.end)) for n in notes]
    midi.instruments.append(track)
    return midi


def resynthesize(y: np.ndarray, *, sample_rate: int, timbre=0, synth=None, midi_out: str | os.PathLike | None = None,
                 program: int = 0, chunk_seconds: float = 60.0, min_duration: float = 0.06, release: float | None = None,
                 match_loudness: bool = True, progress: bool = False) -> Resynthesis:
    """Play a monophonic recording again with a GANSynth timbre (note-level timbre transfer).

    Parameters
    ----------
    y : np.ndarray, shape ``(time,)``
        Mono audio at ``sample_rate`` (use :func:`ganaudio.io.load_audio` for files: it mixes
        stereo down and resamples). Polyphonic input is reduced to its leading voice.
    sample_rate : int, Hz
        Any rate; the output is at the synth's rate.
    timbre : int, str, path or Timbre
        A seed, a timbre file (from ``ganaudio timbres``) or a :class:`Timbre` of ``synth``.
    synth : ganaudio.api.Synth, optional
        Default: ``ganaudio.load()`` (the bundled GANSynth).
    midi_out : path-like, optional
        Also write the transcription here as MIDI (atomically).
    program : int
        GM program stored on the MIDI track (the sound is the timbre's either way).
    chunk_seconds : float
        Transcription chunk (bounds memory on long files; see :func:`transcribe_long`).
    min_duration : float
        Transcribed notes shorter than this (seconds) are dropped.
    release : float, optional
        Seconds each rendered note rings after its note-off [default: the synth's
        ``default_release``, 0.1 s for GANSynth, the harmonic instrument's own release tail].
    match_loudness : bool
        Scale the output to the input's RMS (peaks stay below 0.98).
    progress : bool
        Show a progress bar while notes are generated.

    Returns
    -------
    Resynthesis
        ``(audio, sample_rate, notes)``: float32 ``(round(len(y) * synth.sample_rate / sample_rate),)``,
        the synth's rate, and the transcribed notes. Silent or unpitched input gives
        silence of that length, no notes and a logged warning.

    Raises
    ------
    ParameterError
        Bad audio (not mono, NaN), a bad timbre, or a timbre of another model.

    Examples
    --------
    >>> out, sr, notes = resynthesize(y, sample_rate=44100, timbre="bank/seed_0011.timbre.json")
    >>> ganaudio.save_audio("violin_as_gan.wav", out, sr)
    """
    from ganaudio.io import atomic_path, check_sample_rate, check_waveform

    sample_rate = check_sample_rate(sample_rate)
    y = check_waveform(np.asarray(y, dtype=np.float32), name="audio")
    if y.ndim != 1 or y.size == 0:
        raise ParameterError(f"resynthesize expects mono audio (time,) with samples, got shape {y.shape}; "
                             f"mix stereo down first (ganaudio.load_audio does)")
    if synth is None:
        from ganaudio.api import load

        synth = load()
    timbre = resolve_timbre(synth, timbre)
    n_out = int(round(len(y) * synth.sample_rate / sample_rate))
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    quiet = rms <= 10 ** (SILENCE_DB / 20)
    notes = [] if quiet else transcribe_long(y, sample_rate=sample_rate, chunk_seconds=chunk_seconds,
                                             min_duration=min_duration)
    midi = notes_to_midi(notes, program=program)
    if midi_out is not None:
        with atomic_path(midi_out) as tmp:
            midi.write(str(tmp))
    if not notes:
        why = f"silent (RMS {20 * np.log10(max(rms, 1e-12)):.0f} dBFS)" if quiet else "without a pitched note"
        log.warning("the input is %s: the output is silence of the same length", why)
        return Resynthesis(np.zeros(n_out, np.float32), synth.sample_rate, [])
    log.info("transcribed %d notes (monophonic), MIDI %d-%d", len(notes), min(n.pitch for n in notes),
             max(n.pitch for n in notes))
    audio = synth.render(midi, timbres=timbre, release=release, progress=progress)
    out = np.zeros(n_out, np.float32)
    out[:min(n_out, len(audio))] = audio[:n_out]
    if match_loudness:
        out_rms = float(np.sqrt(np.mean(np.square(out, dtype=np.float64))))
        if out_rms > 0:
            gain = min(rms / out_rms, 0.98 / max(float(np.abs(out).max()), 1e-9))
            out *= np.float32(gain)
    return Resynthesis(out, synth.sample_rate, notes)


def resynthesize_file(path: str | os.PathLike, output: str | os.PathLike, *, timbre=0, synth=None,
                      midi_out: str | os.PathLike | None = None, program: int = 0, chunk_seconds: float = 60.0,
                      min_duration: float = 0.06, release: float | None = None, match_loudness: bool = True,
                      progress: bool = False) -> list:
    """:func:`resynthesize` from an audio file into an audio file, in memory that does not grow with its length.

    The recording is read block by block (mixed to mono and resampled to the
    synth's rate as it is read), transcribed a chunk at a time, rendered block
    by block into a temporary file beside ``output``, and scaled to the input's
    loudness on the way into ``output`` (atomically, as is ``midi_out``).
    Returns the transcribed notes (empty for silent or unpitched input, which
    gives silence of the input's length).

    Examples
    --------
    >>> notes = resynthesize_file("hour_of_flute.wav", "hour_of_gan.wav", timbre=7)   # doctest: +SKIP
    """
    import tempfile

    from ganaudio.audio_stream import audio_blocks, open_audio_writer, stream_length
    from ganaudio.outputs import OutputSet
    from ganaudio.synth.render import render_blocks
    from ganaudio.synth.schedule import read_notes

    if synth is None:
        from ganaudio.api import load

        synth = load()
    timbre = resolve_timbre(synth, timbre)
    sr = synth.sample_rate
    n, _ = stream_length(path, sample_rate=sr)
    energy = sum(float(np.square(b, dtype=np.float64).sum()) for b in audio_blocks(path, sample_rate=sr))
    rms = float(np.sqrt(energy / max(n, 1)))
    quiet = rms <= 10 ** (SILENCE_DB / 20)
    notes = [] if quiet else transcribe_blocks(audio_blocks(path, sample_rate=sr), sample_rate=sr, total=n,
                                               chunk_seconds=chunk_seconds, min_duration=min_duration,
                                               progress=progress)
    midi = notes_to_midi(notes, program=program)
    # the audio and its MIDI are renamed into place together, or neither
    with OutputSet() as outputs, open_audio_writer(output, sr, outputs=outputs) as out:
        if not notes:
            why = f"silent (RMS {20 * np.log10(max(rms, 1e-12)):.0f} dBFS)" if quiet else "without a pitched note"
            log.warning("the input is %s: the output is silence of the same length", why)
            for start in range(0, n, 1 << 16):
                out.write(np.zeros(min(1 << 16, n - start), np.float32))
        else:
            table = read_notes(midi, pitch_range=synth.pitch_range)
            latents = np.broadcast_to(timbre.latent, (len(table), synth.latent_dim))
            source = synth._note_source(table, np.ascontiguousarray(latents, np.float32), attack=0.005,
                                        release=synth.default_release if release is None else release,
                                        progress=progress)
            with tempfile.TemporaryDirectory(dir=Path(output).parent, prefix=".resynth.") as tmp:
                raw = Path(tmp) / "unscaled.wav"
                with open_audio_writer(raw, sr) as unscaled:
                    for block, _ in render_blocks(source, gain=None, stems=False, progress=progress):
                        unscaled.write(block[:max(0, n - unscaled.frames)])
                    while unscaled.frames < n:
                        unscaled.write(np.zeros(min(1 << 16, n - unscaled.frames), np.float32))
                gain = 1.0
                if match_loudness and unscaled.sum_squares > 0:
                    out_rms = float(np.sqrt(unscaled.sum_squares / max(n, 1)))
                    gain = min(rms / out_rms, 0.98 / max(unscaled.peak, 1e-9))
                for block in audio_blocks(raw):
                    out.write(block * np.float32(gain))
        if midi_out is not None:
            with outputs.path(midi_out) as tmp_midi:
                midi.write(str(tmp_midi))
    return notes

"""Play exported sampler instruments through real players and score how well they follow the MIDI.

* :func:`play_soundfont`: a MIDI file through an .sf2 with FluidSynth
  (in process, through :class:`ganaudio.data.soundfont.SoundFontSynth`).
* :func:`play_sfz`: a MIDI file through an .sfz with sfizz (its Python
  bindings, the ``pysfizz`` package).
* :func:`melody_scores`: a monophonic render against its MIDI: note
  precision, recall and F-measure as ``ganaudio evaluate render`` computes
  them (transcription scored by mir_eval), and the share of pitched frames
  within 50 cents of the note the MIDI plays there.

Shapes: renders are mono float32 ``(time,)``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ganaudio.errors import DataError, ParameterError

__all__ = ["melody_scores", "play_sfz", "play_soundfont"]

#: Hz at which renders are transcribed and pitch-tracked.
ANALYSIS_RATE = 16000


def _midi(midi):
    import pretty_midi

    from ganaudio.errors import MidiFileError

    if isinstance(midi, pretty_midi.PrettyMIDI):
        return midi
    try:
        return pretty_midi.PrettyMIDI(str(midi))
    except Exception as exc:  # pretty_midi and mido raise many types
        raise MidiFileError(f"{midi}: cannot read MIDI ({exc})") from None


def play_soundfont(soundfont: str | os.PathLike, midi, *, program: int = 0, sample_rate: int = 44100) -> np.ndarray:
    """Render every note of ``midi`` (a path or PrettyMIDI) with ``program`` of ``soundfont``: mono ``(time,)``.

    Examples
    --------
    >>> y = play_soundfont("out/seven.sf2", "melody.mid")                 # 44.1 kHz
    """
    from ganaudio.data.soundfont import SoundFontSynth

    notes = [n for inst in _midi(midi).instruments if not inst.is_drum for n in inst.notes]
    if not notes:
        raise ParameterError(f"{midi}: no notes to play")
    events = sorted([(n.start, 1, "on", 0, n.pitch, n.velocity) for n in notes]
                    + [(n.end, 0, "off", 0, n.pitch, 0) for n in notes])  # at one time, note-offs first
    synth = SoundFontSynth(soundfont, render_rate=sample_rate)
    try:
        synth.select(0, program)
        y = synth.render_events([(t, kind, ch, a, b) for t, _, kind, ch, a, b in events], tail=3.0)
    finally:
        synth.close()
    return y.mean(axis=0).astype(np.float32)


def _import_pysfizz():
    try:
        import pysfizz
    except ImportError:
        raise DataError("SFZ rendering needs sfizz's Python bindings: pip install pysfizz") from None
    return pysfizz


def play_sfz(sfz: str | os.PathLike, midi, *, sample_rate: int = 44100, block: int = 256,
             tail: float = 3.0) -> np.ndarray:
    """Render every note of ``midi`` (a path or PrettyMIDI) through the SFZ instrument ``sfz`` with sfizz: mono ``(time,)``.

    Events land on their exact sample inside the ``block``-frame blocks. sfizz
    streams a sample past its first 8,192 points from disk in a background
    thread, even when rendering offline, so a render running faster than real
    time can outrun the loading and a note stops early (the ``sfizz_render``
    program shipped beside the bindings cut the first notes of a melody this
    way; held notes stopped after 0.2 s in tests). Instruments written by
    :func:`ganaudio.synth.sampler.export_sfz` ask for their samples to be
    loaded whole with the instrument (``hint_ram_based=1``), which avoids it.

    Examples
    --------
    >>> y = play_sfz("out/seven/continue_7.sfz", "melody.mid")           # 44.1 kHz
    """
    sfz = Path(sfz)
    if not sfz.is_file():
        raise ParameterError(f"{sfz}: no such SFZ file")
    notes = [n for inst in _midi(midi).instruments if not inst.is_drum for n in inst.notes]
    if not notes:
        raise ParameterError(f"{midi}: no notes to play")
    pysfizz = _import_pysfizz()
    player = pysfizz.Synth(sample_rate=int(sample_rate), block_size=int(block))  # freewheeling from the start
    if not player.load_sfz_file(sfz):
        raise DataError(f"sfizz cannot load {sfz} (no regions, or a parse error)")
    engine = player._synth  # pysfizz's public Synth renders one note at a time; its engine takes events
    events = sorted([(round(n.start * sample_rate), 1, n.pitch, n.velocity) for n in notes]
                    + [(round(n.end * sample_rate), 0, n.pitch, 0) for n in notes])
    total = events[-1][0] + int(tail * sample_rate)
    blocks, k = [], 0
    for at in range(0, total, block):
        while k < len(events) and events[k][0] < at + block:
            when, on, pitch, velocity = events[k]
            (engine.note_on if on else engine.note_off)(max(when - at, 0), int(pitch), int(velocity))
            k += 1
        left, right = engine.render_block()
        blocks.append((np.asarray(left, np.float32) + np.asarray(right, np.float32)) / 2)
        if k == len(events) and engine.get_num_active_voices() == 0:
            break
    return np.concatenate(blocks)


def melody_scores(midi, y: np.ndarray, *, sample_rate: int, onset_tolerance: float = 0.05,
                  tolerance_cents: float = 50.0, analysis_rate: int = ANALYSIS_RATE) -> dict:
    """How well the monophonic render ``y`` ``(time,)`` follows ``midi`` (a path or PrettyMIDI).

    The render is analysed at ``analysis_rate`` (16 kHz, resampled): pYIN's
    2,048-point frames then span 128 ms, the setting the transcription was
    tuned on. At 44.1 kHz the same frames span 46 ms and left a 16 kHz GANSynth
    note at MIDI 48 mostly unvoiced (melody F-measure 0.72 against 1.0 for
    the same render analysed at 16 kHz).

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f_measure`` (notes, as ``evaluate render``),
        ``pitch_agreement`` (share of frames voiced by pYIN while a MIDI note
        sounds whose pitch is within ``tolerance_cents`` of that note),
        ``voiced`` (share of the sounding frames that are voiced), ``frames``.

    Examples
    --------
    >>> melody_scores("melody.mid", play_soundfont("seven.sf2", "melody.mid"), sample_rate=44100)["f_measure"]
    0.95
    """
    from ganaudio.eval.pitch import track_pitch
    from ganaudio.eval.transcription import midi_notes, note_agreement, transcribe
    from ganaudio.io import resample

    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or y.size == 0:
        raise ParameterError(f"the render must be mono audio (time,), got shape {y.shape}")
    y, sample_rate = resample(y, orig_sr=sample_rate, target_sr=analysis_rate), analysis_rate
    reference = midi_notes(_midi(midi))
    if not reference:
        raise ParameterError(f"{midi}: no notes to compare against")
    # pYIN searches an octave around the melody's range: its cost grows with the pitches it tries
    pitches = [n.pitch for n in reference]
    search = (max(21.0, min(pitches) - 12.0), min(108.0, max(pitches) + 12.0))
    scores = note_agreement(reference, transcribe(y, sample_rate=sample_rate, midi_range=search),
                            onset_tolerance=onset_tolerance, pitch_tolerance_cents=tolerance_cents)
    hop = 256
    f0, voiced = track_pitch(y, sample_rate=sample_rate, hop_length=hop, midi_range=search)
    times = np.arange(len(f0)) * hop / sample_rate
    target = np.full(len(f0), np.nan)
    for n in reference:  # a frame counts while its note sounds, past the attack and before the key goes up
        target[(times >= n.start + 0.05) & (times < n.end - 0.02)] = n.pitch
    sounding = np.isfinite(target)
    both = sounding & voiced
    cents = 1200 * np.abs(np.log2(f0[both] / (440.0 * 2 ** ((target[both] - 69) / 12))))
    scores.update(pitch_agreement=float((cents <= tolerance_cents).mean()) if both.any() else 0.0,
                  voiced=float(both.sum() / max(sounding.sum(), 1)), frames=int(both.sum()))
    return scores

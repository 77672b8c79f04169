"""The Bach chorales that the music21 package carries, exported as 4-track (SATB) MIDI files.

music21 is an optional extra (``pip install ganaudio[data]``) imported only here,
inside the functions. Each chorale becomes ``<name>.mid`` with four named
instruments, Soprano, Alto, Tenor and Bass (program 52, choir aahs), one tempo
(the score's first metronome mark, else 100 qpm) and the score's time
signatures. A pickup is padded with rest so bar lines fall on whole bars of
the MIDI grid. Files already exported are kept (a rerun converts only what is
missing); each file is written atomically.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import time
from pathlib import Path

from ganaudio.errors import DataError, ParameterError
from ganaudio.io import atomic_path

__all__ = ["SATB", "bach_chorale_paths", "chorale_to_midi", "export_bach_chorales"]

log = logging.getLogger(__name__)

SATB = ("Soprano", "Alto", "Tenor", "Bass")
_SCORE_SUFFIXES = (".mxl", ".xml", ".musicxml", ".krn")
_DEFAULT_QPM = 100.0
_PROGRAM = 52  # General MIDI choir aahs


def _start_method() -> str:
    """fork where it is safe (Linux: quick, no re-import), spawn elsewhere; the work is numpy/music21 only."""
    methods = multiprocessing.get_all_start_methods()
    return "fork" if "fork" in methods and sys.platform.startswith("linux") else "spawn"


def _music21():
    try:
        import music21
    except ImportError:
        raise DataError("the Bach chorales need music21, an optional extra: pip install ganaudio[data]") from None
    return music21


def bach_chorale_paths() -> list[Path]:
    """Score files of Bach in music21's corpus, one per name (MusicXML over Humdrum; no roman-numeral analyses).

    Of the corpus's 433 Bach files, 20 are roman-numeral analyses and 3 chorales come
    in both MusicXML and Humdrum, leaving 410 scores (music21 10.5).

    Examples
    --------
    >>> len(bach_chorale_paths())  # doctest: +SKIP
    410
    """
    music21 = _music21()
    best = {}  # one file per chorale: a chorale in two encodings would be a duplicate (MusicXML preferred)
    for path in map(Path, music21.corpus.getComposer("bach")):
        suffix = path.suffix.lower()
        if suffix in _SCORE_SUFFIXES and (path.stem not in best or _SCORE_SUFFIXES.index(suffix)
                                          < _SCORE_SUFFIXES.index(best[path.stem].suffix.lower())):
            best[path.stem] = path
    return sorted(best.values())


def _pick_satb(parts) -> list | str:
    """The four voices: parts named Soprano/Alto/Tenor/Bass, else exactly four parts in order; or a reason."""
    named = {}
    for part in parts:
        name = (part.partName or "").strip().lower()
        if name in {v.lower() for v in SATB}:
            named.setdefault(name, []).append(part)
    if all(len(named.get(v.lower(), [])) == 1 for v in SATB):
        return [named[v.lower()][0] for v in SATB]
    if len(parts) == 4:
        return list(parts)
    return f"{len(parts)} parts ({[p.partName for p in parts]}), not 4 voices"


def chorale_to_midi(path: str | os.PathLike):
    """One chorale score as ``pretty_midi.PrettyMIDI`` with tracks Soprano, Alto, Tenor, Bass; or a skip reason.

    Examples
    --------
    >>> midi = chorale_to_midi(bach_chorale_paths()[0])
    >>> [i.name for i in midi.instruments]  # doctest: +SKIP
    ['Soprano', 'Alto', 'Tenor', 'Bass']
    """
    import pretty_midi

    music21 = _music21()
    score = music21.converter.parse(str(path))
    voices = _pick_satb(list(score.parts))
    if isinstance(voices, str):
        return voices
    marks = score.metronomeMarkBoundaries()
    qpm = float(marks[0][2].getQuarterBPM()) if marks and marks[0][2].number else _DEFAULT_QPM
    measures = voices[0].getElementsByClass("Measure")
    pickup = float(measures[0].paddingLeft) if len(measures) else 0.0
    sec = 60.0 / qpm
    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=qpm)
    flat0 = voices[0].flatten()
    signatures = [(float(ts.offset) + (pickup if ts.offset > 0 else 0.0), ts.numerator, ts.denominator)
                  for ts in flat0.getElementsByClass("TimeSignature")]
    seen = set()
    for beat, num, den in signatures:
        if beat not in seen:
            seen.add(beat)
            pm.time_signature_changes.append(pretty_midi.TimeSignature(int(num), int(den), beat * sec))
    for name, part in zip(SATB, voices):
        inst = pretty_midi.Instrument(program=_PROGRAM, name=name)
        for el in part.stripTies().flatten().notes:
            length = float(el.quarterLength)
            if length <= 0:  # grace notes
                continue
            start = float(el.offset) + pickup
            for pitch in el.pitches:
                inst.notes.append(pretty_midi.Note(velocity=80, pitch=int(pitch.midi), start=start * sec,
                                                   end=(start + length) * sec))
        pm.instruments.append(inst)
    if not any(inst.notes for inst in pm.instruments):
        return "no notes"
    return pm


def _export_one(job: tuple) -> tuple[str, str | None]:
    score, target = job
    try:
        midi = chorale_to_midi(score)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001  (one unparsable score must not stop the corpus)
        return score, f"unreadable: {type(exc).__name__}: {exc}"
    if isinstance(midi, str):
        return score, midi
    with atomic_path(target) as tmp:
        midi.write(str(tmp))
    return score, None


def export_bach_chorales(out_dir: str | os.PathLike, *, limit: int | None = None, workers: int = 1,
                         progress: bool = True) -> dict:
    """Write the music21 corpus's Bach chorales as SATB MIDI files into ``out_dir``.

    Parameters
    ----------
    out_dir : path-like
        Gets ``<score name>.mid`` per chorale (``bwv269.mid``, ``bwv1.6.mid``, ...).
    limit : int, optional
        Export only the first ``limit`` scores (sorted by name), e.g. for tests.
    workers : int
        Processes parsing scores (music21 parsing is the slow part).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    dict
        ``scores`` (looked at), ``exported`` (new), ``existing`` (kept from an earlier run),
        ``dropped`` (score -> reason: not four voices, unreadable, no notes), ``files`` (MIDI
        paths present), ``seconds``.

    Raises
    ------
    DataError
        music21 is not installed.

    Examples
    --------
    >>> summary = export_bach_chorales("midi/chorales", workers=2)
    >>> len(summary["files"])  # doctest: +SKIP
    405
    """
    from tqdm.auto import tqdm

    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0):
        raise ParameterError(f"limit must be a positive integer or None, got {limit!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers <= 0:
        raise ParameterError(f"workers must be a positive integer, got {workers!r}")
    began = time.perf_counter()
    scores = bach_chorale_paths()[:limit]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = {str(s): out_dir / f"{s.stem}.mid" for s in scores}
    todo = [(s, str(t)) for s, t in targets.items() if not t.is_file()]
    dropped = {}
    if workers > 1 and len(todo) > 1:
        with multiprocessing.get_context(_start_method()).Pool(min(workers, len(todo))) as pool:
            results = list(tqdm(pool.imap_unordered(_export_one, todo, chunksize=4), total=len(todo),
                                unit="score", disable=not progress, desc="exporting chorales"))
    else:
        results = [_export_one(job) for job in tqdm(todo, unit="score", disable=not progress,
                                                    desc="exporting chorales")]
    for score, reason in results:
        if reason is not None:
            dropped[Path(score).name] = reason
            log.info("chorale %s left out: %s", score, reason)
    return {"out_dir": str(out_dir), "scores": len(scores), "exported": len(todo) - len(dropped),
            "existing": len(scores) - len(todo), "dropped": dropped,
            "files": sorted(str(t) for t in targets.values() if t.is_file()),
            "seconds": round(time.perf_counter() - began, 2)}

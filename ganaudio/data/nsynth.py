"""Read note data sets in NSynth's layout: the real NSynth and our SoundFont renders.

A note folder holds ``examples.json`` (``{note_str: {pitch, velocity,
instrument_str, instrument_family_str, instrument_source_str, ...}}``) and
``audio/<note_str>.wav``. NSynth ships one folder per split (``nsynth-train``,
``nsynth-valid``, ``nsynth-test``); :func:`ganaudio.data.render_notes` writes one
folder whose entries carry a ``split`` key. Both read the same way, and a root
holding several such folders reads them all.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from ganaudio.data.soundfont import NSYNTH_FAMILIES, NSYNTH_SOURCES
from ganaudio.errors import DataError, ParameterError

__all__ = ["NoteExample", "NoteSet", "load_note_examples"]

log = logging.getLogger(__name__)

_SPLITS = ("train", "valid", "test")
_REQUIRED = ("pitch", "velocity", "instrument_str", "instrument_family_str", "instrument_source_str")
_WARN_FILES = 20  # name this many bad files one by one, then only count them


@dataclass(frozen=True)
class NoteExample:
    """One note of a note data set (NSynth's fields plus where its audio is).

    Examples
    --------
    >>> note = load_note_examples("data/nsynth-valid")[0]
    >>> y = note.load(sample_rate=16000)      # (time,) float32
    """

    note_str: str
    path: Path
    pitch: int
    velocity: int
    instrument: int
    instrument_str: str
    instrument_family_str: str
    instrument_source_str: str
    sample_rate: int | None
    split: str | None

    def load(self, *, sample_rate: int | None = None, mono: bool = True) -> np.ndarray:
        """The note's audio, ``(time,)`` (or ``(channels, time)`` if not mono), float32.

        Raises AudioFileError if the file is unreadable.
        """
        from ganaudio.io import load_audio

        return load_audio(self.path, sample_rate=sample_rate, mono=mono)[0]


@dataclass(frozen=True, eq=False)
class NoteSet(Sequence):
    """The notes :func:`load_note_examples` kept, with counts of what it left out.

    Attributes
    ----------
    examples : tuple of NoteExample
        Sorted by note_str.
    skipped : dict
        note_str -> reason, for entries whose audio is missing, unreadable or
        truncated or whose metadata is malformed; the reason's first word is its
        category (``missing``, ``unreadable``, ``truncated``, ``malformed``).
    filtered : dict
        Filter name (``"split"``, ``"pitch"``, ``"source"``, ``"family"``) ->
        number of entries it removed.
    """

    roots: tuple[Path, ...]
    examples: tuple[NoteExample, ...]
    skipped: dict = field(default_factory=dict)
    filtered: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index):
        return self.examples[index]

    def counts(self, key: str = "split") -> dict:
        """Number of examples per value of the NoteExample attribute ``key``."""
        out: dict = {}
        for example in self.examples:
            value = getattr(example, key)
            out[value] = out.get(value, 0) + 1
        return dict(sorted(out.items(), key=lambda kv: str(kv[0])))

    def skip_report(self):
        """The skipped entries as a :class:`~ganaudio.data.screen.SkipReport` of notes (filtered ones not counted)."""
        from ganaudio.data.screen import SkipReport

        report = SkipReport(what="notes", total=len(self.examples) + len(self.skipped))
        for key, text in self.skipped.items():
            reason, _, detail = text.partition(" ")
            report.skipped[key] = (reason, detail)
        return report

    def instruments(self) -> list[str]:
        """Sorted distinct instrument_str values."""
        return sorted({e.instrument_str for e in self.examples})


def load_note_examples(
    root: str | os.PathLike,
    *,
    split: str | None = None,
    pitch_range: tuple[int, int] | None = (24, 84),
    sources: Sequence[str] | None = ("acoustic",),
    families: Sequence[str] | None = None,
    verify: bool = True,
) -> NoteSet:
    """Read an NSynth-layout note folder (or a folder of them) with GANSynth's filters.

    Parameters
    ----------
    root : path-like
        A folder holding ``examples.json`` and ``audio/``, or a folder whose
        subfolders do (e.g. the three ``nsynth-*`` folders).
    split : {"train", "valid", "test"}, optional
        Keep one split: an entry's ``split`` key, else its folder's name
        suffix (``nsynth-valid`` -> ``valid``). None keeps all.
    pitch_range : (low, high), optional
        Inclusive MIDI pitch range; GANSynth's (24, 84) by default; None keeps all.
    sources : sequence of str, optional
        ``instrument_source_str`` values to keep (acoustic, electronic,
        synthetic); GANSynth's ("acoustic",) by default; None keeps all.
    families : sequence of str, optional
        ``instrument_family_str`` values to keep (NSynth's 11 families); None keeps all.
    verify : bool
        Open each audio file's header and skip unreadable and truncated ones
        (a listing of ``audio/`` always catches missing ones).

    Returns
    -------
    NoteSet
        A sequence of :class:`NoteExample`, with ``skipped`` and ``filtered`` counts.

    Raises
    ------
    DataError
        If ``root`` is missing, holds no ``examples.json``, or nothing usable is left.
    ParameterError
        For an unknown split, source or family, or a bad pitch range.

    Examples
    --------
    >>> notes = load_note_examples("data/nsynth-train", pitch_range=(24, 84), sources=("acoustic",))
    >>> len(notes), notes.counts("instrument_family_str")  # doctest: +SKIP
    """
    if split is not None and split not in _SPLITS:
        raise ParameterError(f"split must be one of {_SPLITS} or None, got {split!r}")
    sources = _check_names(sources, NSYNTH_SOURCES, "sources")
    families = _check_names(families, NSYNTH_FAMILIES, "families")
    if pitch_range is not None:
        try:
            low, high = (int(v) for v in pitch_range)
        except (TypeError, ValueError):
            raise ParameterError(f"pitch_range must be (low, high) MIDI pitches, got {pitch_range!r}") from None
        if not 0 <= low <= high <= 127:
            raise ParameterError(f"pitch_range must satisfy 0 <= low <= high <= 127, got {pitch_range!r}")
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"note data folder {str(root)!r} does not exist")
    folders = [root] if (root / "examples.json").is_file() else sorted(
        p.parent for p in root.glob("*/examples.json"))
    if not folders:
        raise DataError(f"{root} holds no examples.json (nor do its subfolders); expected NSynth's layout: "
                        f"examples.json and audio/<note_str>.wav")

    examples, skipped, filtered, read = [], {}, {"split": 0, "pitch": 0, "source": 0, "family": 0}, 0
    for folder in folders:
        entries = _read_examples(folder / "examples.json")
        folder_split = next((s for s in _SPLITS if folder.name.lower().endswith(s)), None)
        audio_dir = folder / "audio"
        on_disk = set(os.listdir(audio_dir)) if audio_dir.is_dir() else set()
        for key, entry in entries.items():
            read += 1
            try:
                example = _example(key, entry, audio_dir, folder_split)
            except (KeyError, TypeError, ValueError) as exc:
                _skip(skipped, key, f"malformed entry in {folder / 'examples.json'} ({exc!r})")
                continue
            if split is not None and example.split != split:
                filtered["split"] += 1
            elif pitch_range is not None and not low <= example.pitch <= high:
                filtered["pitch"] += 1
            elif sources is not None and example.instrument_source_str not in sources:
                filtered["source"] += 1
            elif families is not None and example.instrument_family_str not in families:
                filtered["family"] += 1
            elif example.path.name not in on_disk:
                _skip(skipped, key, f"missing audio file {example.path}")
            elif verify and (problem := _unreadable(example.path)):
                _skip(skipped, key, f"{problem[0]} audio file {example.path} ({problem[1]})")
            else:
                examples.append(example)
    if len(skipped) > _WARN_FILES:
        log.warning("... %d unusable notes in all under %s", len(skipped), root)
    if not examples:
        raise DataError(f"{root}: no usable notes among {read} entries (filtered out: {filtered}; "
                        f"unusable audio or metadata: {len(skipped)}); check split, pitch_range, sources, families")
    examples.sort(key=lambda e: e.note_str)
    return NoteSet(roots=tuple(folders), examples=tuple(examples), skipped=skipped, filtered=filtered)


def _check_names(values, allowed: tuple[str, ...], name: str) -> frozenset | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = (values,)
    values = frozenset(values)
    unknown = sorted(values - set(allowed))
    if unknown or not values:
        raise ParameterError(f"{name} must be a non-empty subset of {allowed}, got unknown {unknown or values}")
    return values


def _read_examples(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: cannot read examples.json ({exc})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object {{note_str: {{...}}}}, got {type(data).__name__}")
    return data


def _example(key: str, entry: dict, audio_dir: Path, folder_split: str | None) -> NoteExample:
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        raise KeyError(f"no {', '.join(missing)}")
    name = str(entry.get("note_str", key))
    return NoteExample(
        note_str=name, path=audio_dir / f"{name}.wav", pitch=int(entry["pitch"]), velocity=int(entry["velocity"]),
        instrument=int(entry.get("instrument", -1)), instrument_str=str(entry["instrument_str"]),
        instrument_family_str=str(entry["instrument_family_str"]),
        instrument_source_str=str(entry["instrument_source_str"]),
        sample_rate=int(entry["sample_rate"]) if "sample_rate" in entry else None,
        split=entry.get("split", folder_split),
    )


def _unreadable(path: Path) -> tuple[str, str] | None:
    """``(reason, detail)`` if the header shows the file unusable (unreadable, empty, truncated), else None."""
    from ganaudio.data.screen import truncation

    try:
        info = sf.info(str(path))
    except Exception as exc:  # noqa: BLE001  (libsndfile raises several types)
        return "unreadable", str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    if info.frames == 0:
        return "unreadable", "no samples"
    cut = truncation(info)
    return ("truncated", cut) if cut else None


def _skip(skipped: dict, key: str, reason: str) -> None:
    skipped[key] = reason
    if len(skipped) <= _WARN_FILES:
        log.warning("skipping note %s: %s", key, reason)

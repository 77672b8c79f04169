"""One rule for the files of every data set a trainer or evaluator reads: skip the bad ones and count them.

A file that is unreadable, holds NaN or inf, is silent, or is truncated
(a WAV whose header promises more data than the file holds) is left out,
counted by reason in a :class:`SkipReport`, and logged; the work goes on
with the rest. Only a set with no usable file at all is an error
(:class:`~ganaudio.errors.DataError`). Loaders read each file once, through
:meth:`SkipReport.each`, so the check happens where the data is read and
nothing bad reaches a cache or a batch.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from ganaudio.errors import AudioFileError, DataError, MidiFileError, UnusableFileError

__all__ = ["SILENCE_PEAK", "SkipReport", "read_checked_audio", "skip_lines", "truncation"]

log = logging.getLogger(__name__)

T = TypeVar("T")
V = TypeVar("V")

SILENCE_PEAK = 2.0 ** -15   # below one 16-bit step: nothing a recording of an instrument would hold
REASON_ORDER = ("unreadable", "NaN", "silent", "truncated", "missing", "malformed")
_WARN_FILES = 20            # name this many bad files one by one in the log, then only count them
_LIST_FILES = 100           # and list at most this many in a summary JSON


@dataclass
class SkipReport:
    """Which files of a set were left out, and why.

    Attributes
    ----------
    what : str
        What the items are, for messages ("files", "notes", "shards").
    total : int
        Items looked at.
    skipped : dict
        Item name -> ``(reason, detail)``, in the order met.

    Examples
    --------
    >>> report = SkipReport()
    >>> good = [(p, y) for p, y in report.each(paths, read=read_checked_audio)]   # doctest: +SKIP
    >>> report.summary()                                                             # doctest: +SKIP
    'skipped 2 of 98 files: 1 unreadable, 1 NaN'
    """

    what: str = "files"
    total: int = 0
    skipped: dict = field(default_factory=dict)

    @property
    def used(self) -> int:
        return self.total - len(self.skipped)

    def skip(self, name: str, reason: str, detail: str = "") -> None:
        """Count ``name`` as left out for ``reason`` (it must already be counted in ``total``)."""
        self.skipped[str(name)] = (str(reason), str(detail))
        if len(self.skipped) <= _WARN_FILES:
            log.warning("skipping %s: %s%s", name, reason, f" ({detail})" if detail else "")
        elif len(self.skipped) == _WARN_FILES + 1:
            log.warning("more unusable %s follow; they are counted, not named", self.what)

    def each(self, items: Iterable[T], *, read: Callable[[T], V], name: Callable[[T], str] = str
             ) -> Iterator[tuple[T, V]]:
        """Yield ``(item, read(item))`` for every item ``read`` accepts; count the ones it refuses.

        ``read`` refuses an item by raising :class:`~ganaudio.errors.UnusableFileError`;
        an :class:`~ganaudio.errors.AudioFileError` or :class:`~ganaudio.errors.MidiFileError`
        counts as unreadable (NaN when its message says so). Other errors propagate.
        """
        for item in items:
            self.total += 1
            try:
                value = read(item)
            except UnusableFileError as exc:
                self.skip(name(item), exc.reason, exc.detail)
                continue
            except (AudioFileError, MidiFileError) as exc:
                reason = "NaN" if "nan" in str(exc).lower() else "unreadable"
                self.skip(name(item), reason, str(exc))
                continue
            yield item, value

    def counts(self) -> dict[str, int]:
        """Skipped items per reason, the usual reasons first."""
        counter = Counter(reason for reason, _ in self.skipped.values())
        order = [r for r in REASON_ORDER if r in counter] + sorted(set(counter) - set(REASON_ORDER))
        return {r: counter[r] for r in order}

    def summary(self) -> str:
        """One line, e.g. ``skipped 2 of 98 files: 1 unreadable, 1 NaN``; empty when nothing was skipped."""
        if not self.skipped:
            return ""
        reasons = ", ".join(f"{n} {r}" for r, n in self.counts().items())
        return f"skipped {len(self.skipped)} of {self.total} {self.what}: {reasons}"

    def to_dict(self) -> dict:
        """JSON-able: ``total``, ``used``, ``skipped``, ``reasons`` and up to 100 ``files`` with their reason."""
        files = {k: f"{r}: {d}" if d else r for k, (r, d) in list(self.skipped.items())[:_LIST_FILES]}
        return {"what": self.what, "total": self.total, "used": self.used, "skipped": len(self.skipped),
                "reasons": self.counts(), "files": files}

    @classmethod
    def from_dict(cls, data: dict | None) -> SkipReport:
        """The report :meth:`to_dict` wrote (file names beyond its 100 are counted as ``unlisted``)."""
        report = cls(what=(data or {}).get("what", "files"), total=int((data or {}).get("total", 0)))
        for name, text in (data or {}).get("files", {}).items():
            reason, _, detail = text.partition(": ")
            report.skipped[name] = (reason, detail)
        listed = Counter(r for r, _ in report.skipped.values())
        for reason, n in (data or {}).get("reasons", {}).items():
            for k in range(n - listed.get(reason, 0)):
                report.skipped[f"<unlisted {reason} {k}>"] = (reason, "")
        return report

    def merge(self, other: SkipReport) -> SkipReport:
        """Add ``other``'s counts to this report (for sets read in parts); returns self."""
        self.total += other.total
        self.skipped.update(other.skipped)
        return self

    def require_some(self, where: str | os.PathLike) -> None:
        """Raise DataError (one line) if no item was usable: an empty set, or every item bad."""
        if self.total == 0:
            raise DataError(f"{where} holds no {self.what}")
        if self.used == 0:
            raise DataError(f"{where}: none of its {self.total} {self.what} is usable "
                            f"({', '.join(f'{n} {r}' for r, n in self.counts().items())}; "
                            f"e.g. {next(iter(self.skipped))}: {next(iter(self.skipped.values()))[1][:200]})")

    def log_summary(self, where: str | os.PathLike) -> None:
        """Log the one-line summary (when anything was skipped) at WARNING."""
        if self.skipped:
            log.warning("%s: %s", where, self.summary())


def skip_lines(reports: dict) -> list[str]:
    """``["label: skipped 2 of 98 files: 1 unreadable, 1 NaN", ...]`` for the reports (label -> ``to_dict()``)
    that skipped anything; what a command prints after its run."""
    lines = []
    for label, data in (reports or {}).items():
        text = SkipReport.from_dict(data).summary()
        if text:
            lines.append(f"{label}: {text}" if label else text)
    return lines


def truncation(info) -> str | None:
    """What a WAV header promises beyond the data present (:func:`ganaudio.io.wav_data_sizes`); None if whole."""
    from ganaudio.io import wav_data_sizes

    sizes = wav_data_sizes(info)
    if sizes is None:
        return None
    declared, present = sizes
    return f"the header declares {declared} data bytes, {present} are present ({1 - present / declared:.0%} missing)"


def read_checked_audio(path: str | os.PathLike, *, sample_rate: int | None = None,
                       silence_peak: float = SILENCE_PEAK) -> np.ndarray:
    """A training or evaluation file's audio ``(time,)`` float32 mono, or UnusableFileError saying why not.

    Refused: unreadable files, NaN/inf samples, truncated WAVs, and silence
    (peak below ``silence_peak``; 2**-15 by default, under one 16-bit step).

    Examples
    --------
    >>> y = read_checked_audio("data/notes/audio/piano-060-100.wav", sample_rate=16000)   # doctest: +SKIP
    """
    from ganaudio.io import audio_info, load_audio

    try:
        cut = truncation(audio_info(path))
        if cut:
            raise UnusableFileError(path, "truncated", cut)
        y, _ = load_audio(path, sample_rate=sample_rate, mono=True)
    except AudioFileError as exc:
        reason = "NaN" if "nan" in str(exc).lower() else "unreadable"
        raise UnusableFileError(path, reason, str(exc).removeprefix(f"{path}: ")) from None
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak < silence_peak:
        raise UnusableFileError(path, "silent", f"peak {peak:.2g} below {silence_peak:.2g}")
    return y

"""One error hierarchy for ganaudio.

Every public function raises a subclass of :class:`GanAudioError` whose message
names the bad value and what was expected. The command line turns these into a
single ``Error: ...`` line and exit code 2.
"""

from __future__ import annotations

__all__ = [
    "GanAudioError",
    "ParameterError",
    "AudioFileError",
    "MidiFileError",
    "CheckpointError",
    "OutputError",
    "DataError",
    "UnusableFileError",
    "TrainingError",
    "DeviceError",
]


class GanAudioError(Exception):
    """Base class of every error ganaudio raises on purpose.

    ``remedy`` optionally names what fixes it in words a front end can turn into
    its own instruction (the command line maps ``"resume-or-new-folder"`` to
    ``--resume`` / ``--out``); library messages never name command-line flags.
    """

    def __init__(self, *args, remedy: str | None = None):
        super().__init__(*args)
        self.remedy = remedy


class ParameterError(GanAudioError, ValueError):
    """An argument has the wrong value, type or shape."""


class AudioFileError(GanAudioError, OSError):
    """An audio file is missing, unreadable, truncated, empty or holds NaN/inf."""


class MidiFileError(GanAudioError, OSError):
    """A MIDI file is missing, unreadable, empty or not MIDI at all."""


class CheckpointError(GanAudioError, OSError):
    """A model or checkpoint folder is missing, mismatched or unsafe to load."""


class OutputError(GanAudioError, OSError):
    """An output cannot be written: the message is always ``cannot write PATH (reason)``.

    Examples
    --------
    >>> str(OutputError("out/a.wav", "No space left on device"))
    'cannot write out/a.wav (No space left on device)'
    """

    def __init__(self, path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot write {self.path} ({reason})")

    def __reduce__(self):  # keep pickling (multiprocessing) working with the two-argument constructor
        return type(self), (self.path, self.reason)


class DataError(GanAudioError, OSError):
    """A data set folder is missing, empty or inconsistent."""


class UnusableFileError(DataError):
    """One file of a data set cannot be used; data loaders skip it and count it by ``reason``.

    ``reason`` is a short category (``"unreadable"``, ``"NaN"``, ``"silent"``,
    ``"truncated"``, ...), ``detail`` says what exactly was wrong.
    """

    def __init__(self, path, reason: str, detail: str = ""):
        self.path, self.reason, self.detail = str(path), str(reason), str(detail)
        super().__init__(f"{self.path}: {self.reason}" + (f" ({self.detail})" if self.detail else ""))


class TrainingError(GanAudioError, RuntimeError):
    """Training cannot go on (e.g. the losses stayed NaN or inf for many steps in a row)."""


class DeviceError(GanAudioError, OSError):
    """An audio or MIDI device is missing, unknown or cannot be opened (the message lists what exists)."""

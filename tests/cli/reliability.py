"""Helpers of the reliability tests (issue 17): run a command, check it failed with exactly one clear line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from click.testing import CliRunner

from ganaudio.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def run(*args):
    """Invoke the CLI in-process; stdout and stderr stay apart (``result.stderr``)."""
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_error(result, *needles: str) -> str:
    """Exit code 2, exactly one line starting ``Error:`` on stderr, no traceback; return that line."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def old_file(path: Path, data: bytes = b"older output, must survive") -> bytes:
    """Put an older file at ``path`` and return its bytes (to compare after a failed run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def no_temp_files(folder: Path) -> bool:
    """True when no staged temporary file (``.name.XXXX.suffix``) or backup is left in ``folder``."""
    return not [p for p in folder.iterdir() if p.name.startswith(".")]


def write_wav(path: Path, samples, sample_rate: int = 16000) -> Path:
    sf.write(str(path), np.asarray(samples, np.float32), sample_rate, subtype="FLOAT")
    return path

"""What a training run writes besides checkpoints: ``metrics.jsonl``, TensorBoard scalars and sample files."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import torch

from ganaudio.io import atomic_path, save_audio

__all__ = ["MetricsLog"]

log = logging.getLogger(__name__)


class MetricsLog:
    """The run folder's ``metrics.jsonl`` (one JSON line per logged step) and, when installed, TensorBoard.

    Parameters
    ----------
    out_dir : path-like
        The run folder.
    tensorboard : bool
        Also write ``out_dir/tensorboard`` when ``torch.utils.tensorboard`` imports.
    """

    def __init__(self, out_dir, *, tensorboard: bool = True):
        self.out_dir = Path(out_dir)
        self.file = self.out_dir / "metrics.jsonl"
        self._use_tensorboard, self._tb = tensorboard, None

    def open(self, step: int) -> None:
        """Start (or continue at ``step``): lines past ``step``, written after the checkpoint a resumed run
        starts from, are dropped."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        _truncate(self.file, step)
        if self._use_tensorboard and self._tb is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                log.info("tensorboard is not installed; metrics go to metrics.jsonl only")
                return
            self._tb = SummaryWriter(str(self.out_dir / "tensorboard"))

    def write(self, record: dict, step: int) -> None:
        """Append ``record`` (``{name: float}``, with ``step``) as one line, and each value as a scalar."""
        with open(self.file, "a") as fh:
            fh.write(json.dumps({k: (v if math.isfinite(v) else str(v)) if isinstance(v, float) else v
                                 for k, v in record.items()}) + "\n")
        if self._tb is not None:
            for k, v in record.items():
                if k != "step":
                    self._tb.add_scalar(k, v, step)

    def write_samples(self, samples: dict, step: int) -> None:
        """Samples into ``samples/step_<step>/``: ``{name: (waveform (time,), sample_rate)}`` as ``<name>.wav``
        (and TensorBoard audio), ``{name: pretty_midi.PrettyMIDI}`` as ``<name>.mid``."""
        folder = self.out_dir / "samples" / f"step_{step:08d}"
        for name, sample in samples.items():
            if hasattr(sample, "write"):  # a MIDI file
                with atomic_path(folder / f"{name}.mid") as tmp:
                    sample.write(str(tmp))
                continue
            wave, rate = sample
            wave = np.asarray(wave, np.float32)
            save_audio(folder / f"{name}.wav", wave, rate)
            if self._tb is not None:
                self._tb.add_audio(f"samples/{name}", torch.from_numpy(wave).clamp(-1, 1), step, sample_rate=rate)

    def flush(self) -> None:
        if self._tb is not None:
            self._tb.flush()


def _truncate(path: Path, step: int) -> None:
    """Drop metric lines past ``step``."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line).get("step", 0) <= step:
                kept.append(line)
        except ValueError:
            continue
    with atomic_path(path) as tmp:
        tmp.write_text("".join(line + "\n" for line in kept))

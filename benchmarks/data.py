"""Data loading speed: cached IF-Mel shards beside decoding WAVs and encoding on the fly, in one process.

Renders a small real note set from TimGM6mb (Debian's timgm6mb-soundfont), builds
the feature cache for the tiny GANSynth preset's representation, then times
batches of 32 from :class:`ganaudio.data.datasets.NoteDataset` (memory-mapped
shards) against the naive path (soundfile read + IF-Mel encode per batch).
The training step time of the same preset (benchmarks/train.py) is the bar
loading has to beat.

    .venv/bin/python benchmarks/data.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_time, machine  # noqa: E402

SOUNDFONT = "/usr/share/sounds/sf2/TimGM6mb.sf2"
BATCH = 32


def run() -> str:
    from ganaudio.data import load_note_examples, render_notes
    from ganaudio.data.cache import build_note_cache
    from ganaudio.data.datasets import NoteDataset
    from ganaudio.presets import load_preset

    preset = load_preset("tiny")
    rep = preset.representation()
    with tempfile.TemporaryDirectory() as tmp:
        notes = Path(tmp) / "notes"
        render_notes(SOUNDFONT, notes, programs=[0, 24, 40, 56, 73], pitches=range(48, 73, 2), velocities=(100,),
                     duration=1.5, release=0.5, workers=1, progress=False, split="note")
        examples = list(load_note_examples(notes, pitch_range=None, sources=None))
        n = len(examples)
        cache = build_note_cache(notes, Path(tmp) / "cache", representation=rep, n_frames=preset.n_frames,
                                 split=None, pitch_range=None, sources=None)
        dataset = NoteDataset(cache)
        rng = np.random.default_rng(0)

        def cached():
            return dataset.batch(torch.from_numpy(rng.integers(0, len(dataset), BATCH)))

        def naive():
            picks = rng.integers(0, n, BATCH)
            audio = torch.stack([torch.from_numpy(examples[i].load(sample_rate=rep.sample_rate)) for i in picks])
            audio = rep.fit_length(audio, preset.n_frames)
            return rep.encode(audio, n_frames=preset.n_frames)

        t_cached = best_time(cached, repeat=20)
        t_naive = best_time(naive, repeat=5)
    shape = tuple(dataset.spec_shape)
    return "\n".join([
        f"### Note loading, batch {BATCH} of {shape} IF-Mel (tiny preset), {n} TimGM6mb notes",
        "",
        "| path | ms / batch | notes / s | vs naive |",
        "|---|---|---|---|",
        f"| WAV read + IF-Mel encode per batch (naive baseline) | {t_naive * 1000:.1f} | {BATCH / t_naive:.0f} | 1.0x |",
        f"| NoteDataset over memory-mapped cache | {t_cached * 1000:.2f} | {BATCH / t_cached:.0f} | "
        f"{t_naive / t_cached:.0f}x |",
        "",
    ]) + "\n"


if __name__ == "__main__":
    print(machine())
    print(run())

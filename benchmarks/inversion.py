"""IF-Mel inversion quality and speed: phase, griffinlim and phase-griffinlim, on real notes and speech.

Spectral convergence (lower is better) between the input and its IF-Mel
round trip, and wall time of the decode, all in one process.

    .venv/bin/python benchmarks/inversion.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_time, machine  # noqa: E402

from ganaudio.functional.spectral import spectral_convergence  # noqa: E402
from ganaudio.io import load_audio  # noqa: E402
from ganaudio.representations import IFMel  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
CLIPS = ["trumpet_c4", "flute_c3", "violin_a4", "piano_e3", "flute_phrase", "speech"]
METHODS = [("phase", 0), ("griffinlim", 32), ("phase-griffinlim", 8), ("phase-griffinlim", 16)]


def run(n_mels: int = 512) -> str:
    rep = IFMel(sample_rate=16000, n_fft=1024, hop_length=256, n_mels=n_mels)
    header = " | ".join(f"{m} {n}" if n else m for m, n in METHODS)
    lines = [
        f"### IF-Mel inversion (n_fft 1024, hop 256, {n_mels} mel bands, 16 kHz): spectral convergence, "
        "decode time",
        "",
        f"| clip | {header} |",
        "|---|" + "---|" * len(METHODS),
    ]
    for clip in CLIPS:
        y = torch.from_numpy(load_audio(SAMPLES / f"{clip}.wav")[0])
        spec = rep.encode(y)
        cells = []
        for method, n_iter in METHODS:
            def decode(method=method, n_iter=n_iter, spec=spec, y=y):
                gen = torch.Generator().manual_seed(0)
                return rep.decode(spec, length=len(y), method=method, n_iter=n_iter, generator=gen)

            seconds = best_time(decode, repeat=3)
            cells.append(f"{spectral_convergence(decode(), y):.3f} ({seconds * 1000:.0f} ms)")
        lines.append(f"| {clip} ({len(y) / 16000:.1f} s) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(machine())
    print(run())

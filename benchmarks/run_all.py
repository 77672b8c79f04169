"""Run every benchmark and write benchmarks/RESULTS.md (CPU figures; GPU figures in their own section).

    make bench            # or: .venv/bin/python benchmarks/run_all.py [--only frontend,inversion]

Each benchmark module has ``run() -> str`` returning a markdown section with its
baseline measured in the same process.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
BENCHMARKS = ["frontend", "inversion", "pianoroll", "data", "train"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="Comma-separated benchmark names.")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()

    import torch

    from common import machine

    from ganaudio.io import atomic_path

    torch.set_num_threads(max(1, torch.get_num_threads()))
    names = [n for n in args.only.split(",") if n]
    sections = []
    for name in names:
        print(f"running {name} ...", flush=True)
        sections.append(importlib.import_module(name).run())
    header = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {datetime.date.today().isoformat()}.",
        "",
        f"Machine: {machine()}.",
        "",
        "Every figure is beside a baseline run in the same process. CPU figures only unless a "
        "section names a GPU; GPU runs are listed separately under their own heading.",
        "",
    ]
    text = "\n".join(header) + "\n".join(sections)
    with atomic_path(args.output) as tmp:
        tmp.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

"""Run every benchmark and write benchmarks/RESULTS.md (CPU figures; GPU figures in their own section).

    make bench            # or: .venv/bin/python benchmarks/run_all.py [--only frontend,inversion]

Each benchmark module has ``run() -> str`` returning a markdown section with its
baseline measured in the same process. ``--only`` reruns some benchmarks and
keeps the other sections of an existing RESULTS.md as they were (each section
sits between ``<!-- bench:NAME -->`` markers).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
BENCHMARKS = ["frontend", "inversion", "pianoroll", "data", "train", "render", "vocoder", "quality", "memory",
              "harmonic_render", "live", "sampler"]
MARK = re.compile(r"<!-- bench:(\w+) -->\n(.*?)<!-- /bench:\1 -->\n", re.S)


def previous_sections(path: Path) -> dict[str, str]:
    """Sections of an earlier RESULTS.md, by benchmark name."""
    return {m.group(1): m.group(2) for m in MARK.finditer(path.read_text())} if path.is_file() else {}


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
    sections: dict[str, str] = {}
    for name in names:
        if not (HERE / f"{name}.py").is_file():
            print(f"skipping {name}: benchmarks/{name}.py does not exist", flush=True)
            continue
        print(f"running {name} ...", flush=True)
        sections[name] = importlib.import_module(name).run().rstrip("\n") + "\n"
    sections = {**previous_sections(args.output), **sections}  # read now: another run may have written meanwhile
    order = BENCHMARKS + sorted(set(sections) - set(BENCHMARKS))
    body = "".join(f"<!-- bench:{n} -->\n{sections[n]}<!-- /bench:{n} -->\n" for n in order if n in sections)
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
    text = "\n".join(header) + body
    with atomic_path(args.output) as tmp:
        tmp.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

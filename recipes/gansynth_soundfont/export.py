"""Copy a run's newest checkpoint into the package as the bundled model (ganaudio/assets/gansynth_tiny).

Usage: python recipes/gansynth_soundfont/export.py RUN_DIR [--name gansynth_tiny] [--report report.json]
           [--checkpoint DIR] [--average N]

The bundled folder is the checkpoint's model.safetensors and config.json (no
optimizer state: `ganaudio train gansynth --init-from ganaudio/assets/gansynth_tiny`
continues from it); the data recipe and, when given, the evaluation report are
added to config.json.

``--average N`` stores the mean of the EMA generator over the run's last N
checkpoints up to the chosen one. The tiny preset's EMA (0.99) spans about
100 steps, and single checkpoints 700 steps apart put 79% and 63% of low
notes on pitch; the mean of 20 checkpoints (2,000 steps) is a steadier
model (checkpoint averaging, as a longer EMA taken after the fact). The
step-26,400 bundle, trained with EMA 0.999, is the mean of 10.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from ganaudio.train.checkpoint import latest_checkpoint, list_checkpoints, load_checkpoint, write_model_folder

ASSETS = Path(__file__).resolve().parents[2] / "ganaudio" / "assets"
DATA = {
    "soundfont": "FluidR3_GM.sf2 (Debian fluid-soundfont-gm)",
    "programs": "ganaudio.data.PITCHED_PROGRAMS (50 GM programs), train split by instrument (seed 0)",
    "pitches": "MIDI 36-84", "velocity": 100, "seconds": "1.0 (0.75 held, 0.25 release)", "sample_rate": 16000,
    "recipe": "recipes/gansynth_soundfont/run.sh",
}


def averaged_ema(last: Path, n: int) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Mean ``generator_ema`` state over the ``n`` checkpoints of ``last``'s run ending at ``last``."""
    found = list_checkpoints(last.parent)  # oldest first
    names = [p.name for p in found]
    if last.name not in names:
        raise SystemExit(f"--average: {last} is not a checkpoint of a run (run/checkpoints/step_N)")
    folders = found[: names.index(last.name) + 1][-n:]
    if len(folders) < n:
        raise SystemExit(f"--average {n}: only {len(folders)} checkpoints up to {last.name} in {last.parent}")
    total: dict[str, torch.Tensor] = {}
    for folder in folders:
        for key, value in load_checkpoint(folder)[1]["generator_ema"].items():
            total[key] = total.get(key, 0) + value.double()
    return {key: (value / n).float() for key, value in total.items()}, [p.name for p in folders]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("--name", default="gansynth_tiny")
    parser.add_argument("--report", help="evaluate.py's JSON report to store beside the weights")
    parser.add_argument("--checkpoint", help="a checkpoint folder to export [the run's newest]")
    parser.add_argument("--average", type=int, default=1,
                        help="mean EMA generator over this many checkpoints up to the chosen one [1]")
    args = parser.parse_args()
    source = Path(args.checkpoint) if args.checkpoint else (
        latest_checkpoint(Path(args.run) / "checkpoints") or Path(args.run))
    config, states = load_checkpoint(source)  # validates the folder before anything is replaced
    if args.average > 1:
        states["generator_ema"], config["averaged_checkpoints"] = averaged_ema(source, args.average)
    config["data"] = DATA
    if args.report:
        config["evaluation"] = json.loads(Path(args.report).read_text())
    tensors = {f"{name}.{key}": value for name, state in states.items() for key, value in state.items()}
    target = write_model_folder(ASSETS / args.name, tensors=tensors, config=config)
    print(f"{source} (step {config['step']}) -> {target}")


if __name__ == "__main__":
    main()

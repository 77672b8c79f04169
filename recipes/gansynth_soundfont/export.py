"""Copy a run's newest checkpoint into the package as the bundled model (ganaudio/assets/gansynth_tiny).

Usage: python recipes/gansynth_soundfont/export.py RUN_DIR [--name gansynth_tiny] [--report report.json] [--checkpoint DIR]

The bundled folder is the checkpoint's model.safetensors and config.json (no
optimizer state: `ganaudio train gansynth --init-from ganaudio/assets/gansynth_tiny`
continues from it); the data recipe and, when given, the evaluation report are
added to config.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ganaudio.train.checkpoint import latest_checkpoint, load_checkpoint, write_model_folder

ASSETS = Path(__file__).resolve().parents[2] / "ganaudio" / "assets"
DATA = {
    "soundfont": "FluidR3_GM.sf2 (Debian fluid-soundfont-gm)",
    "programs": "ganaudio.data.PITCHED_PROGRAMS (50 GM programs), train split by instrument (seed 0)",
    "pitches": "MIDI 36-84", "velocity": 100, "seconds": "1.0 (0.75 held, 0.25 release)", "sample_rate": 16000,
    "recipe": "recipes/gansynth_soundfont/run.sh",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run")
    parser.add_argument("--name", default="gansynth_tiny")
    parser.add_argument("--report", help="evaluate.py's JSON report to store beside the weights")
    parser.add_argument("--checkpoint", help="a checkpoint folder to export [the run's newest]")
    args = parser.parse_args()
    source = Path(args.checkpoint) if args.checkpoint else (
        latest_checkpoint(Path(args.run) / "checkpoints") or Path(args.run))
    config, states = load_checkpoint(source)  # validates the folder before anything is replaced
    config["data"] = DATA
    if args.report:
        config["evaluation"] = json.loads(Path(args.report).read_text())
    tensors = {f"{name}.{key}": value for name, state in states.items() for key, value in state.items()}
    target = write_model_folder(ASSETS / args.name, tensors=tensors, config=config)
    print(f"{source} (step {config['step']}) -> {target}")


if __name__ == "__main__":
    main()

"""Export a vocoder checkpoint as a bundled model folder: EMA generator only, float16 weights.

    python recipes/vocoder_soundfont/export.py --run runs/vocoder_16k --out ganaudio/assets/vocoder_16k \
        [--checkpoint runs/vocoder_16k/checkpoints/step_00009000]

The folder holds ``model.safetensors`` (the generator, float16: half the size, loaded back as float32)
and ``config.json`` (constructor arguments, the mel analysis, the preset, the training step and data).
Without ``--checkpoint`` the run's newest checkpoint is exported.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ganaudio.train.checkpoint import latest_checkpoint, load_checkpoint, write_model_folder

KEEP = ("format", "family", "generator_type", "generator", "representation", "preset", "data", "step",
        "ganaudio_version")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--checkpoint", type=Path, default=None, help="a checkpoint folder [the run's newest]")
    args = parser.parse_args()
    source = args.checkpoint or latest_checkpoint(args.run / "checkpoints")
    if source is None:
        raise SystemExit(f"{args.run} has no checkpoint")
    config, states = load_checkpoint(source)
    weights = {f"generator.{k}": v.half() for k, v in states["generator_ema"].items()}
    bundled = {k: config[k] for k in KEEP if k in config}
    bundled["data"] = {k: v for k, v in bundled.get("data", {}).items() if k != "root"}
    bundled["recipe"] = "recipes/vocoder_soundfont (Bach chorales through FluidR3_GM)"
    write_model_folder(args.out, tensors=weights, config=bundled)
    size = (args.out / "model.safetensors").stat().st_size / 2**20
    print(f"{source} (step {config.get('step')}) -> {args.out} ({size:.1f} MiB)")


if __name__ == "__main__":
    main()

"""Export a vocoder run's newest checkpoint as a bundled model folder: EMA generator only, float16 weights.

    python recipes/vocoder_soundfont/export.py --run runs/vocoder_16k --out ganaudio/assets/vocoder_16k

The folder holds ``model.safetensors`` (the generator, float16: half the size, loaded back as float32)
and ``config.json`` (constructor arguments, the mel analysis, the preset, the training step and data).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from ganaudio.train.checkpoint import latest_checkpoint, load_checkpoint


def main() -> None:
    from safetensors.torch import save_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    source = latest_checkpoint(args.run / "checkpoints")
    if source is None:
        raise SystemExit(f"{args.run} has no checkpoint")
    config, states = load_checkpoint(source)
    weights = {f"generator.{k}": v.half().contiguous() for k, v in states["generator_ema"].items()}
    keep = ("format", "family", "generator_type", "generator", "representation", "preset", "data", "step",
            "ganaudio_version")
    bundled = {k: config[k] for k in keep if k in config}
    bundled["data"] = {k: v for k, v in bundled.get("data", {}).items() if k != "root"}
    bundled["recipe"] = "recipes/vocoder_soundfont (Bach chorales through FluidR3_GM, 7 GM programs)"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=args.out.parent, prefix=f".{args.out.name}."))
    tmp.chmod(0o755)  # mkdtemp makes it private; a bundled model must be readable by all
    save_file(weights, str(tmp / "model.safetensors"), metadata={"format": "pt"})
    (tmp / "config.json").write_text(json.dumps(bundled, indent=2, sort_keys=True) + "\n")
    for file in tmp.iterdir():
        file.chmod(0o644)
    if args.out.exists():
        shutil.rmtree(args.out)
    tmp.rename(args.out)
    size = (args.out / "model.safetensors").stat().st_size / 2**20
    print(f"{source} (step {config.get('step')}) -> {args.out} ({size:.1f} MiB)")


if __name__ == "__main__":
    main()

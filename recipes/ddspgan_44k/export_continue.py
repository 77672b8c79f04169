"""Write a run checkpoint's generator and discriminator (no optimizer, no EMA) as the recipe's continue point.

    python recipes/ddspgan_44k/export_continue.py runs/ddspgan_44k/checkpoints/step_00002000 \\
        recipes/ddspgan_44k/continue

A later session on a fresh machine continues from it with
``train.py --init-from recipes/ddspgan_44k/continue`` (fresh optimizer state,
the EMA restarted from the generator).
"""

from __future__ import annotations

import argparse

from ganaudio.loading import read_model_folder, write_model_folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("out")
    args = parser.parse_args()
    config, states = read_model_folder(args.checkpoint)
    tensors = {f"{module}.{key}": value.contiguous() for module in ("generator", "discriminator")
               for key, value in states[module].items()}
    config["recipe"] = "recipes/ddspgan_44k: continue point (generator and discriminator, fp32, no optimizer state)"
    write_model_folder(args.out, tensors=tensors, config=config)
    print(f"wrote {args.out} from {args.checkpoint} (step {config.get('step')})")


if __name__ == "__main__":
    main()

"""``ganaudio train musegan``: MuseGAN on prepared piano-roll phrases (registers on the ``train`` group)."""

from __future__ import annotations

import click

from ganaudio.cli.common import check_training_run, echo_training_result, training_options
from ganaudio.cli.train import train

__all__ = ["musegan"]


@train.command("musegan")
@click.option("--data", "data", required=True, type=click.Path(file_okay=False),
              help="Phrase folder from `ganaudio prepare midi` (index.json + shards).")
@training_options(("tiny", "full"), default="tiny",
                  preset_help="Base settings: tiny (2 CPU cores) or full (MuseGAN's sizes, a GPU).",
                  set_example="--set batch_size=32 --set binarize=ste")
def musegan(data, out, preset, config_file, assignments, steps, resume, device, seed, show_config, quiet) -> None:
    """Train MuseGAN: multitrack piano-roll phrases (hybrid generator, WGAN-GP).

    Tracks, bars per phrase, steps per bar and the pitch range come from DATA.

    \b
    Examples:
      ganaudio prepare midi --music21-corpus bach -o data/chorales --resolution 4 --pitch-range 32 88 --transpose=-5..6
      ganaudio train musegan --data data/chorales/phrases --out runs/musegan --preset tiny --steps 4000
      ganaudio train musegan --data data/chorales/phrases --out runs/musegan --resume
    """
    from ganaudio.presets import load_preset, parse_assignments
    from ganaudio.train.run import run_training

    settings = load_preset(preset, family="musegan", config_file=config_file, overrides=parse_assignments(assignments))
    if not check_training_run(settings, show_config=show_config, steps=steps, device=device):
        return
    metrics = run_training(settings, data, out, steps=steps, resume=resume, seed=seed, device=device,
                            progress=not quiet)
    echo_training_result(metrics, keys=("d_loss", "g_loss", "gp"), out=out)

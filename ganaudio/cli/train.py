"""``ganaudio train FAMILY``: train a model family from a preset, a config file and overrides."""

from __future__ import annotations

import click

from ganaudio.cli import main
from ganaudio.cli.common import check_training_run, echo_training_result, training_options


@main.group("train")
def train() -> None:
    """Train a model family. Runs on CPU, one GPU, or many through torchrun.

    \b
    Examples:
      ganaudio train gansynth --data data/notes --out runs/tiny --preset tiny --steps 2000
      ganaudio train gansynth --data data/notes --out runs/tiny --resume
      torchrun --nproc_per_node 4 -m ganaudio train gansynth --data data/notes --out runs/paper --preset paper --device cuda
    """


@train.command("gansynth")
@click.option("--data", "data", required=True, type=click.Path(file_okay=False),
              help="Note folder in NSynth's layout (examples.json + audio/), e.g. from `ganaudio prepare notes`.")
@training_options(("tiny", "paper"), default="tiny", preset_help="Base settings: tiny (2 CPU cores) or paper (GANSynth IF-Mel +H).",
                  set_example="--set batch_size=16 --set g_lr=5e-4")
@click.option("--init-from", "init_from", type=click.Path(exists=True, file_okay=False), default=None,
              help="Start a new run from a model folder's weights and step (e.g. ganaudio/assets/gansynth_tiny).")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
              help="Feature cache folder (default: DATA/.ganaudio-cache).")
def gansynth(data, init_from, cache_dir, out, preset, config_file, assignments, steps, resume, device, seed,
             show_config, quiet) -> None:
    """Train GANSynth: pitch-conditioned IF-Mel notes.

    \b
    Examples:
      ganaudio train gansynth --data data/fluidr3_notes --out runs/tiny --preset tiny --steps 5000
      ganaudio train gansynth --data data/nsynth --out runs/paper --preset paper --device cuda
      ganaudio train gansynth --data data/notes --out runs/tiny --set batch_size=16 --resume
      ganaudio train gansynth --data data/notes --out runs/more --init-from ganaudio/assets/gansynth_tiny
    """
    from ganaudio.presets import load_preset, parse_assignments
    from ganaudio.train.run import run_training

    settings = load_preset(preset, config_file=config_file, overrides=parse_assignments(assignments))
    if not check_training_run(settings, show_config=show_config, steps=steps, device=device):
        return
    if resume and init_from:
        raise click.UsageError("--resume and --init-from exclude each other")
    metrics = run_training(settings, data, out, steps=steps, resume=resume, seed=seed, device=device,
                           cache_dir=cache_dir, init_from=init_from, progress=not quiet)
    echo_training_result(metrics, keys=("d_loss", "g_loss", "aux_acc_real", "aux_acc_fake"), out=out)

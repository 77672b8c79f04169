"""``ganaudio train musegan``: MuseGAN on prepared piano-roll phrases (registers on the ``train`` group)."""

from __future__ import annotations

import json

import click

from ganaudio.cli.common import resolve_device
from ganaudio.cli.train import train

__all__ = ["musegan"]


@train.command("musegan")
@click.option("--data", "data", required=True, type=click.Path(file_okay=False),
              help="Phrase folder from `ganaudio prepare midi` (index.json + shards).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Run folder (checkpoints, MIDI samples, metrics).")
@click.option("--preset", default="tiny", show_default=True, type=click.Choice(["tiny", "full"]),
              help="Base settings: tiny (2 CPU cores) or full (MuseGAN's sizes, a GPU).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="YAML or JSON file of settings overriding the preset (may name its own `preset:`).")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Override one setting, e.g. --set batch_size=32 --set binarize=ste (repeatable).")
@click.option("--steps", type=int, default=None, help="Total steps to reach (default: the preset's).")
@click.option("--resume", is_flag=True, help="Continue from the newest checkpoint in --out, same step and RNG state.")
@click.option("--device", default="cpu", show_default=True,
              help="cpu or cuda (cuda:N); under torchrun each process takes its LOCAL_RANK GPU.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of weights, split, batch order and latents.")
@click.option("--show-config", is_flag=True, help="Print the resolved settings as JSON and exit.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def musegan(data, out, preset, config_file, assignments, steps, resume, device, seed, show_config, quiet) -> None:
    """Train MuseGAN: multitrack piano-roll phrases (hybrid generator, WGAN-GP).

    Tracks, bars per phrase, steps per bar and the pitch range come from DATA.

    \b
    Examples:
      ganaudio prepare midi --music21-corpus bach -o data/chorales --resolution 4 --pitch-range 32 88 --transpose=-5..6
      ganaudio train musegan --data data/chorales/phrases --out runs/musegan --preset tiny --steps 4000
      ganaudio train musegan --data data/chorales/phrases --out runs/musegan --resume
    """
    from ganaudio.presets import parse_assignments
    from ganaudio.presets.musegan import load_musegan_preset
    from ganaudio.train.musegan import train_musegan

    settings = load_musegan_preset(preset, config_file=config_file, overrides=parse_assignments(assignments))
    if show_config:
        click.echo(json.dumps(settings.to_dict(), indent=2))
        return
    if steps is not None and steps < 1:
        raise click.BadParameter(f"must be >= 1, got {steps}", param_hint="--steps")
    resolve_device(device)
    metrics = train_musegan(data, out, settings, steps=steps, resume=resume, seed=seed, device=device,
                            progress=not quiet)
    if metrics:
        click.echo(f"step {metrics.get('step')}: " + ", ".join(
            f"{k} {metrics[k]:.3f}" for k in ("d_loss", "g_loss", "gp") if k in metrics))
    click.echo(f"checkpoints in {out}/checkpoints")

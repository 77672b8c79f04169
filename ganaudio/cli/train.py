"""``ganaudio train FAMILY``: train a model family from a preset, a config file and overrides."""

from __future__ import annotations

import json

import click

from ganaudio.cli import main
from ganaudio.cli.common import resolve_device


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
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Run folder (checkpoints, samples, metrics).")
@click.option("--preset", default="tiny", show_default=True, type=click.Choice(["tiny", "paper"]),
              help="Base settings: tiny (2 CPU cores) or paper (GANSynth IF-Mel +H).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="YAML or JSON file of settings overriding the preset (may name its own `preset:`).")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Override one setting, e.g. --set batch_size=16 --set g_lr=5e-4 (repeatable; wins over --config).")
@click.option("--steps", type=int, default=None, help="Total steps to reach (default: the preset's).")
@click.option("--resume", is_flag=True, help="Continue from the newest checkpoint in --out, same step and RNG state.")
@click.option("--init-from", "init_from", type=click.Path(exists=True, file_okay=False), default=None,
              help="Start a new run from a model folder's weights and step (e.g. ganaudio/assets/gansynth_tiny).")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
              help="Feature cache folder (default: DATA/.ganaudio-cache).")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda (cuda:N); under torchrun each process takes its LOCAL_RANK GPU.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of weights, batch order and latents.")
@click.option("--show-config", is_flag=True, help="Print the resolved settings as JSON and exit.")
def gansynth(data, out, preset, config_file, assignments, steps, resume, init_from, cache_dir, device, seed,
             show_config) -> None:
    """Train GANSynth: pitch-conditioned IF-Mel notes.

    \b
    Examples:
      ganaudio train gansynth --data data/fluidr3_notes --out runs/tiny --preset tiny --steps 5000
      ganaudio train gansynth --data data/nsynth --out runs/paper --preset paper --device cuda
      ganaudio train gansynth --data data/notes --out runs/tiny --set batch_size=16 --resume
      ganaudio train gansynth --data data/notes --out runs/more --init-from ganaudio/assets/gansynth_tiny
    """
    from ganaudio.presets import load_preset, parse_assignments
    from ganaudio.train.gansynth import train_gansynth

    settings = load_preset(preset, config_file=config_file, overrides=parse_assignments(assignments))
    if show_config:
        click.echo(json.dumps(settings.to_dict(), indent=2))
        return
    if steps is not None and steps < 1:
        raise click.BadParameter(f"must be >= 1, got {steps}", param_hint="--steps")
    resolve_device(device)
    if resume and init_from:
        raise click.UsageError("--resume and --init-from exclude each other")
    metrics = train_gansynth(data, out, settings, steps=steps, resume=resume, seed=seed, device=device,
                             cache_dir=cache_dir, init_from=init_from)
    if metrics:
        click.echo(f"step {metrics.get('step')}: " + ", ".join(
            f"{k} {metrics[k]:.3f}" for k in ("d_loss", "g_loss", "aux_acc_real", "aux_acc_fake") if k in metrics))
    click.echo(f"checkpoints in {out}/checkpoints")

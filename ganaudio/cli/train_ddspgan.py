"""``ganaudio train ddspgan``: the harmonic-plus-noise GAN instrument (registers on the ``train`` group)."""

from __future__ import annotations

import click

from ganaudio.cli.common import check_training_run, echo_training_result, training_options
from ganaudio.cli.train import train

__all__ = ["ddspgan"]


@train.command("ddspgan")
@click.option("--data", "data", required=True, type=click.Path(file_okay=False),
              help="Note folder from `ganaudio prepare notes` (notes as long as the preset's note_seconds).")
@training_options(("44k", "tiny"), default="44k",
                  preset_help="Base settings: 44k (the bundled 44.1 kHz instrument) or tiny (tests, a first look).",
                  set_example="--set batch_size=4 --set disc_start=1000")
@click.option("--init-from", "init_from", type=click.Path(exists=True, file_okay=False), default=None,
              help="Start a new run from a model folder's weights and step.")
def ddspgan(data, init_from, out, preset, config_file, assignments, steps, resume, device, seed, show_config,
            quiet) -> None:
    """Train a harmonic-plus-noise GAN instrument: notes of any length at 44.1 kHz, timbre from a recording.

    An encoder maps each real note to a timbre latent, a causal control
    generator plays it back through a differentiable harmonic-plus-noise
    synthesizer (reconstruction loss), and a log-mel discriminator judges
    crops of real notes, reconstructions and notes of random latents.

    \b
    Examples:
      ganaudio prepare notes --soundfont /usr/share/sounds/sf2/FluidR3_GM.sf2 -o data/fluidr3_44k \\
          --pitches 21-108 --velocities 40,80,120 --sample-rate 44100 --duration 2.5 --release 0.8
      ganaudio train ddspgan --data data/fluidr3_44k --out runs/ddspgan --steps 20000
      ganaudio train ddspgan --data data/fluidr3_44k --out runs/ddspgan --resume
    """
    from ganaudio.presets import load_preset, parse_assignments
    from ganaudio.train.run import run_training

    settings = load_preset(preset, family="ddspgan", config_file=config_file,
                           overrides=parse_assignments(assignments))
    if not check_training_run(settings, show_config=show_config, steps=steps, device=device):
        return
    if resume and init_from:
        raise click.UsageError("--resume and --init-from exclude each other")
    import torch

    torch.set_flush_denormal(True)  # the GRU's backward pass makes denormals: 10-50x slower CPU steps without
    metrics = run_training(settings, data, out, steps=steps, resume=resume, seed=seed, device=device,
                           init_from=init_from, progress=not quiet)
    echo_training_result(metrics, keys=("recon", "kl", "d_loss", "g_adv"), out=out)

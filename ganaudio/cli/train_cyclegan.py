"""``ganaudio train cyclegan``: CycleGAN timbre transfer between two audio folders (registers on ``train``)."""

from __future__ import annotations

import click

from ganaudio.cli.common import check_training_run, echo_training_result, training_options
from ganaudio.cli.train import train

__all__ = ["cyclegan"]


@train.command("cyclegan")
@click.option("--domain-a", "domain_a", required=True, type=click.Path(exists=True),
              help="Folder of audio files (any rate, mono or stereo) of the first instrument, e.g. piano.")
@click.option("--domain-b", "domain_b", required=True, type=click.Path(exists=True),
              help="Folder of audio files of the second instrument, e.g. violin (unpaired with A).")
@training_options(("tiny", "full"), default="tiny",
                  preset_help="Base settings: tiny (one CPU thread, under an hour) or full (CycleGAN sizes, a GPU).",
                  set_example="--set cycle_weight=5 --set domain_names=[piano,violin]")
def cyclegan(domain_a, domain_b, out, preset, config_file, assignments, steps, resume, device, seed, show_config,
             quiet) -> None:
    """Train a CycleGAN on log-mel spectrograms for timbre transfer (TimbreTron-style).

    Two generators map A's spectrograms to B's and back (ResNet, fully
    convolutional along time), two PatchGAN discriminators judge them;
    least-squares GAN, cycle-consistency and identity losses. The mel
    analysis is the bundled vocoder's (16 kHz, 80 bands), so `ganaudio
    transfer` plays the result with it. Domain names default to the folder
    names. Samples (A->B and B->A, vocoded) land in OUT/samples.

    \b
    Examples:
      ganaudio train cyclegan --domain-a data/piano --domain-b data/violin --out runs/p2v --preset tiny
      ganaudio train cyclegan --domain-a data/piano --domain-b data/violin --out runs/p2v --steps 4000 --resume
      ganaudio train cyclegan --domain-a a/ --domain-b b/ --out runs/full --preset full --device cuda
      torchrun --nproc_per_node 4 -m ganaudio.cli train cyclegan --domain-a a/ --domain-b b/ --out runs/f --preset full --device cuda
    """
    from ganaudio.presets import load_preset, parse_assignments
    from ganaudio.train.run import run_training

    settings = load_preset(preset, family="cyclegan", config_file=config_file, overrides=parse_assignments(assignments))
    if not check_training_run(settings, show_config=show_config, steps=steps, device=device):
        return
    metrics = run_training(settings, (domain_a, domain_b), out, steps=steps, resume=resume, seed=seed,
                             device=device, progress=not quiet)
    echo_training_result(metrics, keys=("d_loss", "g_adv", "cycle", "identity"), out=out)

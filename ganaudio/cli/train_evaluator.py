"""``ganaudio train evaluator``: the pitch and instrument-family network behind the notes metrics."""

from __future__ import annotations

import click

from ganaudio.cli.common import echo_skipped, resolve_device
from ganaudio.cli.train import train


@train.command("evaluator")
@click.option("--data", "data", required=True, type=click.Path(file_okay=False),
              help="Real notes in NSynth's layout (examples.json + audio/), split by instrument.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Run folder: checkpoints/ every epoch, best/ (the model folder to use).")
@click.option("--epochs", type=click.IntRange(min=1), default=30, show_default=True, help="Passes over the train split.")
@click.option("--minutes", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop after this much wall-clock time (with a checkpoint).")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=2e-3, show_default=True,
              help="Peak learning rate (one-cycle schedule over --epochs).")
@click.option("--resume", is_flag=True, help="Continue from the newest checkpoint in --out.")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
              help="Feature cache folder (default: DATA/.ganaudio-cache).")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Torch CPU threads.")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda (cuda:N).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of weights, batch order and augmentation.")
def evaluator(data, out, epochs, minutes, batch_size, lr, resume, cache_dir, threads, device, seed) -> None:
    """Train the evaluator: a log-mel CNN naming pitch and instrument family.

    Its pitch posteriors give the Inception Score, its penultimate layer the
    Frechet-distance embedding (`ganaudio evaluate notes --evaluator OUT/best`).
    The epoch with the best validation score is kept in OUT/best, with its
    test-split accuracies in config.json.

    \b
    Examples:
      ganaudio train evaluator --data data/notes --out runs/evaluator --minutes 20
      ganaudio train evaluator --data data/nsynth --out runs/evaluator --device cuda --epochs 50
      ganaudio train evaluator --data data/notes --out runs/evaluator --resume
    """
    import torch

    from ganaudio.train.evaluator import train_evaluator

    resolve_device(device)
    if threads is not None:
        torch.set_num_threads(threads)
    metrics = train_evaluator(data, out, epochs=epochs, max_minutes=minutes, batch_size=batch_size, lr=lr,
                              cache_dir=cache_dir, resume=resume, seed=seed, device=device)
    echo_skipped(metrics.get("data_skipped"))
    for split in ("valid", "test"):
        if metrics.get(split):
            m = metrics[split]
            click.echo(f"{split}: pitch accuracy {m['pitch_accuracy']:.3f}, family accuracy "
                       f"{m['family_accuracy']:.3f} ({m['n']} notes)")
    click.echo(f"evaluator in {out}/best")

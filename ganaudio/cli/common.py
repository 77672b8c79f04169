"""Options and helpers shared by the command modules."""

from __future__ import annotations

import click

from ganaudio.errors import ParameterError

device_option = click.option(
    "--device", default="cpu", show_default=True, help="Torch device: cpu, cuda, cuda:1, mps."
)
seed_option = click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")


def resolve_device(name: str):
    """Return a torch.device for ``name`` or raise ParameterError if unavailable."""
    import torch

    try:
        device = torch.device(name)
    except RuntimeError:
        raise ParameterError(f"--device {name!r} is not a torch device (try cpu or cuda)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"--device {name!r}: CUDA is not available on this machine")
    return device


def progress_blocks(blocks, *, total: int, desc: str, unit: str = "s", scale: float = 1.0, quiet: bool = False,
                    min_total: float = 0.0):
    """Yield ``blocks`` (arrays) while a tqdm bar on stderr counts their length times ``scale`` up to ``total``.

    The bar is hidden with ``quiet`` or when ``total`` is below ``min_total`` (short work).
    """
    from tqdm.auto import tqdm

    with tqdm(total=round(total * scale, 1), desc=desc, unit=unit, disable=quiet or total < min_total, leave=False,
              bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} {unit} [{elapsed}<{remaining}]") as bar:
        for block in blocks:
            bar.update(len(block) * scale if scale != 1.0 else len(block))
            yield block


def training_options(presets: tuple[str, ...], *, default: str, preset_help: str, set_example: str):
    """The options every ``ganaudio train FAMILY`` command shares, in one decorator.

    Adds ``--out``, ``--preset`` (one of ``presets``), ``--config``, ``--set``,
    ``--steps``, ``--resume``, ``--device``, ``--seed``, ``--show-config`` and
    ``--quiet``; the command keeps its own data options. Its function receives
    ``out, preset, config_file, assignments, steps, resume, device, seed,
    show_config, quiet`` as keyword arguments.
    """
    options = [
        click.option("--out", "out", required=True, type=click.Path(file_okay=False),
                     help="Run folder (checkpoints, samples, metrics)."),
        click.option("--preset", default=default, show_default=True, type=click.Choice(list(presets)),
                     help=preset_help),
        click.option("--config", "config_file", type=click.Path(dir_okay=False),
                     help="YAML or JSON file of settings overriding the preset (may name its own `preset:`)."),
        click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
                     help=f"Override one setting, e.g. {set_example} (repeatable; wins over --config)."),
        click.option("--steps", type=int, default=None, help="Total steps to reach (default: the preset's)."),
        click.option("--resume", is_flag=True,
                     help="Continue from the newest checkpoint in --out, same step and RNG state."),
        click.option("--device", default="cpu", show_default=True,
                     help="cpu or cuda (cuda:N); under torchrun each process takes its LOCAL_RANK GPU."),
        click.option("--seed", type=int, default=0, show_default=True,
                     help="Seed of weights, batch order and latents."),
        click.option("--show-config", is_flag=True, help="Print the resolved settings as JSON and exit."),
        click.option("--quiet", is_flag=True, help="No progress bar."),
    ]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def check_training_run(settings, *, show_config: bool, steps: int | None, device: str) -> bool:
    """Print the settings and return False for ``--show-config``; otherwise check ``--steps`` and ``--device``."""
    import dataclasses
    import json

    if show_config:
        values = settings.to_dict() if hasattr(settings, "to_dict") else dataclasses.asdict(settings)
        click.echo(json.dumps(values, indent=2))
        return False
    if steps is not None and steps < 1:
        raise click.BadParameter(f"must be >= 1, got {steps}", param_hint="--steps")
    resolve_device(device)
    return True

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

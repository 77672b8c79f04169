"""Options and helpers shared by the command modules."""

from __future__ import annotations

import click

from ganaudio.errors import ParameterError


class SeedType(click.ParamType):
    """A click type for seeds: any whole number, reduced to the generators' range by :func:`reduce_seed`.

    ``--seed 99999999999999999999999`` works and always draws the same numbers.
    """

    name = "integer"

    def convert(self, value, param, ctx):
        from ganaudio.limits import reduce_seed

        if isinstance(value, int) and not isinstance(value, bool):
            return reduce_seed(value)
        try:
            return reduce_seed(int(str(value).strip()))
        except ValueError:
            self.fail(f"{value!r} is not a whole number", param, ctx)


SEED = SeedType()

device_option = click.option(
    "--device", default="cpu", show_default=True, help="Torch device: cpu, cuda, cuda:1, mps."
)
seed_option = click.option("--seed", type=SEED, default=0, show_default=True,
                           help="Random seed (any whole number).")


def resolve_device(name: str):
    """Return a torch.device for ``name`` or raise ParameterError if it is unknown or unavailable here.

    ``meta`` (tensors without data) is refused; ``cuda:N`` needs N below the GPU count; ``mps`` and other
    accelerators need their backend to say it is available.
    """
    import torch

    text = str(name).strip()
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError, TypeError):
        raise ParameterError(f"--device {name!r} is not a torch device (try cpu or cuda)") from None
    kind = device.type
    if kind == "cpu":
        return device
    if kind == "meta":
        raise ParameterError("--device meta holds no data and cannot run a model; use cpu or cuda")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ParameterError(f"--device {name!r}: CUDA is not available on this machine (use cpu)")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ParameterError(f"--device {name!r}: this machine has {count} CUDA device(s), cuda:0 to "
                                 f"cuda:{count - 1}")
        return device
    if kind == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            built = mps is not None and mps.is_built()
            raise ParameterError(f"--device {name!r}: Apple's Metal (MPS) is not available on this machine"
                                 + (" (this torch has it, the machine does not)" if built else "") + "; use cpu")
        return device
    backend = getattr(torch, kind, None)
    available = getattr(backend, "is_available", None)
    if callable(available) and available():
        return device
    raise ParameterError(f"--device {name!r}: no {kind} device on this machine; use cpu"
                         + (" or cuda" if torch.cuda.is_available() else ""))


def audio_bytes(input_path, *, sample_rate: int | None = None) -> int:
    """Bytes of a float32 WAV as long as the audio file ``input_path`` (at ``sample_rate``, default its own).

    The figure the free-space check uses for outputs as long as their input; 0 when the input cannot be read
    (reading it reports that, with its own message).
    """
    from ganaudio.errors import AudioFileError
    from ganaudio.io import audio_info

    try:
        info = audio_info(input_path)
    except AudioFileError:
        return 0
    rate = sample_rate or info.samplerate
    return int(info.frames * rate / info.samplerate) * 4 * info.channels


def check_output_file(path, *, suffixes: tuple[str, ...] | None = None, option: str = "-o/--output",
                      estimated_bytes: int = 0):
    """Refuse a wrong suffix (ParameterError), then check ``path`` can be written (OutputError), before any work.

    Returns the path as a :class:`pathlib.Path`.
    """
    from pathlib import Path

    from ganaudio.outputs import check_output

    path = Path(path)
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise ParameterError(f"{option} {str(path)!r} must end in one of {', '.join(suffixes)}")
    return check_output(path, estimated_bytes=estimated_bytes)


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
        click.option("--seed", type=SEED, default=0, show_default=True,
                     help="Seed of weights, batch order and latents (any whole number)."),
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


def echo_skipped(reports: dict | None) -> None:
    """Print one line per data set that had files skipped as unusable (label -> SkipReport.to_dict())."""
    from ganaudio.data.screen import skip_lines

    for line in skip_lines(reports or {}):
        click.echo(line)


def echo_training_result(metrics: dict, *, keys: tuple[str, ...], out) -> None:
    """After a ``train`` command: the skipped-file lines, the last step's ``keys`` and where the checkpoints are."""
    echo_skipped(metrics.get("data_skipped"))
    if "step" in metrics:
        click.echo(f"step {metrics.get('step')}: " + ", ".join(f"{k} {metrics[k]:.3f}" for k in keys if k in metrics))
    click.echo(f"checkpoints in {out}/checkpoints")

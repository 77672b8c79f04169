"""The ``ganaudio`` command line: a click group of thin wrappers over the library.

Each command family lives in its own module (audio.py, midi.py, prepare.py, ...)
and registers itself on :data:`main`. ganaudio errors become one ``Error: ...``
line and exit code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import logging
import sys

import click

from ganaudio import __version__
from ganaudio.errors import GanAudioError

# A library error's remedy (ganaudio.errors.GanAudioError.remedy) as this command line's flags.
REMEDY_HINTS = {
    "resume-or-new-folder": "pass --resume to continue that run, or choose a new --out folder",
    "same-settings": "use the run's --preset and --set settings, or a new --out folder",
    "new-folder": "use a new --out folder",
    "mel-representation": "use --repr mel, or --vocoder griffinlim",
    "replace-folder": "pass --force to replace it, or choose a new -o folder",
}


class GanAudioGroup(click.Group):
    """A click group that turns ganaudio errors into one line and exit code 2.

    A stray ``OSError`` or ``MemoryError`` that no command turned into a ganaudio
    error gets the same treatment as a last safety net (the writers and readers
    are meant to raise ganaudio errors themselves); ``--debug`` shows the traceback.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (GanAudioError, OSError, MemoryError) as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            hint = REMEDY_HINTS.get(getattr(exc, "remedy", None))
            click.echo(f"Error: {_one_line(exc)}" + (f" ({hint})" if hint else ""), err=True)
            sys.exit(2)


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line; an OSError names its file and reason, a MemoryError says so."""
    if isinstance(exc, GanAudioError):
        text = str(exc)
    elif isinstance(exc, MemoryError):
        text = f"out of memory ({exc})" if str(exc) else "out of memory; try a shorter input or a smaller setting"
    elif exc.filename is not None and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split("\n")).strip()


@click.group(cls=GanAudioGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ganaudio")
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.pass_context
def main(ctx: click.Context, debug: bool, verbose: int) -> None:
    """Make music with generative adversarial networks.

    \b
    Examples:
      ganaudio info
      ganaudio analyze samples/trumpet_c4.wav -o out/trumpet.png --repr ifmel
      ganaudio resynth samples/trumpet_c4.wav -o out/trumpet.wav --vocoder phase-griffinlim
      ganaudio midi2roll samples/bach_chorale.mid -o out/chorale.npz
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _register() -> None:
    """Import every command module in this package; each one adds its commands to ``main`` on import.

    New command families need no edit here: drop a module into ganaudio/cli/.
    """
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_") and info.name != "common":
            importlib.import_module(f"{__name__}.{info.name}")


_register()

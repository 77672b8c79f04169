"""``ganaudio export torchscript``: a harmonic-plus-noise instrument as a TorchScript file.

Registers on the ``export`` group (sampler exports live there too); the group
is made here when no other module has made it yet.
"""

from __future__ import annotations

from pathlib import Path

import click

from ganaudio.cli import main

__all__ = ["torchscript_cmd"]


def _export_group() -> click.Group:
    existing = main.commands.get("export")
    if isinstance(existing, click.Group):
        return existing

    @main.group("export")
    def export() -> None:
        """Export a GAN instrument for other programs.

        \b
        Examples:
          ganaudio export torchscript --model runs/ddspgan --timbre 3 -o synth.ts
        """

    return export


@_export_group().command("torchscript")
@click.option("--model", required=True, metavar="NAME|DIR", help="A harmonic-plus-noise instrument (it streams).")
@click.option("--timbre", default="0", show_default=True, metavar="SEED|FILE", help="A seed or a timbre file.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="TorchScript file to write (.ts or .pt).")
def torchscript_cmd(model, timbre, output) -> None:
    """Write the streaming synth (controls + synthesis, state carried between calls) as TorchScript.

    The file loads with torch.jit.load alone. Call signature:
    forward(pitch, velocity, gate) -> audio, each input float32 (frames,)
    (MIDI pitch, velocity 0-1, gate 1 held / 0 released), audio float32
    (frames * hop,) at the model's rate; reset() starts a new note.

    \b
    Example:
      ganaudio export torchscript --model runs/ddspgan --timbre 3 -o synth.ts
    """
    from ganaudio.cli.common import check_output_file
    from ganaudio.cli.play import note_model, timbre_spec
    from ganaudio.synth.torchscript import export_torchscript

    check_output_file(output, suffixes=(".ts", ".pt"), estimated_bytes=64 * 2**20)
    synth = note_model(model)
    chosen = timbre_spec(synth, timbre, option="--timbre")
    export_torchscript(synth, chosen, output)
    info = output.stat().st_size / 2**20
    click.echo(f"{output}: {synth.name}, {chosen}, {synth.sample_rate} Hz, {info:.1f} MB; "
               "forward(pitch, velocity, gate) per control frame -> audio")

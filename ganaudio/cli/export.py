"""``ganaudio export``: a timbre of a note model as an instrument other software plays (SFZ, SoundFont 2).

Each export format is one subcommand of the ``export`` group; the shared
options (model, timbre, which notes to sample) come from :func:`sampler_options`.
"""

from __future__ import annotations

from pathlib import Path

import click

from ganaudio.cli import main
from ganaudio.cli.common import device_option, resolve_device
from ganaudio.errors import ParameterError


@main.group("export")
def export() -> None:
    """Export a GAN instrument for samplers, DAWs and players.

    \b
    Examples:
      ganaudio export sfz --timbre 7 -o out/seven/
      ganaudio export sf2 --model recipes/ddspgan_44k/continue --timbre 3 -o out/three.sf2
    """


def load_note_model(model: str | None, device: str):
    """The note model named by ``--model`` (default: the bundled GANSynth), refusing models that play no notes."""
    import ganaudio.loading as loading
    from ganaudio.synth.timbre import TimbreBank

    if model is None:
        from ganaudio.api import load

        return load(None, resolve_device(device))
    synth = loading.load_model(model, device=resolve_device(device))
    if not isinstance(synth, TimbreBank):
        raise ParameterError(f"--model {model!r} is a {type(synth).__name__}, not a note model (GANSynth or "
                             f"harmonic-plus-noise)")
    return synth


def _int_list(text: str | None, *, option: str, low: int, high: int) -> list[int] | None:
    """``"40,80,120"`` -> ``[40, 80, 120]``, each within ``low``-``high``; None stays None."""
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items or not all(t.isdigit() and low <= int(t) <= high for t in items):
        raise ParameterError(f"{option} {text!r}: expected whole numbers {low}-{high} separated by commas")
    return sorted({int(t) for t in items})


def sampler_options(command):
    """The options every sampler export takes: model, timbre, pitches, velocity layers, hold, name, device."""
    options = [
        click.option("--model", default=None, metavar="NAME|DIR",
                     help="Note model: a bundled name or a model folder (GANSynth or harmonic-plus-noise) "
                          "[default: the bundled gansynth_tiny]."),
        click.option("--timbre", "timbre_spec", default="0", show_default=True, metavar="SEED|FILE",
                     help="Timbre: a seed or a timbre file of that model."),
        click.option("--step", type=click.IntRange(1, 24), default=3, show_default=True,
                     help="Semitones between sampled pitches, across the model's range."),
        click.option("--pitches", default=None, metavar="P,P,...",
                     help="Sample exactly these MIDI pitches instead of every --step semitones."),
        click.option("--velocities", default="40,80,120", show_default=True, metavar="V,V,...",
                     help="One velocity layer per velocity (1-127), rendered by the model."),
        click.option("--hold", type=click.FloatRange(0.5, 30), default=2.0, show_default=True,
                     help="Seconds each note is held before its release (models that play notes of any length)."),
        click.option("--name", default=None, help="Instrument name [default: MODEL_SEED]."),
        device_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _prepare(model, timbre_spec, pitches, velocities, device):
    from ganaudio.cli.synth import _timbre

    pitch_list = _int_list(pitches, option="--pitches", low=0, high=127)
    velocity_list = _int_list(velocities, option="--velocities", low=1, high=127)
    synth = load_note_model(model, device)
    return synth, _timbre(synth, timbre_spec, option="--timbre"), pitch_list, velocity_list


def _echo(instrument, where: Path) -> None:
    info = instrument.summary()
    seam = info["worst_seam_jump"]
    click.echo(f"{where}: {info['samples']} samples ({len(info['pitches'])} pitches x {len(info['velocities'])} "
               f"velocity layers), {info['looped']} looped"
               + (f" (worst seam jump {seam:.2f}, loop match >= {info['worst_loop_match']:.3f})" if seam is not None
                  else "")
               + f", rendered in {info['render_seconds']:.1f} s")


@export.command("sfz")
@sampler_options
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write: NAME.sfz, samples/*.wav (44.1 kHz 24-bit) and export.json.")
@click.option("--force", is_flag=True, help="Replace the output folder if it exists and holds files.")
def sfz_cmd(model, timbre_spec, step, pitches, velocities, hold, name, device, output, force) -> None:
    """An SFZ instrument of one timbre: multisampled, velocity layers, looped sustain, the model's release.

    \b
    Examples:
      ganaudio export sfz --timbre 7 -o out/seven/
      ganaudio export sfz --model recipes/ddspgan_44k/continue --timbre cello.timbre.json --step 4 -o out/cello/
    """
    from ganaudio.outputs import check_output_folder
    from ganaudio.synth.sampler import export_sfz

    check_output_folder(output, replace=force)
    synth, timbre, pitch_list, velocity_list = _prepare(model, timbre_spec, pitches, velocities, device)
    instrument = export_sfz(synth, timbre, output, pitches=pitch_list, step=step, velocities=velocity_list,
                            hold=hold, name=name, replace=force, progress=True)
    _echo(instrument, output)


@export.command("sf2")
@sampler_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="SoundFont file to write (.sf2); every program of bank 0 plays it.")
def sf2_cmd(model, timbre_spec, step, pitches, velocities, hold, name, device, output) -> None:
    """One SoundFont 2 file of one timbre (24-bit samples, velocity layers, looped sustain).

    \b
    Examples:
      ganaudio export sf2 --timbre 7 -o out/seven.sf2
      fluidsynth -ni -F melody.wav out/seven.sf2 melody.mid
    """
    from ganaudio.outputs import check_output
    from ganaudio.synth.sampler import export_sf2

    if output.suffix.lower() != ".sf2":
        raise ParameterError(f"-o {str(output)!r} must end in .sf2")
    check_output(output)
    synth, timbre, pitch_list, velocity_list = _prepare(model, timbre_spec, pitches, velocities, device)
    instrument = export_sf2(synth, timbre, output, pitches=pitch_list, step=step, velocities=velocity_list,
                            hold=hold, name=name, progress=True)
    _echo(instrument, output)

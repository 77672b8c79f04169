"""``ganaudio compose``: a multitrack MIDI piece from a MuseGAN model, optionally played by GANSynth."""

from __future__ import annotations

import copy
from pathlib import Path

import click

from ganaudio.cli import main
from ganaudio.cli.common import SEED, resolve_device
from ganaudio.errors import ParameterError
from ganaudio.limits import MAX_COMPOSE_BARS, check_count

__all__ = ["compose_cmd"]

_MIDI = (".mid", ".midi")
_AUDIO = (".wav", ".flac", ".ogg")


def _check_output(path: Path, *, suffixes: tuple[str, ...], option: str) -> None:
    """Refuse a wrong suffix (ParameterError) or a place that cannot be written (OutputError), before any work."""
    from ganaudio.outputs import check_output

    if path.suffix.lower() not in suffixes:
        raise ParameterError(f"{option} {str(path)!r}: expected a {'/'.join(suffixes)} file")
    check_output(path)


def _track_timbres(synth, spec: str | None, n_tracks: int) -> list:
    """One timbre per track from ``a,b,...`` (seeds or timbre files, repeated in turn); default seeds 0.."""
    items = [s.strip() for s in (spec or "").split(",") if s.strip()] or [str(k) for k in range(n_tracks)]
    timbres = []
    for item in items:
        if item.isdigit():
            timbres.append(synth.random_timbre(int(item)))
        elif Path(item).is_file():
            timbres.append(synth.load_timbre(item))
        else:
            raise ParameterError(f"--timbres {item!r} is neither a seed (a whole number) nor a timbre file")
    return [timbres[k % len(timbres)] for k in range(n_tracks)]


def render_tracks(midi, output: Path, *, timbres: str | None, synth_model: str | None, device: str, outputs=None):
    """Play ``midi`` with a note model (GANSynth or harmonic-plus-noise), one timbre per track, streamed into ``output``: ``(samples, rate)``."""
    try:
        from ganaudio.api import load
    except ImportError:
        raise ParameterError("--render needs the GANSynth synth (ganaudio.api), which this installation lacks") \
            from None
    synth = load(synth_model, device=device)
    per_track = _track_timbres(synth, timbres, len(midi.instruments))
    playable = copy.deepcopy(midi)  # program k names track k, so each track gets its own timbre
    for k, inst in enumerate(playable.instruments):
        inst.program = k
    samples, _ = synth.render_to(playable, output, timbres=dict(enumerate(per_track)), progress=True,
                                 outputs=outputs)
    return samples, synth.sample_rate


@main.command("compose")
@click.option("--model", default=None, metavar="NAME|DIR",
              help="Bundled MuseGAN name or model/checkpoint folder [default: musegan_chorales].")
@click.option("--bars", type=int, default=8, show_default=True, help=f"Length in 4/4 bars (1 to {MAX_COMPOSE_BARS}).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Same seed, same piece (any whole number).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="MIDI file to write.")
@click.option("--qpm", type=float, default=None, help="Tempo in quarter notes per minute [default: the model's].")
@click.option("--render", "render_path", type=click.Path(path_type=Path), default=None,
              help="Also play the piece through the GANSynth synth into this audio file.")
@click.option("--timbres", default=None, metavar="A,B,...",
              help="With --render: one seed or timbre file per track, in track order [default: 0,1,2,...].")
@click.option("--synth-model", default=None, metavar="NAME|DIR", help="With --render: the note model (GANSynth or harmonic-plus-noise).")
@click.option("--device", default="cpu", show_default=True, help="Torch device: cpu, cuda, cuda:1.")
def compose_cmd(model, bars, seed, output, qpm, render_path, timbres, synth_model, device) -> None:
    """Compose a multitrack MIDI piece with a MuseGAN model (Bach-chorale SATB by default).

    Tracks keep their names and programs (Soprano, Alto, Tenor, Bass, choir aahs).
    A piece longer than the model's phrase (4 bars for the chorale model) chains
    phrases that share the style latents. The same seed writes the same file.

    \b
    Examples:
      ganaudio compose --bars 8 --seed 3 -o chorale.mid
      ganaudio compose --bars 16 --seed 7 -o chorale.mid --render chorale.wav --timbres 1,5,9,12
      ganaudio compose --model runs/musegan/checkpoints/step_00004000 --bars 4 -o sample.mid
    """
    from ganaudio.compose import load_composer
    from ganaudio.outputs import OutputSet

    check_count(bars, name="--bars", limit=MAX_COMPOSE_BARS,
                way_past="compose a long piece in parts (different seeds) and join the MIDI files")
    _check_output(output, suffixes=_MIDI, option="-o/--output")
    if render_path is not None:
        _check_output(render_path, suffixes=_AUDIO, option="--render")
    elif timbres is not None or synth_model is not None:
        raise ParameterError("--timbres and --synth-model apply to --render only")
    composer = load_composer(model, device=resolve_device(device))
    midi = composer.compose(bars, seed, qpm=qpm)
    samples = None
    with OutputSet() as outputs:  # the MIDI and its render are renamed into place together, or neither
        with outputs.path(output) as tmp:
            midi.write(str(tmp))
        if render_path is not None:
            samples, rate = render_tracks(midi, render_path, timbres=timbres, synth_model=synth_model,
                                          device=device, outputs=outputs)
    notes = sum(len(i.notes) for i in midi.instruments)
    click.echo(f"{output}: {bars} bars, {notes} notes in {len(midi.instruments)} tracks "
               f"({', '.join(i.name for i in midi.instruments)}), seed {seed}")
    if samples is not None:
        click.echo(f"{render_path}: {samples / rate:.1f} s at {rate} Hz")

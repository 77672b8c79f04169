"""ganaudio CLI: generate, interpolate, timbres and render (play a trained GANSynth)."""

from __future__ import annotations

from pathlib import Path

import click

from ganaudio.cli import main
from ganaudio.cli.common import SEED, device_option, resolve_device
from ganaudio.errors import ParameterError
from ganaudio.limits import (
    ESTIMATE_SAMPLE_RATE,
    MAX_INTERPOLATE_STEPS,
    MAX_NOTE_SECONDS,
    MAX_TIMBRES,
    check_count,
    check_seconds,
)

model_option = click.option("--model", default=None, metavar="NAME|DIR",
                            help="Bundled model name or checkpoint folder [default: the bundled gansynth_tiny].")


def _load(model: str | None, device: str):
    from ganaudio.api import load

    return load(model, resolve_device(device))


def _check_output(path: Path, *, suffixes: tuple[str, ...], what: str = "output", estimated_bytes: int = 0) -> Path:
    """Fail early, before any work, if ``path`` has the wrong suffix (ParameterError) or cannot be written
    (OutputError: a folder, a parent that is a file, a read-only or full disk)."""
    from ganaudio.outputs import check_output

    if path.suffix.lower() not in suffixes:
        raise ParameterError(f"{what} {str(path)!r} must end in one of {', '.join(suffixes)}")
    return check_output(path, estimated_bytes=estimated_bytes)


def _check_folder(folder: Path) -> Path:
    """Check a file can be created in ``folder``, existing or to be made (OutputError otherwise)."""
    from ganaudio.outputs import check_output_folder

    return check_output_folder(folder)


def _save(path: Path, audio, sample_rate: int, *, outputs=None) -> None:
    """Write ``audio`` atomically (or stage it in the OutputSet ``outputs``); failures are OutputError."""
    from ganaudio.io import save_audio

    save_audio(path, audio, sample_rate, outputs=outputs)


def _timbre(synth, spec: str, *, option: str):
    """A seed (digits) or a timbre file."""
    spec = spec.strip()
    if spec.isdigit():
        return synth.random_timbre(int(spec))
    if not Path(spec).is_file():
        raise ParameterError(f"{option} {spec!r} is neither a seed (a whole number) nor a timbre file")
    return synth.load_timbre(spec)


AUDIO = (".wav", ".flac", ".ogg")


def _wav_bytes(seconds: float | None) -> int:
    """Bytes of a float32 WAV of ``seconds`` plus a release (None: a few seconds): the space check's figure.

    The model, and so its sample rate, is not loaded yet: the figure takes the highest rate a model may have.
    """
    return int((4.0 if seconds is None else seconds + 1.0) * ESTIMATE_SAMPLE_RATE * 4)


@main.command("generate")
@click.option("--pitch", type=int, required=True, help="MIDI pitch (60 = C4), inside the model's range.")
@click.option("--seed", type=SEED, default=None, help="Timbre seed, any whole number [default 0].")
@click.option("--timbre", "timbre_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Timbre file (from `ganaudio timbres`) instead of a seed.")
@click.option("--velocity", type=click.IntRange(1, 127), default=100, show_default=True, help="MIDI velocity.")
@click.option("--duration", type=float, default=None,
              help="Seconds held before a 0.1 s release [default: the model's note as generated].")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Audio file to write.")
@model_option
@device_option
def generate_cmd(pitch, seed, timbre_file, velocity, duration, output, model, device) -> None:
    """Play one note in a GAN timbre.

    \b
    Example:
      ganaudio generate --pitch 60 --seed 7 --velocity 90 --duration 2 -o note.wav
    """
    if seed is not None and timbre_file is not None:
        raise ParameterError("give --seed or --timbre, not both")
    if duration is not None:
        check_seconds(duration, name="--duration", limit=MAX_NOTE_SECONDS,
                      way_past="for longer music write a MIDI file and play it with `ganaudio render`")
    _check_output(output, suffixes=AUDIO, estimated_bytes=_wav_bytes(duration))
    synth = _load(model, device)
    timbre = synth.load_timbre(timbre_file) if timbre_file else synth.random_timbre(seed or 0)
    y = synth.generate(pitch, timbre, velocity=velocity, duration=duration)
    _save(output, y, synth.sample_rate)
    click.echo(f"{output}: MIDI {pitch}, {timbre}, {len(y) / synth.sample_rate:.2f} s at {synth.sample_rate} Hz")


@main.command("interpolate")
@click.option("--pitch", type=int, required=True, help="MIDI pitch of every note.")
@click.option("--from", "start", required=True, metavar="SEED|FILE", help="First timbre.")
@click.option("--to", "end", required=True, metavar="SEED|FILE", help="Last timbre.")
@click.option("--steps", type=click.IntRange(min=2), default=8, show_default=True, help="Notes in the sweep.")
@click.option("--method", type=click.Choice(["slerp", "lerp"]), default="slerp", show_default=True)
@click.option("--duration", type=float, default=None, help="Seconds each note is held [default: as generated].")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Audio file: the notes in a row.")
@model_option
@device_option
def interpolate_cmd(pitch, start, end, steps, method, duration, output, model, device) -> None:
    """Morph from one timbre to another: a row of notes along the latent path.

    \b
    Example:
      ganaudio interpolate --pitch 60 --from 3 --to keep/seed_0011.timbre.json --steps 8 -o sweep.wav
    """
    import numpy as np

    check_count(steps, name="--steps", limit=MAX_INTERPOLATE_STEPS, low=2,
                way_past="make several sweeps, each from the last one's --to timbre file")
    if duration is not None:
        check_seconds(duration, name="--duration", limit=MAX_NOTE_SECONDS)
    _check_output(output, suffixes=AUDIO, estimated_bytes=steps * _wav_bytes(duration))
    synth = _load(model, device)
    path = synth.interpolate(_timbre(synth, start, option="--from"), _timbre(synth, end, option="--to"), steps,
                             method=method)
    notes = synth.generate_many([pitch] * steps, path, durations=duration)
    gap = np.zeros(int(0.05 * synth.sample_rate), np.float32)
    y = np.concatenate([np.concatenate([note, gap]) for note in notes])
    _save(output, y, synth.sample_rate)
    click.echo(f"{output}: {steps} notes at MIDI {pitch} by {method}, {len(y) / synth.sample_rate:.1f} s")


@main.command("timbres")
@click.option("--count", type=int, default=16, show_default=True, help=f"Timbres to draw (1 to {MAX_TIMBRES}).")
@click.option("--start-seed", type=click.IntRange(min=0), default=0, show_default=True, help="First seed.")
@click.option("--pitch", type=int, default=60, show_default=True, help="Preview pitch (60 = C4).")
@click.option("--from-audio", "recording", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Take one timbre from a recorded note instead (harmonic-plus-noise models); "
                   "-o is then the .timbre.json file to write.")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Folder for seed_NNNN.wav previews and seed_NNNN.timbre.json files (a .timbre.json file "
                   "with --from-audio).")
@model_option
@device_option
def timbres_cmd(count, start_seed, pitch, recording, output, model, device) -> None:
    """A bank of timbres to audition: a preview note and a timbre file per seed.

    Keep the files you like; `generate --timbre`, `interpolate --from/--to` and
    `render --timbres` take them. With --from-audio, the timbre of a recorded
    note (any rate, stereo mixed down), playable at every pitch.

    \b
    Examples:
      ganaudio timbres --count 16 -o bank/
      ganaudio render song.mid --timbres bank/seed_0003.timbre.json -o song.wav
      ganaudio timbres --from-audio cello_c3.wav -o cello.timbre.json --model recipes/ddspgan_44k/continue
    """
    from tqdm.auto import tqdm

    if recording is not None:
        _timbre_from_recording(recording, output, model, device)
        return

    check_count(count, name="--count", limit=MAX_TIMBRES,
                way_past=f"draw more in another run with --start-seed {start_seed + MAX_TIMBRES}")
    if output.exists() and not output.is_dir():
        raise ParameterError(f"-o {str(output)!r} is a file, expected a folder")
    _check_folder(output)
    synth = _load(model, device)
    seeds = list(range(start_seed, start_seed + count))
    bank = [synth.random_timbre(s) for s in seeds]
    notes = synth.generate_many([pitch] * count, bank)
    for seed, timbre, note in tqdm(list(zip(seeds, bank, notes)), desc="writing", unit="timbre", disable=count < 8):
        _save(output / f"seed_{seed:04d}.wav", note, synth.sample_rate)
        synth.save_timbre(timbre, output / f"seed_{seed:04d}.timbre.json")
    click.echo(f"{output}/: {count} previews at MIDI {pitch} and timbre files, seeds {seeds[0]}-{seeds[-1]}")


def _timbre_from_recording(recording: Path, output: Path, model: str | None, device: str) -> None:
    """``timbres --from-audio``: encode one recorded note and write its timbre file."""
    from ganaudio.io import load_audio

    if not output.name.endswith(".timbre.json"):
        raise ParameterError(f"-o {str(output)!r} must end in .timbre.json with --from-audio")
    _check_output(output, suffixes=(".json",))
    synth = _load(model, device)
    if not hasattr(synth, "timbre_from_audio"):
        raise ParameterError(f"model {synth.name!r} cannot take a timbre from a recording; a harmonic-plus-noise "
                             f"instrument (family ddspgan) can")
    y, sr = load_audio(recording, mono=False)
    timbre = synth.timbre_from_audio(y, sr)
    synth.save_timbre(timbre, output)
    click.echo(f"{output}: the timbre of {recording} ({len(y) / sr if y.ndim == 1 else y.shape[-1] / sr:.2f} s "
               f"at {sr} Hz), playable at MIDI {synth.pitch_range[0]}-{synth.pitch_range[1]}")


def _render_timbres(synth, spec: str | None):
    """``a,b,c`` (seeds or files) -> list; ``0=a,40=b`` (program=timbre) -> dict; None -> None."""
    if spec is None:
        return None
    items = [s for s in (x.strip() for x in spec.split(",")) if s]
    if not items:
        raise ParameterError("--timbres is empty; give seeds or timbre files separated by commas")
    if all("=" in s for s in items):
        out = {}
        for item in items:
            program, _, value = item.partition("=")
            if not program.strip().isdigit() or not 0 <= int(program) <= 127:
                raise ParameterError(f"--timbres {item!r}: expected PROGRAM=SEED|FILE with PROGRAM 0-127")
            out[int(program)] = _timbre(synth, value, option="--timbres")
        return out
    if any("=" in s for s in items):
        raise ParameterError("--timbres: use either a list (a,b,c) or program mappings (0=a,40=b), not both")
    return [_timbre(synth, s, option="--timbres") for s in items]


@main.command("render")
@click.argument("input_path", metavar="IN.mid", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Audio file to write.")
@click.option("--timbres", default=None, metavar="A,B,...",
              help="Seeds or timbre files: one holds still, several drift in turn; PROGRAM=TIMBRE items "
                   "give each MIDI instrument its own [default: seed 0].")
@click.option("--seconds-per-timbre", type=click.FloatRange(min=0, min_open=True), default=6.0, show_default=True,
              help="Drift: seconds from one anchor timbre to the next.")
@click.option("--method", type=click.Choice(["slerp", "lerp"]), default="slerp", show_default=True,
              help="Drift interpolation.")
@click.option("--release", type=click.FloatRange(min=0), default=None,
              help="Seconds a note sounds after its note-off [default: 0.1 for GANSynth, the harmonic "
                   "instrument's own release].")
@click.option("--stems", "stems_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write one WAV per MIDI track into this folder.")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw the mix's spectrogram.")
@model_option
@device_option
def render_cmd(input_path, output, timbres, seconds_per_timbre, method, release, stems_dir, png, model,
               device) -> None:
    """Play a MIDI file with GAN timbres (drums are skipped, out-of-range notes moved by octaves).

    \b
    Examples:
      ganaudio render samples/bach_prelude.mid -o prelude.wav --timbres 1,5,9 --seconds-per-timbre 6 --png prelude.png
      ganaudio render song.mid -o song.wav --timbres 0=3,40=bank/seed_0011.timbre.json --stems stems/
    """
    from ganaudio.errors import MidiFileError

    if not input_path.is_file():
        raise MidiFileError(f"{input_path}: no such MIDI file")
    _check_output(output, suffixes=AUDIO)
    if png is not None:
        _check_output(png, suffixes=(".png",), what="--png")
    if stems_dir is not None:
        if stems_dir.exists() and not stems_dir.is_dir():
            raise ParameterError(f"--stems {str(stems_dir)!r} is a file, expected a folder")
        _check_folder(stems_dir)
    synth = _load(model, device)
    # mix, stems and picture are streamed into their files and renamed into place together, or none of them
    frames, stems = synth.render_to(input_path, output, stems_dir=stems_dir, png=png,
                                    timbres=_render_timbres(synth, timbres), seconds_per_timbre=seconds_per_timbre,
                                    method=method, release=release, progress=True)
    extra = (f", {len(stems)} stems in {stems_dir}/" if stems else "") + (f", picture {png}" if png else "")
    click.echo(f"{output}: {frames / synth.sample_rate:.1f} s at {synth.sample_rate} Hz{extra}")

"""ganaudio CLI: midi2roll and roll2midi (the piano-roll front end and its inverse)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import click

from ganaudio.cli import main
from ganaudio.errors import ParameterError


@main.command("midi2roll")
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the roll (.npz with arrays 'roll' and 'meta').")
@click.option("--resolution", type=int, default=None, help="Steps per beat, following the tempo map [default: 24].")
@click.option("--fs", type=float, default=None, help="Frames per second instead of steps per beat.")
@click.option("--pitch-range", type=(int, int), default=(0, 128), show_default=True, metavar="LO HI",
              help="MIDI pitches LO (inclusive) to HI (exclusive); 24 108 keeps 84 pitches from C1.")
@click.option("--grouping", type=click.Choice(["instrument", "program_family", "merged"]), default="instrument",
              show_default=True, help="One track per instrument, per General MIDI family (16), or one track.")
@click.option("--drums", type=click.Choice(["separate", "drop", "merge"]), default="separate", show_default=True,
              help="Drums as their own track, left out, or merged into the pitched tracks.")
@click.option("--binary", is_flag=True, help="1 where a note sounds instead of its velocity.")
def midi2roll_cmd(input_path, output, resolution, fs, pitch_range, grouping, drums, binary) -> None:
    """Convert a MIDI file to a multitrack piano roll (tracks, time, pitch) saved as .npz.

    The .npz holds 'roll' (float32) and 'meta' (a JSON string with tempo map,
    programs and grid), and loads with numpy.load(path, allow_pickle=False).

    \b
    Examples:
      ganaudio midi2roll samples/bach_chorale.mid -o out/chorale.npz
      ganaudio midi2roll song.mid -o out/song.npz --resolution 12 --pitch-range 24 108 \\
          --grouping program_family --binary
    """
    import numpy as np

    from ganaudio.functional.pianoroll import count_notes, midi_to_roll
    from ganaudio.io import atomic_path
    from ganaudio.outputs import check_output

    if resolution is not None and fs is not None:
        raise ParameterError("give --resolution (steps per beat) or --fs (frames per second), not both")
    check_output(output)
    roll, meta = midi_to_roll(input_path, resolution=24 if resolution is None else resolution, fs=fs,
                              pitch_range=pitch_range, grouping=grouping, binary=binary, drums=drums)
    with atomic_path(output) as tmp, open(tmp, "wb") as handle:  # a handle: np.savez would append .npz to a name
        np.savez_compressed(handle, roll=roll.numpy(), meta=np.array(json.dumps(meta.to_dict())))
    tracks, steps, pitches = roll.shape
    grid = f"{meta.resolution} steps/beat" if meta.fs is None else f"{meta.fs:g} frames/s"
    click.echo(f"{input_path.name}: {_plural(tracks, 'track')} x {steps} steps ({grid}) x {pitches} pitches, "
               f"{count_notes(roll)} notes; wrote {output}")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def load_roll(path: Path):
    """``(roll, RollMeta)`` from an .npz written by midi2roll; ParameterError naming the file otherwise."""
    import numpy as np

    from ganaudio.functional.pianoroll import RollMeta

    if not path.is_file():
        raise ParameterError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise ParameterError(f"{path}: not an .npz file (expected the zip archive midi2roll writes)")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = {"roll", "meta"} - set(data.files)
            if missing:
                raise ParameterError(f"{path}: not a piano-roll .npz from midi2roll (no {sorted(missing)})")
            roll, meta_text = data["roll"], str(data["meta"])
        meta = RollMeta.from_dict(json.loads(meta_text))
    except ParameterError as exc:
        raise ParameterError(f"{path}: {exc}" if not str(exc).startswith(str(path)) else str(exc)) from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, TypeError) as exc:
        raise ParameterError(f"{path}: not a readable piano-roll .npz ({type(exc).__name__}: {exc})") from None
    if roll.ndim != 3:
        raise ParameterError(f"{path}: roll must have shape (tracks, time, pitch), got {roll.shape}")
    return roll, meta


@main.command("roll2midi")
@click.argument("input_path", metavar="IN", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="MIDI file to write.")
@click.option("--velocity", type=click.IntRange(1, 127), default=100, show_default=True,
              help="Velocity of notes from a binary roll.")
@click.option("--threshold", type=float, default=0.0, show_default=True,
              help="Steps with values above it sound (0.5 for a generator's sigmoid output).")
def roll2midi_cmd(input_path, output, velocity, threshold) -> None:
    """Convert a piano roll .npz (from midi2roll or a generator) back to MIDI.

    Programs, drum flags, tempo map and time grid come from the .npz's meta;
    each run of sounding steps in a track and pitch becomes one note.

    \b
    Example:
      ganaudio roll2midi out/chorale.npz -o out/chorale.mid
    """
    from ganaudio.functional.pianoroll import roll_to_midi
    from ganaudio.io import atomic_path
    from ganaudio.outputs import check_output

    roll, meta = load_roll(input_path)
    check_output(output)
    try:
        midi = roll_to_midi(roll, meta, velocity=velocity, threshold=threshold)
    except ParameterError as exc:
        raise ParameterError(f"{input_path}: {exc}") from None
    with atomic_path(output) as tmp:
        midi.write(str(tmp))
    notes = sum(len(inst.notes) for inst in midi.instruments)
    click.echo(f"{input_path.name}: {_plural(len(midi.instruments), 'track')}, {roll.shape[1]} steps, {notes} notes, "
               f"{midi.get_end_time():.2f} s; wrote {output}")

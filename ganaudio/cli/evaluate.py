"""``ganaudio evaluate ...``: score generated material beside real data (piano rolls: MuseGAN's metrics)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ganaudio.cli import main
from ganaudio.errors import ParameterError

MIDI_SUFFIXES = (".mid", ".midi")
ROLL_SUFFIXES = (".npz",)


@main.group("evaluate")
def evaluate() -> None:
    """Score generated material beside the same figures on real data.

    \b
    Examples:
      ganaudio evaluate rolls --real data/chorales --fake out/generated -o out/rolls.json
    """


def _files(path: Path, label: str) -> list[Path]:
    """MIDI and .npz roll files at ``path`` (a file, or a folder searched recursively, sorted)."""
    suffixes = MIDI_SUFFIXES + ROLL_SUFFIXES
    if path.is_file():
        if path.suffix.lower() not in suffixes:
            raise ParameterError(f"--{label} {path}: expected a MIDI file (.mid, .midi) or a roll (.npz)")
        return [path]
    if not path.is_dir():
        raise ParameterError(f"--{label} {path}: no such file or folder")
    found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    if not found:
        raise ParameterError(f"--{label} {path}: no MIDI (.mid, .midi) or roll (.npz) files in this folder")
    return found


def _read_roll(path: Path, *, resolution: int | None, grouping: str):
    """``(roll (tracks, time, pitch), RollMeta)`` of one file; UnusableFileError if unreadable, NaN or silent."""
    import numpy as np

    from ganaudio.cli.midi import load_roll
    from ganaudio.errors import UnusableFileError
    from ganaudio.functional.pianoroll import midi_to_roll

    if path.suffix.lower() in MIDI_SUFFIXES:
        roll, meta = midi_to_roll(path, resolution=24 if resolution is None else resolution, grouping=grouping)
        roll = roll.numpy()
    else:
        try:
            roll, meta = load_roll(path)
        except ParameterError as exc:
            raise UnusableFileError(path, "unreadable", str(exc).removeprefix(f"{path}: ")) from None
        if not np.issubdtype(roll.dtype, np.number) or roll.dtype == np.bool_:
            roll = roll.astype(np.float32)
        if not np.all(np.isfinite(roll)):
            raise UnusableFileError(path, "NaN", "the roll holds NaN or inf cells")
    if not np.any(roll):
        raise UnusableFileError(path, "silent", "no note in the roll")
    return roll, meta


def _load_set(paths: list[Path], *, label: str, steps_per_beat: int | None, grouping: str):
    """Rolls ``(tracks, time, 128)`` (pitch 0 in column 0), track names, drum flags, steps per beat of a set,
    and the :class:`~ganaudio.data.screen.SkipReport` of its files left out (unreadable, NaN, silent)."""
    import numpy as np

    from ganaudio.data.screen import SkipReport

    rolls, names, drums, resolution = [], None, None, steps_per_beat
    report, grid = SkipReport(), [steps_per_beat]  # MIDI files are read on the grid the set has so far
    with click.progressbar(paths, label=f"Reading --{label}", file=sys.stderr) as bar:
        for path, (roll, meta) in report.each(bar, read=lambda p: _read_roll(p, resolution=grid[0],
                                                                             grouping=grouping)):
            if path.suffix.lower() not in MIDI_SUFFIXES:
                if meta.resolution is None:
                    raise ParameterError(f"{path}: roll is on a grid of {meta.fs:g} frames per second; the metrics "
                                         "need steps per beat (write it with midi2roll --resolution)")
                if resolution is not None and meta.resolution != resolution:
                    raise ParameterError(f"{path}: roll has {meta.resolution} steps per beat, the set uses {resolution}")
            resolution = grid[0] = meta.resolution
            if names is None:
                names, drums = list(meta.names), list(meta.is_drum)
            elif list(meta.names) != names or list(meta.is_drum) != drums:
                raise ParameterError(f"{path}: tracks {meta.names} differ from the set's {names}; every file of a "
                                     "set needs the same tracks (try --grouping program_family)")
            full = np.zeros(roll.shape[:2] + (128,), np.float32)
            full[..., meta.pitch_offset:meta.pitch_offset + roll.shape[2]] = roll
            rolls.append(full)
    report.log_summary(f"--{label}")
    report.require_some(f"--{label} {paths[0].parent if len(paths) > 1 else paths[0]}")
    return rolls, names, drums, resolution, report


def _whole_bars(roll, steps_per_bar: int):
    """``roll`` ``(tracks, time, pitch)`` padded with silence to a whole number of bars."""
    import numpy as np

    extra = -roll.shape[1] % steps_per_bar
    return np.pad(roll, ((0, 0), (0, extra), (0, 0))) if extra else roll


@evaluate.command("rolls")
@click.option("--real", "real_path", required=True, type=click.Path(path_type=Path),
              help="Training data: a MIDI file, a .npz roll from midi2roll, or a folder of them.")
@click.option("--fake", "fake_path", required=True, type=click.Path(path_type=Path),
              help="Generated material, in the same forms as --real.")
@click.option("--steps-per-beat", type=click.IntRange(min=1), default=None,
              help="Grid steps per quarter note for MIDI files [default: the rolls' own, else 24].")
@click.option("--beats-per-bar", type=click.IntRange(min=1), default=4, show_default=True,
              help="Bar length in quarter notes (3 for 3/4).")
@click.option("--grouping", type=click.Choice(["instrument", "program_family", "merged"]), default="instrument",
              show_default=True, help="Tracks of MIDI files: per instrument, per General MIDI family, or one.")
@click.option("--threshold", type=float, default=0.0, show_default=True,
              help="Cells above it sound (0.5 for a generator's sigmoid output).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report as JSON here.")
def rolls_cmd(real_path, fake_path, steps_per_beat, beats_per_bar, grouping, threshold, output) -> None:
    """MuseGAN's piano-roll metrics per track, generated beside training data.

    Empty bars (EB), pitch classes per bar (UPC), qualified notes (QN), drum
    pattern (DP), polyphony, pitch range, and tonal distance (TD) between
    tracks; printed as a markdown table, optionally written as JSON. Every
    file of a set needs the same tracks; songs are padded to whole bars.
    Unreadable, NaN and empty files are skipped and counted.

    \b
    Examples:
      ganaudio evaluate rolls --real samples/bach_chorale.mid --fake out/generated/ -o out/rolls.json
      ganaudio evaluate rolls --real data/rolls --fake out/rolls --threshold 0.5 --grouping program_family
    """
    from ganaudio.data.screen import skip_lines
    from ganaudio.eval.rolls import metrics_table, roll_metrics
    from ganaudio.io import atomic_path
    from ganaudio.outputs import check_output

    if output is not None:
        check_output(output)
    reports = {}
    for label, path in (("real", real_path), ("fake", fake_path)):
        rolls, names, drums, resolution, skipped = _load_set(_files(path, label), label=label,
                                                             steps_per_beat=steps_per_beat, grouping=grouping)
        for line in skip_lines({f"--{label}": skipped.to_dict()}):
            click.echo(line, err=True)
        steps_per_bar = beats_per_bar * resolution
        report = roll_metrics([_whole_bars(r, steps_per_bar) for r in rolls], steps_per_bar=steps_per_bar,
                              steps_per_beat=resolution, pitch_offset=0, track_names=names, is_drum=drums,
                              threshold=threshold)
        reports[label] = {"path": str(path), **report}
        if skipped.skipped:
            reports[label]["skipped"] = skipped.to_dict()
    click.echo(metrics_table(reports["real"], reports["fake"]), nl=False)
    if output is not None:
        with atomic_path(output) as tmp:
            tmp.write_text(json.dumps(reports, indent=2) + "\n")
        click.echo(f"wrote {output}")

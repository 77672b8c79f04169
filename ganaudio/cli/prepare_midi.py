"""ganaudio CLI: ``prepare midi`` (MIDI folders and music21's Bach chorales to piano-roll phrases).

Registers itself on the ``prepare`` group when imported.
"""

from __future__ import annotations

from pathlib import Path

import click

from ganaudio.cli.prepare import _megabytes, prepare
from ganaudio.errors import ParameterError
from ganaudio.outputs import check_output_folder

__all__ = ["midi_cmd", "parse_shifts"]

_SATB = ["Soprano", "Alto", "Tenor", "Bass"]


def parse_shifts(text: str) -> list[int]:
    """Semitone shifts from ``"-5..6"``, ``"-2,0,2"`` or ``"0"``.

    Examples
    --------
    >>> parse_shifts("-2..1")
    [-2, -1, 0, 1]
    """
    values: set[int] = set()
    for part in (p.strip() for p in str(text).split(",")):
        try:
            if ".." in part:
                first, last = (int(v) for v in part.split("..", 1))
            else:
                first = last = int(part)
        except ValueError:
            raise ParameterError(f"--transpose {text!r}: expected shifts like -5..6 or -2,0,2") from None
        if first > last:
            raise ParameterError(f"--transpose {text!r}: {part!r} is not a rising range")
        values.update(range(first, last + 1))
    return sorted(values)


@prepare.command("midi")
@click.argument("src", type=click.Path(path_type=Path), required=False)
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder (phrase shards, index.json, summary.json).")
@click.option("--music21-corpus", type=click.Choice(["bach"]), default=None,
              help="Use the Bach chorales music21 carries (SATB): MIDI cached in OUTPUT/midi, phrases in OUTPUT/phrases.")
@click.option("--limit", type=int, default=None, help="With --music21-corpus: only the first N scores (a quick look).")
@click.option("--resolution", type=int, default=24, show_default=True, help="Steps per beat (96 per 4/4 bar).")
@click.option("--bars", type=int, default=4, show_default=True, help="Bars per phrase.")
@click.option("--hop-bars", type=int, default=None, help="Bars between phrase starts; default: --bars.")
@click.option("--pitch-range", type=(int, int), default=(24, 108), show_default=True,
              help="MIDI pitches LO HI (HI excluded).")
@click.option("--grouping", type=click.Choice(["instrument", "program_family", "merged"]), default="instrument",
              show_default=True, help="One track per instrument, per GM family, or one merged track.")
@click.option("--tracks", default=None,
              help="With --grouping instrument: track names in order (Soprano,Alto,Tenor,Bass) or a count.")
@click.option("--drums", type=click.Choice(["separate", "drop"]), default="separate", show_default=True)
@click.option("--velocity", is_flag=True, help="Store velocities instead of 0/1.")
@click.option("--transpose", default="0", show_default=True, help="Semitone shifts, e.g. -5..6 (augmentation).")
@click.option("--min-notes", type=int, default=4, show_default=True, help="Drop phrases with fewer notes.")
@click.option("--workers", type=int, default=1, show_default=True, help="Processes.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def midi_cmd(src, output, music21_corpus, limit, resolution, bars, hop_bars, pitch_range, grouping, tracks, drums,
             velocity, transpose, min_notes, workers, quiet) -> None:
    """Cut MIDI files into multitrack piano-roll phrases (MuseGAN's data).

    Only 4/4 stretches are used; phrases of BARS bars are stored as uint8
    (n, tracks, bars * 4 * resolution, pitches) .npy shards. Unreadable and
    non-4/4 files are skipped and counted. Transposed copies whose notes
    leave the pitch range are dropped, not clipped.

    \b
    Examples:
      ganaudio prepare midi midi/lakh -o data/lakh --grouping program_family --drums separate
      ganaudio prepare midi --music21-corpus bach -o data/chorales --transpose -5..6
      ganaudio prepare midi midi/satb -o data/satb --tracks Soprano,Alto,Tenor,Bass --bars 2
    """
    from ganaudio.data.midi import prepare_midi

    if src is None and music21_corpus is None:
        raise ParameterError("give a MIDI folder SRC or --music21-corpus bach")
    if src is not None and music21_corpus is not None:
        raise ParameterError("give a MIDI folder SRC or --music21-corpus, not both")
    if limit is not None and music21_corpus is None:
        raise ParameterError("--limit applies to --music21-corpus only")
    check_output_folder(output)  # before any work: a folder that cannot be written is one clear error
    track_spec = None
    if tracks is not None:
        track_spec = int(tracks) if tracks.strip().isdigit() else [t.strip() for t in tracks.split(",") if t.strip()]
    if music21_corpus == "bach":
        from ganaudio.data.chorales import export_bach_chorales

        exported = export_bach_chorales(output / "midi", limit=limit, workers=workers, progress=not quiet)
        click.echo(f"{len(exported['files'])} of {exported['scores']} chorales as SATB MIDI in {output / 'midi'} "
                   f"({exported['existing']} cached, {len(exported['dropped'])} left out: not 4 voices or "
                   f"unreadable).")
        src = output / "midi"
        track_spec = track_spec or _SATB
        grouping = "instrument"
        output = output / "phrases"
    summary = prepare_midi(src, output, resolution=resolution, bars_per_phrase=bars, hop_bars=hop_bars,
                           pitch_range=pitch_range, grouping=grouping, tracks=track_spec, drums=drums,
                           binary=not velocity, transpose=parse_shifts(transpose), min_notes_per_phrase=min_notes,
                           workers=workers, progress=not quiet)
    reasons = ", ".join(f"{n} {r}" for r, n in sorted(summary["skip_reasons"].items())) or "none"
    click.echo(
        f"{summary['phrases']} phrases {tuple(summary['shape'])} from {summary['used']} of {summary['files']} "
        f"MIDI files in {output} ({_megabytes(summary['bytes'])}"
        f"{', reused' if summary['reused'] else ''}); skipped files: {reasons}; "
        f"{summary['empty_phrases']} near-empty and {summary['out_of_range']} out-of-range phrases dropped. "
        f"Details in {output / 'summary.json'}.")

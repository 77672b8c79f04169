"""ganaudio CLI: ``prepare notes | audio | render`` (data set builders).

The group is exported as :data:`prepare` so other modules can add commands to
it (``from ganaudio.cli.prepare import prepare``).
"""

from __future__ import annotations

from pathlib import Path

import click

from ganaudio.cli import main
from ganaudio.cli.common import seed_option
from ganaudio.errors import ParameterError
from ganaudio.outputs import check_output_folder

__all__ = ["parse_int_list", "prepare"]


def parse_int_list(text: str, *, name: str, low: int, high: int) -> list[int]:
    """Parse ``"24-84"``, ``"0,24,40"`` or ``"21-23,60"`` into a sorted list of ints in [low, high].

    Examples
    --------
    >>> parse_int_list("24-27,60", name="--pitches", low=0, high=127)
    [24, 25, 26, 27, 60]
    """
    values: set[int] = set()
    for part in (p.strip() for p in str(text).split(",")):
        try:
            first, last = (int(v) for v in part.split("-", 1)) if "-" in part[1:] else (int(part),) * 2
        except ValueError:
            raise ParameterError(f"{name} {text!r}: expected numbers and ranges like 24-84 or 0,24,40") from None
        if not low <= first <= last <= high:
            raise ParameterError(f"{name} {text!r}: {part!r} is not a number or rising range within {low}-{high}")
        values.update(range(first, last + 1))
    return sorted(values)


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size < 1e9 else f"{size / 1e9:.2f} GB"


@main.group("prepare")
def prepare() -> None:
    """Build training data from SoundFonts, recordings and MIDI files.

    \b
    Examples:
      ganaudio prepare notes --soundfont /usr/share/sounds/sf2/FluidR3_GM.sf2 -o data/fluidr3_notes
      ganaudio prepare audio recordings/cello -o data/cello_2s
      ganaudio prepare render midi/bach -o data/bach_violin --soundfont FluidR3_GM.sf2 --program 40
    """


@prepare.command("notes")
@click.option("--soundfont", type=click.Path(path_type=Path), required=True, help="SoundFont (.sf2) to render.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder (NSynth layout: examples.json, audio/).")
@click.option("--programs", default="all-acoustic", show_default=True,
              help="GM programs, e.g. 0,24,40 or 40-47, or all-acoustic: the 80 recorded-instrument programs "
                   "(no synths, pads, effects or drums; electric pianos, guitars and basses are labelled "
                   "'electronic' as in NSynth).")
@click.option("--pitches", default="24-84", show_default=True, help="MIDI pitches, e.g. 24-84 or 48,60,72.")
@click.option("--velocities", default="25,50,75,100,127", show_default=True, help="MIDI velocities.")
@click.option("--sample-rate", type=int, default=16000, show_default=True, help="Output rate (Hz).")
@click.option("--duration", type=float, default=4.0, show_default=True, help="Note length (s).")
@click.option("--release", type=float, default=1.0, show_default=True, help="Release part of the note (s).")
@click.option("--stereo", is_flag=True, help="Keep FluidSynth's stereo output instead of mixing to mono.")
@click.option("--workers", type=int, default=2, show_default=True, help="Rendering processes.")
@click.option("--split", type=click.Choice(["instrument", "note"]), default="instrument", show_default=True,
              help="Deal whole instruments or single notes into train/valid/test.")
@click.option("--split-fractions", default="0.8,0.1,0.1", show_default=True, help="Train,valid,test fractions.")
@seed_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
def notes_cmd(soundfont, output, programs, pitches, velocities, sample_rate, duration, release, stereo, workers,
              split, split_fractions, seed, quiet) -> None:
    """Render single notes of a SoundFont into an NSynth-style data set.

    Every (program, pitch, velocity) note is held DURATION - RELEASE seconds
    and released. Silent and clipped notes are left out and counted. A rerun
    into the same folder renders only what is missing.

    \b
    Examples:
      ganaudio prepare notes --soundfont /usr/share/sounds/sf2/FluidR3_GM.sf2 -o data/fluidr3_notes
      ganaudio prepare notes --soundfont /usr/share/sounds/sf2/TimGM6mb.sf2 -o data/tiny \\
          --programs 0,24,40 --pitches 48-72 --velocities 100 --duration 1 --release 0.3
    """
    from ganaudio.data.notes import render_notes

    program_list = None if programs.strip() == "all-acoustic" else parse_int_list(
        programs, name="--programs", low=0, high=127)
    try:
        fractions = tuple(float(v) for v in split_fractions.split(","))
    except ValueError:
        raise ParameterError(f"--split-fractions {split_fractions!r}: expected three numbers like 0.8,0.1,0.1") from None
    check_output_folder(output)  # before any work: a folder that cannot be written is one clear error
    summary = render_notes(
        soundfont, output, programs=program_list,
        pitches=parse_int_list(pitches, name="--pitches", low=0, high=127),
        velocities=parse_int_list(velocities, name="--velocities", low=1, high=127),
        sample_rate=sample_rate, duration=duration, release=release, mono=not stereo, workers=workers,
        split=split, split_fractions=fractions, seed=seed, progress=not quiet,
    )
    splits = ", ".join(f"{n} {name}" for name, n in summary["splits"].items())
    missing = f" The SoundFont lacks programs {summary['missing_programs']}." if summary["missing_programs"] else ""
    click.echo(
        f"{summary['examples']} notes of {len(summary['programs'])} programs in {output} ({splits}; "
        f"{_megabytes(summary['bytes'])}): {summary['rendered']} rendered, {summary['existing']} already on disk, "
        f"{summary['silent']} silent and {summary['clipped']} clipped left out, in {summary['seconds']:.1f} s."
        f"{missing} Details in {output / 'summary.json'}."
    )


@prepare.command("audio")
@click.argument("src", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder (audio/ segments and segments.json).")
@click.option("--sample-rate", type=int, default=16000, show_default=True, help="Output rate (Hz).")
@click.option("--segment", "segment_seconds", type=float, default=2.0, show_default=True, help="Segment length (s).")
@click.option("--hop", "hop_seconds", type=float, default=None, help="Step between segments (s); default: no overlap.")
@click.option("--top-db", type=float, default=40.0, show_default=True,
              help="Remove stretches this many dB below each file's peak.")
@click.option("--min-rms", type=float, default=1e-3, show_default=True, help="Drop segments quieter than this RMS.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def audio_cmd(src, output, sample_rate, segment_seconds, hop_seconds, top_db, min_rms, quiet) -> None:
    """Cut a folder of recordings into fixed-length mono WAV segments.

    Reads any format libsndfile reads (WAV, FLAC, OGG, MP3, AIFF), resamples,
    removes silences and cuts equal segments. Unreadable files are skipped
    and listed; a rerun skips files already done.

    \b
    Example:
      ganaudio prepare audio recordings/cello -o data/cello_2s --segment 2 --sample-rate 16000
    """
    from ganaudio.data.segments import prepare_audio

    check_output_folder(output)  # before any work: a folder that cannot be written is one clear error
    summary = prepare_audio(src, output, sample_rate=sample_rate, segment_seconds=segment_seconds,
                            hop_seconds=hop_seconds, top_db=top_db, min_rms=min_rms, progress=not quiet)
    failed = summary["failed"]
    failures = f" Skipped {len(failed)} unreadable: {', '.join(sorted(failed)[:5])}." if failed else ""
    click.echo(
        f"{summary['segments']} segments of {segment_seconds:g} s at {sample_rate} Hz in {output} from "
        f"{summary['files']} files ({summary['processed']} processed, {summary['existing']} done before); "
        f"{summary['seconds_trimmed']:.1f} s of silence removed, {summary['quiet_segments']} quiet segments "
        f"dropped.{failures}"
    )


@prepare.command("render")
@click.argument("src", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder (one WAV per piece).")
@click.option("--soundfont", type=click.Path(path_type=Path), required=True, help="SoundFont (.sf2).")
@click.option("--program", type=int, required=True,
              help="GM program for every melodic track (0 piano, 24 guitar, 40 violin, 73 flute).")
@click.option("--sample-rate", type=int, default=16000, show_default=True, help="Output rate (Hz).")
@click.option("--stereo", is_flag=True, help="Keep stereo instead of mixing to mono.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def render_cmd(src, output, soundfont, program, sample_rate, stereo, quiet) -> None:
    """Render MIDI pieces with every melodic track played by one GM program.

    Drum tracks are dropped. Rendering the same MIDI folder with two programs
    gives the same melodies in two timbres, paired by file name.

    \b
    Examples:
      ganaudio prepare render midi/bach -o data/bach_piano --soundfont FluidR3_GM.sf2 --program 0
      ganaudio prepare render midi/bach -o data/bach_violin --soundfont FluidR3_GM.sf2 --program 40
    """
    from ganaudio.data.segments import render_midi

    check_output_folder(output)  # before any work: a folder that cannot be written is one clear error
    summary = render_midi(src, output, soundfont=soundfont, program=program, sample_rate=sample_rate,
                          mono=not stereo, progress=not quiet)
    failed = summary["failed"]
    failures = f" Skipped {len(failed)} unreadable: {', '.join(sorted(failed)[:5])}." if failed else ""
    click.echo(
        f"{summary['rendered'] + summary['existing']} of {summary['files']} MIDI files rendered with program "
        f"{program} into {output} ({summary['rendered']} new, {summary['existing']} already there; "
        f"{summary['seconds']:.1f} s of new audio at {sample_rate} Hz).{failures}"
    )

"""``ganaudio evaluate notes`` (GANSynth's metrics beside real data) and ``ganaudio evaluate render``."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from ganaudio.cli.common import device_option, resolve_device, seed_option
from ganaudio.cli.evaluate import evaluate
from ganaudio.errors import ParameterError

log = logging.getLogger(__name__)


@evaluate.command("notes")
@click.option("--real", "real_path", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Real notes: an NSynth-layout folder (examples.json + audio/).")
@click.option("--fake", "fake_path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Generated notes: an NSynth-layout folder, or WAVs named by pitch (pitch_060.wav, x-060-100.wav).")
@click.option("--model", default=None,
              help="Generate the notes from a GANSynth checkpoint folder or a bundled model (gansynth_tiny).")
@click.option("-n", "--n", "n", type=click.IntRange(min=2), default=100, show_default=True,
              help="Generated notes, and real notes in each of the two real halves.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Report folder: report.json, report.md, pitch_accuracy.png, metrics.png.")
@click.option("--split", type=click.Choice(["train", "valid", "test"]), default=None,
              help="Use one split of --real [default: all notes].")
@click.option("--evaluator", "evaluator_path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Evaluator model folder from `ganaudio train evaluator` [default: the bundled one].")
@click.option("--ndb-k", type=click.IntRange(min=2), default=50, show_default=True,
              help="NDB bins (lowered to half the reference set when it is small).")
@click.option("--no-pitch-tracking", is_flag=True, help="Skip pYIN (slow: ~0.7 s per note); evaluator figures only.")
@seed_option
@device_option
def notes_cmd(real_path, fake_path, model, n, output, split, evaluator_path, ndb_k, no_pitch_tracking, seed,
              device) -> None:
    """Score generated notes with GANSynth's metrics, each beside real data.

    The real notes are dealt into two disjoint halves of N: one anchors the
    distances, the other is scored exactly like the generated notes (the
    floor). Metrics: Frechet distance on the evaluator's embedding, NDB on
    log-mel, pitch accuracy and entropy (pYIN and the evaluator), Inception
    Score, instrument-family accuracy; with --model, also the GANSynth
    discriminator's pitch accuracy on real notes beside the evaluator's.

    \b
    Examples:
      ganaudio evaluate notes --real data/notes --model gansynth_tiny -n 98 -o out/report
      ganaudio evaluate notes --real data/notes --fake out/generated_notes -o out/report --no-pitch-tracking
      ganaudio evaluate notes --real data/notes --model runs/tiny/checkpoints/step_00002000 --split test -o out/r
    """
    import numpy as np
    import torch

    from ganaudio.data.screen import skip_lines
    from ganaudio.eval.evaluator import load_evaluator
    from ganaudio.eval.notes import (
        generate_note_batch,
        load_note_batch,
        notes_report,
        split_halves,
    )
    from ganaudio.eval.report import notes_markdown, save_notes_report
    from ganaudio.outputs import check_output_folder

    if (fake_path is None) == (model is None):
        raise ParameterError("give exactly one of --fake DIR (generated notes) and --model M (generate them)")
    resolve_device(device)
    check_output_folder(output)
    evaluator = load_evaluator(evaluator_path, device=device)
    sr, length = evaluator.sample_rate, evaluator.n_samples
    pitch_range = None
    if model is not None:
        from ganaudio.loading import open_model

        folder = open_model(model, family="gansynth", what="GANSynth model")
        model, config = folder.path, folder.config
        g = config.get("generator", {})
        if "lowest_pitch" in g:
            pitch_range = (g["lowest_pitch"], g["lowest_pitch"] + g["n_pitches"] - 1)
    real = load_note_batch(real_path, sample_rate=sr, n_samples=length, limit=2 * n, seed=seed, split=split,
                           pitch_range=pitch_range, progress=True)
    reference, floor = split_halves(real, n=n, seed=seed)
    if model is not None:
        torch.manual_seed(seed)
        click.echo(f"generating {len(floor)} notes at the real floor's pitches from {model}", err=True)
        fake = generate_note_batch(model, floor.pitches, seed=seed, n_samples=length, device=device)
    else:
        fake = load_note_batch(fake_path, sample_rate=sr, n_samples=length, limit=n, seed=seed, progress=True)
    skipped = {"--real": real.skipped, "--fake": fake.skipped}
    for line in skip_lines(skipped):
        click.echo(line, err=True)
    click.echo(f"scoring {len(fake)} generated and {len(floor)} real notes"
               f"{'' if no_pitch_tracking else ' (pYIN pitch tracking takes a while)'}", err=True)
    report = notes_report(reference, floor, fake, evaluator=evaluator, ndb_k=ndb_k,
                          track_pitch=not no_pitch_tracking, seed=seed, progress=True)
    report["inputs"] = {"real": str(real_path), "fake": None if fake_path is None else str(fake_path),
                        "model": None if model is None else str(model), "split": split, "seed": seed,
                        "evaluator": evaluator.config.get("metrics")}
    report["skipped"] = {label: v for label, v in skipped.items() if v}
    if model is not None:
        from ganaudio.errors import CheckpointError
        from ganaudio.eval.discriminator import discriminator_pitch_accuracy

        try:
            d = discriminator_pitch_accuracy(model, floor.audio, floor.pitches, sample_rate=sr, device=device)
            hits = evaluator.predict(floor.audio, sample_rate=sr).pitches == floor.pitches
            report["discriminator"] = {**d, "evaluator_accuracy": float(np.mean(hits))}
        except CheckpointError as exc:
            log.warning("no discriminator comparison: %s", exc)
    save_notes_report(report, output)
    click.echo(notes_markdown(report), nl=False)
    click.echo(f"wrote {output}/report.json, report.md, pitch_accuracy.png, metrics.png")


@evaluate.command("render")
@click.argument("midi_path", metavar="IN.mid", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("audio_path", metavar="OUT.wav", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--onset-tolerance", type=click.FloatRange(min=0.001), default=0.05, show_default=True,
              help="Seconds within which onsets match.")
@click.option("--include-drums", is_flag=True, help="Keep drum tracks of the MIDI in the reference.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the scores as JSON here.")
def render_cmd(midi_path, audio_path, onset_tolerance, include_drums, output) -> None:
    """Note agreement between a render and its MIDI: transcription scored by mir_eval.

    The audio is transcribed (pYIN pitch plus onsets, one voice) and its notes
    matched to the MIDI's by onset (within --onset-tolerance) and pitch (within
    50 cents): precision, recall and F-measure. A render of other notes scores low.

    \b
    Examples:
      ganaudio evaluate render samples/bach_chorale.mid out/chorale.wav
      ganaudio evaluate render piece.mid render.wav --onset-tolerance 0.1 -o out/agreement.json
    """
    from ganaudio.errors import AudioFileError
    from ganaudio.eval.transcription import midi_notes, note_agreement, transcribe
    from ganaudio.io import atomic_path, load_audio
    from ganaudio.outputs import check_output

    if not midi_path.is_file():
        raise ParameterError(f"{midi_path}: no such MIDI file")
    if not audio_path.is_file():
        raise AudioFileError(f"{audio_path}: no such audio file")
    if output is not None:
        check_output(output)
    reference = midi_notes(midi_path, include_drums=include_drums)
    if not reference:
        raise ParameterError(f"{midi_path}: the MIDI has no notes to compare against")
    y, sr = load_audio(audio_path)
    click.echo(f"transcribing {audio_path} ({len(y) / sr:.1f} s)", err=True)
    scores = note_agreement(reference, transcribe(y, sample_rate=sr), onset_tolerance=onset_tolerance)
    click.echo(f"precision {scores['precision']:.3f}  recall {scores['recall']:.3f}  "
               f"F-measure {scores['f_measure']:.3f}  ({scores['n_estimate']} notes transcribed, "
               f"{scores['n_reference']} in the MIDI)")
    if output is not None:
        with atomic_path(output) as tmp:
            tmp.write_text(json.dumps({"midi": str(midi_path), "audio": str(audio_path), **scores}, indent=2) + "\n")
        click.echo(f"wrote {output}")

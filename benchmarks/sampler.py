"""Sampler export: export time, file sizes, loops, and how well real players follow a melody through the export.

For the bundled GANSynth (gansynth_tiny, 16 kHz, MIDI 36-84) and the
committed young harmonic-plus-noise checkpoint (recipes/ddspgan_44k/continue,
44.1 kHz, MIDI 21-108), one timbre each, exported with the defaults (a sample
every 3 semitones, velocity layers 40/80/120, 2-s holds) as SFZ and as SF2.
Two monophonic melodies are played through the exports, the SF2 by FluidSynth
and the SFZ by sfizz: the soprano of samples/bach_chorale.mid (36 notes) and
a legato line over MIDI 48-72 (12 notes). Baseline in the same process: the
same melodies played by the model itself, each note generated at its own
pitch (GANSynth through ``Synth.render``, the harmonic synth note by note).
Scores: note F-measure (``ganaudio evaluate render``'s transcription and
mir_eval matching) and the share of pitched frames within 50 cents of the
written note.

    .venv/bin/python benchmarks/run_all.py --only sampler
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pretty_midi
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ganaudio.api as api  # noqa: E402
from ganaudio.eval.players import melody_scores, play_sfz, play_soundfont  # noqa: E402
from ganaudio.synth.harmonic import load_ddspgan  # noqa: E402

SEED = 3
LEGATO = [60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 55, 48]


def melodies() -> dict[str, pretty_midi.PrettyMIDI]:
    chorale = pretty_midi.PrettyMIDI(str(ROOT / "samples" / "bach_chorale.mid"))
    soprano = pretty_midi.PrettyMIDI(initial_tempo=100)
    soprano.instruments.append(next(i for i in chorale.instruments if i.name == "Soprano"))
    legato = pretty_midi.PrettyMIDI()
    part = pretty_midi.Instrument(0)
    part.notes = [pretty_midi.Note(velocity=100, pitch=p, start=0.2 + 0.5 * k, end=0.7 + 0.5 * k)
                  for k, p in enumerate(LEGATO)]
    legato.instruments.append(part)
    return {"chorale soprano (36 notes)": soprano, "legato line (12 notes)": legato}


def direct_render(synth, timbre, midi: pretty_midi.PrettyMIDI) -> np.ndarray:
    """The baseline: the model plays the melody itself, every note generated at its own pitch."""
    if isinstance(synth, api.Synth):
        return synth.render(midi, timbres=timbre)
    notes = midi.instruments[0].notes
    out = np.zeros(int((midi.get_end_time() + 2.0) * synth.sample_rate), np.float32)
    for n in notes:
        y = synth.generate(n.pitch, timbre, velocity=n.velocity, duration=n.end - n.start, release=0.5)
        at = int(n.start * synth.sample_rate)
        out[at:at + len(y)] += y[:len(out) - at]
    return out


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def cell(scores: dict) -> str:
    return f"{scores['f_measure']:.2f} / {scores['pitch_agreement']:.2f}"


def run() -> str:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    models = [("gansynth_tiny (bundled GANSynth)", api.load()),
              ("ddspgan_44k/continue (step 2,000)", load_ddspgan(ROOT / "recipes" / "ddspgan_44k" / "continue"))]
    tunes = melodies()
    export_rows, play_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for label, synth in models:
            timbre = synth.random_timbre(SEED)
            synth.generate(60, timbre)  # warm-up: first-call costs are not the export's
            start = time.perf_counter()
            inst = synth.export_sfz(timbre, tmp / label[:8])
            sfz_seconds = time.perf_counter() - start
            start = time.perf_counter()
            synth.export_sf2(timbre, tmp / f"{label[:8]}.sf2")
            sf2_seconds = time.perf_counter() - start
            info = inst.summary()
            export_rows.append(
                f"| {label} | {len(info['pitches'])} x {len(info['velocities'])} = {info['samples']} "
                f"| {info['looped']} | {info['worst_loop_match']:.3f} | {info['worst_seam_jump']:.2f} "
                f"| {sfz_seconds:.1f} | {sf2_seconds:.1f} | {folder_bytes(tmp / label[:8]) / 1e6:.1f} "
                f"| {(tmp / f'{label[:8]}.sf2').stat().st_size / 1e6:.1f} |")
            for name, midi in tunes.items():
                midi_path = tmp / "melody.mid"
                midi.write(str(midi_path))
                fluid = melody_scores(midi, play_soundfont(tmp / f"{label[:8]}.sf2", midi), sample_rate=44100)
                sfizz = melody_scores(midi, play_sfz(tmp / label[:8] / f"{inst.name}.sfz", midi), sample_rate=44100)
                direct = melody_scores(midi, direct_render(synth, timbre, midi), sample_rate=synth.sample_rate)
                play_rows.append(f"| {label} | {name} | {cell(direct)} | {cell(fluid)} | {cell(sfizz)} |")
    return "\n".join([
        f"### Sampler export (`ganaudio export sfz|sf2`, defaults, timbre seed {SEED})",
        "",
        "Loop match: the worst correlation of the waveform windows a loop joins, before its crossfade is baked in "
        "(1 is identical). Seam jump: the worst step at a loop seam beyond the waveform's own, after baking, as a "
        "multiple of its steepest step (0 is seamless). Times include rendering the notes.",
        "",
        "| model | samples (pitches x layers) | looped | worst loop match | worst seam jump | SFZ export s "
        "| SF2 export s | SFZ MB | SF2 MB |",
        "|---|---|---|---|---|---|---|---|---|",
        *export_rows,
        "",
        "Melodies played through the exports: note F-measure / share of pitched frames within 50 cents of the "
        "written note (baseline: the model playing the melody itself).",
        "",
        "| model | melody | model itself (baseline) | SF2 in FluidSynth | SFZ in sfizz |",
        "|---|---|---|---|---|",
        *play_rows,
        "",
    ])


if __name__ == "__main__":
    print(run())

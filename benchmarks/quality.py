"""Quality of every bundled model, each figure beside the same figure on real data.

One command rebuilds the table:

    GANAUDIO_NOTES=data/notes GANAUDIO_CHORALES=data/chorales/phrases \
        .venv/bin/python benchmarks/run_all.py --only quality

Every folder under ganaudio/assets/ is a bundled model; its ``config.json``
names its family, and ``ROWS[family]`` scores it. A family without an entry
is listed as not scored yet, so a new bundled model (vocoder, MuseGAN) adds
its rows by adding one function here. Real notes come from ``$GANAUDIO_NOTES``
(default ``data/notes``), the FluidR3 note set of
``python recipes/gansynth_soundfont/render.py DIR --workers 1``; without it
the rows that need real data say how to make it.

pYIN costs about 0.7 s per 1-s note on one core, so GANSynth models are
scored on ``N_NOTES`` generated notes and two halves of as many real notes.
"""

from __future__ import annotations

import json
import os
import sys
import time
from importlib import resources
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402

N_NOTES = 49      # one generated note per real note of the floor half
SAMPLES = [("trumpet_c4", 60, "brass"), ("flute_c3", 48, "flute"), ("violin_a4", 69, "string"),
           ("piano_e3", 52, "keyboard")]
REPO = Path(__file__).resolve().parents[1]


def _notes_dir() -> Path | None:
    path = Path(os.environ.get("GANAUDIO_NOTES", REPO / "data" / "notes"))
    return path if (path / "examples.json").is_file() else None


def _fmt(v) -> str:
    return "n/a" if v is None else (str(v) if isinstance(v, int) else f"{v:.3f}")


def evaluator_rows(path: Path, config: dict) -> list[str]:
    """The evaluator: held-out accuracy (stored at training) and a check on the committed samples."""
    from ganaudio.eval.evaluator import load_evaluator
    from ganaudio.io import load_audio

    evaluator = load_evaluator(path)
    m = config["metrics"]
    audio = np.stack([load_audio(REPO / "samples" / f"{n}.wav", sample_rate=16000)[0][:evaluator.n_samples]
                      for n, _, _ in SAMPLES])
    out = evaluator.predict(audio, sample_rate=16000)
    pitch_ok = int(sum(p == t for p, (_, t, _) in zip(out.pitches, SAMPLES)))
    family_ok = int(sum(f == t for f, (_, _, t) in zip(out.families, SAMPLES)))
    return [f"| {path.name} | pitch accuracy, test split (unseen instruments) | {_fmt(m['test']['pitch_accuracy'])} "
            f"({m['test']['n']} notes) | chance {1 / evaluator.net.n_pitches:.3f} |",
            f"| {path.name} | family accuracy, test split (unseen instruments) | "
            f"{_fmt(m['test']['family_accuracy'])} | chance {1 / len(evaluator.families):.3f} |",
            f"| {path.name} | pitch / family accuracy, validation split | {_fmt(m['valid']['pitch_accuracy'])} / "
            f"{_fmt(m['valid']['family_accuracy'])} ({m['valid']['n']} notes) | train split "
            f"{_fmt(m['train']['pitch_accuracy'])} / {_fmt(m['train']['family_accuracy'])} |",
            f"| {path.name} | committed samples (samples/*.wav): pitch, family right | {pitch_ok}/4, {family_ok}/4 "
            f"({', '.join(out.families)}) | |"]


def gansynth_rows(path: Path, config: dict) -> list[str]:
    """A GANSynth model: the notes report (every metric beside its real floor) and its discriminator."""
    from ganaudio.eval.evaluator import load_evaluator
    from ganaudio.eval.notes import generate_note_batch, load_note_batch, notes_report, split_halves

    notes = _notes_dir()
    if notes is None:
        return [f"| {path.name} | not scored: set GANAUDIO_NOTES to the FluidR3 note set "
                "(`python recipes/gansynth_soundfont/render.py DIR --workers 1`) | | |"]
    evaluator = load_evaluator()
    g = config["generator"]
    real = load_note_batch(notes, sample_rate=evaluator.sample_rate, n_samples=evaluator.n_samples,
                           limit=2 * N_NOTES, seed=0, pitch_range=(g["lowest_pitch"],
                                                                   g["lowest_pitch"] + g["n_pitches"] - 1))
    reference, floor = split_halves(real, n=N_NOTES, seed=0)
    started = time.perf_counter()
    fake = generate_note_batch(path, floor.pitches, seed=0, n_samples=evaluator.n_samples)
    report = notes_report(reference, floor, fake, evaluator=evaluator, seed=0)
    rows = [f"| {path.name} (step {config.get('step')}) | {key} | {_fmt(v['generated'])} | {_fmt(v['real'])} |"
            for key, v in report["metrics"].items() if key != "ndb_different"]
    if "discriminator" in config:
        from ganaudio.eval.discriminator import discriminator_pitch_accuracy

        d = discriminator_pitch_accuracy(path, floor.audio, floor.pitches, sample_rate=floor.sample_rate)
        ev = float(np.mean(evaluator.predict(floor.audio, sample_rate=floor.sample_rate).pitches == floor.pitches))
        rows.append(f"| {path.name} | pitch accuracy of the discriminator's auxiliary head on real notes | "
                    f"{_fmt(d['accuracy'])} | evaluator {_fmt(ev)} |")
    rows.append(f"| {path.name} | seconds to generate and score | {time.perf_counter() - started:.0f} | |")
    return rows


def musegan_rows(path: Path, config: dict) -> list[str]:
    """MuseGAN's metrics per track beside the chorale phrases it learned from ($GANAUDIO_CHORALES)."""
    data = Path(os.environ.get("GANAUDIO_CHORALES", REPO / "data" / "chorales" / "phrases"))
    if not (data / "index.json").is_file():
        return [f"| {path.name} | not scored: set GANAUDIO_CHORALES to the phrase folder of "
                f"recipes/musegan_chorales (not found: {data}) | | |"]
    from ganaudio.train.musegan import quality_table

    started = time.perf_counter()
    result = quality_table(path, data, n_phrases=1000, seed=0)
    rows = []
    for line in result["table"].splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4:
            metric, track, real, fake = cells
            rows.append(f"| {path.name} | {metric}, {track} | {fake} | {real} |")
    rows.append(f"| {path.name} | seconds to compose 1,000 phrases and score them | "
                f"{time.perf_counter() - started:.0f} | |")
    return rows


ROWS = {"evaluator": evaluator_rows, "gansynth": gansynth_rows, "musegan": musegan_rows}


def run() -> str:
    assets = Path(str(resources.files("ganaudio") / "assets"))
    lines = ["## Quality of the bundled models", "",
             f"Machine: {machine()}. Real notes: {_notes_dir() or 'not found'}; generated and real-floor sets "
             f"of {N_NOTES} notes each, distances from a disjoint reference half (ganaudio.eval.notes).", "",
             "| model | metric | model's figure | real data / baseline |", "|---|---|---|---|"]
    for folder in sorted(p for p in assets.iterdir() if (p / "config.json").is_file()):
        config = json.loads((folder / "config.json").read_text())
        family = config.get("family")
        if family in ROWS:
            lines += ROWS[family](folder, config)
        else:
            lines.append(f"| {folder.name} | not scored yet: no quality rows for family {family!r} | | |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run())

"""Rendering speed of a 60 s piece as a multiple of real time, and what the fast decode costs in quality.

The piece is the Bach prelude excerpt (samples/bach_prelude.mid) repeated to
60 s, rendered with a timbre drifting between five GAN timbres (every note a
new latent: the worst case for removing repeats) and with one constant timbre.
Beside it, in the same process, the baseline a script would write first: one
generator call and one decode per note, no batching, no repeats removed, with
phase Griffin-Lim (8 iterations, the training samples' decoder).

Quality: spectral convergence (lower is better) of real FluidR3 notes
encoded with the model's own IF-Mel and decoded by each method: the ceiling
each decoder leaves for generated notes.

    .venv/bin/python benchmarks/render.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pretty_midi
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402

from ganaudio.api import ASSETS, BUNDLED_MODEL, Synth, load  # noqa: E402
from ganaudio.functional.spectral import spectral_convergence  # noqa: E402
from ganaudio.io import load_audio  # noqa: E402
from ganaudio.synth.schedule import read_notes  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
NOTES = ["trumpet_c4", "flute_c3", "violin_a4", "piano_e3"]
SECONDS = 60.0


def bench_synth() -> tuple[Synth, str]:
    """The bundled model, or (before one is installed) an untrained generator of the tiny preset's exact shape."""
    if (ASSETS / BUNDLED_MODEL).is_dir():
        return load(), f"bundled `{BUNDLED_MODEL}`"
    from ganaudio.models.gansynth import Generator
    from ganaudio.presets import load_preset
    from ganaudio.representations import Normalizer

    preset = load_preset("tiny")
    torch.manual_seed(0)
    generator = Generator(**preset.generator_kwargs())
    synth = Synth(generator, preset.representation(), Normalizer(center=(-5.0, 0.0), scale=(9.0, 1.0)),
                  n_frames=preset.n_frames, name="tiny-untrained")
    return synth, "untrained generator of the `tiny` preset's shape (bundled model not installed; speed is the same)"


def piece(seconds: float = SECONDS) -> pretty_midi.PrettyMIDI:
    """The prelude excerpt repeated until ``seconds`` long."""
    src = pretty_midi.PrettyMIDI(str(SAMPLES / "bach_prelude.mid"))
    span = src.get_end_time()
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=src.instruments[0].program)
    offset = 0.0
    while offset < seconds:
        inst.notes += [pretty_midi.Note(velocity=n.velocity, pitch=n.pitch, start=n.start + offset,
                                        end=min(n.end + offset, seconds)) for n in src.instruments[0].notes
                       if n.start + offset < seconds]
        offset += span
    pm.instruments.append(inst)
    return pm


def per_note_baseline(synth: Synth, pm: pretty_midi.PrettyMIDI, anchors) -> np.ndarray:
    """One generate() call per note (latents from the same drift schedule), overlap-added: no batching, no dedupe."""
    from ganaudio.synth.schedule import Drift

    notes = read_notes(pm, pitch_range=synth.pitch_range)
    latents = Drift(anchors, seconds_per_timbre=6.0, steps=None).latents(notes)
    sr = synth.sample_rate
    out = np.zeros(int(np.ceil((notes.offset.max() + 0.1) * sr)), np.float32)
    for i in range(len(notes)):
        note = synth.generate(int(notes.pitch[i]), synth.timbre(latents[i]), velocity=int(notes.velocity[i]),
                              duration=float(notes.offset[i] - notes.onset[i]))
        start = int(round(notes.onset[i] * sr))
        out[start:start + len(note)] += note[: len(out) - start]
    return out


def _timed(fn) -> tuple[float, float, object]:
    """``(wall seconds, CPU seconds of this process, result)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def quality_rows(synth: Synth) -> list[str]:
    rep, sr, length = synth.representation, synth.sample_rate, synth.note_samples
    rows = []
    for method, n_iter in (("phase", 0), ("phase-griffinlim", 8), ("phase-griffinlim", 32)):
        scores = []
        for name in NOTES:
            y = torch.from_numpy(load_audio(SAMPLES / f"{name}.wav", sample_rate=sr)[0][:length])
            y = torch.nn.functional.pad(y, (0, length - len(y)))
            spec = rep.encode(y, n_frames=synth.n_frames)
            y_hat = rep.decode(spec, length=length, method=method, n_iter=n_iter,
                               generator=torch.Generator().manual_seed(0))
            scores.append(spectral_convergence(y_hat, y))
        label = f"{method} {n_iter}" if n_iter else method
        rows.append(f"| {label} | " + " | ".join(f"{s:.3f}" for s in scores) + f" | {np.mean(scores):.3f} |")
    return rows


def run(threads: int = 1) -> str:
    """Markdown section. ``threads`` torch threads (restored after): with 2 threads on a shared 2-core machine
    OpenMP's barriers stall whenever another process holds a core (measured 15x slower per note here)."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _run()
    finally:
        torch.set_num_threads(before)


def _run() -> str:
    synth, what = bench_synth()
    pm = piece()
    n_notes = sum(len(i.notes) for i in pm.instruments)
    anchors = [synth.random_timbre(s) for s in range(5)]
    synth.render(piece(5.0), timbres=anchors[:2])                       # warm-up (filterbanks, kernels)
    rows = []
    for label, decode, n_iter, timbres in (
        ("drifting timbre, phase Griffin-Lim 8 (default)", "phase-griffinlim", 8, anchors),
        ("drifting timbre, IF phase only", "phase", 8, anchors),
        ("constant timbre, phase Griffin-Lim 8 (default)", "phase-griffinlim", 8, anchors[0]),
    ):
        synth.decode, synth.n_iter = decode, n_iter
        wall, cpu, mix = _timed(lambda t=timbres: synth.render(pm, timbres=t, seconds_per_timbre=6.0))
        rows.append((label, wall, cpu, len(mix) / synth.sample_rate))
    synth.decode, synth.n_iter = "phase-griffinlim", 8
    base_wall, base_cpu, base = _timed(lambda: per_note_baseline(synth, pm, anchors))
    rows.append(("baseline: one generate() per note, phase Griffin-Lim 8", base_wall, base_cpu,
                 len(base) / synth.sample_rate))
    synth.decode = "phase-griffinlim"

    lines = [
        f"### Rendering a {SECONDS:.0f} s piece ({n_notes} notes, Bach prelude excerpt repeated), "
        f"{synth.sample_rate} Hz, notes of {synth.note_length:.2f} s",
        "",
        f"Model: {what}; {torch.get_num_threads()} torch thread(s). CPU seconds are this process's own "
        "(what a dedicated core would take); wall seconds also count waiting for the cores when the machine "
        f"is shared (load average {os.getloadavg()[0]:.1f} when this ran).",
        "",
        "| render | CPU s | x real time (CPU) | wall s | x real time (wall) | vs baseline (CPU) |",
        "|---|---|---|---|---|---|",
    ]
    for label, wall, cpu, audio in rows:
        lines.append(f"| {label} | {cpu:.2f} | {audio / cpu:.1f}x | {wall:.2f} | {audio / wall:.1f}x | "
                     f"{base_cpu / cpu:.1f}x faster |")
    lines += [
        "",
        "Decoder quality on real FluidR3 notes through the model's IF-Mel "
        f"({synth.representation.n_mels} mel bands, n_fft {synth.representation.n_fft}, "
        f"hop {synth.representation.hop_length}, {synth.note_length:.2f} s): spectral convergence, lower is better",
        "",
        "| decode | " + " | ".join(NOTES) + " | mean |",
        "|---|" + "---|" * (len(NOTES) + 1),
        *quality_rows(synth),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(threads)
    print(machine())
    print(run(threads))

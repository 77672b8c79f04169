"""Rendering speed of the harmonic-plus-noise instrument (ddspgan) beside gansynth_tiny, and time to first sample.

The piece is benchmarks/render.py's: the Bach prelude excerpt repeated to 60 s
(289 notes), a timbre drifting between five timbres. Both models render it in
the same process on one torch thread; each harmonic note is held for its MIDI
duration and then plays the model's own 1-s release (the GANSynth note fades
in 0.1 s). The cost is split into the control network (MLP, GRU, heads) and
the synthesizer (wavetables, noise) by timing the two halves of the same notes.

Time to first sample: a :class:`~ganaudio.synth.voice.Voice` from note-on to
its first block of 64 samples (one control frame of network and synthesis),
median of 50 notes, and the same through the live engine's batched voices.

    .venv/bin/python benchmarks/harmonic_render.py [MODEL]     # default recipes/ddspgan_44k/continue
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402
from render import piece  # noqa: E402

import ganaudio  # noqa: E402
from ganaudio.functional.harmonic import synth_harmonic_noise  # noqa: E402
from ganaudio.synth.schedule import Drift, read_notes  # noqa: E402
from ganaudio.synth.voice import Voice  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "recipes" / "ddspgan_44k" / "continue"


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


@torch.inference_mode()
def split_cost(synth, pm, anchors) -> tuple[float, float]:
    """CPU seconds of the control network and of the synthesizer for every note of ``pm``, in batches of 16."""
    notes = read_notes(pm, pitch_range=synth.pitch_range)
    latents = Drift(anchors, seconds_per_timbre=6.0).latents(notes)
    decoder, hop, sr = synth.instrument.decoder, synth.hop, synth.sample_rate
    net = syn = 0.0
    for start in range(0, len(notes), 16):
        rows = slice(start, start + 16)
        held = np.ceil((notes.offset[rows] - notes.onset[rows]) * sr / hop).astype(int)
        frames = int(held.max()) + int(np.ceil(synth.release * sr / hop))
        shape = (len(held), frames)
        gate = (torch.arange(frames)[None] < torch.from_numpy(held)[:, None]).float()
        pitch = torch.tensor(notes.pitch[rows], dtype=torch.float32)[:, None].expand(shape)
        velocity = torch.tensor(notes.velocity[rows] / 127, dtype=torch.float32)[:, None].expand(shape)
        z = torch.tensor(np.asarray(latents[rows], np.float32))
        t = time.process_time()
        controls, _ = decoder.controls(z, pitch, velocity, gate, None)
        net += time.process_time() - t
        t = time.process_time()
        synth_harmonic_noise(controls["f0"], controls["harmonics"], controls["noise"], hop=hop, sample_rate=sr,
                             table_size=decoder.table_size)
        syn += time.process_time() - t
    return net, syn


def first_sample_ms(synth, n: int = 50) -> float:
    """Median milliseconds from a Voice's note-on to its first 64 samples."""
    decoder = synth.instrument.decoder
    z = torch.from_numpy(synth.random_timbre(1).latent)
    times = []
    for k in range(n):
        t = time.perf_counter()
        Voice(decoder, z, pitch=48 + k % 24, velocity=0.8, seed=k).render(64)
        times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times))


def run(model: str | Path = MODEL, threads: int = 1) -> str:
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    synth = ganaudio.load(model)
    tiny = ganaudio.load()
    pm = piece()
    n_notes = sum(len(i.notes) for i in pm.instruments)
    rows = []
    for label, s in (("ddspgan (harmonic-plus-noise, 44.1 kHz)", synth), ("gansynth_tiny (16 kHz)", tiny)):
        anchors = [s.random_timbre(k) for k in range(5)]
        s.render(piece(4.0), timbres=anchors[:2])  # warm-up
        wall, cpu, mix = _timed(lambda s=s, a=anchors: s.render(pm, timbres=a, seconds_per_timbre=6.0))
        seconds = len(mix) / s.sample_rate
        rows.append(f"| {label} | {s.sample_rate} | {seconds:.1f} | {cpu:.2f} | {seconds / cpu:.1f}x | {wall:.2f} | "
                    f"{seconds / wall:.1f}x |")
    net, syn = split_cost(synth, pm, [synth.random_timbre(k) for k in range(5)])
    first = first_sample_ms(synth)
    import os

    return "\n".join([
        f"### Harmonic-plus-noise rendering: a 60 s piece ({n_notes} notes, drifting timbre), {threads} thread",
        "",
        f"Model: `{Path(model).name}` ({sum(p.numel() for p in synth.instrument.decoder.parameters()) / 1e6:.2f} M "
        f"decoder parameters); {machine()}; load average {os.getloadavg()[0]:.1f} when this ran.",
        "",
        "| model | Hz | seconds of audio | CPU s | x real time (CPU) | wall s | x real time (wall) |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Where the harmonic model's time goes (same notes, CPU s): control network {net:.2f}, synthesizer "
        f"{syn:.2f}. Time to first sample of one note (Voice, note-on to 64 samples, median of 50): "
        f"{first:.2f} ms.",
    ])


if __name__ == "__main__":
    print(run(sys.argv[1] if len(sys.argv) > 1 else MODEL))

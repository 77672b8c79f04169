"""Live play latency: note-on to first audible sample, audio-callback load and xruns (benchmarks/live.py).

The engine (`ganaudio.synth.live.LiveEngine`, the same object `ganaudio play`
drives) streams the harmonic-plus-noise instrument at 44.1 kHz. A callback is
driven at real-time pace, as a sound card would call it: block k is due at
k * buffer / 44100 s on the stream's clock, and the loop sleeps until then.
Note-on events come through the engine's event queue, as `ganaudio play`'s
MIDI thread sends them: each arrives at a random moment on the stream clock
and is taken at the start of the next block.

Figures, all on the callback's timeline:

* latency: from a note-on's arrival to the moment its first audible sample
  (at or above -60 dBFS) leaves the sound card. The block the callback makes
  at time k * buffer plays from (k + 1) * buffer (one buffer of output queue,
  the least a double-buffered device adds); the converter's own delay and the
  MIDI driver's are not counted.
* callback load: the callback's compute time over the buffer's duration.
* xruns: callbacks whose compute time exceeded the buffer's duration.

The note pattern keeps the asked number of voices busy: a note every
2 / voices seconds, each held 2 s (so `voices` notes are held at once and
released tails are stolen), the mod wheel morphing between two timbres every
0.5 s, pitches drawn from MIDI 40-84.

    .venv/bin/python benchmarks/live.py --seconds 60        # or: run_all.py --only live
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402

from ganaudio.synth.harmonic import load_ddspgan  # noqa: E402
from ganaudio.synth.live import LiveEngine, LiveEvent  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "recipes" / "ddspgan_44k" / "continue"
SAMPLE_RATE = 44100
HOLD = 2.0


def _cpu_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine from /proc/stat (zeros where there is none)."""
    try:
        with open("/proc/stat") as handle:
            values = [float(v) for v in handle.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0.0)
    return sum(values) - idle, sum(values)


def events_for(voices: int, seconds: float, *, seed: int = 0) -> list[tuple[float, LiveEvent]]:
    """``(arrival seconds, event)`` in arrival order: note-ons tagged by their index, note-offs, mod wheel."""
    rng = np.random.default_rng(seed)
    interval = HOLD / voices
    out = []
    for i, start in enumerate(np.arange(0.05, seconds - 0.05, interval)):
        arrival = float(start + rng.uniform(0, interval / 2))
        key = int(rng.integers(40, 85))
        out.append((arrival, LiveEvent("note_on", note=key, value=int(rng.integers(60, 128)), tag=i)))
        out.append((arrival + HOLD - 1e-4, LiveEvent("note_off", note=key)))
    for j, at in enumerate(np.arange(0.25, seconds, 0.5)):
        out.append((float(at), LiveEvent("control", note=1, value=int(63.5 + 63.5 * np.sin(j / 3)))))
    return sorted(out, key=lambda pair: pair[0])


def measure(synth, *, buffer: int, voices: int, seconds: float) -> dict:
    """Drive the callback as a sound card would for ``seconds``; latency, load and xrun figures.

    The device's clock runs in slots of one buffer. The callback for slot j is
    called at j * buffer (or when the previous one returns, if that is later)
    and its block plays from the first slot boundary after it returns: slot
    j + 1 when on time; later after an underrun, when the device played
    silence meanwhile and the next callback is for the slot the block plays in.
    """
    engine = LiveEngine.for_synth(synth, synth.random_timbre(3), synth.random_timbre(11), max_voices=voices)
    schedule = events_for(voices, seconds)
    arrivals = {event.tag: at for at, event in schedule if event.tag is not None}
    budget = buffer / SAMPLE_RATE
    loads, cpu_loads, plays = [], [], []  # per callback: wall load, CPU load, when its block starts playing
    cursor, slot, underruns = 0, 0, 0
    busy0, total0, cpu0 = *_cpu_busy(), time.process_time()
    start = time.perf_counter()
    while slot * budget < seconds:
        wait = start + slot * budget - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        now = time.perf_counter() - start
        while cursor < len(schedule) and schedule[cursor][0] <= now:  # arrived before this callback
            engine.send(schedule[cursor][1])
            cursor += 1
        begin, begin_cpu = time.perf_counter(), time.thread_time()
        engine.render(buffer)
        end = time.perf_counter()
        loads.append((end - begin) / budget)
        cpu_loads.append((time.thread_time() - begin_cpu) / budget)
        play = max(slot + 1, int(np.ceil((end - start) / budget)))
        underruns += play > slot + 1
        plays.append(play * budget)
        slot = play
    wall = time.perf_counter() - start
    busy1, total1, cpu1 = *_cpu_busy(), time.process_time()
    cores = os.cpu_count() or 1
    machine_cores = (busy1 - busy0) / (total1 - total0) * cores if total1 > total0 else float("nan")
    heard = {tag: plays[s // buffer] + (s % buffer) / SAMPLE_RATE for tag, s in engine.onsets.items()
             if s // buffer < len(plays)}
    latency = np.array([heard[tag] - at for tag, at in arrivals.items() if tag in heard])
    loads, cpu_loads = np.array(loads), np.array(cpu_loads)
    return {"buffer": buffer, "voices": voices, "notes": len(arrivals), "heard": len(latency),
            "median_ms": float(np.median(latency) * 1000), "worst_ms": float(latency.max() * 1000),
            "load_mean": float(loads.mean()), "load_max": float(loads.max()), "xruns": int((loads > 1).sum()),
            "cpu_mean": float(cpu_loads.mean()), "cpu_max": float(cpu_loads.max()), "late": underruns,
            "blocks": len(loads), "others": machine_cores - (cpu1 - cpu0) / wall, "stolen": engine.stats["stolen"]}


def table(rows: list[dict]) -> str:
    lines = ["| buffer | voices | notes | latency median | latency worst | load mean | load max | CPU load mean "
             "| CPU load max | xruns | underruns |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['buffer']} ({r['buffer'] / SAMPLE_RATE * 1000:.1f} ms) | {r['voices']} | "
                     f"{r['heard']}/{r['notes']} | {r['median_ms']:.1f} ms | {r['worst_ms']:.1f} ms | "
                     f"{r['load_mean']:.0%} | {r['load_max']:.0%} | {r['cpu_mean']:.0%} | {r['cpu_max']:.0%} | "
                     f"{r['xruns']} of {r['blocks']} callbacks | {r['late']} |")
    return "\n".join(lines)


def run(seconds: float = 60.0, buffers=(64, 128, 256, 512), voices=(1, 8, 16), model: Path = MODEL) -> str:
    torch.set_num_threads(1)  # as `ganaudio play` runs it
    synth = load_ddspgan(model, ema=False)
    load_before = os.getloadavg()[0]
    rows = [measure(synth, buffer=b, voices=v, seconds=seconds) for b in buffers for v in voices]
    others = np.mean([r["others"] for r in rows])
    load_after = os.getloadavg()[0]
    decoder = synth.instrument.decoder
    return "\n".join([
        "## Live play: note-on to sound, callback load, xruns (benchmarks/live.py)",
        "",
        f"Machine: {machine()}. Model: `{model.relative_to(ROOT) if model.is_relative_to(ROOT) else model}`"
        f" (hidden {decoder.gru.hidden_size} GRU, {decoder.n_harmonics} harmonics, table {decoder.table_size}, "
        f"hop {decoder.hop}), streamed at {SAMPLE_RATE} Hz; {seconds:g} s per row, callback driven at real-time "
        "pace, note-ons through the engine's event queue.",
        "",
        f"Contention: other processes kept {others:.2f} of the {os.cpu_count()} cores busy on average during the "
        f"runs (load average {load_before:.2f} before, {load_after:.2f} after)."
        + (" The machine was shared, so the callback waited for a core and ran slower beside the other work: "
           "these xruns, underruns and worst latencies are the shared machine's; rerun on an idle one for the "
           "instrument's own." if others > 0.25 else ""),
        "",
        "Latency counts the wait for the next callback, one buffer of output queue (more when the block was "
        "late) and the model's own attack up to -60 dBFS; not the converter or the MIDI driver. Load: the "
        "callback's wall-clock time / buffer duration (an xrun is a callback over 100 %); CPU load: the "
        "callback thread's own CPU time / buffer duration (what it needs from an idle core; the rest of the wall "
        "time was spent waiting for a core). Underruns: callbacks that returned after their block was due to play "
        "(the device played silence meanwhile).",
        "",
        table(rows),
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="Seconds per row (60 for the figures).")
    parser.add_argument("--buffers", default="64,128,256,512")
    parser.add_argument("--voices", default="1,8,16")
    parser.add_argument("--model", type=Path, default=MODEL)
    args = parser.parse_args()
    print(run(args.seconds, [int(b) for b in args.buffers.split(",")], [int(v) for v in args.voices.split(",")],
              args.model))


if __name__ == "__main__":
    main()

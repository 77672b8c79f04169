"""Judge a GANSynth checkpoint: pitch accuracy (pYIN, 50 cents) and timbre spread, beside real notes.

Usage: python recipes/gansynth_soundfont/evaluate.py CHECKPOINT_DIR --data NOTES_DIR [--seeds 4]
           [--first-seed 1000] [--out report.json]

For every pitch in the model's range and ``--seeds`` latent vectors, a note is
generated from the EMA generator, decoded (phase-initialised Griffin-Lim) and
tracked; the same tracker runs on the real notes (resynthesised through the
same representation, and raw) so the figures sit side by side. Timbre spread
is the standard deviation of the log spectral centroid relative to pitch
across seeds, beside the same figure across real instruments.
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import librosa
import numpy as np
import torch

from ganaudio.data.cache import read_note_list
from ganaudio.eval.pitch import pitch_accuracy
from ganaudio.io import load_audio
from ganaudio.synth.generator import generate_notes, load_gansynth


def centroid_ratio(waves: np.ndarray, pitches, sample_rate: int) -> np.ndarray:
    """log2(spectral centroid / f0) per note: a pitch-independent brightness."""
    out = []
    for y, p in zip(waves, pitches):
        c = librosa.feature.spectral_centroid(y=y[: sample_rate // 2], sr=sample_rate, n_fft=1024).mean()
        out.append(np.log2(max(c, 1e-3) / librosa.midi_to_hz(p)))
    return np.array(out)


def by_band(within, targets, width: int = 12) -> dict[str, float]:
    """Share of notes on pitch (``within``, one flag per note) per band of ``width`` pitches: ``{"36-47": 0.8, ...}``."""
    lo = min(targets)
    bands: dict[str, list[bool]] = {}
    for hit, t in zip(within, targets):
        start = lo + (t - lo) // width * width
        bands.setdefault(f"{start}-{min(start + width - 1, max(targets))}", []).append(bool(hit))
    return {k: float(np.mean(v)) for k, v in bands.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--data", help="real note folder (for the trackers' figure on real notes)")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--real-per-pitch", type=int, default=4)
    parser.add_argument("--out")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(2)
    started = time.perf_counter()
    G, rep, norm, config = load_gansynth(args.checkpoint)
    sr = rep.sample_rate
    pitches = [G.lowest_pitch + i for i in range(G.n_pitches)]
    grid = [(p, s) for s in range(args.seeds) for p in pitches]
    waves = generate_notes(G, rep, norm, [p for p, _ in grid], [args.first_seed + s for _, s in grid])
    fake = pitch_accuracy(list(waves), [p for p, _ in grid], sample_rate=sr, seconds=None)
    per_seed = centroid_ratio(waves, [p for p, _ in grid], sr).reshape(args.seeds, len(pitches))
    report = {"checkpoint": args.checkpoint, "step": config["step"], "generated": {
        "accuracy": fake.accuracy, "octave_errors": fake.octave_errors, "unvoiced": fake.unvoiced,
        "median_abs_cents": fake.median_abs_cents, "entropy_bits": fake.entropy_bits, "n": fake.n,
        "timbre_spread_across_seeds": float(per_seed.std(axis=0).mean()), "first_seed": args.first_seed,
        "accuracy_by_pitches": by_band(fake.within, [p for p, _ in grid])}}
    if args.data:
        notes = read_note_list(args.data, split=None, pitch_range=(pitches[0], pitches[-1]), sources=None)
        rng = np.random.default_rng(0)
        chosen = []
        for p in pitches:
            at = [n for n in notes if n["pitch"] == p]
            chosen += [at[i] for i in rng.permutation(len(at))[: args.real_per_pitch]]
        length = rep.samples_for(config["n_frames"])
        raw = np.stack([np.pad(y[:length], (0, max(0, length - len(y)))) for y in
                        (load_audio(n["path"], sample_rate=sr)[0] for n in chosen)])
        spec = rep.encode(torch.from_numpy(raw), n_frames=config["n_frames"])
        resynth = rep.decode(spec, length=length, method="phase-griffinlim", n_iter=16).numpy()
        targets = [n["pitch"] for n in chosen]
        for name, w in (("real", raw), ("real_resynthesised", resynth)):
            r = pitch_accuracy(list(w), targets, sample_rate=sr, seconds=None)
            report[name] = {"accuracy": r.accuracy, "octave_errors": r.octave_errors, "unvoiced": r.unvoiced,
                            "median_abs_cents": r.median_abs_cents, "n": r.n}
        ratios = centroid_ratio(raw, targets, sr)
        by_pitch = [ratios[[i for i, t in enumerate(targets) if t == p]] for p in pitches]
        report["real"]["timbre_spread_across_instruments"] = float(np.mean([b.std() for b in by_pitch if len(b) > 1]))
    report["seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()

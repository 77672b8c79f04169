"""Measure a ddspgan checkpoint against issue 19's bars (pitch, held notes, velocity, timbre from recordings).

    python recipes/ddspgan_44k/evaluate.py runs/ddspgan_44k --data data/fluidr3_44k -o out/ddsp_report.json

* pitch: random timbres (seeds from --first-seed) at every 4th pitch of MIDI 21-108, tracked by FCPE
  (MIDI 24-95) and pYIN (--pyin, slower); within 50 cents counts;
* held notes: 8-s notes, detrended 10 ms frame-RMS std (dB), median over timbres and pitches;
* velocity: share of (timbre, pitch) pairs whose velocity-120 note is brighter than velocity 40;
* timbre from a recording: for each instrument of the data's valid and test splits (never trained on),
  the timbre of its C4 note (or the nearest) plays 4 other pitches, scored against every such instrument's
  real notes by loudness-free log-mel distance (chance 1 / instruments).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

import numpy as np
import torch

from ganaudio.data.nsynth import load_note_examples
from ganaudio.eval.instrument import envelope_steadiness, identify_timbres, spectral_centroid
from ganaudio.eval.pitch import pitch_accuracy
from ganaudio.synth.harmonic import load_ddspgan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--data", required=True)
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--timbres", type=int, default=4)
    parser.add_argument("--first-seed", type=int, default=2000)
    parser.add_argument("--pyin", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    synth = load_ddspgan(args.model)
    sr = synth.sample_rate
    report: dict = {"model": str(args.model)}
    seeds = range(args.first_seed, args.first_seed + args.timbres)

    pitches = list(range(21, 109, 4))
    notes, targets = [], []
    for seed in seeds:
        notes.extend(synth.generate_many(pitches, synth.random_timbre(seed), 100, 1.2, release=0.3))
        targets.extend(pitches)
    for tracker in ("fcpe", "pyin") if args.pyin else ("fcpe",):
        inside = [i for i, p in enumerate(targets) if tracker == "pyin" or 24 <= p <= 95]
        result = pitch_accuracy([notes[i] for i in inside], [targets[i] for i in inside], sample_rate=sr,
                                tracker=tracker)
        report[f"pitch_{tracker}"] = {"accuracy": result.accuracy, "n": result.n, "unvoiced": result.unvoiced,
                                      "median_abs_cents": result.median_abs_cents}

    steadiness, brighter = [], []
    for seed in seeds:
        timbre = synth.random_timbre(seed)
        for pitch in (36, 48, 60, 72, 84):
            held = synth.generate(pitch, timbre, 100, 8.0, release=0.2)
            steadiness.append(envelope_steadiness(held, sample_rate=sr, start=0.3, end=7.9))
            soft, hard = (synth.generate(pitch, timbre, v, 1.0, release=0.1) for v in (40, 120))
            brighter.append(spectral_centroid(hard, sample_rate=sr) > spectral_centroid(soft, sample_rate=sr))
    report["held_8s_rms_std_db_median"] = float(np.median(steadiness))
    report["velocity_brighter_share"] = float(np.mean(brighter))

    unheard = [n for split in ("valid", "test") for n in load_note_examples(args.data, split=split,
                                                                             pitch_range=(21, 108), sources=None)]
    by_instrument = defaultdict(dict)
    for note in unheard:
        if note.velocity == 80:
            by_instrument[note.instrument_str][note.pitch] = note
    played, real = {}, {}
    for name, notes_by_pitch in sorted(by_instrument.items()):
        source = min(notes_by_pitch, key=lambda p: abs(p - 60))
        others = [p for p in sorted(notes_by_pitch, key=lambda p: abs(p - source)) if p != source][:4]
        if len(others) < 4:
            continue
        timbre = synth.timbre_from_audio(notes_by_pitch[source].load(sample_rate=sr), sr)
        played[name] = list(synth.generate_many(others, timbre, 80, 1.7, release=0.5))
        real[name] = [notes_by_pitch[p].load(sample_rate=sr) for p in others]
    if len(played) >= 2:
        identification = identify_timbres(played, real, sample_rate=sr)
        report["timbre_from_recording"] = {k: identification[k] for k in ("accuracy", "chance", "nearest")}
    with open(args.output, "w") as handle:
        json.dump(report, handle, indent=2)
    print(json.dumps({k: v for k, v in report.items() if k != "timbre_from_recording"}, indent=2))
    if "timbre_from_recording" in report:
        print("timbre from a recording:", report["timbre_from_recording"]["accuracy"],
              "chance", report["timbre_from_recording"]["chance"])


if __name__ == "__main__":
    main()

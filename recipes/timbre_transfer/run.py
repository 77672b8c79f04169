"""Timbre transfer piano -> violin on Bach chorale melodies, end to end: data, CycleGAN, evaluation, report.

    python recipes/timbre_transfer/run.py --work runs/timbre_transfer            # everything
    python recipes/timbre_transfer/run.py --work runs/timbre_transfer --skip-train --methods resynth
    python recipes/timbre_transfer/run.py --work runs/tt --model runs/other_cyclegan   # evaluate a trained model

Stages (each skips what an earlier run finished, so a rerun resumes):

1. ``midi``: the soprano line of each Bach chorale in music21's corpus, split by piece
   (seeded) into held-out pieces and two disjoint halves of the training pieces.
2. ``render``: FluidR3_GM piano (program 0) for half A and the held-out pieces, violin (40)
   for half B and the held-out pieces (the truth), 16 kHz mono.
3. ``train``: the CycleGAN on A (piano) and B (violin), unpaired (``--resume`` when checkpoints exist).
4. ``evaluate``: on the first ``--clip-seconds`` of ``--eval-pieces`` held-out pieces, both methods
   piano -> violin: pitch agreement with the input, log-mel distance to the true violin render
   against the input's, and the evaluator's instrument family of input, output and truth.
5. ``report``: WORK/report/report.json, report.md, spectrogram PNGs and WAVs of a few pieces.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SAMPLE_RATE = 16000
PIANO, VIOLIN = 0, 40
METHODS = ("resynth", "cyclegan")


def stage(name: str) -> None:
    print(f"\n== {name} ==", flush=True)


def write_json(path: Path, data) -> None:
    from ganaudio.io import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1))


# ------------------------------------------------------------------ 1. MIDI
def soprano(src: Path, dst: Path) -> bool:
    """Write the Soprano track of a SATB chorale MIDI as a one-track piece; False if it has none."""
    import pretty_midi

    from ganaudio.io import atomic_path

    midi = pretty_midi.PrettyMIDI(str(src))
    voices = [i for i in midi.instruments if i.name.strip().lower() == "soprano" and i.notes]
    if not voices:
        return False
    midi.instruments = [voices[0]]
    voices[0].program = PIANO
    with atomic_path(dst) as tmp:
        midi.write(str(tmp))
    return True


def make_midi(args) -> dict:
    from ganaudio.data import export_bach_chorales

    stage("1. soprano lines of the Bach chorales, split by piece")
    saved = args.work / "split.json"
    if args.midi is None and saved.is_file():  # a second run (to train longer or re-evaluate) reuses the split
        split = json.loads(saved.read_text())
        if split.get("seed") == args.seed and all((args.work / "midi" / name / f"{p}.mid").is_file()
                                                   for name in ("test", "train_a", "train_b") for p in split[name]):
            print(f"reusing {saved}: {len(split['train_a'])} train A, {len(split['train_b'])} train B, "
                  f"{len(split['test'])} held out")
            return {name: split[name] for name in ("test", "train_a", "train_b")}
    chorales = args.midi or args.work / "chorales"
    if args.midi is None:
        export_bach_chorales(chorales, workers=2)
    pieces = sorted(p.stem for p in chorales.glob("*.mid"))
    if len(pieces) < 6:
        sys.exit(f"{chorales}: {len(pieces)} chorale MIDI files, need at least 6")
    random.Random(args.seed).shuffle(pieces)
    pieces = pieces[:args.pieces]
    n_test = max(1, round(args.test_fraction * len(pieces)))
    test, train = sorted(pieces[:n_test]), pieces[n_test:]
    split = {"test": test, "train_a": sorted(train[0::2]), "train_b": sorted(train[1::2])}
    kept = {}
    for name, names in split.items():
        folder = args.work / "midi" / name
        folder.mkdir(parents=True, exist_ok=True)
        kept[name] = [p for p in names if (folder / f"{p}.mid").is_file() or soprano(chorales / f"{p}.mid",
                                                                                         folder / f"{p}.mid")]
    write_json(args.work / "split.json", {"seed": args.seed, "pieces": len(pieces), **kept})
    print(f"{len(pieces)} pieces: {len(kept['train_a'])} train A (piano), {len(kept['train_b'])} train B (violin), "
          f"{len(kept['test'])} held out")
    return kept


# ---------------------------------------------------------------- 2. audio
RENDERS = {"train_a_piano": ("train_a", PIANO), "train_b_violin": ("train_b", VIOLIN),
           "test_piano": ("test", PIANO), "test_violin": ("test", VIOLIN)}


def render(args) -> dict:
    from ganaudio.data import render_midi

    stage("2. render with FluidR3_GM (piano 0, violin 40), 16 kHz")
    log_path = args.work / "render.json"
    timings = json.loads(log_path.read_text()) if log_path.is_file() else {}
    for name, (split, program) in RENDERS.items():
        began = time.perf_counter()
        summary = render_midi(args.work / "midi" / split, args.work / "audio" / name, soundfont=SOUNDFONT,
                              program=program, sample_rate=SAMPLE_RATE, progress=True)
        seconds = time.perf_counter() - began
        if summary["rendered"]:
            timings[name] = {"pieces": summary["rendered"], "audio_s": summary["seconds"], "wall_s": round(seconds, 1)}
        print(f"{name}: {summary['rendered']} rendered, {summary['existing']} already there, "
              f"{len(summary['failed'])} failed, {seconds:.1f} s")
    write_json(log_path, timings)
    return timings


# ---------------------------------------------------------------- 3. train
def train(args) -> Path:
    from ganaudio.presets import load_preset
    from ganaudio.train.run import run_training

    stage("3. train the CycleGAN on unpaired piano (A) and violin (B)")
    out = args.work / "cyclegan"
    from ganaudio.presets import parse_assignments

    overrides = {"domain_names": ["piano", "violin"], **parse_assignments(args.set)}
    preset = load_preset(args.preset, family="cyclegan", overrides=overrides)
    resume = (out / "checkpoints").is_dir() and any((out / "checkpoints").iterdir())
    began = time.perf_counter()
    summary = run_training(preset, (args.work / "audio" / "train_a_piano", args.work / "audio" / "train_b_violin"),
                           out, steps=args.steps, resume=resume, seed=args.seed, device=args.device)
    print(f"trained in {time.perf_counter() - began:.0f} s: {summary}")
    return out


# ------------------------------------------------------------- 4. evaluate
def pick_timbre(synth, evaluator, *, family: str, seeds: range, pitches=(60, 67, 74)) -> tuple[int, float]:
    """The seed whose notes the evaluator hears most as ``family`` (probability averaged over ``pitches``)."""
    timbres = [synth.random_timbre(s) for s in seeds]
    notes = synth.generate_many([p for _ in seeds for p in pitches], [t for t in timbres for _ in pitches])
    probs = evaluator.predict(notes, sample_rate=synth.sample_rate).family_probs[:, evaluator.families.index(family)]
    per_seed = probs.reshape(len(seeds), len(pitches)).mean(axis=1)
    best = int(per_seed.argmax())
    return seeds[best], float(per_seed[best])


def clip(path: Path, seconds: float) -> np.ndarray:
    from ganaudio.io import load_audio

    y, _ = load_audio(path, sample_rate=SAMPLE_RATE, duration=None)
    return y[:int(seconds * SAMPLE_RATE)]


def family_view(prediction: dict) -> dict:
    p = prediction["probabilities"]
    return {"family": prediction["family"], "p_string": round(p.get("string", 0.0), 3),
            "p_keyboard": round(p.get("keyboard", 0.0), 3)}


def score(output: np.ndarray, source: np.ndarray, truth: np.ndarray, evaluator) -> dict:
    from ganaudio.errors import ParameterError
    from ganaudio.eval.timbre import instrument_prediction, log_mel_distance, pitch_agreement

    d_in = log_mel_distance(source, truth, sample_rate=SAMPLE_RATE)
    d_out = log_mel_distance(output, truth, sample_rate=SAMPLE_RATE)
    try:
        family = family_view(instrument_prediction(output, sample_rate=SAMPLE_RATE, evaluator=evaluator))
    except ParameterError:  # silent output
        family = {"family": None, "p_string": 0.0, "p_keyboard": 0.0}
    return {"pitch": pitch_agreement(source, output, sample_rate=SAMPLE_RATE), "d_out": d_out, "d_in": d_in,
            "gap_closed": 1.0 - d_out / d_in, "instrument": family}


def evaluate(args, pieces: list[str], model: Path | None) -> dict:
    import torch
    from tqdm.auto import tqdm

    import ganaudio
    from ganaudio.eval.evaluator import load_evaluator
    from ganaudio.eval.timbre import instrument_prediction, log_mel_distance, pitch_agreement
    from ganaudio.representations import Mel
    from ganaudio.transfer.resynth import resynthesize
    from ganaudio.vocoders import make_vocoder

    stage(f"4. evaluate {', '.join(args.methods)} on {len(pieces)} held-out pieces ({args.clip_seconds:g} s each)")
    evaluator = load_evaluator()
    converters, keys = {}, {}
    if "resynth" in args.methods:
        synth = ganaudio.load()
        seed = args.timbre
        if seed is None:
            seed, p = pick_timbre(synth, evaluator, family="string", seeds=range(32))
            print(f"resynth timbre: seed {seed} (evaluator P(string) {p:.2f} over seeds 0-31)")
        timbre = synth.random_timbre(seed)
        converters["resynth"] = lambda y: resynthesize(y, sample_rate=SAMPLE_RATE, timbre=timbre, synth=synth).audio
        keys["resynth"] = f"{synth.model_id}/seed{seed}"
    if "cyclegan" in args.methods:
        from ganaudio.transfer.cyclegan import load_cyclegan

        transfer = load_cyclegan(str(model))
        converters["cyclegan"] = lambda y: transfer.convert(y, direction="a2b", vocoder=args.vocoder)
        keys["cyclegan"] = f"{model}@{max(p.stat().st_mtime_ns for p in Path(model).rglob('*.safetensors'))}"
    mel = Mel(sample_rate=SAMPLE_RATE, n_fft=1024, hop_length=256, n_mels=80)
    griffinlim = make_vocoder("griffinlim", n_iter=32)
    gan_vocoder = make_vocoder("gan")
    # Cached results are redone when the bundled vocoder they were voiced with changes.
    vocoder_id = hashlib.sha1((Path(gan_vocoder.source) / "model.safetensors").read_bytes()).hexdigest()[:12]
    if "cyclegan" in keys:
        keys["cyclegan"] += f" vocoder={args.vocoder}" + (f"@{vocoder_id}" if args.vocoder == "auto" else "")
    results = {m: {} for m in converters}
    results["reference"] = {}
    for piece in tqdm(pieces, desc="held-out pieces", unit="piece"):
        source = clip(args.work / "audio" / "test_piano" / f"{piece}.wav", args.clip_seconds)
        truth = clip(args.work / "audio" / "test_violin" / f"{piece}.wav", args.clip_seconds)
        n = min(len(source), len(truth))
        source, truth = source[:n], truth[:n]
        ref_path = args.work / "eval" / "reference" / f"{piece}.json"
        if not ref_path.is_file() or json.loads(ref_path.read_text()).get("vocoder") != vocoder_id:
            with torch.no_grad():
                spec = mel.encode(torch.from_numpy(truth))
                floors = {"griffinlim32": griffinlim(spec, mel, length=n).numpy(),
                          "gan_vocoder": gan_vocoder(spec, mel, length=n).numpy()}
            ref = {"vocoder": vocoder_id,
                   "input_family": family_view(instrument_prediction(source, sample_rate=SAMPLE_RATE,
                                                                     evaluator=evaluator)),
                   "truth_family": family_view(instrument_prediction(truth, sample_rate=SAMPLE_RATE,
                                                                     evaluator=evaluator)),
                   "truth_pitch_agreement": pitch_agreement(source, truth, sample_rate=SAMPLE_RATE),
                   "d_in": log_mel_distance(source, truth, sample_rate=SAMPLE_RATE),
                   "floor": {k: log_mel_distance(v, truth, sample_rate=SAMPLE_RATE) for k, v in floors.items()}}
            write_json(ref_path, ref)
        results["reference"][piece] = json.loads(ref_path.read_text())
        for method, convert in converters.items():
            path = args.work / "eval" / method / f"{piece}.json"
            old = json.loads(path.read_text()) if path.is_file() else {}
            if old.get("key") != keys[method]:
                began = time.perf_counter()
                output = np.asarray(convert(source), dtype=np.float32)[:n]
                output = np.pad(output, (0, n - len(output)))
                seconds = time.perf_counter() - began
                ganaudio.save_audio(path.with_suffix(".wav"), output, SAMPLE_RATE)
                old = {"key": keys[method], "convert_s": round(seconds, 2), "audio_s": n / SAMPLE_RATE,
                       **score(output, source, truth, evaluator)}
                write_json(path, old)
            results[method][piece] = old
    return results


# --------------------------------------------------------------- 5. report
def summarise(results: dict) -> dict:
    ref = results["reference"]
    out = {"pieces": len(ref),
           "input": {"family_string": float(np.mean([r["input_family"]["family"] == "string" for r in ref.values()])),
                     "p_string": float(np.mean([r["input_family"]["p_string"] for r in ref.values()])),
                     "d_to_truth": float(np.mean([r["d_in"] for r in ref.values()]))},
           "truth": {"family_string": float(np.mean([r["truth_family"]["family"] == "string" for r in ref.values()])),
                     "p_string": float(np.mean([r["truth_family"]["p_string"] for r in ref.values()])),
                     "pitch_agreement_with_input": float(np.mean([r["truth_pitch_agreement"]["agreement"]
                                                                  for r in ref.values()]))},
           "floor": {k: float(np.mean([r["floor"][k] for r in ref.values()])) for k in next(iter(ref.values()))["floor"]}}
    for method, rows in results.items():
        if method == "reference" or not rows:
            continue
        r = list(rows.values())
        frames = np.array([x["pitch"]["frames"] for x in r])
        agree = np.array([x["pitch"]["agreement"] for x in r])
        out[method] = {
            "pitch_agreement_mean": float(agree.mean()),
            "pitch_agreement_pooled": float((agree * frames).sum() / max(frames.sum(), 1)),
            "pieces_at_90pct": float((agree >= 0.9).mean()),
            "output_voiced": float(np.mean([x["pitch"]["output_voiced"] for x in r])),
            "d_out": float(np.mean([x["d_out"] for x in r])),
            "d_in": float(np.mean([x["d_in"] for x in r])),
            "gap_closed_mean": float(np.mean([x["gap_closed"] for x in r])),
            "gap_closed_of_means": float(1 - np.mean([x["d_out"] for x in r]) / np.mean([x["d_in"] for x in r])),
            "family_string": float(np.mean([x["instrument"]["family"] == "string" for x in r])),
            "p_string": float(np.mean([x["instrument"]["p_string"] for x in r])),
            "realtime_factor": float(sum(x["audio_s"] for x in r) / max(sum(x["convert_s"] for x in r), 1e-9)),
        }
    return out


def figure(rows: list[tuple[str, np.ndarray]], title: str):
    import torch
    from matplotlib.figure import Figure

    from ganaudio.representations import Mel

    rep = Mel(sample_rate=SAMPLE_RATE, n_fft=1024, hop_length=256, n_mels=128)
    fig = Figure(figsize=(10, 2.0 * len(rows)), layout="constrained")
    specs = [rep.encode(torch.from_numpy(y))[0].numpy() * (10 / np.log(10)) for _, y in rows]
    top = max(s.max() for s in specs)
    for k, ((name, _), spec) in enumerate(zip(rows, specs)):
        ax = fig.add_subplot(len(rows), 1, k + 1)
        times = np.arange(spec.shape[1]) * rep.hop_length / SAMPLE_RATE
        mesh = ax.pcolormesh(times, np.arange(spec.shape[0]), spec, vmin=top - 80, vmax=top, cmap="magma",
                             shading="nearest")
        ax.set_ylabel("mel band")
        ax.set_title(f"{title}: {name}", fontsize=9)
        fig.colorbar(mesh, ax=ax, label="dB")
    ax.set_xlabel("time (s)")
    return fig


def report(args, results: dict, timings: dict, pieces: list[str]) -> dict:
    import ganaudio
    from ganaudio.io import atomic_path

    stage("5. report")
    folder = args.work / "report"
    summary = summarise(results)
    data = {"settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "render": timings, "summary": summary, "pieces": results}
    write_json(folder / "report.json", data)
    for piece in pieces[:args.examples]:
        source = clip(args.work / "audio" / "test_piano" / f"{piece}.wav", args.clip_seconds)
        truth = clip(args.work / "audio" / "test_violin" / f"{piece}.wav", args.clip_seconds)
        rows = [("input (piano)", source)]
        rows += [(f"{m} output", ganaudio.load_audio(args.work / "eval" / m / f"{piece}.wav")[0])
                 for m in METHODS if m in args.methods]
        rows.append(("truth (violin)", truth))
        for name, y in rows:
            ganaudio.save_audio(folder / "examples" / f"{piece}_{name.split()[0]}.wav", y, SAMPLE_RATE)
        with atomic_path(folder / "examples" / f"{piece}.png") as tmp:
            figure(rows, piece).savefig(tmp, dpi=90)
    text = markdown(summary, timings, args)
    with atomic_path(folder / "report.md") as tmp:
        tmp.write_text(text)
    print(text)
    return data


def markdown(s: dict, timings: dict, args) -> str:
    lines = [f"# Timbre transfer piano -> violin: {s['pieces']} held-out chorale soprano lines, "
             f"first {args.clip_seconds:g} s each", "",
             "| method | pitch agreement (mean / pooled) | pieces >= 90% | output voiced | log-mel dist. to truth "
             "(dB) | input's dist. (dB) | gap closed (mean / of means) | heard as string | P(string) | x real time |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for m in METHODS:
        if m in s:
            r = s[m]
            lines.append(f"| {m} | {r['pitch_agreement_mean']:.1%} / {r['pitch_agreement_pooled']:.1%} | "
                         f"{r['pieces_at_90pct']:.0%} | {r['output_voiced']:.0%} | {r['d_out']:.2f} | {r['d_in']:.2f} | "
                         f"{r['gap_closed_mean']:.1%} / {r['gap_closed_of_means']:.1%} | {r['family_string']:.0%} | "
                         f"{r['p_string']:.2f} | {r['realtime_factor']:.1f} |")
    inp, tru = s["input"], s["truth"]
    lines += [f"| input (piano) | | | | {inp['d_to_truth']:.2f} | | 0% | {inp['family_string']:.0%} | "
              f"{inp['p_string']:.2f} | |",
              f"| truth (violin) | {tru['pitch_agreement_with_input']:.1%} (vs input) | | | 0 | | | "
              f"{tru['family_string']:.0%} | {tru['p_string']:.2f} | |"]
    lines += [f"| floor: truth through {k} | | | | {v:.2f} | | | | | |" for k, v in s["floor"].items()]
    lines += ["", "Rendering (FluidR3_GM through FluidSynth, 44.1 kHz resampled to 16 kHz):", ""]
    lines += [f"- {k}: {v['pieces']} pieces, {v['audio_s']:.0f} s of audio in {v['wall_s']:.1f} s"
              for k, v in timings.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--work", type=Path, required=True, help="working folder (data, run, evaluation, report)")
    parser.add_argument("--midi", type=Path, default=None,
                        help="folder of SATB chorale MIDI already exported (default: export from music21 into WORK)")
    parser.add_argument("--pieces", type=int, default=100, help="chorales used in all [%(default)s]")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="share held out [%(default)s]")
    parser.add_argument("--preset", default="tiny", help="CycleGAN preset [%(default)s]")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="preset override")
    parser.add_argument("--steps", type=int, default=None, help="training steps to reach [the preset's]")
    parser.add_argument("--skip-train", action="store_true", help="use the run in WORK/cyclegan as it is")
    parser.add_argument("--model", type=Path, default=None, help="evaluate this CycleGAN instead of training one")
    parser.add_argument("--methods", default="resynth,cyclegan", help="comma-separated: resynth, cyclegan")
    parser.add_argument("--vocoder", default="auto", help="CycleGAN vocoder: auto or griffinlim [%(default)s]")
    parser.add_argument("--timbre", type=int, default=None,
                        help="resynth timbre seed [the seed of 0-31 the evaluator hears most as a string instrument]")
    parser.add_argument("--eval-pieces", type=int, default=16, help="held-out pieces evaluated [%(default)s]")
    parser.add_argument("--clip-seconds", type=float, default=15.0, help="seconds of each evaluated [%(default)s]")
    parser.add_argument("--examples", type=int, default=3, help="pieces drawn and written as WAVs [%(default)s]")
    parser.add_argument("--threads", type=int, default=1, help="torch threads [%(default)s]")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if set(args.methods) - set(METHODS) or not args.methods:
        parser.error(f"--methods: choose from {', '.join(METHODS)}")

    import torch

    torch.set_num_threads(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    args.work.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    split = make_midi(args)
    timings = render(args)
    model = args.model
    if "cyclegan" in args.methods and model is None:
        model = args.work / "cyclegan" if args.skip_train else train(args)
    pieces = split["test"][:args.eval_pieces]
    results = evaluate(args, pieces, model)
    report(args, results, timings, pieces)
    print(f"done in {time.perf_counter() - began:.0f} s; report in {args.work / 'report'}")


if __name__ == "__main__":
    main()

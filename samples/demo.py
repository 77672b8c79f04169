"""`make demo`: Bach played by a GAN, plus the audio front ends on real recorded instruments.

1. The opening of Bach's Cello Suite No. 1 prelude (samples/bach_prelude.mid,
   written by samples/make_demo_midi.py) rendered by the bundled GANSynth
   with a timbre drifting between five GAN instruments: out/demo.wav and its
   spectrogram out/demo.png, then a C4 sweep between two timbres.
2. IF-Mel and CQT pictures of FluidR3_GM renders (trumpet, violin) and speech,
   resynthesised from IF-Mel three ways (one-shot IF phase, Griffin-Lim from
   random phase, Griffin-Lim started from the IF phase) with spectral
   convergence and decode time; the Bach chorale MIDI through a multitrack
   piano roll and back.

    .venv/bin/python samples/demo.py --out out
    .venv/bin/python samples/demo.py --out out --model runs/tiny/checkpoints/step_00020000
    .venv/bin/python samples/demo.py --write-samples     # refresh the committed samples/prelude_*.wav
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from ganaudio.errors import CheckpointError
from ganaudio.functional.spectral import spectral_convergence
from ganaudio.io import atomic_path, load_audio, save_audio
from ganaudio.plotting import plot_representation
from ganaudio.representations import CQT, IFMel

HERE = Path(__file__).resolve().parent
CLIPS = ["trumpet_c4", "violin_a4", "speech"]
METHODS = [("phase", 0), ("griffinlim", 32), ("phase-griffinlim", 8)]
DRIFT_SEEDS = (3, 11, 7, 19, 5)      # five GAN instruments, one every SECONDS_PER_TIMBRE
SECONDS_PER_TIMBRE = 6.0


def gan_demo(out: Path, model: str | None, *, write_samples: bool) -> list[str]:
    """Render the prelude with a drifting timbre; with ``write_samples`` also refresh samples/ (16-bit WAV)."""
    from ganaudio.api import load
    from ganaudio.synth.render import spectrogram_figure

    try:
        synth = load(model)
    except CheckpointError as exc:
        return [f"GAN render skipped: {exc}"]
    start = time.perf_counter()
    anchors = [synth.random_timbre(s) for s in DRIFT_SEEDS]
    midi = HERE / "bach_prelude.mid"
    drift = synth.render(midi, timbres=anchors, seconds_per_timbre=SECONDS_PER_TIMBRE, progress=True)
    seconds = time.perf_counter() - start
    save_audio(out / "demo.wav", drift, synth.sample_rate)
    title = f"Bach, Cello Suite No. 1 prelude, bars 1-8: {synth.name}, timbre drifting every {SECONDS_PER_TIMBRE:g} s"
    with atomic_path(out / "demo.png") as tmp:
        spectrogram_figure(drift, synth.sample_rate, title=title).savefig(tmp, dpi=90, bbox_inches="tight")
    sweep = synth.generate_many([60] * 8, synth.interpolate(anchors[0], anchors[1], 8), durations=0.5)
    gap = np.zeros((8, int(0.05 * synth.sample_rate)), np.float32)
    sweep = np.concatenate([sweep, gap], axis=1).reshape(-1)
    save_audio(out / "sweep_c4.wav", sweep, synth.sample_rate)
    lines = [f"{synth}", f"{midi.name}: {len(drift) / synth.sample_rate:.1f} s rendered in {seconds:.1f} s "
             f"({len(drift) / synth.sample_rate / seconds:.0f}x real time) -> {out / 'demo.wav'}, {out / 'demo.png'}",
             f"C4 sweep between seeds {DRIFT_SEEDS[0]} and {DRIFT_SEEDS[1]} (slerp, 8 steps) -> {out / 'sweep_c4.wav'}"]
    if write_samples:
        constant = synth.render(midi, timbres=anchors[0])
        for name, audio in (("prelude_drift", drift), ("prelude_constant", constant), ("sweep_c4", sweep)):
            save_audio(HERE / f"{name}.wav", audio, synth.sample_rate, subtype="PCM_16")
        with atomic_path(HERE / "prelude_drift.png") as tmp:
            spectrogram_figure(drift, synth.sample_rate, title=title).savefig(tmp, dpi=72, bbox_inches="tight")
        lines.append(f"refreshed {HERE}/prelude_drift.wav, prelude_constant.wav, sweep_c4.wav, prelude_drift.png")
    return lines


def audio_demo(out: Path) -> list[str]:
    rep = IFMel(sample_rate=16000, n_fft=1024, hop_length=256, n_mels=512)
    cqt = CQT(sample_rate=16000)
    rows = ["| clip | " + " | ".join(f"{m} {n or ''}".strip() for m, n in METHODS) + " |",
            "|---|" + "---|" * len(METHODS)]
    for clip in CLIPS:
        y, sr = load_audio(HERE / f"{clip}.wav")
        x = torch.from_numpy(y)
        spec = rep.encode(x)
        for name, r, s in (("ifmel", rep, spec), ("cqt", cqt, cqt.encode(x))):
            with atomic_path(out / f"{clip}_{name}.png") as tmp:
                plot_representation(s, r, title=f"{clip} ({name})").savefig(tmp, dpi=100, bbox_inches="tight")
        cells = []
        for method, n_iter in METHODS:
            start = time.perf_counter()
            y_hat = rep.decode(spec, length=len(y), method=method, n_iter=n_iter,
                               generator=torch.Generator().manual_seed(0))
            seconds = time.perf_counter() - start
            save_audio(out / f"{clip}_{method}.wav", y_hat.clamp(-1, 1).numpy(), sr)
            cells.append(f"SC {spectral_convergence(y_hat, x):.3f} ({seconds * 1000:.0f} ms)")
        rows.append(f"| {clip} | " + " | ".join(cells) + " |")
    return rows


def midi_demo(out: Path) -> list[str]:
    from ganaudio.functional.pianoroll import midi_to_roll, roll_to_midi

    source = HERE / "bach_chorale.mid"
    roll, meta = midi_to_roll(source, resolution=24, pitch_range=(24, 108))
    midi = roll_to_midi(roll, meta)
    with atomic_path(out / "bach_chorale_roundtrip.mid") as tmp:
        midi.write(str(tmp))
    notes = sum(len(i.notes) for i in midi.instruments)
    return [f"bach_chorale.mid -> piano roll {tuple(roll.shape)} (tracks, steps, pitches) -> MIDI with {notes} notes: "
            f"{out / 'bach_chorale_roundtrip.mid'}"]


def main() -> None:
    parser = argparse.ArgumentParser(description="ganaudio demo")
    parser.add_argument("--out", type=Path, default=Path("out"))
    parser.add_argument("--model", default=None, help="checkpoint folder or bundled name (default: bundled)")
    parser.add_argument("--write-samples", action="store_true", help="also refresh the committed samples/ renders")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: a second thread stalls whenever another process holds a core)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    print("GANSynth plays Bach (timbre drifting between GAN instruments):")
    print("\n".join(gan_demo(args.out, args.model, write_samples=args.write_samples)))
    print(f"\nIF-Mel (512 mel bands) analysis and resynthesis of {len(CLIPS)} clips -> {args.out}/")
    print("Spectral convergence against the input (lower is better) and decode time:")
    print("\n".join(audio_demo(args.out)))
    print("\n".join(midi_demo(args.out)))
    print(f"\nListen: {args.out}/demo.wav   Look: {args.out}/demo.png   ({time.perf_counter() - start:.0f} s in all)")


if __name__ == "__main__":
    main()

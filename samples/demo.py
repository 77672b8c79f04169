"""`make demo`: show ganaudio's front ends on real recorded instruments.

For each clip in samples/ (FluidR3_GM renders of a trumpet, flute, violin and
piano, a flute phrase, espeak-ng speech) it draws the IF-Mel and CQT pictures
and resynthesises the clip from IF-Mel three ways (one-shot IF phase,
Griffin-Lim from random phase, Griffin-Lim started from the IF phase), writing
WAVs you can audition and a table of spectral convergence and speed. Then it
turns the Bach chorale MIDI into a multitrack piano roll and back.

    .venv/bin/python samples/demo.py --out out
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from ganaudio.functional.spectral import spectral_convergence
from ganaudio.io import atomic_path, load_audio, save_audio
from ganaudio.plotting import plot_representation
from ganaudio.representations import CQT, IFMel

HERE = Path(__file__).resolve().parent
CLIPS = ["trumpet_c4", "flute_c3", "violin_a4", "piano_e3", "flute_phrase", "speech"]
METHODS = [("phase", 0), ("griffinlim", 32), ("phase-griffinlim", 8)]


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
    parser = argparse.ArgumentParser(description="ganaudio front-end demo")
    parser.add_argument("--out", type=Path, default=Path("out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    print(f"IF-Mel (512 mel bands) analysis and resynthesis of {len(CLIPS)} clips -> {args.out}/")
    print("Spectral convergence against the input (lower is better) and decode time:")
    print("\n".join(audio_demo(args.out)))
    print("\n".join(midi_demo(args.out)))
    print(f"\nListen: {args.out}/trumpet_c4_phase-griffinlim.wav   Look: {args.out}/trumpet_c4_ifmel.png")


if __name__ == "__main__":
    main()

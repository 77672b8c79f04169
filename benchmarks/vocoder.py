"""Mel vocoders on held-out real audio: the bundled GAN vocoder beside Griffin-Lim and IF-phase inversion.

Quality: multi-resolution STFT distance (spectral convergence + log-magnitude L1
at n_fft 512/1024/2048) and mel L1 (80-band log mel magnitude) between each clip
and its resynthesis from the 80-band log-mel spectrogram, averaged over clips.
The clips are Bach chorales the vocoder never heard (bwv364, 366, 368, the first 6 s),
rendered through FluidR3_GM with two training instruments (piano, violin) and
three it never heard (nylon guitar, alto sax, oboe); then the samples/ clips.
IF-Mel phase is a reference with more information than a mel vocoder gets
(256 bands plus the true instantaneous frequency).

Speed: multiples of real time for 4 s of 16 kHz audio from its mel spectrogram,
2 threads, generators of each preset (random weights except the bundled one),
all in this process; the ratio is to the HiFi-GAN V3-sized generator.

    nice -n 10 .venv/bin/python benchmarks/vocoder.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_time, machine

from ganaudio.io import load_audio
from ganaudio.losses import log_mel_l1, multi_resolution_stft_loss
from ganaudio.presets.vocoder import VOCODER_PRESETS
from ganaudio.representations import IFMel
from ganaudio.vocoders import GriffinLimVocoder, bundled_vocoders, load_vocoder

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
TEST_PIECES = ("bwv364", "bwv366", "bwv368")  # held out by recipes/vocoder_soundfont/make_data.py
TEST_PROGRAMS = {0: "piano", 40: "violin", 24: "guitar*", 65: "alto sax*", 68: "oboe*"}  # * unseen instrument
CLIP_SECONDS = 6.0
SAMPLE_CLIPS = ("violin_a4", "trumpet_c4", "piano_e3", "flute_c3", "flute_phrase", "speech")
SPEED_PRESETS = ("v3", "small", "v2", "v1", "vocos", "vocos-base")


def held_out_clips(sample_rate: int) -> dict[str, np.ndarray]:
    """``{"bwv302 piano": wave}``: rendered now, or read from $GANAUDIO_VOCODER_TEST (``<program>/<piece>.wav``)."""
    from ganaudio.data import bach_chorale_paths, chorale_to_midi, render_midi

    folder = os.environ.get("GANAUDIO_VOCODER_TEST")
    clips = {}
    with tempfile.TemporaryDirectory() as tmp:
        if folder is None:
            midi_dir = Path(tmp) / "midi"
            midi_dir.mkdir()
            paths = {p.stem: p for p in bach_chorale_paths()}
            for piece in TEST_PIECES:
                chorale_to_midi(paths[piece]).write(str(midi_dir / f"{piece}.mid"))
            for program in TEST_PROGRAMS:
                render_midi(midi_dir, Path(tmp) / f"{program:03d}", soundfont=SOUNDFONT, program=program,
                            sample_rate=sample_rate, progress=False)
            folder = tmp
        for program, name in TEST_PROGRAMS.items():
            for piece in TEST_PIECES:
                y, _ = load_audio(Path(folder) / f"{program:03d}" / f"{piece}.wav", sample_rate=sample_rate)
                clips[f"{piece} {name}"] = y[: int(CLIP_SECONDS * sample_rate)]
    return clips


def _methods(gan, rep):
    ifmel = IFMel(sample_rate=rep.sample_rate, n_fft=rep.n_fft, hop_length=rep.hop_length, n_mels=256)
    return {
        "GAN vocoder (bundled)": lambda y: gan.resynthesize(y),
        "Griffin-Lim 32": lambda y: GriffinLimVocoder(n_iter=32)(rep.encode(y), rep, length=len(y)),
        "Griffin-Lim 64": lambda y: GriffinLimVocoder(n_iter=64)(rep.encode(y), rep, length=len(y)),
        "IF-Mel phase (256 bands + true IF; reference)": lambda y: ifmel.decode(ifmel.encode(y), length=len(y),
                                                                                method="phase"),
    }


def quality_table(clips: dict[str, np.ndarray], gan, rep) -> tuple[list[str], dict]:
    methods = _methods(gan, rep)
    scores = {m: [] for m in methods}
    for y in clips.values():
        ref = torch.from_numpy(y)
        for name, fn in methods.items():
            with torch.no_grad():
                out = fn(ref).clamp(-1, 1)
            mel = log_mel_l1(out, ref, sample_rate=rep.sample_rate, n_fft=rep.n_fft, hop_length=rep.hop_length,
                             n_mels=rep.n_mels, fmin=rep.fmin, fmax=rep.fmax)
            scores[name].append((float(multi_resolution_stft_loss(out, ref)), float(mel)))
    means = {m: np.mean(v, axis=0) for m, v in scores.items()}
    lines = ["| method | MR-STFT distance | mel L1 |", "|---|---|---|"]
    lines += [f"| {m} | {d:.3f} | {mel:.3f} |" for m, (d, mel) in means.items()]
    return lines, means


def speed_table(gan, rep, seconds: float = 4.0) -> list[str]:
    torch.manual_seed(0)
    y = torch.randn(int(seconds * rep.sample_rate)) * 0.1
    mel = rep.encode(y)  # (1, n_mels, frames): a batch of one for the generators
    rows = []
    for name in SPEED_PRESETS:
        gen = VOCODER_PRESETS[name].build_generator().eval()
        if hasattr(gen, "remove_weight_norm"):
            gen.remove_weight_norm()
        params = sum(p.numel() for p in gen.parameters()) / 1e6
        with torch.no_grad():
            t = best_time(lambda gen=gen: gen(mel), repeat=3)
        rows.append((f"{name} ({VOCODER_PRESETS[name].generator}, {params:.2f} M params)", t))
    with torch.no_grad():
        rows.append(("bundled vocoder_16k", best_time(lambda: gan.from_mel(mel[0]), repeat=3)))
    spec = rep.encode(y)
    for n in (32, 64):
        rows.append((f"Griffin-Lim {n}", best_time(lambda n=n: GriffinLimVocoder(n_iter=n)(spec, rep), repeat=3)))
    v3 = rows[0][1]
    lines = ["| generator | x real time | speed / V3-sized |", "|---|---|---|"]
    lines += [f"| {name} | {seconds / t:.1f} | {v3 / t:.2f} |" for name, t in rows]
    return lines


def run() -> str:
    torch.set_num_threads(2)
    if not bundled_vocoders():
        return "### Mel vocoders\n\nNo bundled vocoder is installed (ganaudio/assets/vocoder_16k).\n"
    gan = load_vocoder()
    rep = gan.representation
    clips = held_out_clips(rep.sample_rate)
    held, means = quality_table(clips, gan, rep)
    samples = {c: load_audio(SAMPLES / f"{c}.wav", sample_rate=rep.sample_rate)[0] for c in SAMPLE_CLIPS
               if (SAMPLES / f"{c}.wav").is_file()}
    sample_lines, _ = quality_table(samples, gan, rep)
    gl64 = means["Griffin-Lim 64"]
    ours = means["GAN vocoder (bundled)"]
    verdict = ("better than" if (ours < gl64).all() else "not yet better than") + " Griffin-Lim 64 on both distances"
    return "\n".join([
        f"### Mel vocoders (16 kHz, 80 mel bands, n_fft 1024, hop 256): bundled {gan.source.split('/')[-1]}",
        "",
        (f"Held-out chorales ({', '.join(TEST_PIECES)}, first {CLIP_SECONDS:.0f} s) x {len(TEST_PROGRAMS)} "
        f"instruments ({', '.join(TEST_PROGRAMS.values())}; * never heard in training), {len(clips)} clips; "
        f"lower is better. The GAN vocoder is {verdict}."),
        "",
        *held,
        "",
        f"samples/ clips ({', '.join(samples)}; notes and speech, not in the training data):",
        "",
        *sample_lines,
        "",
        "Speed, 4 s of audio from its mel spectrogram, 2 threads (random weights except the bundled model):",
        "",
        *speed_table(gan, rep),
        "",
    ])


if __name__ == "__main__":
    print(machine())
    print(run())

"""IF-Mel encode + decode throughput beside librosa doing the same steps, in one process.

Both sides run GANSynth's IF-Mel pipeline on a batch of real notes (FluidR3_GM
renders from samples/): STFT, power and unwrapped phase through the mel
filterbank, instantaneous frequency; then back: pseudo-inverse to linear power,
phase by cumulative sum through the normalised transpose, inverse STFT. The
figure is seconds of audio processed per second of wall time.

    .venv/bin/python benchmarks/frontend.py [--batch 16] [--device cuda]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import librosa
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_time, machine  # noqa: E402

from ganaudio.io import load_audio  # noqa: E402
from ganaudio.representations import IFMel  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
N_FFT, HOP, N_MELS, SR = 1024, 256, 256, 16000


def batch_of_notes(batch: int) -> np.ndarray:
    notes = [load_audio(SAMPLES / f"{n}.wav")[0] for n in ("trumpet_c4", "flute_c3", "violin_a4", "piano_e3")]
    return np.stack([notes[i % len(notes)] for i in range(batch)])


def librosa_ifmel_round_trip(y: np.ndarray, fb: np.ndarray, to_mel: np.ndarray, to_lin: np.ndarray,
                             fb_pinv: np.ndarray) -> np.ndarray:
    """The same IF-Mel steps with librosa and numpy (librosa.stft / istft handle the batch axis)."""
    spec = librosa.stft(y, n_fft=N_FFT, hop_length=HOP)
    power = np.abs(spec) ** 2
    log_mel = np.log(fb @ power + 1e-6)
    unwrapped = np.unwrap(np.angle(spec), axis=-1)
    mel_phase = to_mel @ unwrapped
    mel_if = np.diff(np.unwrap(mel_phase, axis=-1), axis=-1, prepend=0.0)
    # inverse
    lin_power = np.maximum(fb_pinv @ np.maximum(np.exp(log_mel) - 1e-6, 0), 0)
    phase = to_lin @ np.cumsum(mel_if, axis=-1)
    return librosa.istft(np.sqrt(lin_power) * np.exp(1j * phase), hop_length=HOP, n_fft=N_FFT, length=y.shape[-1])


def run(batch: int = 16, device: str = "cpu") -> str:
    y = batch_of_notes(batch)
    seconds_of_audio = y.size / SR
    rep = IFMel(sample_rate=SR, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS)
    fb = librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=N_MELS, htk=True, norm=None)
    to_mel = fb / np.maximum(fb.sum(axis=1, keepdims=True), 1e-12)
    to_lin = fb.T / np.maximum(fb.sum(axis=0), 1e-12)[:, None]
    fb_pinv = np.linalg.pinv(fb)

    t_librosa = best_time(lambda: librosa_ifmel_round_trip(y, fb, to_mel, to_lin, fb_pinv), repeat=3)
    rows = [("librosa + numpy (baseline)", "cpu", t_librosa)]
    x = torch.from_numpy(y)

    def ours(x=x):
        return rep.decode(rep.encode(x), length=x.shape[-1], method="phase")

    rows.append(("ganaudio IFMel (torch)", "cpu", best_time(ours, repeat=3)))
    if device.startswith("cuda") and torch.cuda.is_available():
        xg = x.to(device)
        rows.append(("ganaudio IFMel (torch)", torch.cuda.get_device_name(0),
                     best_time(lambda: ours(xg), repeat=10, sync=torch.cuda.synchronize)))
    lines = [
        f"### IF-Mel encode + decode, batch {batch} x {y.shape[-1] / SR:.0f} s notes "
        f"(n_fft {N_FFT}, hop {HOP}, {N_MELS} mel bands, 16 kHz)",
        "",
        "| implementation | device | seconds | audio s / s | vs librosa |",
        "|---|---|---|---|---|",
    ]
    for name, dev, seconds in rows:
        lines.append(f"| {name} | {dev} | {seconds:.3f} | {seconds_of_audio / seconds:.0f} | "
                     f"{t_librosa / seconds:.2f}x |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    print(machine())
    print(run(args.batch, args.device))

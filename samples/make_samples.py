"""Regenerate the committed audio samples in samples/ (run by hand, not by tests).

Notes are rendered from Debian's FluidR3_GM SoundFont (recorded instruments) with
FluidSynth at 16 kHz; the speech clip is espeak-ng. The files are committed so
tests and the demo never depend on these tools' exact versions.

    .venv/bin/python samples/make_samples.py
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import fluidsynth
import numpy as np

from ganaudio.io import load_audio, save_audio

HERE = Path(__file__).parent
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SR = 16000

# (file name, GM program, MIDI pitch, held seconds, total seconds)
NOTES = [
    ("trumpet_c4", 56, 60, 1.5, 2.0),
    ("flute_c3", 73, 48, 1.5, 2.0),
    ("violin_a4", 40, 69, 1.5, 2.0),
    ("piano_e3", 0, 52, 1.5, 2.0),
]
# A short phrase: (program, [(pitch, start s, end s)])
PHRASE = (73, [(72, 0.0, 0.45), (74, 0.5, 0.95), (76, 1.0, 1.45), (77, 1.5, 1.95), (79, 2.0, 2.9)])


def _synth(program: int) -> tuple[fluidsynth.Synth, int]:
    synth = fluidsynth.Synth(samplerate=float(SR))
    sfid = synth.sfload(SOUNDFONT)
    synth.program_select(0, sfid, 0, program)
    return synth, sfid


def _take(synth: fluidsynth.Synth, seconds: float) -> np.ndarray:
    stereo = synth.get_samples(int(round(seconds * SR))).astype(np.float32) / 32768.0
    return stereo.reshape(-1, 2).mean(axis=1)


def render_note(program: int, pitch: int, held: float, total: float) -> np.ndarray:
    synth, _ = _synth(program)
    synth.noteon(0, pitch, 100)
    audio = [_take(synth, held)]
    synth.noteoff(0, pitch)
    audio.append(_take(synth, total - held))
    synth.delete()
    return np.concatenate(audio)


def render_phrase(program: int, notes: list[tuple[int, float, float]]) -> np.ndarray:
    synth, _ = _synth(program)
    events = sorted([(s, "on", p) for p, s, _ in notes] + [(e, "off", p) for p, _, e in notes])
    audio, now = [], 0.0
    for time, kind, pitch in events:
        if time > now:
            audio.append(_take(synth, time - now))
            now = time
        synth.noteon(0, pitch, 100) if kind == "on" else synth.noteoff(0, pitch)
    audio.append(_take(synth, 0.6))
    synth.delete()
    return np.concatenate(audio)


def main() -> None:
    for name, program, pitch, held, total in NOTES:
        y = render_note(program, pitch, held, total)
        save_audio(HERE / f"{name}.wav", 0.9 * y / np.abs(y).max(), SR, subtype="PCM_16")
    y = render_phrase(*PHRASE)
    save_audio(HERE / "flute_phrase.wav", 0.9 * y / np.abs(y).max(), SR, subtype="PCM_16")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "speech.wav"
        text = "Generative adversarial networks can make music from noise."
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True)
        y, _ = load_audio(raw, sample_rate=SR)
    save_audio(HERE / "speech.wav", 0.9 * y / np.abs(y).max(), SR, subtype="PCM_16")


if __name__ == "__main__":
    main()

"""Long inputs: bounded memory (peak RSS of a 10x longer input), refusals sized by the memory estimate, streamed files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile as sf
from click.testing import CliRunner
from safetensors import safe_open

from ganaudio.cli import main
from ganaudio.representations import IFMel
from ganaudio.representations.streaming import estimate_bytes

ROOT = Path(__file__).resolve().parents[2]
PEAK = ("import atexit, resource, sys\n"
        "atexit.register(lambda: open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))\n"
        "from ganaudio.cli import main\n"
        "main(sys.argv[2:], standalone_mode=False)\n")


def _sine(path: Path, seconds: float, sr: int = 16000, fmt: str = "WAV") -> Path:
    with sf.SoundFile(str(path), "w", samplerate=sr, channels=1, format=fmt, subtype="PCM_16") as fh:
        step = 60 * sr
        for start in range(0, int(seconds * sr), step):
            t = np.arange(start, min(start + step, int(seconds * sr))) / sr
            fh.write((0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))
    return path


def _one_line_error(result, *needles):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and "Traceback" not in result.output, result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_analyze_peak_memory_does_not_grow_with_length(tmp_path):
    """1 and 10 minutes, analysed in two processes at once: the longer one peaks within 60 MB of the shorter.

    Holding the 10-minute recording, its STFT and a full-size picture took about 300 MB more than 1 minute.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    runs = []
    for minutes in (1, 10):
        wav = _sine(tmp_path / f"sine{minutes}.wav", 60 * minutes)
        args = [sys.executable, "-c", PEAK, str(tmp_path / f"rss{minutes}"), "analyze", str(wav), "-o",
                str(tmp_path / f"a{minutes}.png"), "--repr", "mel", "--quiet"]
        runs.append(subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    for proc in runs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out
    short, long = (int((tmp_path / f"rss{m}").read_text()) * 1024 for m in (1, 10))
    assert long - short < 60e6, f"1 min peaked at {short / 1e6:.0f} MB, 10 min at {long / 1e6:.0f} MB"
    assert (tmp_path / "a10.png").stat().st_size > 10_000


def test_tensor_refusal_matches_the_memory_estimate(tmp_path):
    wav = _sine(tmp_path / "one_minute.wav", 60)
    rep = IFMel(sample_rate=16000, n_fft=1024, hop_length=256, n_mels=512)
    estimate = estimate_bytes(rep, 60 * 16000)  # 15.4 MB
    old = tmp_path / "t.safetensors"
    old.write_bytes(b"older file")
    refused = CliRunner().invoke(main, ["analyze", str(wav), "-o", str(tmp_path / "a.png"), "--tensor", str(old),
                                        "--max-memory", "0.01"])
    _one_line_error(refused, f"needs about {estimate / 1e6:.0f} MB", "--max-memory 0.01 GB")
    assert old.read_bytes() == b"older file" and not (tmp_path / "a.png").exists()
    done = CliRunner().invoke(main, ["analyze", str(wav), "-o", str(tmp_path / "a.png"), "--tensor", str(old),
                                     "--max-memory", "0.02"])
    assert done.exit_code == 0, done.output
    with safe_open(str(old), framework="pt") as fh:
        spec = fh.get_tensor("spec")
    assert spec.numel() * spec.element_size() == estimate


def test_long_inputs_that_cannot_stream_are_refused_up_front(tmp_path):
    flac = _sine(tmp_path / "hour.flac", 3600, fmt="FLAC")  # a 1-hour recording, 16 kHz
    tensor = CliRunner().invoke(main, ["analyze", str(flac), "-o", str(tmp_path / "a.png"), "--sample-rate", "44100",
                                       "--tensor", str(tmp_path / "t.safetensors")])
    _one_line_error(tensor, "--tensor (ifmel of 60.0 min) needs about 2.5 GB", "--max-memory 2 GB")
    for command in ("analyze", "resynth"):
        out = tmp_path / ("c.png" if command == "analyze" else "c.wav")
        cqt = CliRunner().invoke(main, [command, str(flac), "-o", str(out), "--repr", "cqt"])
        _one_line_error(cqt, "the CQT of" if command == "resynth" else "the CQT (cqt of 60.0 min", "GB in memory")
        assert not out.exists()


def test_render_streams_mix_stems_and_picture_equal_to_the_api(tmp_path):
    import ganaudio

    pm = pretty_midi.PrettyMIDI()
    for k, (program, pitch) in enumerate([(0, 60), (40, 67)]):
        inst = pretty_midi.Instrument(program=program, name=f"part {k}")
        inst.notes = [pretty_midi.Note(velocity=90, pitch=pitch, start=0.5 * i, end=0.5 * i + 0.4 + 3 * (i == 2))
                      for i in range(4)]
        pm.instruments.append(inst)
    pm.write(str(tmp_path / "song.mid"))
    result = CliRunner().invoke(main, ["render", str(tmp_path / "song.mid"), "-o", str(tmp_path / "song.wav"),
                                       "--stems", str(tmp_path / "stems"), "--png", str(tmp_path / "song.png")])
    assert result.exit_code == 0, result.output
    synth = ganaudio.load()
    mix, stems = synth.render(tmp_path / "song.mid", stems=True)
    np.testing.assert_array_equal(sf.read(tmp_path / "song.wav", dtype="float32")[0], mix)
    for name, audio in stems.items():
        np.testing.assert_array_equal(sf.read(tmp_path / "stems" / f"{name}.wav", dtype="float32")[0], audio)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song.mid", "song.png", "song.wav", "stems"]


@pytest.mark.parametrize("block", [4096, 1 << 16])
def test_render_blocks_equal_whole_mix(block):
    import ganaudio
    from ganaudio.synth.render import SampledNotes, render_blocks
    from ganaudio.synth.schedule import read_notes

    synth = ganaudio.load()
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=0)
    inst.notes = [pretty_midi.Note(velocity=40 + 20 * i, pitch=55 + i, start=0.3 * i, end=0.3 * i + 0.2 + i)
                  for i in range(5)]
    pm.instruments.append(inst)
    notes = read_notes(pm, pitch_range=synth.pitch_range)
    waves, index = synth.raw_notes(np.broadcast_to(synth.random_timbre(0).latent, (len(notes), synth.latent_dim)),
                                   notes.pitch)
    source = SampledNotes(synth, notes, waves, index, attack=0.005, release=0.1)
    whole = list(render_blocks(source, gain=None, stems=True, block=10**9))
    parts = list(render_blocks(source, gain=None, stems=True, block=block))
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), np.concatenate([p[0] for p in whole]))
    np.testing.assert_array_equal(np.concatenate([p[1][0] for p in parts]), np.concatenate([p[1][0] for p in whole]))

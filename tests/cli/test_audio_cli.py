"""CLI: info, analyze and resynth through click's CliRunner, including bad input."""

from __future__ import annotations

import json
import re

import pytest
import torch
from click.testing import CliRunner

from ganaudio.cli import main
from ganaudio.io import load_audio


@pytest.fixture
def runner():
    return CliRunner()


def test_info(runner):
    result = runner.invoke(main, ["info"])
    assert result.exit_code == 0, result.output
    assert "torchaudio" in result.output and "representations:" in result.output


def test_help_has_examples(runner):
    for command in ("analyze", "resynth", "info"):
        result = runner.invoke(main, [command, "--help"])
        assert result.exit_code == 0 and "Example" in result.output


@pytest.mark.parametrize("repr_name", ["stft", "mel", "if", "ifmel", "cqt"])
def test_analyze_writes_picture_and_tensor(runner, tmp_path, samples_dir, repr_name):
    out, tensor = tmp_path / "p.png", tmp_path / "t.pt"
    result = runner.invoke(main, ["analyze", str(samples_dir / "flute_c3.wav"), "-o", str(out), "--repr", repr_name,
                                  "--tensor", str(tensor)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    saved = torch.load(tensor, weights_only=True)
    config = json.loads(saved["representation"])
    assert config["type"] == repr_name and saved["spec"].ndim == 3


def test_analyze_safetensors(runner, tmp_path, samples_dir):
    from safetensors import safe_open

    tensor = tmp_path / "t.safetensors"
    result = runner.invoke(main, ["analyze", str(samples_dir / "trumpet_c4.wav"), "-o", str(tmp_path / "p.svg"),
                                  "--tensor", str(tensor), "--n-mels", "128"])
    assert result.exit_code == 0, result.output
    with safe_open(str(tensor), "pt") as handle:
        assert handle.get_tensor("spec").shape[:2] == (2, 128)
        assert json.loads(handle.metadata()["representation"])["n_mels"] == 128


@pytest.mark.parametrize(
    "args,max_sc",
    [
        (["--repr", "if", "--vocoder", "phase"], 0.01),
        (["--repr", "stft", "--vocoder", "phase"], 0.01),
        (["--repr", "ifmel", "--n-mels", "512", "--vocoder", "phase-griffinlim", "--iters", "8"], 0.1),
        (["--repr", "mel", "--n-mels", "256", "--vocoder", "griffinlim", "--iters", "16"], 0.4),
    ],
)
def test_resynth_reports_quality(runner, tmp_path, samples_dir, args, max_sc):
    out = tmp_path / "r.wav"
    result = runner.invoke(main, ["resynth", str(samples_dir / "trumpet_c4.wav"), "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    sc = float(re.search(r"spectral convergence ([0-9.]+)", result.output).group(1))
    assert sc < max_sc, result.output
    y, sr = load_audio(out)
    assert sr == 16000 and len(y) == 32000


def test_resynth_resamples(runner, tmp_path, samples_dir):
    out = tmp_path / "r.flac"
    result = runner.invoke(main, ["resynth", str(samples_dir / "speech.wav"), "-o", str(out), "--sample-rate", "8000",
                                  "--repr", "if", "--vocoder", "phase", "--n-fft", "256", "--hop", "64"])
    assert result.exit_code == 0, result.output
    assert load_audio(out)[1] == 8000


@pytest.mark.parametrize(
    "args,match",
    [
        (["resynth", "{missing}", "-o", "{out}.wav"], "no such audio file"),
        (["resynth", "{bad}", "-o", "{out}.wav"], "cannot read audio"),
        (["resynth", "{good}", "-o", "{out}.wav", "--repr", "mel", "--vocoder", "phase"], "no phase channel"),
        (["resynth", "{good}", "-o", "{out}.mp4"], "cannot save audio"),
        (["resynth", "{good}", "-o", "{out}.wav", "--n-fft", "100", "--hop", "0"], "hop_length"),
        (["resynth", "{good}", "-o", "{out}.wav", "--sample-rate", "-5"], "sample_rate"),
        (["analyze", "{good}", "-o", "{out}.jpg"], "picture must end"),
        (["analyze", "{good}", "-o", "{out}.png", "--repr", "if", "--n-mels", "64"], "--n-mels"),
        (["analyze", "{good}", "-o", "{out}.png", "--tensor", "{out}.npy"], "tensor file"),
        (["analyze", "{good}", "-o", "{out}.png", "--device", "cuda:7"], "device"),
    ],
)
def test_bad_input_one_line_exit_2(runner, tmp_path, samples_dir, args, match):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    fill = dict(missing=str(tmp_path / "nope.wav"), bad=str(bad), good=str(samples_dir / "flute_c3.wav"),
                out=str(tmp_path / "out"))
    result = runner.invoke(main, [a.format(**fill) for a in args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and match in lines[0], result.output
    assert "Traceback" not in result.output
    assert not list(tmp_path.glob("out*"))

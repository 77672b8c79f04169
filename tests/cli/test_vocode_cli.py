"""CLI: vocode (audio or saved mel tensors), train vocoder, resynth --vocoder with a GAN vocoder; bad input."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from ganaudio.cli import main
from ganaudio.io import load_audio
from ganaudio.vocoders import bundled_vocoders, load_vocoder
from tests.vocoders.helpers import TINY, write_tiny_vocoder

needs_bundled = pytest.mark.skipif("vocoder_16k" not in bundled_vocoders(), reason="bundled vocoder folder absent")


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def tiny(tmp_path):
    return write_tiny_vocoder(tmp_path / "tiny_vocoder")


def test_help_has_examples(runner):
    for args in (["vocode", "--help"], ["train", "vocoder", "--help"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0 and "Example" in result.output


def test_vocode_audio_with_a_vocoder_folder(runner, tmp_path, samples_dir, tiny):
    out = tmp_path / "out.wav"
    result = runner.invoke(main, ["vocode", str(samples_dir / "violin_a4.wav"), "-o", str(out), "--vocoder", str(tiny)])
    assert result.exit_code == 0, result.output
    assert "multi-resolution STFT distance" in result.output and "mel L1" in result.output
    y, sr = load_audio(out)
    assert sr == 16000 and len(y) == 32000


def test_vocode_npy_and_safetensors_mel(runner, tmp_path, samples_dir, tiny):
    vocoder = load_vocoder(tiny)
    y = torch.from_numpy(load_audio(samples_dir / "flute_c3.wav")[0])
    mel = vocoder.representation.encode(y)  # (1, 40, frames), as `analyze --repr mel --tensor` saves it
    np.save(tmp_path / "mel.npy", mel.numpy())
    import json

    from safetensors.torch import save_file

    save_file({"spec": mel}, str(tmp_path / "mel.safetensors"),
              metadata={"representation": json.dumps(vocoder.representation.config())})
    for name, voc in (("mel.npy", str(tiny)), ("mel.safetensors", str(tiny)), ("mel.safetensors", "griffinlim")):
        out = tmp_path / f"{name}.{voc[-4:]}.wav"
        result = runner.invoke(main, ["vocode", str(tmp_path / name), "-o", str(out), "--vocoder", voc,
                                      "--iters", "4"])
        assert result.exit_code == 0, result.output
        assert len(load_audio(out)[0]) == vocoder.representation.samples_for(mel.shape[-1])


def test_vocode_bad_input_is_one_line_and_writes_nothing(runner, tmp_path, tiny):
    out = tmp_path / "out.wav"
    torch.save({"spec": torch.zeros(1, 40, 10)}, tmp_path / "mel.pt")
    np.save(tmp_path / "wrong_bands.npy", np.zeros((64, 10), np.float32))
    (tmp_path / "broken.npy").write_bytes(b"not numpy")
    cases = [
        (["vocode", str(tmp_path / "mel.pt"), "--vocoder", str(tiny)], "pickle"),
        (["vocode", str(tmp_path / "wrong_bands.npy"), "--vocoder", str(tiny)], "40 mel bands"),
        (["vocode", str(tmp_path / "broken.npy"), "--vocoder", str(tiny)], "not a readable .npy"),
        (["vocode", str(tmp_path / "missing.wav"), "--vocoder", str(tiny)], "no such file"),
        (["vocode", str(tmp_path / "broken.npy"), "--vocoder", str(tmp_path / "nope")], "no vocoder"),
    ]
    for args, message in cases:
        result = runner.invoke(main, args + ["-o", str(out)])
        assert result.exit_code == 2, result.output
        assert "Error:" in result.output and message in result.output
        assert not out.exists()


def test_train_vocoder_cli_runs_two_steps_and_checks_the_hop(runner, tmp_path, samples_dir):
    data = tmp_path / "audio"
    data.mkdir()
    for name in ("violin_a4", "flute_phrase"):
        shutil.copy(samples_dir / f"{name}.wav", data)
    sets = [f"--set={k}={v}" for k, v in TINY.items()]
    args = ["train", "vocoder", "--data", str(data), "--out", str(tmp_path / "run"), "--steps", "2", *sets]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "mel_l1" in result.output and (tmp_path / "run/checkpoints/step_00000002/model.safetensors").is_file()
    again = runner.invoke(main, args[:-len(sets)] + sets)  # same folder without --resume
    assert again.exit_code == 2 and "--resume" in again.output
    bad = runner.invoke(main, ["train", "vocoder", "--data", str(data), "--out", str(tmp_path / "r2"),
                               "--preset", "v3", "--set", "hop_length=200", "--set", "segment_length=8000"])
    assert bad.exit_code == 2 and "multiply to 256, but the hop length is 200" in bad.output
    shown = runner.invoke(main, ["train", "vocoder", "--data", str(data), "--out", str(tmp_path / "r3"),
                                 "--preset", "v1", "--set", "sample_rate=22050", "--show-config"])
    assert shown.exit_code == 0 and '"sample_rate": 22050' in shown.output


def test_resynth_with_a_gan_vocoder(runner, tmp_path, samples_dir, tiny):
    out = tmp_path / "r.wav"
    result = runner.invoke(main, ["resynth", str(samples_dir / "trumpet_c4.wav"), "-o", str(out), "--vocoder", str(tiny)])
    assert result.exit_code == 0, result.output
    assert "-> mel ->" in result.output and len(load_audio(out)[0]) == 32000
    clash = runner.invoke(main, ["resynth", str(samples_dir / "trumpet_c4.wav"), "-o", str(tmp_path / "x.wav"),
                                 "--vocoder", str(tiny), "--repr", "ifmel", "--n-mels", "64"])
    assert clash.exit_code == 2 and "drop --n-mels, --repr ifmel" in clash.output
    assert not (tmp_path / "x.wav").exists()


@needs_bundled
def test_vocode_with_the_bundled_default(runner, tmp_path, samples_dir):
    out = tmp_path / "v.wav"
    result = runner.invoke(main, ["vocode", str(samples_dir / "flute_phrase.wav"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_audio(out)[1] == 16000

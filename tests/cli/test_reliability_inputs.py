"""Issue 17: tiny and truncated audio, absurd numbers, unavailable devices and absurd model configs.

Each refusal is exit 2 with one ``Error:`` line and no traceback, and leaves an older output as it was;
inputs that can be handled (tiny audio, silence, seeds of any size) are handled.
"""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest
import soundfile as sf

from ganaudio.io import load_audio
from tests.cli.reliability import SAMPLES, assert_one_error, old_file, run, write_wav

WAV = SAMPLES / "trumpet_c4.wav"
ASSETS = SAMPLES.parent / "ganaudio" / "assets"


# ------------------------------------------------------------------ tiny audio
@pytest.mark.parametrize("n", [1, 100])
@pytest.mark.parametrize("args", [
    ["vocode"],
    ["resynth", "--vocoder", "gan"],
    ["transfer", "--model", "cyclegan_piano_violin", "--vocoder", "griffinlim"],
    ["transfer", "--model", "cyclegan_piano_violin"],
])
def test_tiny_audio_is_padded_and_trimmed_back(n, args, tmp_path):
    tiny = write_wav(tmp_path / "tiny.wav", 0.3 * np.sin(np.arange(n) / 5.0))
    out = tmp_path / "out.wav"
    result = run(args[0], tiny, "-o", out, *args[1:])
    assert result.exit_code == 0, result.output
    y, sr = sf.read(str(out))
    assert sr == 16000 and len(y) == n  # the output has the input's length
    assert np.all(np.isfinite(y)) and np.max(np.abs(y)) <= 1.0


@pytest.mark.parametrize("args", [["vocode"], ["resynth", "--vocoder", "gan"]])
def test_silence_gives_silence(args, tmp_path):
    silent = write_wav(tmp_path / "silent.wav", np.zeros(1000))
    out = tmp_path / "out.wav"
    result = run(args[0], silent, "-o", out, *args[1:])
    assert result.exit_code == 0, result.output
    y, _ = sf.read(str(out))
    assert len(y) == 1000 and not np.any(y)


def test_analyze_one_sample(tmp_path):
    one = write_wav(tmp_path / "one.wav", [0.5])
    result = run("analyze", one, "-o", tmp_path / "one.png", "--repr", "mel", "--tensor", tmp_path / "one.safetensors")
    assert result.exit_code == 0, result.output
    assert "-> mel 1x80x1" in result.output


# ------------------------------------------------------------ truncated files
def test_wav_cut_inside_its_header_or_nearly_empty_is_refused(tmp_path):
    data = WAV.read_bytes()
    out = tmp_path / "picture.png"
    before = old_file(out)
    for size, needle in [(40, "cut inside its header (40 of the 64044 bytes it declares"),
                         (44, "only 0 (0.0%) are there"), (200, "only 156 (0.2%) are there")]:
        cut = tmp_path / f"cut{size}.wav"
        cut.write_bytes(data[:size])
        assert_one_error(run("analyze", cut, "-o", out), str(cut), needle)
        assert out.read_bytes() == before


def test_wav_with_its_data_cut_is_read_with_a_warning(tmp_path, caplog):
    data = WAV.read_bytes()  # 16-bit mono at 16 kHz: 44-byte header, 2 s of data
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[:44 + 32000])  # one second of two
    with caplog.at_level(logging.WARNING, logger="ganaudio.io"):
        y, sr = load_audio(cut)
    assert len(y) == sr == 16000
    assert "32000 of 64000 data bytes" in caplog.text and "1.00 s of audio missing" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ganaudio.io"):
        load_audio(WAV)
    assert caplog.text == ""  # a whole file reads quietly


# --------------------------------------------------------------- absurd numbers
@pytest.mark.parametrize("args,needles", [
    (["generate", "--pitch", 60, "--duration", 1e9], ["--duration 1e+09 s is over the limit of 600 s", "render"]),
    (["generate", "--pitch", 60, "--duration", 1e5], ["limit of 600 s"]),
    (["generate", "--pitch", 60, "--duration", "nan"], ["positive number of seconds"]),
    (["interpolate", "--pitch", 60, "--from", 1, "--to", 2, "--steps", 1000000], ["--steps 1000000", "1000"]),
    (["timbres", "--count", 10**9], ["--count 1000000000 is over the limit of 1000", "--start-seed 1000"]),
    (["compose", "--bars", 100000], ["--bars 100000 is over the limit of 2000"]),
    (["generate", "--pitch", 60, "--device", "meta"], ["--device meta"]),
    (["generate", "--pitch", 60, "--device", "mps"], ["--device 'mps'", "not available"]),
    (["generate", "--pitch", 60, "--device", "nonsense"], ["not a torch device"]),
    (["analyze", WAV, "--n-mels", 0], ["--n-mels must be between 1 and 513", "got 0"]),
    (["analyze", WAV, "--repr", "mel", "--n-mels", 100000], ["--n-mels"]),
    (["resynth", WAV, "--n-fft", 3], ["--n-fft must be between 16"]),
    (["resynth", WAV, "--n-fft", 128], ["--hop (hop_length) must be between 1 and --n-fft (128)", "--hop 32"]),
    (["analyze", WAV, "--n-fft", 2**40], ["--n-fft"]),
])
def test_absurd_numbers_are_refused_up_front(args, needles, tmp_path):
    import torch

    if "mps" in args and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    suffix = {"analyze": ".png", "compose": ".mid", "timbres": ""}.get(args[0], ".wav")
    out = tmp_path / f"out{suffix}"
    before = old_file(out) if suffix else None
    assert_one_error(run(*args, "-o", out), *needles)
    if before is not None:
        assert out.read_bytes() == before


def test_cuda_index_past_the_gpus_is_refused():
    import torch

    from ganaudio.cli.common import resolve_device
    from ganaudio.errors import ParameterError

    with pytest.raises(ParameterError, match="cuda"):
        resolve_device(f"cuda:{torch.cuda.device_count() + 3}")


def test_huge_seed_works_and_is_deterministic(tmp_path):
    outs = [tmp_path / f"{k}.wav" for k in range(2)]
    for out in outs:
        result = run("generate", "--pitch", 60, "--seed", 99999999999999999999999, "-o", out)
        assert result.exit_code == 0, result.output
    first, second = (sf.read(str(out))[0] for out in outs)  # (WAV headers hold a time stamp)
    np.testing.assert_array_equal(first, second)
    result = run("generate", "--pitch", 60, "--seed", 7, "-o", tmp_path / "7.wav")
    assert result.exit_code == 0, result.output
    assert not np.array_equal(sf.read(str(tmp_path / "7.wav"))[0], first)


def test_huge_seed_composes(tmp_path):
    out = tmp_path / "piece.mid"
    result = run("compose", "--bars", 4, "--seed", -(10**30), "-o", out)
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0


# ------------------------------------------------------------------ empty MIDI
def test_evaluate_render_of_an_empty_midi_says_it_has_no_notes(tmp_path):
    empty = tmp_path / "empty.mid"
    empty.write_bytes(b"")
    assert_one_error(run("evaluate", "render", empty, WAV), "empty.mid", "no notes")
    header_only = tmp_path / "header.mid"
    header_only.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x00\x01\xe0")
    assert_one_error(run("evaluate", "render", header_only, WAV), "header.mid: the MIDI file has no notes")


# ------------------------------------------------------------- model folders
def _model_copy(tmp_path, name: str, section: str, field: str, value):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "model.safetensors").symlink_to(ASSETS / name / "model.safetensors")
    config = json.loads((ASSETS / name / "config.json").read_text())
    config[section][field] = value
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("name,section,field,value,needle", [
    ("gansynth_tiny", "generator", "latent_dim", 10**9, "generator.latent_dim is 1000000000; allowed 1 to 4096"),
    ("gansynth_tiny", "representation", "n_fft", 2**40, "representation.n_fft is 1099511627776; allowed 2 to"),
    ("gansynth_tiny", "generator", "channels", [10**6] * 6, "generator.channels[0] is 1000000; allowed 0 to 4096"),
    ("gansynth_tiny", "generator", "latent_dim", -5, "generator.latent_dim is -5; allowed 1 to 4096"),
    ("gansynth_tiny", "generator", "latent_dim", 64.5, "generator.latent_dim is 64.5; expected a whole number"),
    ("gansynth_tiny", "generator", "n_pitches", 10**6, "generator.n_pitches is 1000000; allowed 1 to 128"),
])
def test_absurd_model_config_is_refused_naming_the_field(name, section, field, value, needle, tmp_path):
    folder = _model_copy(tmp_path, name, section, field, value)
    out = tmp_path / "note.wav"
    before = old_file(out)
    assert_one_error(run("generate", "--pitch", 60, "--model", folder, "-o", out), "config.json", needle)
    assert out.read_bytes() == before


@pytest.mark.parametrize("field,value", [("dim", 10**6), ("n_mels", 0), ("sample_rate", 1.5)])
def test_absurd_vocoder_config_is_refused(field, value, tmp_path):
    folder = _model_copy(tmp_path, "vocoder_16k", "generator", field, value)
    assert_one_error(run("vocode", WAV, "-o", tmp_path / "o.wav", "--vocoder", folder), f"generator.{field}")


def test_absurd_musegan_config_is_refused(tmp_path):
    folder = _model_copy(tmp_path, "musegan_chorales", "generator", "temporal_hidden", 10**7)
    assert_one_error(run("compose", "--model", folder, "-o", tmp_path / "x.mid"), "generator.temporal_hidden")
    shutil.rmtree(folder)

"""``ganaudio compose`` and ``ganaudio train musegan`` through click's CliRunner: output, determinism, bad input."""

import os

import pretty_midi
import pytest
from click.testing import CliRunner

from ganaudio.cli import main
from tests.musegan_fixtures import phrase_folder, tiny_model  # noqa: F401  (fixtures)


def _compose(*args):
    return CliRunner().invoke(main, ["compose", *map(str, args)])


def test_compose_writes_named_tracks_deterministically(tiny_model, tmp_path):  # noqa: F811
    a, b = tmp_path / "a.mid", tmp_path / "sub" / "b.mid"
    result = _compose("--model", tiny_model, "--bars", 3, "--seed", 5, "-o", a)
    assert result.exit_code == 0, result.output
    assert "3 bars" in result.output and "Soprano, Alto, Tenor, Bass" in result.output
    assert _compose("--model", tiny_model, "--bars", 3, "--seed", 5, "-o", b).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    midi = pretty_midi.PrettyMIDI(str(a))
    assert [i.name for i in midi.instruments] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert midi.get_end_time() <= 3 * 4 * 60 / 100 + 1e-6   # 3 bars at the model's 100 qpm


@pytest.mark.parametrize("args,message", [
    (["--bars", "0"], "--bars must be >= 1"),
    (["--bars", "-3"], "--bars must be >= 1"),
    (["--timbres", "1,2"], "apply to --render only"),
    (["--render", "x.mp4"], "--render"),
])
def test_compose_bad_options(tiny_model, tmp_path, args, message):  # noqa: F811
    result = _compose("--model", tiny_model, "-o", tmp_path / "x.mid", *args)
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "x.mid").exists()


def test_compose_missing_model_and_bad_output(tiny_model, tmp_path):  # noqa: F811
    result = _compose("--model", tmp_path / "nope", "-o", tmp_path / "x.mid")
    assert result.exit_code == 2 and "Error: model" in result.output and "nope" in result.output
    result = _compose("--model", tiny_model, "-o", tmp_path / "x.wav")
    assert result.exit_code == 2 and ".mid" in result.output
    (tmp_path / "folder.mid").mkdir()
    result = _compose("--model", tiny_model, "-o", tmp_path / "folder.mid")
    assert result.exit_code == 2 and "is a folder" in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_compose_unwritable_output(tiny_model, tmp_path):  # noqa: F811
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = _compose("--model", tiny_model, "-o", locked / "x.mid")
        assert result.exit_code == 2 and "not a writable folder" in result.output
    finally:
        locked.chmod(0o700)


def test_compose_unwritable_output_under_a_file(tiny_model, tmp_path):  # noqa: F811
    (tmp_path / "file").write_text("not a folder")
    result = _compose("--model", tiny_model, "-o", tmp_path / "file" / "x.mid")
    assert result.exit_code == 2 and "not a writable folder" in result.output


def test_train_musegan_bad_input(tmp_path, phrase_folder):  # noqa: F811
    result = CliRunner().invoke(main, ["train", "musegan", "--data", str(tmp_path / "none"), "--out",
                                       str(tmp_path / "run"), "--steps", "1", "--quiet"])
    assert result.exit_code == 2 and "prepare midi" in result.output
    result = CliRunner().invoke(main, ["train", "musegan", "--data", str(phrase_folder), "--out",
                                       str(tmp_path / "run"), "--steps", "0"])
    assert result.exit_code == 2 and "--steps" in result.output
    result = CliRunner().invoke(main, ["train", "musegan", "--data", str(phrase_folder), "--out",
                                       str(tmp_path / "run"), "--set", "binarize=round"])
    assert result.exit_code == 2 and "binarize" in result.output
    result = CliRunner().invoke(main, ["train", "musegan", "--data", str(phrase_folder), "--out",
                                       str(tmp_path / "run"), "--show-config", "--preset", "full"])
    assert result.exit_code == 0 and '"batch_size": 64' in result.output
    assert not (tmp_path / "run").exists()


def test_help_has_examples():
    for cmd in (["compose", "--help"], ["train", "musegan", "--help"]):
        result = CliRunner().invoke(main, cmd)
        assert result.exit_code == 0 and "Examples:" in result.output


def test_compose_render_without_a_synth_model_fails_cleanly(tiny_model, tmp_path):  # noqa: F811
    out, wav = tmp_path / "x.mid", tmp_path / "x.wav"
    result = _compose("--model", tiny_model, "-o", out, "--render", wav, "--synth-model", tmp_path / "no_synth")
    assert result.exit_code == 2 and result.output.startswith("Error:"), result.output
    assert not out.exists() and not wav.exists()


@pytest.mark.slow
def test_compose_render_plays_each_track(tiny_model, tmp_path):  # noqa: F811
    from ganaudio.api import bundled_models

    if "gansynth_tiny" not in bundled_models():
        pytest.skip("the bundled GANSynth model is not in this checkout")
    import soundfile as sf

    out, wav = tmp_path / "x.mid", tmp_path / "x.wav"
    result = _compose("--model", tiny_model, "--bars", 1, "-o", out, "--render", wav, "--timbres", "1,2")
    assert result.exit_code == 0, result.output
    audio, rate = sf.read(wav)
    assert abs(len(audio) / rate - 4 * 60 / 100) < 0.5 and abs(audio).max() > 0.01   # one bar at 100 qpm

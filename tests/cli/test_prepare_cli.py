"""CLI: prepare notes | audio | render through click's CliRunner, including bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganaudio.cli import main
from ganaudio.cli.prepare import parse_int_list, prepare
from ganaudio.errors import ParameterError

SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
needs_soundfont = pytest.mark.skipif(not SOUNDFONT.is_file(), reason="TimGM6mb SoundFont not installed")


@pytest.fixture
def runner():
    return CliRunner()


def test_group_is_exported_and_registered():
    assert main.get_command(None, "prepare") is prepare
    assert set(prepare.commands) >= {"notes", "audio", "render"}


@pytest.mark.parametrize("args", [["prepare"], ["prepare", "notes"], ["prepare", "audio"], ["prepare", "render"]])
def test_help_has_examples(runner, args):
    result = runner.invoke(main, [*args, "--help"])
    assert result.exit_code == 0 and "Example" in result.output and "ganaudio prepare" in result.output


def test_parse_int_list():
    assert parse_int_list("24-26, 60,24", name="--pitches", low=0, high=127) == [24, 25, 26, 60]
    for bad in ("", "a", "30-20", "0-128", "-5"):
        with pytest.raises(ParameterError):
            parse_int_list(bad, name="--pitches", low=0, high=127)


@needs_soundfont
def test_prepare_notes(runner, tmp_path):
    pytest.importorskip("fluidsynth")
    out = tmp_path / "notes"
    args = ["prepare", "notes", "--soundfont", str(SOUNDFONT), "-o", str(out), "--programs", "0,40",
            "--pitches", "60,72,120", "--velocities", "100", "--duration", "0.5", "--release", "0.2",
            "--workers", "1", "--split", "note", "--seed", "3", "--quiet"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "4 notes of 2 programs" in result.output and "2 silent" in result.output
    assert len(result.output.strip().splitlines()) == 1
    examples = json.loads((out / "examples.json").read_text())
    assert len(examples) == 4 and all((out / "audio" / f"{k}.wav").is_file() for k in examples)
    again = runner.invoke(main, args)
    assert again.exit_code == 0 and "0 rendered, 4 already on disk" in again.output


def test_prepare_audio(runner, tmp_path, samples_dir):
    result = runner.invoke(main, ["prepare", "audio", str(samples_dir / "flute_phrase.wav"), "-o",
                                  str(tmp_path / "seg"), "--segment", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "segments of 1 s at 16000 Hz" in result.output
    assert len(list((tmp_path / "seg" / "audio").glob("flute_phrase-*.wav"))) >= 2


@needs_soundfont
def test_prepare_render(runner, tmp_path, samples_dir):
    pytest.importorskip("fluidsynth")
    result = runner.invoke(main, ["prepare", "render", str(samples_dir / "bach_chorale.mid"), "-o",
                                  str(tmp_path / "organ"), "--soundfont", str(SOUNDFONT), "--program", "19",
                                  "--quiet"])
    assert result.exit_code == 0, result.output
    assert "1 of 1 MIDI files rendered with program 19" in result.output
    assert (tmp_path / "organ" / "bach_chorale.wav").is_file()


@pytest.mark.parametrize(
    "args,match",
    [
        (["prepare", "notes", "--soundfont", "{missing}", "-o", "{out}"], "nope.sf2"),
        (["prepare", "notes", "--soundfont", "{bad}", "-o", "{out}", "--programs", "0", "--pitches", "60",
          "--workers", "1"], "bad.sf2"),
        (["prepare", "notes", "--soundfont", "{sf}", "-o", "{out}", "--pitches", "10-200"], "--pitches"),
        (["prepare", "notes", "--soundfont", "{sf}", "-o", "{out}", "--programs", "piano"], "--programs"),
        (["prepare", "notes", "--soundfont", "{sf}", "-o", "{out}", "--velocities", "0"], "--velocities"),
        (["prepare", "notes", "--soundfont", "{sf}", "-o", "{out}", "--split-fractions", "1,1,1"], "split_fractions"),
        (["prepare", "notes", "--soundfont", "{sf}", "-o", "{out}", "--release", "9"], "release"),
        (["prepare", "audio", "{missing_dir}", "-o", "{out}"], "does not exist"),
        (["prepare", "audio", "{empty}", "-o", "{out}"], "no audio files"),
        (["prepare", "render", "{empty}", "-o", "{out}", "--soundfont", "{sf}", "--program", "0"], "no MIDI files"),
        (["prepare", "render", "{empty}", "-o", "{out}", "--soundfont", "{sf}", "--program", "200"], "program"),
    ],
)
def test_bad_input_one_line_exit_2(runner, tmp_path, args, match):
    if not SOUNDFONT.is_file() and "{sf}" in args:
        pytest.skip("TimGM6mb SoundFont not installed")
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00sfbk garbage" * 8)
    (tmp_path / "empty").mkdir()
    fill = {"missing": str(tmp_path / "nope.sf2"), "bad": str(bad), "sf": str(SOUNDFONT), "out": str(tmp_path / "out"),
                "missing_dir": str(tmp_path / "nope"), "empty": str(tmp_path / "empty")}
    result = runner.invoke(main, [a.format(**fill) for a in args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and match in lines[0], result.output
    assert "Traceback" not in result.output

"""CLI: ``ganaudio prepare midi`` through click's CliRunner, including bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import ganaudio.cli.prepare_midi  # noqa: F401  (registers the command)
from ganaudio.cli import main
from tests.data.test_midi_prepare import write_midi


@pytest.fixture
def runner():
    return CliRunner()


def test_help_has_examples(runner):
    result = runner.invoke(main, ["prepare", "midi", "--help"])
    assert result.exit_code == 0 and "Examples" in result.output and "--music21-corpus" in result.output


def test_prepare_midi_folder(runner, tmp_path):
    write_midi(tmp_path / "src" / "a.mid", bars=8, seed=1)
    (tmp_path / "src" / "bad.mid").write_bytes(b"not a midi file")
    out = tmp_path / "out"
    result = runner.invoke(main, ["prepare", "midi", str(tmp_path / "src"), "-o", str(out), "--resolution", "4",
                                  "--bars", "2", "--pitch-range", "36", "96", "--transpose", "-1..1", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "12 phrases (2, 32, 60)" in result.output and "1 unreadable" in result.output
    assert np.load(out / "shard_00000.npy").shape == (12, 2, 32, 60)
    assert json.loads((out / "index.json").read_text())["settings"]["transpose"] == [-1, 0, 1]


@pytest.mark.parametrize("args,message", [
    ([], "give a MIDI folder SRC or --music21-corpus"),
    (["{src}", "--transpose", "3..1"], "--transpose"),
    (["{src}", "--bars", "0"], "bars_per_phrase"),
    (["{src}", "--pitch-range", "60", "50"], "pitch_range"),
    (["{tmp}/missing"], "does not exist"),
    (["{src}", "--grouping", "merged", "--tracks", "2"], "tracks"),
])
def test_bad_input(runner, tmp_path, args, message):
    write_midi(tmp_path / "src" / "a.mid", bars=4)
    args = [a.format(src=tmp_path / "src", tmp=tmp_path) for a in args]
    result = runner.invoke(main, ["prepare", "midi", *args, "-o", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and message in lines[0]


def test_settings_clash_is_an_error(runner, tmp_path):
    write_midi(tmp_path / "src" / "a.mid", bars=4)
    base = ["prepare", "midi", str(tmp_path / "src"), "-o", str(tmp_path / "out"), "--quiet"]
    assert runner.invoke(main, base).exit_code == 0
    result = runner.invoke(main, [*base, "--resolution", "12"])
    assert result.exit_code == 2 and "other settings" in result.output


def test_bach_corpus_small(runner, tmp_path):
    pytest.importorskip("music21")
    result = runner.invoke(main, ["prepare", "midi", "--music21-corpus", "bach", "--limit", "2", "-o",
                                  str(tmp_path / "bach"), "--bars", "2", "--quiet"])
    assert result.exit_code == 0, result.output
    index = json.loads((tmp_path / "bach" / "phrases" / "index.json").read_text())
    assert index["names"] == ["Soprano", "Alto", "Tenor", "Bass"] and index["shape"] == [4, 192, 84]
    assert len(list((tmp_path / "bach" / "midi").glob("*.mid"))) == 2

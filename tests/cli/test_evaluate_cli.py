"""CLI: ``ganaudio evaluate rolls`` through click's CliRunner, on MIDI files, midi2roll .npz files and bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

import ganaudio.cli.evaluate  # noqa: F401  (registers the evaluate group)
from ganaudio.cli import main


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def chorale(samples_dir):
    return samples_dir / "bach_chorale.mid"


def test_help_has_examples(runner):
    for args in (["evaluate", "--help"], ["evaluate", "rolls", "--help"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0 and "Example" in result.output and "ganaudio evaluate rolls" in result.output


def test_midi_against_npz_report(runner, tmp_path, chorale):
    npz, report = tmp_path / "fake" / "chorale.npz", tmp_path / "out" / "report.json"
    result = runner.invoke(main, ["midi2roll", str(chorale), "-o", str(npz), "--pitch-range", "24", "108"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["evaluate", "rolls", "--real", str(chorale), "--fake", str(tmp_path / "fake"),
                                  "-o", str(report)])
    assert result.exit_code == 0, result.output
    assert "| Metric | Track | Training data | Generated |" in result.output
    assert "| EB (empty bars) | Soprano | 0.000 | 0.000 |" in result.output
    assert "| TD (tonal distance) | Soprano / Alto |" in result.output
    data = json.loads(report.read_text())
    assert data["real"]["tracks"] == ["Soprano", "Alto", "Tenor", "Bass"] and data["real"]["bars"] == 9
    assert data["real"]["metrics"] == data["fake"]["metrics"]  # the same music, cropped to 84 pitches
    assert data["real"]["tonal_distance"] == pytest.approx(data["fake"]["tonal_distance"])
    assert not list(tmp_path.rglob(".*"))  # no temporary files left behind


def test_folder_grid_options_and_threshold(runner, tmp_path, chorale):
    folder = tmp_path / "real"
    folder.mkdir()
    for name in ("a.mid", "b.MID"):
        shutil.copy(chorale, folder / name)
    (folder / "notes.txt").write_text("not music")
    report = tmp_path / "r.json"
    result = runner.invoke(main, ["evaluate", "rolls", "--real", str(folder), "--fake", str(chorale),
                                  "--steps-per-beat", "12", "--beats-per-bar", "2", "--threshold", "0.5",
                                  "-o", str(report)])
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert data["real"]["phrases"] == 2 and data["real"]["bars"] == 36 and data["real"]["steps_per_bar"] == 24
    assert data["real"]["metrics"] == data["fake"]["metrics"]


@pytest.mark.parametrize("setup, args, match", [
    (None, ["--real", "{tmp}/missing"], "no such file or folder"),
    ("empty", ["--real", "{tmp}/empty"], "no MIDI"),
    ("text", ["--real", "{tmp}/notes.txt"], "expected a MIDI file"),
    ("badmidi", ["--real", "{tmp}/bad.mid"], "not a readable MIDI file"),
    ("fsroll", ["--real", "{tmp}/fs.npz"], "frames per second"),
    ("mixed", ["--real", "{tmp}/mixed"], "same tracks"),
    ("resolution", ["--real", "{tmp}/r12.npz"], "steps per beat"),
])
def test_bad_input_one_error_line(runner, tmp_path, chorale, setup, args, match):
    if setup == "empty":
        (tmp_path / "empty").mkdir()
    elif setup == "text":
        (tmp_path / "notes.txt").write_text("hello")
    elif setup == "badmidi":
        (tmp_path / "bad.mid").write_bytes(b"MThd nonsense")
    elif setup == "fsroll":
        assert runner.invoke(main, ["midi2roll", str(chorale), "-o", str(tmp_path / "fs.npz"), "--fs", "50"]).exit_code == 0
    elif setup == "mixed":
        (tmp_path / "mixed").mkdir()
        shutil.copy(chorale, tmp_path / "mixed" / "a.mid")
        assert runner.invoke(main, ["midi2roll", str(chorale), "-o", str(tmp_path / "mixed" / "b.npz"),
                                    "--grouping", "merged"]).exit_code == 0
    elif setup == "resolution":
        assert runner.invoke(main, ["midi2roll", str(chorale), "-o", str(tmp_path / "r12.npz"),
                                    "--resolution", "12"]).exit_code == 0
        args = args + ["--steps-per-beat", "24"]
    argv = ["evaluate", "rolls", "--fake", str(chorale)] + [a.format(tmp=tmp_path) for a in args]
    result = runner.invoke(main, argv)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and match in errors[0], result.output
    assert "Traceback" not in result.output


def test_npz_roll_shapes(runner, tmp_path, chorale):
    bad = tmp_path / "bad.npz"
    with open(bad, "wb") as handle:
        np.savez(handle, roll=np.zeros((4, 10)), meta=np.array("{}"))
    result = runner.invoke(main, ["evaluate", "rolls", "--real", str(bad), "--fake", str(chorale)])
    assert result.exit_code == 2 and result.output.count("Error:") == 1

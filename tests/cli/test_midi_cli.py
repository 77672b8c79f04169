"""CLI: midi2roll and roll2midi through click's CliRunner, including bad input."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pretty_midi
import pytest
from click.testing import CliRunner

from ganaudio.cli import main
from tests.test_pianoroll import TEMPO_CHANGE, midi_bytes, note_tuples


@pytest.fixture
def runner():
    return CliRunner()


def test_help_has_examples(runner):
    for command in ("midi2roll", "roll2midi"):
        result = runner.invoke(main, [command, "--help"])
        assert result.exit_code == 0 and "Example" in result.output and f"ganaudio {command}" in result.output


def test_midi2roll_and_back(runner, tmp_path, samples_dir):
    npz, mid = tmp_path / "out" / "chorale.npz", tmp_path / "out" / "chorale.mid"
    result = runner.invoke(main, ["midi2roll", str(samples_dir / "bach_chorale.mid"), "-o", str(npz),
                                  "--pitch-range", "24", "108"])
    assert result.exit_code == 0, result.output
    assert "4 tracks x 864 steps (24 steps/beat) x 84 pitches, 163 notes" in result.output
    with np.load(npz, allow_pickle=False) as data:
        roll, meta = data["roll"], json.loads(str(data["meta"]))
    assert roll.shape == (4, 864, 84) and roll.dtype == np.float32
    assert meta["names"] == ["Soprano", "Alto", "Tenor", "Bass"] and meta["pitch_offset"] == 24
    result = runner.invoke(main, ["roll2midi", str(npz), "-o", str(mid)])
    assert result.exit_code == 0, result.output
    assert "4 tracks, 864 steps, 163 notes" in result.output
    original, back = (pretty_midi.PrettyMIDI(str(p)) for p in (samples_dir / "bach_chorale.mid", mid))
    assert [len(i.notes) for i in back.instruments] == [len(i.notes) for i in original.instruments]
    assert not list(tmp_path.rglob(".*"))  # no temporary files left behind


def test_options_fs_grouping_binary(runner, tmp_path):
    src, npz, mid = tmp_path / "song.mid", tmp_path / "song.npz", tmp_path / "song.mid.out"
    src.write_bytes(TEMPO_CHANGE)
    result = runner.invoke(main, ["midi2roll", str(src), "-o", str(npz), "--fs", "50", "--grouping",
                                  "program_family", "--binary", "--drums", "drop"])
    assert result.exit_code == 0, result.output
    assert "16 tracks" in result.output and "50 frames/s" in result.output
    with np.load(npz, allow_pickle=False) as data:
        assert set(np.unique(data["roll"])) == {0.0, 1.0}
    result = runner.invoke(main, ["roll2midi", str(npz), "-o", str(mid), "--velocity", "64"])
    assert result.exit_code == 0, result.output
    midi = pretty_midi.PrettyMIDI(str(mid))
    assert [i.program for i in midi.instruments] == [0, 33]
    assert {n.velocity for i in midi.instruments for n in i.notes} == {64}
    result = runner.invoke(main, ["midi2roll", str(src), "-o", str(tmp_path / "r.npz"), "--resolution", "4"])
    assert result.exit_code == 0 and "3 tracks x 24 steps (4 steps/beat)" in result.output
    back = tmp_path / "r.mid"
    assert runner.invoke(main, ["roll2midi", str(tmp_path / "r.npz"), "-o", str(back)]).exit_code == 0
    original = pretty_midi.PrettyMIDI(str(src))
    again = pretty_midi.PrettyMIDI(str(back))
    assert [n[2:] for n in note_tuples(again.instruments[1])] == [n[2:] for n in note_tuples(original.instruments[1])]
    np.testing.assert_allclose(again.get_tempo_changes()[1], original.get_tempo_changes()[1], rtol=1e-6)


def _bad_npz(tmp_path):
    files = {}
    files["corrupt.npz"] = b"PK\x03\x04 definitely not a zip"
    np.savez(tmp_path / "noroll.npz", meta=np.array("{}"))
    np.savez(tmp_path / "badmeta.npz", roll=np.zeros((1, 4, 128), np.float32), meta=np.array("{not json"))
    np.savez(tmp_path / "pickled.npz", roll=np.zeros((1, 4, 128), np.float32), meta=np.array([{"a": 1}], object))
    np.savez(tmp_path / "mismatch.npz", roll=np.zeros((2, 4, 128), np.float32),
             meta=np.array(json.dumps({"names": ["a"], "programs": [0], "is_drum": [False]})))
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return ["corrupt.npz", "noroll.npz", "badmeta.npz", "pickled.npz", "mismatch.npz", "missing.npz"]


def _assert_one_error_line(result, name):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and name in lines[0], result.output
    assert "Traceback" not in result.output


def test_bad_midi_inputs(runner, tmp_path):
    (tmp_path / "text.mid").write_text("hello")
    (tmp_path / "empty.mid").write_bytes(midi_bytes([]))
    (tmp_path / "drums.mid").write_bytes(midi_bytes([(0, True, "kit", [(36, 0, 10, 90)])]))
    for name, extra in [("missing.mid", []), ("text.mid", []), ("empty.mid", []), ("drums.mid", ["--drums", "drop"])]:
        out = tmp_path / f"{name}.npz"
        result = runner.invoke(main, ["midi2roll", str(tmp_path / name), "-o", str(out)] + extra)
        _assert_one_error_line(result, name)
        assert not out.exists()
    (tmp_path / "ok.mid").write_bytes(TEMPO_CHANGE)
    for extra in (["--resolution", "24", "--fs", "100"], ["--pitch-range", "100", "50"], ["--resolution", "0"]):
        result = runner.invoke(main, ["midi2roll", str(tmp_path / "ok.mid"), "-o", str(tmp_path / "x.npz")] + extra)
        assert result.exit_code == 2 and result.output.startswith("Error: ") and "Traceback" not in result.output


def test_bad_npz_inputs(runner, tmp_path):
    for name in _bad_npz(tmp_path):
        out = tmp_path / f"{name}.mid"
        result = runner.invoke(main, ["roll2midi", str(tmp_path / name), "-o", str(out)])
        _assert_one_error_line(result, name)
        assert not out.exists()
    assert zipfile.is_zipfile(tmp_path / "noroll.npz")

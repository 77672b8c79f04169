"""``ganaudio export sfz|sf2`` through click's CliRunner: good runs and bad input (exit 2, one line, nothing written)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ganaudio.cli import main
from ganaudio.data.soundfont import SoundFontSynth


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_help_lists_the_formats():
    result = run("export", "--help")
    assert result.exit_code == 0 and "sfz" in result.output and "sf2" in result.output
    for fmt in ("sfz", "sf2"):
        result = run("export", fmt, "--help")
        assert result.exit_code == 0 and "--timbre" in result.output and "ganaudio export" in result.output


def test_sfz_of_a_harmonic_synth_then_force_replaces_it(tiny_folder, tmp_path):
    out = tmp_path / "inst"
    args = ["export", "sfz", "--model", tiny_folder, "--timbre", 1, "--pitches", "48,60", "--velocities", "40,120",
            "--hold", 0.5, "--name", "tiny", "-o", out]
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "4 samples (2 pitches x 2 velocity layers)" in result.output
    assert files(out) == ["export.json", "samples", "samples/p048_v040.wav", "samples/p048_v120.wav",
                          "samples/p060_v040.wav", "samples/p060_v120.wav", "tiny.sfz"]
    before = (out / "tiny.sfz").read_text()
    result = run(*args)   # the folder now holds an instrument: refused, untouched
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("Error:") and "--force" in lines[0]
    assert (out / "tiny.sfz").read_text() == before
    result = run(*args[:-2], "--timbre", 2, "--pitches", 60, "-o", out, "--force")
    assert result.exit_code == 0, result.output
    assert files(out) == ["export.json", "samples", "samples/p060_v040.wav", "samples/p060_v120.wav", "tiny.sfz"]
    assert (out / "tiny.sfz").read_text() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inst"]


def test_sf2_of_the_bundled_gansynth(tmp_path):
    out = tmp_path / "seven.sf2"
    result = run("export", "sf2", "--timbre", 7, "--pitches", 60, "--velocities", 100, "-o", out)
    assert result.exit_code == 0, result.output
    player = SoundFontSynth(out)
    assert player.preset_name(0) == player.preset_name(42) == "gansynth_tiny_7"   # every program plays it
    y, _ = player.render_note(program=0, pitch=60, velocity=100, duration=1.0, release=0.3)
    assert abs(y).max() > 0.01
    player.close()


@pytest.fixture
def foreign_timbre(tiny_harmonic, tmp_path):
    return tiny_harmonic.save_timbre(tiny_harmonic.random_timbre(3), tmp_path / "other.timbre.json")


@pytest.mark.parametrize("args, message", [
    (["sf2", "--timbre", "FOREIGN", "--pitches", 60], "another model"),
    (["sf2", "--timbre", "violin", "--pitches", 60], "neither a seed"),
    (["sf2", "--velocities", "0,200", "--pitches", 60], "--velocities"),
    (["sf2", "--pitches", "30"], "MIDI 36-84"),
    (["sf2", "--pitches", "sixty"], "--pitches"),
    (["sf2", "--model", "vocoder_16k", "--pitches", 60], "not a note model"),
    (["sf2", "--model", "NOWHERE", "--pitches", 60], "nowhere"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, message, foreign_timbre, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    args = [foreign_timbre if a == "FOREIGN" else tmp_path / "nowhere" if a == "NOWHERE" else a for a in args]
    result = run("export", *args, "-o", out / "x.sf2")
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("Error:"), result.output
    assert message in lines[0], lines[0]
    assert files(out) == []


def test_outputs_that_cannot_be_written(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for args in (["sf2", "-o", blocker / "x.sf2"], ["sf2", "-o", tmp_path / "x.wav"], ["sfz", "-o", blocker / "sub"]):
        result = run("export", *args, "--pitches", 60)
        assert result.exit_code == 2 and result.output.startswith("Error:"), result.output
    assert files(tmp_path) == ["file"]

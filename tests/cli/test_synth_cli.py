"""ganaudio generate / interpolate / timbres / render through click's CliRunner, good and bad input."""

from __future__ import annotations

import math

import pretty_midi
import pytest
from click.testing import CliRunner

from ganaudio.cli import main
from ganaudio.io import audio_info
from tests.api.conftest import checkpoint, other_checkpoint  # noqa: F401  (session fixtures)
from tests.gan_fixtures import note_folder  # noqa: F401  (session fixture)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_generate(checkpoint, tmp_path):  # noqa: F811
    out = tmp_path / "note.wav"
    result = run("generate", "--pitch", 60, "--seed", 3, "--velocity", 90, "--duration", 0.4, "-o", out,
                 "--model", checkpoint)
    assert result.exit_code == 0, result.output
    info = audio_info(out)
    assert info.samplerate == 16000 and info.frames == round(0.5 * 16000)


def test_generate_bad_input_leaves_nothing(checkpoint, tmp_path):  # noqa: F811
    out = tmp_path / "note.wav"
    for args, message in [
        (["--pitch", 20], "outside"),
        (["--pitch", 60, "--seed", 1, "--timbre", tmp_path / "x.json"], "not both"),
        (["--pitch", 60, "--timbre", tmp_path / "missing.json"], "missing.json"),
    ]:
        result = run("generate", *args, "-o", out, "--model", checkpoint)
        assert result.exit_code == 2 and "Error:" in result.output and message in result.output, result.output
    result = run("generate", "--pitch", 60, "-o", tmp_path / "note.mp4", "--model", checkpoint)
    assert result.exit_code == 2 and ".wav" in result.output
    result = run("generate", "--pitch", 60, "-o", out, "--model", tmp_path / "nowhere")
    assert result.exit_code == 2 and "nowhere" in result.output
    assert _files(tmp_path) == []


def test_unwritable_output(checkpoint, tmp_path):  # noqa: F811
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("generate", "--pitch", 60, "-o", blocker / "note.wav", "--model", checkpoint)
    assert result.exit_code == 2 and "Error:" in result.output and "writable" in result.output
    assert _files(tmp_path) == ["file"]


def test_timbres_then_generate_and_interpolate_from_files(checkpoint, tmp_path):  # noqa: F811
    bank = tmp_path / "bank"
    result = run("timbres", "--count", 3, "--start-seed", 5, "-o", bank, "--model", checkpoint)
    assert result.exit_code == 0, result.output
    assert _files(bank) == [f"seed_{s:04d}.{ext}" for s in (5, 6, 7) for ext in ("timbre.json", "wav")]
    note = tmp_path / "note.wav"
    result = run("generate", "--pitch", 55, "--timbre", bank / "seed_0006.timbre.json", "-o", note,
                 "--model", checkpoint)
    assert result.exit_code == 0, result.output
    sweep = tmp_path / "sweep.wav"
    result = run("interpolate", "--pitch", 60, "--from", 5, "--to", bank / "seed_0007.timbre.json", "--steps", 4,
                 "--duration", 0.2, "-o", sweep, "--model", checkpoint)
    assert result.exit_code == 0, result.output
    assert audio_info(sweep).frames == 4 * (round(0.3 * 16000) + round(0.05 * 16000))


def test_interpolate_bad_input(checkpoint, tmp_path):  # noqa: F811
    out = tmp_path / "sweep.wav"
    result = run("interpolate", "--pitch", 60, "--from", "violin", "--to", 2, "-o", out, "--model", checkpoint)
    assert result.exit_code == 2 and "violin" in result.output
    result = run("interpolate", "--pitch", 60, "--from", 1, "--to", 2, "--steps", 1, "-o", out, "--model", checkpoint)
    assert result.exit_code == 2
    assert not out.exists()


def test_timbre_file_from_another_model_is_refused(checkpoint, other_checkpoint, tmp_path):  # noqa: F811
    bank = tmp_path / "bank"
    assert run("timbres", "--count", 1, "-o", bank, "--model", other_checkpoint).exit_code == 0
    out = tmp_path / "note.wav"
    result = run("generate", "--pitch", 60, "--timbre", bank / "seed_0000.timbre.json", "-o", out,
                 "--model", checkpoint)
    assert result.exit_code == 2 and "another model" in result.output and not out.exists()


def test_render_with_drift_stems_and_picture(checkpoint, tmp_path, samples_dir):  # noqa: F811
    out, png, stems = tmp_path / "chorale.wav", tmp_path / "chorale.png", tmp_path / "stems"
    result = run("render", samples_dir / "bach_chorale.mid", "-o", out, "--timbres", "1,2,3",
                 "--seconds-per-timbre", 4, "--stems", stems, "--png", png, "--model", checkpoint)
    assert result.exit_code == 0, result.output
    pm = pretty_midi.PrettyMIDI(str(samples_dir / "bach_chorale.mid"))
    last = max(n.end for i in pm.instruments for n in i.notes)
    assert audio_info(out).frames == math.ceil((last + 0.1) * 16000)
    assert png.stat().st_size > 1000 and len(_files(stems)) == 4


def test_render_per_program(checkpoint, tmp_path, samples_dir):  # noqa: F811
    out = tmp_path / "chorale.wav"
    result = run("render", samples_dir / "bach_chorale.mid", "-o", out, "--timbres", "0=4,40=5", "--model", checkpoint)
    assert result.exit_code == 0, result.output
    result = run("render", samples_dir / "bach_chorale.mid", "-o", out, "--timbres", "0=4,5", "--model", checkpoint)
    assert result.exit_code == 2 and "not both" in result.output


@pytest.mark.parametrize("kind", ["garbage", "empty", "drums", "missing"])
def test_render_bad_midi(checkpoint, tmp_path, kind):  # noqa: F811
    midi = tmp_path / "in.mid"
    if kind == "garbage":
        midi.write_bytes(b"MThd not really")
    elif kind == "empty":
        pretty_midi.PrettyMIDI().write(str(midi))
    elif kind == "drums":
        pm = pretty_midi.PrettyMIDI()
        kit = pretty_midi.Instrument(program=0, is_drum=True)
        kit.notes = [pretty_midi.Note(velocity=100, pitch=36, start=0.0, end=0.2)]
        pm.instruments.append(kit)
        pm.write(str(midi))
    out, png = tmp_path / "out" / "song.wav", tmp_path / "out" / "song.png"
    result = run("render", midi, "-o", out, "--png", png, "--model", checkpoint)
    assert result.exit_code == 2 and result.output.startswith("Error:"), result.output
    assert "in.mid" in result.output
    assert not (tmp_path / "out").exists() or _files(tmp_path / "out") == []


def test_help_has_examples():
    for command in ("generate", "interpolate", "timbres", "render"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Example" in result.output and "--model" in result.output

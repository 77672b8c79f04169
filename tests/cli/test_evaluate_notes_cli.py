"""CLI: ``ganaudio evaluate notes``, ``ganaudio evaluate render`` and ``ganaudio train evaluator`` via CliRunner."""

from __future__ import annotations

import json
import shutil

import pretty_midi
import pytest
from click.testing import CliRunner

import ganaudio.cli.evaluate_notes  # noqa: F401  (registers the commands)
import ganaudio.cli.train_evaluator  # noqa: F401
from ganaudio.cli import main
from tests.eval.gansynth_checkpoint import write_gansynth_checkpoint
from tests.gan_fixtures import note_folder  # noqa: F401  (session fixture)

# The flute phrase of samples/flute_phrase.wav (samples/make_samples.py): (pitch, start s, end s)
PHRASE = [(72, 0.0, 0.45), (74, 0.5, 0.95), (76, 1.0, 1.45), (77, 1.5, 1.95), (79, 2.0, 2.9)]


@pytest.fixture
def runner():
    return CliRunner()


def _midi(path, notes, program=73):
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=program)
    inst.notes = [pretty_midi.Note(velocity=100, pitch=p, start=s, end=e) for p, s, e in notes]
    pm.instruments.append(inst)
    pm.write(str(path))
    return path


def test_help_has_examples(runner):
    for args in (["evaluate", "notes", "--help"], ["evaluate", "render", "--help"], ["train", "evaluator", "--help"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0 and "Examples" in result.output


def test_notes_from_a_folder(runner, tmp_path, note_folder):  # noqa: F811
    fake = tmp_path / "fake"
    fake.mkdir()
    for wav in sorted((note_folder / "audio").glob("*.wav"))[:6]:  # real notes stand in for generated ones
        shutil.copy(wav, fake / wav.name)
    out = tmp_path / "report"
    result = runner.invoke(main, ["evaluate", "notes", "--real", str(note_folder), "--fake", str(fake), "-n", "6",
                                  "-o", str(out), "--no-pitch-tracking", "--ndb-k", "3"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["sizes"] == {"reference": 6, "real": 6, "generated": 6}
    assert report["metrics"]["family_accuracy"]["generated"] is None  # plain WAVs carry no family
    assert {"frechet_distance", "ndb_fraction", "inception_score"} <= set(report["metrics"])
    assert (out / "pitch_accuracy.png").is_file() and "| metric | generated | real (floor) |" in result.output


def test_notes_from_a_model(runner, tmp_path, note_folder):  # noqa: F811
    ckpt = write_gansynth_checkpoint(tmp_path / "ckpt")
    out = tmp_path / "report"
    result = runner.invoke(main, ["evaluate", "notes", "--real", str(note_folder), "--model", str(ckpt), "-n", "4",
                                  "-o", str(out), "--no-pitch-tracking", "--seed", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    # the model knows MIDI 48-59, so only real notes in that range are used
    assert report["sizes"]["generated"] == 4 and report["inputs"]["model"] == str(ckpt)
    assert 0 <= report["discriminator"]["accuracy"] <= 1 and report["discriminator"]["n"] == 4
    assert "GANSynth discriminator (auxiliary head)" in (out / "report.md").read_text()


@pytest.mark.parametrize("args, message", [
    (["--fake", "{tmp}"], "give exactly one of"),
    ([], "give exactly one of"),
    (["--model", "no_such_model"], "no such model folder"),
])
def test_notes_bad_input(runner, tmp_path, note_folder, args, message):  # noqa: F811
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--fake" in args:
        args += ["--model", "gansynth_tiny"]
    result = runner.invoke(main, ["evaluate", "notes", "--real", str(note_folder), "-o", str(tmp_path / "out"),
                                  *args])
    assert result.exit_code == 2 and "Error:" in result.output and message in result.output
    assert not (tmp_path / "out").exists()


def test_notes_missing_real_folder(runner, tmp_path):
    result = runner.invoke(main, ["evaluate", "notes", "--real", str(tmp_path / "none"), "--fake", str(tmp_path),
                                  "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "no such note folder" in result.output


def test_render_right_and_wrong_midi(runner, tmp_path, samples_dir):
    audio = samples_dir / "flute_phrase.wav"
    right = _midi(tmp_path / "right.mid", PHRASE)
    wrong = _midi(tmp_path / "wrong.mid", [(p - 3, s, e) for p, s, e in PHRASE])  # a minor third lower
    out = tmp_path / "scores.json"
    result = runner.invoke(main, ["evaluate", "render", str(right), str(audio), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["f_measure"] >= 0.8
    result = runner.invoke(main, ["evaluate", "render", str(wrong), str(audio), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["f_measure"] <= 0.2


def test_render_bad_input(runner, tmp_path, samples_dir):
    result = runner.invoke(main, ["evaluate", "render", str(tmp_path / "none.mid"), str(samples_dir / "flute_c3.wav")])
    assert result.exit_code == 2 and "no such MIDI file" in result.output
    (tmp_path / "bad.mid").write_bytes(b"not midi")
    result = runner.invoke(main, ["evaluate", "render", str(tmp_path / "bad.mid"), str(samples_dir / "flute_c3.wav")])
    assert result.exit_code == 2 and "cannot read MIDI" in result.output
    empty = tmp_path / "empty.mid"
    pretty_midi.PrettyMIDI().write(str(empty))
    result = runner.invoke(main, ["evaluate", "render", str(empty), str(samples_dir / "flute_c3.wav")])
    assert result.exit_code == 2 and "no notes" in result.output


def test_train_evaluator_one_epoch(runner, tmp_path, note_folder):  # noqa: F811
    result = runner.invoke(main, ["train", "evaluator", "--data", str(note_folder), "--out", str(tmp_path / "run"),
                                  "--epochs", "1", "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "best" / "model.safetensors").is_file()
    result = runner.invoke(main, ["train", "evaluator", "--data", str(tmp_path / "none"), "--out",
                                  str(tmp_path / "run2")])
    assert result.exit_code == 2 and "Error:" in result.output

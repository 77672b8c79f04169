"""CLI: trainers and evaluators skip a NaN, text-as-WAV or truncated file, count it and go on; all-bad is one error."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

import ganaudio.cli.evaluate_notes  # noqa: F401  (registers the commands)
import ganaudio.cli.train  # noqa: F401
import ganaudio.cli.train_cyclegan  # noqa: F401
from ganaudio.cli import main
from ganaudio.train.checkpoint import latest_checkpoint, load_checkpoint
from tests.data.bad_files import write_nan, write_text, write_truncated
from tests.gan_fixtures import note_folder  # noqa: F401  (session fixture)
from tests.train.helpers import TINY_TEST

CYCLEGAN_TINY = {"crop_frames": 32, "crop_stride": 8, "batch_size": 2, "g_channels": 4, "g_max_channels": 8,
                 "g_blocks": 1, "d_channels": 4, "d_max_channels": 8, "sample_every": 2, "sample_seconds": 1.0}


def _one_error_line(result) -> str:
    """The run failed cleanly: exit 2, one ``Error:`` line, no traceback; returns that line."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    return errors[0]


def _tone(freq: float, seconds: float = 1.2, sr: int = 16000) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_train_gansynth_skips_bad_notes_and_reports_them(note_folder, tmp_path):  # noqa: F811
    data = tmp_path / "notes"
    shutil.copytree(note_folder, data, ignore=shutil.ignore_patterns(".ganaudio-cache"))
    wavs = sorted((data / "audio").glob("*.wav"))
    write_nan(wavs[0])
    write_text(wavs[1])
    write_truncated(wavs[2])
    out = tmp_path / "run"
    args = ["train", "gansynth", "--data", str(data), "--out", str(out), "--steps", "2", "--quiet",
            "--cache-dir", str(tmp_path / "cache")]
    for key, value in TINY_TEST.items():
        args += ["--set", f"{key}={json.dumps(value)}"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "data: skipped 3 of 16 notes: 1 unreadable, 1 NaN, 1 truncated" in result.output
    config, _ = load_checkpoint(latest_checkpoint(out / "checkpoints"))
    assert config["data"]["notes"] == 13
    assert config["data"]["skipped"]["reasons"] == {"unreadable": 1, "NaN": 1, "truncated": 1}
    assert set(config["data"]["skipped"]["files"]) == {w.stem for w in wavs[:3]}


@pytest.fixture(scope="module")
def domains(tmp_path_factory):
    root = tmp_path_factory.mktemp("domains")
    for name, freqs in (("a", (220.0, 330.0)), ("b", (440.0, 550.0))):
        (root / name).mkdir()
        for i, f in enumerate(freqs):
            sf.write(root / name / f"{i}.wav", _tone(f), 16000)
    write_nan(root / "a" / "nan.wav")
    write_text(root / "a" / "text.wav")
    write_truncated(root / "b" / "cut.wav", seconds=1.2)
    return root / "a", root / "b"


def _cyclegan_args(a, b, out):
    args = ["train", "cyclegan", "--domain-a", str(a), "--domain-b", str(b), "--out", str(out), "--steps", "2",
            "--quiet"]
    for key, value in CYCLEGAN_TINY.items():
        args += ["--set", f"{key}={json.dumps(value)}"]
    return args


def test_train_cyclegan_skips_nan_and_text_files(domains, tmp_path):
    result = CliRunner().invoke(main, _cyclegan_args(*domains, tmp_path / "run"))
    assert result.exit_code == 0, result.output
    assert "domain A: skipped 2 of 4 files: 1 unreadable, 1 NaN" in result.output
    assert "domain B: skipped 1 of 3 files: 1 truncated" in result.output
    config, _ = load_checkpoint(latest_checkpoint(tmp_path / "run" / "checkpoints"))
    assert config["data"]["domain_a"]["files"] == 2 and config["data"]["domain_a"]["skipped"]["skipped"] == 2


def test_train_cyclegan_all_bad_domain_is_one_error(domains, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    write_nan(bad / "x.wav")
    write_text(bad / "y.wav")
    line = _one_error_line(CliRunner().invoke(main, _cyclegan_args(bad, domains[1], tmp_path / "run")))
    assert "none of its 2 files is usable (1 unreadable, 1 NaN" in line


def _fake_notes(note_folder, folder, n_good=6):  # noqa: F811
    folder.mkdir()
    for wav in sorted((note_folder / "audio").glob("*.wav"))[:n_good]:
        shutil.copy(wav, folder / wav.name)
    return folder


def test_evaluate_notes_skips_bad_fake_files(note_folder, tmp_path):  # noqa: F811
    fake = _fake_notes(note_folder, tmp_path / "fake")
    write_nan(fake / "a_nan-060.wav")                 # named to sort first: among the 6 drawn, then replaced
    write_text(fake / "a_text-062.wav")
    write_truncated(fake / "a_cut-064.wav")
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["evaluate", "notes", "--real", str(note_folder), "--fake", str(fake), "-n", "6",
                                       "-o", str(out), "--no-pitch-tracking", "--ndb-k", "3"])
    assert result.exit_code == 0, result.output
    assert "--fake: skipped 3 of 9 files: 1 unreadable, 1 NaN, 1 truncated" in result.output
    report = json.loads((out / "report.json").read_text())
    assert report["sizes"]["generated"] == 6 and report["skipped"]["--fake"]["reasons"] == {
        "unreadable": 1, "NaN": 1, "truncated": 1}


def test_evaluate_notes_all_bad_fake_is_one_error(note_folder, tmp_path):  # noqa: F811
    fake = tmp_path / "fake"
    fake.mkdir()
    write_nan(fake / "pitch_060.wav")
    write_text(fake / "pitch_062.wav")
    result = CliRunner().invoke(main, ["evaluate", "notes", "--real", str(note_folder), "--fake", str(fake), "-n", "6",
                                       "-o", str(tmp_path / "report"), "--no-pitch-tracking", "--ndb-k", "3"])
    assert "none of its 2 files is usable" in _one_error_line(result)


def _nan_roll(good_npz, dest):
    with np.load(good_npz, allow_pickle=False) as data:
        roll, meta = data["roll"].astype(np.float32), data["meta"]
    roll[0, :4, :4] = np.nan
    np.savez(dest, roll=roll, meta=meta)
    return dest


def test_evaluate_rolls_skips_bad_fake_files(samples_dir, tmp_path):
    chorale = samples_dir / "bach_chorale.mid"
    fake = tmp_path / "fake"
    runner = CliRunner()
    assert runner.invoke(main, ["midi2roll", str(chorale), "-o", str(fake / "good.npz")]).exit_code == 0
    _nan_roll(fake / "good.npz", fake / "nan.npz")
    (fake / "text.mid").write_text("not a MIDI file\n")
    report = tmp_path / "rolls.json"
    result = runner.invoke(main, ["evaluate", "rolls", "--real", str(chorale), "--fake", str(fake), "-o", str(report)])
    assert result.exit_code == 0, result.output
    assert "--fake: skipped 2 of 3 files: 1 unreadable, 1 NaN" in result.output
    data = json.loads(report.read_text())
    assert data["fake"]["skipped"]["reasons"] == {"unreadable": 1, "NaN": 1} and "skipped" not in data["real"]
    assert data["fake"]["metrics"] == data["real"]["metrics"]      # the good file alone was scored

    for good in fake.glob("good.npz"):
        good.unlink()
    line = _one_error_line(runner.invoke(main, ["evaluate", "rolls", "--real", str(chorale), "--fake", str(fake)]))
    assert "none of its 2 files is usable (1 unreadable, 1 NaN" in line

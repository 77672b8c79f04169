"""The notes report: known answers (identical sets, semitone shifts), determinism, loading, writing."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from ganaudio.errors import CheckpointError, DataError, ParameterError
from ganaudio.eval.discriminator import discriminator_pitch_accuracy
from ganaudio.eval.evaluator import load_evaluator
from ganaudio.eval.notes import NoteBatch, load_note_batch, notes_report, split_halves
from ganaudio.eval.report import notes_markdown, save_notes_report
from ganaudio.io import load_audio
from tests.eval.gansynth_checkpoint import write_gansynth_checkpoint
from tests.gan_fixtures import note_folder  # noqa: F401  (session fixture)

SAMPLES = [("trumpet_c4", 60), ("flute_c3", 48), ("violin_a4", 69), ("piano_e3", 52)]


@pytest.fixture(scope="module")
def evaluator():
    return load_evaluator()


@pytest.fixture(scope="module")
def samples(evaluator) -> NoteBatch:
    from pathlib import Path

    here = Path(__file__).resolve().parents[2] / "samples"
    audio = np.stack([load_audio(here / f"{name}.wav", sample_rate=16000)[0][:evaluator.n_samples]
                      for name, _ in SAMPLES])
    return NoteBatch(audio, np.array([p for _, p in SAMPLES]), ("brass", "flute", "string", "keyboard"),
                     tuple(n for n, _ in SAMPLES), 16000)


@pytest.fixture(scope="module")
def folder_notes(note_folder, evaluator) -> NoteBatch:  # noqa: F811
    return load_note_batch(note_folder, sample_rate=16000, n_samples=evaluator.n_samples)


def test_identical_sets_give_zero_frechet_and_ndb(folder_notes, evaluator):
    reference, floor = split_halves(folder_notes, n=8, seed=0)
    report = notes_report(reference, floor, reference, evaluator=evaluator, ndb_k=4, track_pitch=False)
    m = report["metrics"]
    assert m["frechet_distance"]["generated"] == pytest.approx(0.0, abs=1e-6)
    assert m["ndb_fraction"]["generated"] == 0.0 and m["ndb_different"]["generated"] == 0
    assert m["frechet_distance"]["real"] > 0  # two different real halves are apart
    assert report["ndb_k"] == 4 and report["sizes"] == {"reference": 8, "real": 8, "generated": 8}


def test_semitone_shift_gives_pitch_accuracy_near_zero(samples, evaluator):
    samples = samples.take([0, 1, 3])  # trumpet C4, flute C3, piano E3 (pYIN is slow: few notes)
    length = samples.audio.shape[1]
    shifted = NoteBatch(np.stack([_shift(y, length) for y in samples.audio]), samples.pitches, samples.families,
                        samples.names, 16000)
    report = notes_report(samples, samples, shifted, evaluator=evaluator, ndb_k=2)
    m = report["metrics"]
    assert m["pitch_accuracy"]["real"] == 1.0          # pYIN on the real notes: all on pitch
    assert m["pitch_accuracy"]["generated"] == 0.0     # a semitone off: none within 50 cents
    assert m["unvoiced"]["generated"] == 0.0           # still tracked, just at the wrong pitch
    assert m["evaluator_pitch_accuracy"]["real"] == 1.0
    assert m["evaluator_pitch_accuracy"]["generated"] <= 1 / 3
    assert report["per_pitch"]["generated"]["pyin"] == {48: 0.0, 52: 0.0, 60: 0.0}


def _shift(y: np.ndarray, length: int) -> np.ndarray:
    """``y`` a semitone higher (played 89/84 faster), padded back to ``length``."""
    up = resample_poly(y, 84, 89)
    return np.pad(up, (0, max(0, length - len(up))))[:length].astype(np.float32)


def test_metrics_deterministic_under_a_seed(note_folder, evaluator):  # noqa: F811
    def run(seed):
        real = load_note_batch(note_folder, sample_rate=16000, n_samples=evaluator.n_samples, limit=12, seed=seed)
        reference, floor = split_halves(real, n=6, seed=seed)
        return real.names, notes_report(reference, floor, floor, evaluator=evaluator, ndb_k=3,
                                        track_pitch=False, seed=seed)
    names, first = run(3)
    again_names, again = run(3)
    assert names == again_names and json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    other_names, _ = run(4)
    assert other_names != names


def test_pitch_named_wav_folder(tmp_path, samples):
    for (name, pitch), y in zip(SAMPLES, samples.audio):
        sf.write(tmp_path / f"{name}-{pitch:03d}-100.wav", y, 16000)
    sf.write(tmp_path / "pitch_061.wav", samples.audio[0], 16000)
    (tmp_path / "notes.txt").write_text("ignored")
    batch = load_note_batch(tmp_path, sample_rate=16000, n_samples=8000)
    assert sorted(batch.pitches.tolist()) == [48, 52, 60, 61, 69]
    assert batch.families is None and batch.audio.shape == (5, 8000)


def test_bad_sets(tmp_path, samples, evaluator):
    with pytest.raises(DataError, match="no such note folder"):
        load_note_batch(tmp_path / "missing", sample_rate=16000, n_samples=100)
    with pytest.raises(DataError, match="named by pitch"):
        load_note_batch(tmp_path, sample_rate=16000, n_samples=100)
    with pytest.raises(DataError, match="at least 4"):
        split_halves(samples.take([0, 1, 2]))
    with pytest.raises(ParameterError, match="at least 2"):
        notes_report(samples, samples, samples.take([0]), evaluator=evaluator, track_pitch=False)


def test_report_files(tmp_path, samples, evaluator):
    report = notes_report(samples, samples, samples.take([1, 0, 3, 2]), evaluator=evaluator, ndb_k=2,
                          track_pitch=False)
    written = save_notes_report(report, tmp_path / "out")
    assert sorted(p.name for p in written) == ["metrics.png", "pitch_accuracy.png", "report.json", "report.md"]
    assert json.loads((tmp_path / "out" / "report.json").read_text())["metrics"]["inception_score"]["real"] > 1
    assert (tmp_path / "out" / "metrics.png").read_bytes()[:4] == b"\x89PNG"
    assert "| metric | generated | real (floor) | better |" in notes_markdown(report)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_discriminator_pitch_head(tmp_path, samples):
    ckpt = write_gansynth_checkpoint(tmp_path / "ckpt")
    result = discriminator_pitch_accuracy(ckpt, samples.audio, samples.pitches, sample_rate=16000)
    assert result["n"] == 4 and result["out_of_range"] == 2  # the model knows MIDI 48-59 only
    assert 0.0 <= result["accuracy"] <= 0.5
    bare = write_gansynth_checkpoint(tmp_path / "bare", with_discriminator=False)
    with pytest.raises(CheckpointError, match="no discriminator"):
        discriminator_pitch_accuracy(bare, samples.audio, samples.pitches, sample_rate=16000)

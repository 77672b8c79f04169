"""The evaluator network: shapes, batch consistency, a 2-step training run, loading, and the shipped model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ganaudio.errors import CheckpointError, DataError, ParameterError
from ganaudio.eval.evaluator import NoteEvaluator, load_evaluator
from ganaudio.io import load_audio
from ganaudio.train.evaluator import train_evaluator
from tests.gan_fixtures import note_folder  # noqa: F401  (session fixture)

# Committed FluidR3 renders: (file, MIDI pitch, NSynth family)
SAMPLES = [("trumpet_c4", 60, "brass"), ("flute_c3", 48, "flute"), ("violin_a4", 69, "string"),
           ("piano_e3", 52, "keyboard")]


def test_forward_shapes_and_batch_consistency():
    torch.manual_seed(0)
    net = NoteEvaluator(n_mels=64, n_frames=16, n_pitches=12, lowest_pitch=48, channels=(8, 8, 16, 16),
                        embedding_dim=10).eval()
    x = torch.randn(5, 1, 64, 16)
    pitch, family, embedding = net(x)
    assert pitch.shape == (5, 12) and family.shape == (5, 11) and embedding.shape == (5, 10)
    with torch.no_grad():
        one = net(x[2:3])
    torch.testing.assert_close(one[0], pitch[2:3].detach(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(one[2], embedding[2:3].detach(), atol=1e-5, rtol=1e-5)


def test_forward_rejects_wrong_shape():
    net = NoteEvaluator(n_mels=64, n_frames=16, n_pitches=12, channels=(8, 8, 16, 16))
    with pytest.raises(ParameterError, match="64, 16"):
        net(torch.randn(2, 1, 32, 16))
    with pytest.raises(ParameterError, match="n_pitches"):
        NoteEvaluator(n_pitches=0)


def test_two_step_training_smoke(note_folder, tmp_path):  # noqa: F811
    metrics = train_evaluator(note_folder, tmp_path / "run", max_steps=2, batch_size=4, n_mels=64,
                              n_fft=1024, hop_length=512, n_frames=16, cache_dir=tmp_path / "cache",
                              progress=False)
    assert metrics["steps"] == 2 and metrics["epoch"] == 1
    assert 0 <= metrics["train"]["pitch_accuracy"] <= 1 and metrics["train"]["n"] == 16
    config = json.loads((tmp_path / "run" / "best" / "config.json").read_text())
    assert config["family"] == "evaluator" and config["metrics"]["steps"] == 2
    evaluator = load_evaluator(tmp_path / "run" / "best")
    out = evaluator.predict(np.zeros((3, 9000), np.float32), sample_rate=16000)
    assert out.pitch_probs.shape == (3, evaluator.net.n_pitches) and out.embedding.shape == (3, 64)
    np.testing.assert_allclose(out.pitch_probs.sum(1), 1, atol=1e-6)
    assert set(out.pitches) <= set(evaluator.pitch_classes) and len(out.families) == 3
    # the run folder resolves to its newest checkpoint
    assert load_evaluator(tmp_path / "run").net.n_pitches == evaluator.net.n_pitches


def test_training_needs_a_train_split(tmp_path):
    with pytest.raises(DataError):
        train_evaluator(tmp_path / "missing", tmp_path / "run", max_steps=1, progress=False)


def test_load_rejects_other_folders(tmp_path):
    with pytest.raises(CheckpointError, match="no such model folder"):
        load_evaluator(tmp_path / "nothing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text(json.dumps({"format": 1, "family": "gansynth"}))
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, str(tmp_path / "other" / "model.safetensors"))
    with pytest.raises(CheckpointError, match="not an evaluator"):
        load_evaluator(tmp_path / "other")


def test_shipped_evaluator_on_committed_real_samples(samples_dir):
    evaluator = load_evaluator()
    assert evaluator.config["metrics"]["test"]["pitch_accuracy"] > 0.8  # documented held-out figure
    audio = np.stack([load_audio(samples_dir / f"{name}.wav", sample_rate=16000)[0][:evaluator.n_samples]
                      for name, _, _ in SAMPLES])
    out = evaluator.predict(audio, sample_rate=16000)
    assert out.pitches.tolist() == [pitch for _, pitch, _ in SAMPLES]
    assert sum(f == family for f, (_, _, family) in zip(out.families, SAMPLES)) >= 2
    # deterministic: the same notes give the same posteriors
    again = evaluator.predict(audio, sample_rate=16000)
    np.testing.assert_array_equal(out.pitch_probs, again.pitch_probs)


def test_shipped_evaluator_follows_a_semitone(samples_dir):
    from scipy.signal import resample_poly

    evaluator = load_evaluator()
    y = load_audio(samples_dir / "trumpet_c4.wav", sample_rate=16000)[0]
    up = resample_poly(y, 84, 89)[:evaluator.n_samples]  # played 89/84 faster: +1.0002 semitones
    assert evaluator.predict(up[None], sample_rate=16000).pitches.tolist() == [61]

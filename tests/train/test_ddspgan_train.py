"""Harmonic-plus-noise GAN training: a 2-step smoke run through both phases, exact resume, CLI, KL."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from ganaudio.cli import main
from ganaudio.presets import load_preset
from ganaudio.train.ddspgan import build_ddspgan_trainer, kl_to_prior
from tests.gan_fixtures import note_folder  # noqa: F401  (session fixture)

OPTIONS = dict(progress=False, tensorboard=False)


def _preset(**overrides):
    return load_preset("tiny", family="ddspgan", overrides={"disc_start": 1, "checkpoint_every": 2, "log_every": 1,
                                                            "batch_size": 2, **overrides})


def _weights(trainer) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in trainer.G.state_dict().items()}


def test_two_steps_train_both_phases_and_resume_exactly(note_folder, tmp_path):  # noqa: F811
    trainer = build_ddspgan_trainer(note_folder, tmp_path / "run", _preset(), **OPTIONS)
    before = _weights(trainer)
    trainer.fit(2)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert {"recon", "kl", "g_loss"} <= set(records[0]) and "d_loss" not in records[0]  # step 0: no D yet
    assert {"d_loss", "g_adv", "fm"} <= set(records[1])
    assert all(torch.isfinite(torch.tensor(v)) for r in records for v in r.values() if isinstance(v, float))
    after = _weights(trainer)
    assert any(not torch.equal(before[k], after[k]) for k in before)

    straight = build_ddspgan_trainer(note_folder, tmp_path / "straight", _preset(), **OPTIONS)
    straight.fit(4)
    resumed = build_ddspgan_trainer(note_folder, tmp_path / "run", _preset(), **OPTIONS)
    resumed.fit(4, resume=True)
    a, b = _weights(straight), _weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_cli_trains_and_refuses_an_empty_folder(note_folder, tmp_path):  # noqa: F811
    runner = CliRunner()
    result = runner.invoke(main, ["train", "ddspgan", "--data", str(note_folder), "--out", str(tmp_path / "cli"),
                                  "--preset", "tiny", "--steps", "1", "--quiet", "--set", "batch_size=2"])
    assert result.exit_code == 0, result.output
    assert "recon" in result.output and (tmp_path / "cli" / "checkpoints").is_dir()
    (tmp_path / "empty").mkdir()
    result = runner.invoke(main, ["train", "ddspgan", "--data", str(tmp_path / "empty"), "--out",
                                  str(tmp_path / "x"), "--preset", "tiny", "--steps", "1", "--quiet"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].startswith("Error:")


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    assert float(kl_to_prior(torch.zeros(3, 5), torch.zeros(3, 5))) == 0.0
    assert float(kl_to_prior(torch.ones(3, 5), torch.zeros(3, 5))) > 0


def test_a_nan_note_is_skipped_and_counted(note_folder, tmp_path):  # noqa: F811
    import shutil

    import numpy as np
    import soundfile as sf

    from ganaudio.train.ddspgan import load_note_clips

    folder = tmp_path / "notes"
    shutil.copytree(note_folder, folder)
    bad = sorted((folder / "audio").glob("*.wav"))[0]
    sf.write(bad, np.full(8000, np.nan, dtype=np.float32), 16000, subtype="FLOAT")
    audio, labels, summary = load_note_clips(folder, split="train", sample_rate=44100, samples=4096,
                                             default_hold=1.0, progress=False)
    assert summary["skipped"]["skipped"] == 1 and summary["skipped"]["reasons"] == {"NaN": 1}
    assert len(audio) == len(labels) == summary["notes"] == summary["skipped"]["used"]


def test_each_note_keeps_its_own_hold(note_folder, tmp_path):  # noqa: F811
    """Folders rendered with other hold lengths train together; each note's gate closes at its own hold."""
    import shutil

    from ganaudio.train.ddspgan import InstrumentLoss, load_note_clips

    root = tmp_path / "holds"
    shutil.copytree(note_folder, root / "short")
    shutil.copytree(note_folder, root / "unknown")
    (root / "unknown" / "summary.json").unlink()
    _, labels, summary = load_note_clips(root, split="train", sample_rate=44100, samples=4096, default_hold=1.5,
                                         progress=False)
    assert summary["holds"] == [0.4, 1.5]  # the fixture's notes: 0.6 s with a 0.2-s release
    assert sorted(set(labels[:, 2].tolist())) == pytest.approx([0.4, 1.5])
    labels = torch.tensor([[60.0, 0.5, 3.0], [60.0, 0.5, 7.0]])
    _, _, gate = InstrumentLoss().controls(labels, 10)
    assert gate.sum(1).tolist() == [3.0, 7.0]


def test_timbre_partners_stay_within_the_instrument_and_the_pitch_window():
    """Cross-reconstruction: the encoder hears another note of the same instrument, never one too far away."""
    from ganaudio.train.ddspgan import timbre_partners

    pitches = torch.arange(40, 80, dtype=torch.float32)
    labels = torch.stack([pitches.repeat(3), torch.full((120,), 0.5), torch.ones(120),
                          torch.arange(3).repeat_interleave(40).float()], 1)
    indices = torch.arange(120)
    generator = torch.Generator().manual_seed(0)
    partners = timbre_partners(labels, indices, fraction=1.0, semitones=5, generator=generator)
    assert (partners != indices).all()
    assert (labels[partners, 3] == labels[indices, 3]).all()
    assert (labels[partners, 0] - labels[indices, 0]).abs().max() <= 5
    assert (timbre_partners(labels, indices, fraction=0.0, semitones=5) == indices).all()
    half = timbre_partners(labels, indices, fraction=0.5, semitones=5, generator=generator)
    assert 30 < int((half != indices).sum()) < 90
    alone = torch.tensor([[60.0, 0.5, 1.0, 0.0]])  # an instrument with one note keeps it
    assert timbre_partners(alone, torch.tensor([0]), fraction=1.0, semitones=12).tolist() == [0]


def test_labels_carry_the_instrument_index(note_folder):  # noqa: F811
    from ganaudio.train.ddspgan import load_note_clips

    _, labels, summary = load_note_clips(note_folder, split="train", sample_rate=44100, samples=4096,
                                         default_hold=1.0, progress=False)
    assert labels.shape[1] == 4
    assert sorted(set(labels[:, 3].long().tolist())) == list(range(summary["instruments"]))

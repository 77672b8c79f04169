"""Harmonic-plus-noise GAN training: a 2-step smoke run through both phases, exact resume, KL."""

from __future__ import annotations

import json

import torch

from ganaudio.train.ddspgan import build_instrument_trainer, kl_to_prior
from tests.gan_fixtures import note_folder  # noqa: F401  (session fixture)

TINY = dict(decoder=dict(hidden=16, z_dim=4, n_harmonics=48, n_envelope=8, n_detail=4, n_noise_bands=9,
                         table_size=128),
            encoder=dict(channels=8, n_mels=24),
            discriminator=dict(resolutions=((512, 128, 24),), channels=4),
            note_seconds=0.5, hold_seconds=0.35, batch_size=2, g_lr=1e-3, d_lr=1e-3, crop=8192, disc_start=1,
            checkpoint_every=2, sample_every=1000, log_every=1, tensorboard=False, progress=False)


def _weights(trainer) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in trainer.G.state_dict().items()}


def test_two_steps_train_both_phases_and_resume_exactly(note_folder, tmp_path):  # noqa: F811
    trainer = build_instrument_trainer(note_folder, tmp_path / "run", **TINY)
    before = _weights(trainer)
    trainer.fit(2)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert {"recon", "kl", "g_loss"} <= set(records[0]) and "d_loss" not in records[0]  # step 0: no D yet
    assert {"d_loss", "g_adv", "fm"} <= set(records[1])
    assert all(torch.isfinite(torch.tensor(v)) for r in records for k, v in r.items() if isinstance(v, float))
    after = _weights(trainer)
    assert any(not torch.equal(before[k], after[k]) for k in before)

    straight = build_instrument_trainer(note_folder, tmp_path / "straight", **TINY)
    straight.fit(4)
    resumed = build_instrument_trainer(note_folder, tmp_path / "run", **TINY)
    resumed.fit(4, resume=True)
    a, b = _weights(straight), _weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    assert float(kl_to_prior(torch.zeros(3, 5), torch.zeros(3, 5))) == 0.0
    assert float(kl_to_prior(torch.ones(3, 5), torch.zeros(3, 5))) > 0

"""The engine's contract with a family: n_critic, batches, a frozen discriminator in the G update, skipped D
updates; presets and run_training find the family from the preset."""

from __future__ import annotations

import pytest
import torch

from ganaudio.errors import ParameterError
from ganaudio.presets import FAMILY_PRESETS, load_preset
from ganaudio.train.engine import GANObjective, GANTrainer
from ganaudio.train.run import BUILDERS, data_skipped, family_of


class Net(torch.nn.Linear):
    def __init__(self, n_in: int, n_out: int):
        super().__init__(n_in, n_out)
        self.latent_dim = n_in

    def config(self) -> dict:
        return {"n_in": self.in_features, "n_out": self.out_features}


class Probe(GANObjective):
    """A WGAN critic on 3-d points that records what the engine hands it."""

    def __init__(self, *, skip_d: bool = False):
        self.seen, self.skip_d = [], skip_d

    def d_loss(self, step):
        (x,) = step.batch
        self.seen.append(("d", step.index, sorted(x[:, 0].tolist())))
        if self.skip_d:
            return None
        fake = step.G(torch.randn(len(x), step.G.latent_dim, generator=step.generator)).detach()
        return step.D(fake).mean() - step.D(x).mean(), {"gap": step.D(x).mean()}

    def g_loss(self, step):
        frozen = not any(p.requires_grad for p in step.D.parameters())
        self.seen.append(("g", step.index, frozen))
        return -step.D(step.G(torch.randn(4, step.G.latent_dim, generator=step.generator))).mean(), {}


def _trainer(tmp_path, objective, **kw):
    data = torch.arange(8.0)[:, None].repeat(1, 3)   # example i is (i, i, i)
    torch.manual_seed(0)
    return GANTrainer(Net(2, 3), Net(3, 1), objective=objective, batch_fn=lambda idx, gen: data[idx], n_examples=8,
                      out_dir=tmp_path, batch_size=4, g_lr=1e-2, d_lr=1e-2, ema_decay=0.5, progress=False,
                      tensorboard=False, **kw)


def test_n_critic_updates_on_successive_batches_then_one_generator_update_with_d_frozen(tmp_path):
    probe = Probe()
    tr = _trainer(tmp_path, probe, n_critic=2)
    d_before = [p.detach().clone() for p in tr.D.parameters()]
    ema_before = [p.detach().clone() for p in tr.G_ema.parameters()]
    metrics = tr.train_step(0)
    kinds = [s[0] for s in probe.seen]
    assert kinds == ["d", "d", "g"]
    # the two critic batches are the two halves of one shuffled epoch: every example once
    assert sorted(probe.seen[0][2] + probe.seen[1][2]) == [float(i) for i in range(8)]
    assert probe.seen[2] == ("g", 0, True) and all(p.requires_grad for p in tr.D.parameters())
    assert not all(torch.equal(a, b) for a, b in zip(d_before, tr.D.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(ema_before, tr.G_ema.parameters()))
    assert {"d_loss", "g_loss", "gap", "g_grad_norm", "d_grad_norm"} <= set(metrics)


def test_a_skipped_discriminator_update_leaves_d_alone(tmp_path):
    tr = _trainer(tmp_path, Probe(skip_d=True))
    d_before = [p.detach().clone() for p in tr.D.parameters()]
    metrics = tr.train_step(0)
    assert all(torch.equal(a, b) for a, b in zip(d_before, tr.D.parameters()))
    assert "d_loss" not in metrics and "g_loss" in metrics


def test_bad_engine_settings(tmp_path):
    with pytest.raises(ParameterError, match="n_critic"):
        _trainer(tmp_path, Probe(), n_critic=0)


def test_every_preset_family_has_a_trainer_builder():
    assert set(FAMILY_PRESETS) == set(BUILDERS)
    for family, (presets, default) in FAMILY_PRESETS.items():
        assert family_of(load_preset(family=family)) == family
        assert load_preset(family=family) == presets[default]
    with pytest.raises(ParameterError, match="no family's preset"):
        family_of(object())
    with pytest.raises(ParameterError, match="unknown model family 'hpn'"):
        load_preset("tiny", family="hpn")


def test_data_skipped_reads_one_source_or_two_domains():
    report = {"total": 3, "skipped": 1}
    assert data_skipped({"data": {"root": "x", "skipped": report}}) == {"data": report}
    assert data_skipped({"data": {"domain_a": {"skipped": report}, "domain_b": {"skipped": {}}, "seed": 0}}) == {
        "domain A": report, "domain B": {}}
    assert data_skipped({}) == {}

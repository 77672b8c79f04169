"""GAN losses: known values, gradient directions, penalties, bad input."""

import pytest
import torch

from ganaudio import losses as L
from ganaudio.errors import ParameterError


@pytest.mark.parametrize("name", sorted(L.ADVERSARIAL))
def test_adversarial_pair_scalar_and_direction(name):
    d_loss, g_loss = L.adversarial_losses(name)
    real = torch.full((6,), 0.5, requires_grad=True)
    fake = torch.full((6,), 0.5, requires_grad=True)
    loss = d_loss(real, fake)
    assert loss.shape == ()
    loss.backward()
    assert (real.grad < 0).all() and (fake.grad > 0).all()       # D raises real scores, lowers fake ones
    fake2 = torch.full((6,), 0.5, requires_grad=True)
    g_loss(fake2).backward()
    assert (fake2.grad < 0).all()                                 # G raises fake scores


def test_known_values():
    big = torch.full((4,), 30.0)
    assert float(L.nonsaturating_d(big, -big)) < 1e-6
    assert float(L.nonsaturating_g(torch.zeros(3))) == pytest.approx(torch.log(torch.tensor(2.0)).item())
    assert float(L.hinge_d(torch.tensor([0.5]), torch.tensor([0.0]))) == pytest.approx(1.5)
    assert float(L.hinge_g(torch.tensor([2.0, 4.0]))) == -3.0
    assert float(L.wasserstein_d(torch.tensor([3.0]), torch.tensor([1.0]))) == -2.0
    assert float(L.wasserstein_g(torch.tensor([1.0]))) == -1.0
    assert float(L.lsgan_d(torch.ones(3), torch.zeros(3))) == 0.0
    assert float(L.lsgan_g(torch.zeros(2))) == 1.0
    assert float(L.drift_penalty(torch.tensor([2.0, 0.0]))) == 2.0


def test_gradient_penalty_linear_critic():
    w = torch.tensor([3.0, 4.0])                                  # |grad| = 5 everywhere
    critic = lambda x: x @ w
    gp = L.gradient_penalty(critic, torch.randn(8, 2), torch.randn(8, 2), generator=torch.Generator().manual_seed(0))
    assert float(gp) == pytest.approx(16.0)
    assert float(L.gradient_penalty(critic, torch.randn(8, 2), torch.randn(8, 2), target=5.0)) == pytest.approx(0.0)


def test_gradient_penalty_differentiable_and_seeded():
    layer = torch.nn.Linear(4, 1)
    critic = lambda x: layer(x).squeeze(1) ** 2
    real, fake = torch.randn(5, 4), torch.randn(5, 4)
    a = L.gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(1))
    b = L.gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    a.backward()
    assert layer.weight.grad is not None and torch.isfinite(layer.weight.grad).all()
    with pytest.raises(ParameterError):
        L.gradient_penalty(critic, real, fake[:3])


def test_r1_penalty():
    assert float(L.r1_penalty(lambda x: 2.0 * x.sum(dim=1), torch.randn(3, 4))) == pytest.approx(16.0)
    assert float(L.r1_penalty(lambda x: (x ** 2).sum(dim=(1, 2)), torch.zeros(2, 3, 3)).detach()) == 0.0


def test_aux_classifier_loss():
    logits = torch.tensor([[10.0, -10.0], [-10.0, 10.0]])
    assert float(L.aux_classifier_loss(logits, torch.tensor([0, 1]))) < 1e-6
    assert float(L.aux_classifier_loss(torch.zeros(4, 8), torch.arange(4))) == pytest.approx(torch.log(torch.tensor(8.0)).item())
    with pytest.raises(ParameterError):
        L.aux_classifier_loss(torch.zeros(4, 8), torch.arange(3))


def test_feature_matching():
    real = [torch.ones(2, 3), torch.zeros(2, 5)]
    fake = [torch.zeros(2, 3, requires_grad=True), torch.zeros(2, 5, requires_grad=True)]
    loss = L.feature_matching(real, fake)
    assert float(loss.detach()) == 0.5
    loss.backward()
    assert fake[0].grad is not None
    with pytest.raises(ParameterError):
        L.feature_matching(real, fake[:1])


def test_unknown_loss_name():
    with pytest.raises(ParameterError, match="hinge"):
        L.adversarial_losses("wasserstein-gp")


def test_mode_seeking_loss_ratio_ceiling_and_gradient():
    z_a, z_b = torch.zeros(3, 8), torch.ones(3, 8)
    near, far = torch.zeros(3, 2, 4), torch.full((3, 2, 4), 0.25)
    assert float(L.mode_seeking_loss(near, far, z_a, z_b, eps=0.0)) == pytest.approx(4.0)
    assert float(L.mode_seeking_loss(near, far, z_a, z_b, ceiling=0.1, eps=0.0)) == pytest.approx(10.0)
    moving = far.clone().requires_grad_(True)
    L.mode_seeking_loss(near, moving, z_a, z_b).backward()
    assert (moving.grad < 0).all()                     # lowering the loss moves the outputs apart
    capped = far.clone().requires_grad_(True)
    L.mode_seeking_loss(near, capped, z_a, z_b, ceiling=0.1).backward()
    assert torch.count_nonzero(capped.grad) == 0       # past the ceiling there is no push
    with pytest.raises(ParameterError, match="equal-shape"):
        L.mode_seeking_loss(near, far[:2], z_a, z_b)

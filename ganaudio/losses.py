"""GAN losses as pure functions of discriminator outputs (and, for penalties, of a critic function).

Naming: ``<loss>_d(real, fake)`` is what the discriminator minimises,
``<loss>_g(fake)`` what the generator minimises. Scores are raw logits of any
shape ``(batch, ...)``; every loss returns a scalar mean. :data:`ADVERSARIAL`
maps a name to its ``(d_loss, g_loss)`` pair; WGAN-GP is ``"wgan"`` plus
:func:`gradient_penalty`.

Examples
--------
>>> real, fake = torch.randn(8, 1), torch.randn(8, 1)
>>> d_loss, g_loss = ADVERSARIAL["hinge"]
>>> d_loss(real, fake).shape, g_loss(fake).shape
(torch.Size([]), torch.Size([]))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch.nn import functional as F

from ganaudio.errors import ParameterError

__all__ = [
    "ADVERSARIAL",
    "adversarial_losses",
    "aux_classifier_loss",
    "drift_penalty",
    "feature_matching",
    "gradient_penalty",
    "hinge_d",
    "hinge_g",
    "log_mel_l1",
    "lsgan_d",
    "lsgan_g",
    "mode_seeking_loss",
    "multi_resolution_stft_loss",
    "nonsaturating_d",
    "nonsaturating_g",
    "r1_penalty",
    "wasserstein_d",
    "wasserstein_g",
]


def nonsaturating_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``softplus(-real) + softplus(fake)``: binary cross entropy on logits.

    Examples
    --------
    >>> float(nonsaturating_d(torch.full((4,), 20.0), torch.full((4,), -20.0))) < 1e-6
    True
    """
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def nonsaturating_g(fake: torch.Tensor) -> torch.Tensor:
    """``softplus(-fake)``: the generator maximises log D(G(z)) (Goodfellow's non-saturating form)."""
    return F.softplus(-fake).mean()


def hinge_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``relu(1 - real) + relu(1 + fake)`` (SAGAN, BigGAN).

    Examples
    --------
    >>> float(hinge_d(torch.tensor([2.0]), torch.tensor([-2.0])))
    0.0
    """
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def hinge_g(fake: torch.Tensor) -> torch.Tensor:
    """``-fake``: the generator raises the critic's score."""
    return -fake.mean()


def wasserstein_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``fake - real``: the critic's Wasserstein estimate, negated (pair with :func:`gradient_penalty`)."""
    return fake.mean() - real.mean()


def wasserstein_g(fake: torch.Tensor) -> torch.Tensor:
    """``-fake``."""
    return -fake.mean()


def lsgan_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Least squares: ``(real - 1)^2 + fake^2`` (Mao et al.; HiFi-GAN's form, without the 1/2).

    Examples
    --------
    >>> float(lsgan_d(torch.ones(3), torch.zeros(3)))
    0.0
    """
    return (real - 1.0).pow(2).mean() + fake.pow(2).mean()


def lsgan_g(fake: torch.Tensor) -> torch.Tensor:
    """``(fake - 1)^2``."""
    return (fake - 1.0).pow(2).mean()


def _grad_norm(critic: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    score = critic(x)
    (grad,) = torch.autograd.grad(score.sum(), x, create_graph=True)
    return grad.reshape(grad.shape[0], -1).norm(2, dim=1)


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    target: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """WGAN-GP: ``(||grad critic(x_hat)|| - target)^2`` at random interpolates of real and fake.

    Parameters
    ----------
    critic : callable
        ``x -> scores``; close over any labels (e.g. ``lambda x: D(x, pitch)[0]``).
    real, fake : torch.Tensor, ``(batch, ...)``
        Same shape; ``fake`` is detached here.
    target : float
        Gradient norm aimed at (1 in Gulrajani et al.; ProGAN/GANSynth use 1).
    generator : torch.Generator, optional
        For the interpolation weights, so a seeded run repeats exactly.

    Returns
    -------
    torch.Tensor, scalar (unweighted; multiply by e.g. 10)

    Examples
    --------
    >>> critic = lambda x: 3.0 * x.sum(dim=1)        # gradient norm 3 * sqrt(4) = 6
    >>> float(gradient_penalty(critic, torch.randn(5, 4), torch.randn(5, 4)))
    25.0
    """
    if real.shape != fake.shape:
        raise ParameterError(f"real and fake must have the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    alpha = torch.rand(shape, generator=generator, device="cpu" if generator is None else generator.device)
    alpha = alpha.to(device=real.device, dtype=real.dtype)
    x_hat = alpha * real.detach() + (1 - alpha) * fake.detach()
    return (_grad_norm(critic, x_hat) - target).pow(2).mean()


def r1_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al.): ``||grad critic(real)||^2`` at the real data (unweighted; StyleGAN uses gamma/2).

    Examples
    --------
    >>> float(r1_penalty(lambda x: 2.0 * x.sum(dim=1), torch.randn(3, 4)))   # (2 * sqrt(4))^2
    16.0
    """
    return _grad_norm(critic, real).pow(2).mean()


def drift_penalty(real: torch.Tensor) -> torch.Tensor:
    """ProGAN's epsilon-drift term ``real^2`` keeping a WGAN critic's scores near zero (weight ~1e-3)."""
    return real.pow(2).mean()


def aux_classifier_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """AC-GAN auxiliary classifier loss: cross entropy of ``logits`` ``(batch, classes)`` and ``labels`` ``(batch,)``.

    Examples
    --------
    >>> logits = torch.tensor([[10.0, -10.0], [-10.0, 10.0]])
    >>> float(aux_classifier_loss(logits, torch.tensor([0, 1]))) < 1e-6
    True
    """
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ParameterError(f"expected logits (batch, classes) and labels (batch,), got {tuple(logits.shape)} "
                             f"and {tuple(labels.shape)}")
    return F.cross_entropy(logits.float(), labels.long())


def mode_seeking_loss(fake_a: torch.Tensor, fake_b: torch.Tensor, z_a: torch.Tensor, z_b: torch.Tensor, *,
                      ceiling: float = float("inf"), eps: float = 1e-5) -> torch.Tensor:
    """MSGAN's mode-seeking term (Mao et al. 2019): ``mean 1 / (|G(z_a) - G(z_b)| / |z_a - z_b| + eps)``.

    ``fake_a``, ``fake_b`` ``(pairs, ...)`` are generated with the same
    condition from latents ``z_a``, ``z_b`` ``(pairs, latent)``. Minimising it
    makes distant latents give distant outputs, so the generator cannot ignore
    its latent (mode collapse). Each pair's ratio (mean absolute differences)
    is capped at ``ceiling``, past which the term stops pushing, so the
    generator is not rewarded for diversity beyond the data's.

    Examples
    --------
    >>> z = torch.zeros(2, 4), torch.ones(2, 4)
    >>> float(mode_seeking_loss(torch.zeros(2, 3), torch.full((2, 3), 0.5), *z, eps=0.0))
    2.0
    """
    if fake_a.shape != fake_b.shape or z_a.shape != z_b.shape or fake_a.shape[0] != z_a.shape[0]:
        raise ParameterError(f"need two equal-shape fake and latent batches of the same length, got "
                             f"{tuple(fake_a.shape)}, {tuple(fake_b.shape)}, {tuple(z_a.shape)}, {tuple(z_b.shape)}")
    out_gap = (fake_a.float() - fake_b.float()).abs().flatten(1).mean(dim=1)
    z_gap = (z_a.float() - z_b.float()).abs().flatten(1).mean(dim=1)
    ratio = (out_gap / z_gap.clamp_min(1e-8)).clamp(max=ceiling)
    return (1.0 / (ratio + eps)).mean()


def feature_matching(real_features: Sequence[torch.Tensor], fake_features: Sequence[torch.Tensor]) -> torch.Tensor:
    """Mean L1 distance between matching discriminator feature maps (HiFi-GAN, MelGAN).

    Parameters
    ----------
    real_features, fake_features : sequences of torch.Tensor
        Same length and shapes; ``real_features`` are detached here.

    Examples
    --------
    >>> f = [torch.ones(2, 3), torch.zeros(2, 5)]
    >>> float(feature_matching(f, [torch.zeros(2, 3), torch.zeros(2, 5)]))
    0.5
    """
    if len(real_features) != len(fake_features) or not real_features:
        raise ParameterError(f"need equally many feature maps, got {len(real_features)} and {len(fake_features)}")
    terms = [F.l1_loss(fake, real.detach()) for real, fake in zip(real_features, fake_features)]
    return torch.stack(terms).mean()


def _magnitude(y: torch.Tensor, n_fft: int, hop_length: int) -> torch.Tensor:
    from ganaudio.functional.spectral import stft

    return stft(y.float(), n_fft=n_fft, hop_length=hop_length).abs()


def multi_resolution_stft_loss(
    fake: torch.Tensor,
    real: torch.Tensor,
    *,
    resolutions: Sequence[Sequence[int]] = ((512, 128), (1024, 256), (2048, 512)),
    eps: float = 1e-5,
) -> torch.Tensor:
    """Parallel WaveGAN's multi-resolution STFT loss: spectral convergence plus log-magnitude L1, averaged.

    Per ``(n_fft, hop)``: ``||S_real| - |S_fake||_F / ||S_real||_F + mean |log|S_real| - log|S_fake||``,
    the Frobenius norms taken over the whole batch (so a silent example cannot divide by zero) and
    magnitudes clamped at ``eps``, over a Hann-windowed centred STFT.

    Parameters
    ----------
    fake, real : torch.Tensor, ``(..., time)``
        Same shape, any scale (waveforms in [-1, 1]).
    resolutions : sequence of (n_fft, hop)
    eps : float

    Returns
    -------
    torch.Tensor, scalar; 0 for identical signals.

    Examples
    --------
    >>> y = torch.randn(2, 8000)
    >>> float(multi_resolution_stft_loss(y, y))
    0.0
    """
    if fake.shape != real.shape:
        raise ParameterError(f"fake and real must have the same shape, got {tuple(fake.shape)} and {tuple(real.shape)}")
    terms = []
    for n_fft, hop in resolutions:
        m_fake, m_real = _magnitude(fake, n_fft, hop), _magnitude(real, n_fft, hop)
        # Spectral convergence over the whole batch (Parallel WaveGAN's norm of the batch tensor): a
        # per-example ratio divides by ~0 on a silent example and blows up the loss and its gradient.
        sc = (m_real - m_fake).pow(2).sum().sqrt() / m_real.pow(2).sum().sqrt().clamp_min(eps)
        mag = (torch.log(m_real.clamp_min(eps)) - torch.log(m_fake.clamp_min(eps))).abs().mean()
        terms.append(sc + mag)
    return torch.stack(terms).mean()


def log_mel_l1(
    fake: torch.Tensor,
    real: torch.Tensor,
    *,
    sample_rate: int,
    n_fft: int,
    hop_length: int,
    n_mels: int,
    fmin: float = 0.0,
    fmax: float | None = None,
    eps: float = 1e-5,
) -> torch.Tensor:
    """HiFi-GAN's mel loss: mean ``|log mel(real) - log mel(fake)|`` of mel-warped STFT magnitudes.

    Parameters
    ----------
    fake, real : torch.Tensor, ``(..., time)``
    sample_rate, n_fft, hop_length, n_mels, fmin, fmax
        Mel analysis (slaney mel scale and norm, as :class:`ganaudio.representations.Mel`).
    eps : float
        Magnitudes are clamped at ``eps`` before the log.

    Examples
    --------
    >>> y = torch.randn(8000)
    >>> float(log_mel_l1(y, y, sample_rate=16000, n_fft=1024, hop_length=256, n_mels=80))
    0.0
    """
    from ganaudio.functional.spectral import mel_filterbank

    if fake.shape != real.shape:
        raise ParameterError(f"fake and real must have the same shape, got {tuple(fake.shape)} and {tuple(real.shape)}")
    m_fake, m_real = _magnitude(fake, n_fft, hop_length), _magnitude(real, n_fft, hop_length)
    fb = mel_filterbank(sample_rate=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax,
                        dtype=m_fake.dtype, device=m_fake.device)
    return (torch.log(torch.matmul(fb, m_real).clamp_min(eps))
            - torch.log(torch.matmul(fb, m_fake).clamp_min(eps))).abs().mean()


ADVERSARIAL: dict[str, tuple[Callable, Callable]] = {
    "nonsaturating": (nonsaturating_d, nonsaturating_g),
    "hinge": (hinge_d, hinge_g),
    "wgan": (wasserstein_d, wasserstein_g),
    "lsgan": (lsgan_d, lsgan_g),
}


def adversarial_losses(name: str) -> tuple[Callable, Callable]:
    """The ``(d_loss, g_loss)`` pair called ``name`` (nonsaturating, hinge, wgan, lsgan)."""
    if name not in ADVERSARIAL:
        raise ParameterError(f"unknown adversarial loss {name!r}; choose one of {sorted(ADVERSARIAL)}")
    return ADVERSARIAL[name]

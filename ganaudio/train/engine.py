"""The GAN engine: it owns the training step and the loop; a family supplies only its losses and batches.

One step of :class:`GANTrainer` reads top to bottom:

1. ``n_critic`` discriminator updates, each on a batch from the family's ``batch_fn``,
   with the family objective's ``d_loss``;
2. one generator update with the discriminator frozen, with its ``g_loss``;
3. the generator EMA.

Every update goes through :meth:`GANTrainer.guarded_update`: gradients averaged across
processes, NaN/inf losses or gradients skipped on every process alike (and
the run stopped after ``max_bad_steps`` in a row), gradient-norm clipping.
The loop adds learning-rate warm-up, bf16 autocast on CUDA, checkpoints with
exact resume (:mod:`ganaudio.train.resume`), a progress bar, a JSONL metrics
file, sample files and TensorBoard when installed.

A family's objective (DAC's ``GANLoss``, RAVE's paired objectives) is a
:class:`GANObjective`: ``d_loss(step)`` and ``g_loss(step)`` each return
``(loss, metrics)`` from a :class:`Step`, which carries the step's batch, its
seeded random generator, the networks and the autocast context.

Determinism: the batch order, the latent vectors and the penalty
interpolates of step ``s`` come from generators seeded by ``(seed, s)`` (and
the process rank), never from state carried between steps, so a run resumed
from a checkpoint repeats the uninterrupted run exactly on the same machine.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import ganaudio.train.distributed as dist_utils
import ganaudio.train.resume as resume_utils
from ganaudio.errors import CheckpointError, ParameterError, TrainingError
from ganaudio.train.checkpoint import latest_checkpoint, remove_stale
from ganaudio.train.metrics import MetricsLog

__all__ = ["BatchFn", "GANObjective", "GANTrainer", "SampleFn", "Step"]

log = logging.getLogger(__name__)

# (indices (B,), generator seeded by (seed, step, rank)) -> a batch: a tensor or a tuple of tensors on the CPU,
# e.g. (spectrograms, pitch labels) or CycleGAN's (domain A crops, domain B crops)
BatchFn = Callable[[torch.Tensor, torch.Generator], Any]
SampleFn = Callable[[torch.nn.Module, int], dict]


@dataclasses.dataclass
class Step:
    """What an objective sees of one training step.

    Attributes
    ----------
    index : int
        The step number.
    batch : tuple
        ``batch_fn``'s batch, moved to the device (a lone tensor is a 1-tuple).
    generator : torch.Generator
        CPU generator seeded by ``(seed, step, rank)``: draw latents and penalty
        interpolates from it (``torch.randn(..., generator=step.generator).to(device)``).
    G, D : nn.Module
    device : torch.device
    autocast : callable
        ``with step.autocast():`` runs bf16 on CUDA when mixed precision is on.
    shared : dict
        Tensors ``prepare`` leaves for ``d_loss`` and ``g_loss`` (e.g. fakes made once).
    """

    index: int
    batch: tuple
    generator: torch.Generator
    G: torch.nn.Module
    D: torch.nn.Module
    device: torch.device
    autocast: Callable
    shared: dict = dataclasses.field(default_factory=dict)


class GANObjective:
    """A family's losses. Subclasses define ``d_loss`` and ``g_loss``; ``prepare`` is optional.

    Each loss method returns ``(loss, metrics)``: a scalar tensor to minimise and
    ``{name: scalar tensor}`` to log. ``d_loss`` may return None to skip the
    discriminator update of a step (a vocoder's reconstruction-only warm-up).
    ``g_loss`` runs with the discriminator frozen.
    """

    def prepare(self, step: Step) -> None:
        """Compute what both updates use, before the discriminator update (default: nothing)."""

    def d_loss(self, step: Step) -> tuple[torch.Tensor, dict] | None:
        raise NotImplementedError

    def g_loss(self, step: Step) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError


class GANTrainer:
    """Train ``generator`` against ``discriminator`` with ``objective`` on batches from ``batch_fn``.

    Parameters
    ----------
    generator, discriminator : nn.Module
        Any modules with a ``config()`` (their constructor arguments, saved in checkpoints).
    objective : GANObjective
        The family's ``d_loss`` and ``g_loss``.
    batch_fn : callable
        ``(indices (B,), generator) -> batch`` on the CPU (see :data:`BatchFn`).
    n_examples : int
        Size of the data set ``batch_fn`` indexes.
    out_dir : path-like
        Run folder: ``checkpoints/``, ``samples/``, ``metrics.jsonl``, ``tensorboard/``.
    batch_size : int
        Examples per update per process.
    g_lr, d_lr, betas : float, float, (float, float)
        Adam settings for each network.
    n_critic : int
        Discriminator updates per generator update, each on the next batch.
    ema_decay : float
        Generator EMA decay per step (0 copies the generator).
    grad_clip : float
        Rescale each network's gradients to at most this total L2 norm before its step (0 = off);
        the norm before clipping is reported as ``g_grad_norm`` / ``d_grad_norm``.
    warmup_steps : int
        Linear learning-rate warm-up over this many steps from where the run
        starts (step 0, or the step of an ``init_from`` model, whose optimizer
        state is fresh); 0 = off. Resumed runs keep the original start.
    max_bad_steps : int
        Stop with TrainingError after this many non-finite steps in a row.
    mixed_precision : bool
        bf16 autocast, on CUDA only.
    log_every, sample_every, checkpoint_every, keep_checkpoints : int
    checkpoint_config : dict
        Saved into every checkpoint's config.json beside the constructor arguments
        (family, representation, normaliser, preset, data recipe...).
    sample_fn : callable, optional
        ``(generator_ema, step) -> {name: (waveform np.ndarray (time,), sample_rate)}``; written as WAVs.
    seed : int
    device : str or torch.device
    dist : DistInfo, optional
        From :func:`ganaudio.train.distributed.init_distributed`; single-process when None.
    progress, tensorboard : bool

    Examples
    --------
    >>> trainer = GANTrainer(G, D, objective=ConditionalGANLoss(loss="hinge"), batch_fn=batch_fn,
    ...                      n_examples=len(data), out_dir="runs/x", batch_size=16, g_lr=2e-3, d_lr=4e-3)  # doctest: +SKIP
    >>> trainer.fit(1000)                                                                              # doctest: +SKIP
    """

    def __init__(self, generator: torch.nn.Module, discriminator: torch.nn.Module, *, objective: GANObjective,
                 batch_fn: BatchFn, n_examples: int, out_dir, batch_size: int, g_lr: float, d_lr: float,
                 betas: tuple[float, float] = (0.0, 0.99), n_critic: int = 1, ema_decay: float = 0.999,
                 grad_clip: float = 0.0, warmup_steps: int = 0, max_bad_steps: int = 20, mixed_precision: bool = True,
                 log_every: int = 10, sample_every: int = 1000, checkpoint_every: int = 1000,
                 keep_checkpoints: int = 3, checkpoint_config: dict | None = None, sample_fn: SampleFn | None = None,
                 seed: int = 0, device: str | torch.device = "cpu", dist: dist_utils.DistInfo | None = None,
                 progress: bool = True, tensorboard: bool = True):
        if n_examples < 1:
            raise ParameterError(f"the data set is empty (n_examples={n_examples})")
        if batch_size < 1 or max_bad_steps < 1 or n_critic < 1:
            raise ParameterError(f"batch_size, max_bad_steps and n_critic must be >= 1, got {batch_size}, "
                                 f"{max_bad_steps}, {n_critic}")
        if grad_clip < 0 or warmup_steps < 0:
            raise ParameterError(f"grad_clip and warmup_steps must be >= 0, got {grad_clip}, {warmup_steps}")
        self.dist = dist or dist_utils.DistInfo(device=torch.device(device))
        self.device = self.dist.device if dist is not None else torch.device(device)
        self.G, self.D = generator.to(self.device), discriminator.to(self.device)
        dist_utils.broadcast_module(self.G, self.dist)
        dist_utils.broadcast_module(self.D, self.dist)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=g_lr, betas=tuple(map(float, betas)))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=d_lr, betas=tuple(map(float, betas)))
        self.base_lr = {id(self.opt_g): float(g_lr), id(self.opt_d): float(d_lr)}
        self.grad_clip, self.warmup_steps, self.warmup_start = float(grad_clip), int(warmup_steps), 0
        self.grad_norms: dict[int, float] = {}
        self.objective, self.n_critic = objective, int(n_critic)
        self.batch_fn, self.n_examples, self.batch_size = batch_fn, int(n_examples), int(batch_size)
        self.ema_decay, self.max_bad_steps = float(ema_decay), int(max_bad_steps)
        self.amp = bool(mixed_precision) and self.device.type == "cuda"
        self.log_every, self.sample_every = int(log_every), int(sample_every)
        self.checkpoint_every, self.keep_checkpoints = int(checkpoint_every), int(keep_checkpoints)
        self.checkpoint_config = dict(checkpoint_config or {})
        self.sample_fn, self.seed, self.progress = sample_fn, int(seed), progress
        self.out_dir = Path(out_dir)
        self.ckpt_dir = self.out_dir / "checkpoints"
        self.step, self.bad_steps = 0, 0
        self.metrics_log = MetricsLog(self.out_dir, tensorboard=tensorboard)
        self._perms: dict[int, torch.Tensor] = {}

    # ------------------------------------------------------------------ randomness and batches
    def _step_generator(self, step: int, salt: int = 0) -> torch.Generator:
        seed = int(np.random.SeedSequence([self.seed, step, self.dist.rank, salt]).generate_state(1, np.uint64)[0])
        return torch.Generator().manual_seed(seed)

    def _indices(self, position: int) -> torch.Tensor:
        """This process's example indices for batch ``position``: epochs are seeded permutations, split across ranks."""
        global_batch = self.batch_size * self.dist.world_size
        start = position * global_batch + self.dist.rank * self.batch_size
        positions = torch.arange(start, start + self.batch_size)
        out = torch.empty(self.batch_size, dtype=torch.long)
        for epoch in positions.div(self.n_examples, rounding_mode="floor").unique().tolist():
            if epoch not in self._perms:
                seed = int(np.random.SeedSequence([self.seed, epoch, 7]).generate_state(1, np.uint64)[0])
                self._perms = {epoch: torch.randperm(self.n_examples, generator=torch.Generator().manual_seed(seed))}
            mask = positions.div(self.n_examples, rounding_mode="floor") == epoch
            out[mask] = self._perms[epoch][positions[mask] % self.n_examples]
        return out

    def _batch(self, step: int, critic: int, generator: torch.Generator) -> Step:
        """Critic iteration ``critic`` of ``step``: the next batch in the data order, moved to the device."""
        position = step * self.n_critic + critic
        batch = self.batch_fn(self._indices(position), self._step_generator(step, salt=1 + critic))
        batch = batch if isinstance(batch, (tuple, list)) else (batch,)
        batch = tuple(x.to(self.device, non_blocking=True) if torch.is_tensor(x) else x for x in batch)
        return Step(step, batch, generator, self.G, self.D, self.device, self._autocast)

    def _autocast(self):
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=self.amp)

    # ------------------------------------------------------------------ updates
    @staticmethod
    def _grad_norm(module: torch.nn.Module) -> torch.Tensor:
        """Total L2 norm of ``module``'s gradients (0 when it has none); NaN or inf when any is."""
        grads = [p.grad.detach().float() for p in module.parameters() if p.grad is not None]
        return torch.nn.utils.get_total_norm(grads) if grads else torch.zeros(())

    def _set_learning_rates(self, step: int) -> None:
        """Apply the linear warm-up factor for ``step`` to both optimizers."""
        if not self.warmup_steps:
            return
        factor = min(1.0, (step - self.warmup_start + 1) / self.warmup_steps)
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = self.base_lr[id(opt)] * max(factor, 0.0)

    def grad_norm_metrics(self) -> dict[str, float]:
        """``g_grad_norm`` and ``d_grad_norm`` of the last updates (before clipping), when known."""
        out = {}
        for name, opt in (("g_grad_norm", self.opt_g), ("d_grad_norm", self.opt_d)):
            if id(opt) in self.grad_norms:
                out[name] = self.grad_norms[id(opt)]
        return out

    def guarded_update(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, module: torch.nn.Module) -> bool:
        """Backpropagate ``loss`` into ``module``, average its gradients across processes and step ``optimizer``.

        Nothing is stepped, and False is returned, when the loss or any
        gradient is NaN or inf on any process (every process then agrees to
        skip). With ``grad_clip`` the averaged gradients are rescaled to at most that norm.
        """
        optimizer.zero_grad(set_to_none=True)
        ok = dist_utils.all_true(bool(torch.isfinite(loss)), self.dist)
        if ok:
            loss.backward()
            dist_utils.average_gradients(module.parameters(), self.dist)
            norm = self._grad_norm(module)
            ok = dist_utils.all_true(bool(torch.isfinite(norm)), self.dist)
        if ok:
            self.grad_norms[id(optimizer)] = float(norm)
            if self.grad_clip:
                torch.nn.utils.clip_grads_with_norm_(module.parameters(), self.grad_clip, norm)
            optimizer.step()
        return ok

    # ------------------------------------------------------------------ one step
    def train_step(self, step: int) -> dict:
        """``n_critic`` discriminator updates, then one generator update; returns the step's metrics."""
        generator = self._step_generator(step)
        metrics: dict[str, torch.Tensor] = {}

        # ---------------- discriminator updates
        for critic in range(self.n_critic):
            current = self._batch(step, critic, generator)
            self.objective.prepare(current)
            result = self.objective.d_loss(current)
            if result is None:
                continue
            d_loss, d_metrics = result
            metrics.update(d_metrics, d_loss=d_loss)
            if not self.guarded_update(d_loss, self.opt_d, self.D):
                return self._bad_step(step, "discriminator", metrics)

        # ---------------- generator update, the discriminator frozen
        self.D.requires_grad_(False)
        try:
            g_loss, g_metrics = self.objective.g_loss(current)  # on the last critic iteration's batch
            metrics.update(g_metrics, g_loss=g_loss)
            g_ok = self.guarded_update(g_loss, self.opt_g, self.G)
        finally:
            self.D.requires_grad_(True)
        if not g_ok:
            return self._bad_step(step, "generator", metrics)
        self._update_ema()
        self.bad_steps = 0
        return {**{k: float(v.detach()) for k, v in metrics.items()}, **self.grad_norm_metrics()}

    def _bad_step(self, step: int, which: str, metrics: dict) -> dict:
        self.bad_steps += 1
        log.warning("step %d: non-finite %s loss or gradient (%s); step skipped (%d in a row)", step, which,
                    ", ".join(f"{k}={float(v.detach()):.4g}" for k, v in metrics.items()), self.bad_steps)
        if self.bad_steps >= self.max_bad_steps:
            last = latest_checkpoint(self.ckpt_dir)
            raise TrainingError(f"{self.bad_steps} training steps in a row had NaN or inf losses or gradients "
                                f"(last at step {step}); stopping. The last good checkpoint is "
                                f"{last if last else 'none (no checkpoint was written yet)'}; lower the learning "
                                f"rates or check the data, then resume")
        return {"skipped": 1.0}

    @torch.no_grad()
    def _update_ema(self) -> None:
        for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters()):
            p_ema.lerp_(p.detach(), 1.0 - self.ema_decay)
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
            b_ema.copy_(b)

    # ------------------------------------------------------------------ checkpoints (ganaudio.train.resume)
    def modules(self) -> dict[str, torch.nn.Module]:
        return {"generator": self.G, "generator_ema": self.G_ema, "discriminator": self.D}

    def save(self) -> Path | None:
        """Write a checkpoint of the current step (rank 0 only); see :func:`ganaudio.train.resume.save_trainer`."""
        return resume_utils.save_trainer(self)

    def resume(self, path=None) -> int:
        """Load the newest checkpoint (or ``path``): weights, optimizers, RNG and step. Returns the step."""
        return resume_utils.resume_trainer(self, path)

    def init_from(self, path) -> int:
        """Start from a model folder's weights and step with fresh optimizers; see
        :func:`ganaudio.train.resume.init_trainer_from`. Returns the step."""
        return resume_utils.init_trainer_from(self, path)

    # ------------------------------------------------------------------ the loop
    def fit(self, steps: int, *, resume: bool = False, init_from=None) -> dict:
        """Train until ``steps`` steps are done (counting steps before a resume); returns the last metrics.

        Raises
        ------
        CheckpointError
            If ``out_dir`` already holds checkpoints and ``resume`` is False, or a resume fails.
        TrainingError
            After ``max_bad_steps`` non-finite steps in a row.
        """
        if resume and init_from is not None:
            raise ParameterError("resume and init_from exclude each other")
        if self.dist.is_main:
            remove_stale(self.ckpt_dir)  # half-written checkpoints of a killed save; never taken as the latest
        dist_utils.barrier(self.dist)
        if resume:
            self.resume()
        elif init_from is not None:
            if latest_checkpoint(self.ckpt_dir) is not None:
                raise CheckpointError(f"{self.out_dir} already holds checkpoints; resume that run, or start from "
                                      f"{init_from} in a new output folder", remedy="resume-or-new-folder")
            self.init_from(init_from)
        elif self.step == 0 and latest_checkpoint(self.ckpt_dir) is not None:
            raise CheckpointError(f"{self.out_dir} already holds checkpoints; resume that run or choose a new "
                                  f"output folder", remedy="resume-or-new-folder")
        if self.dist.is_main:
            self.metrics_log.open(self.step)
        from tqdm.auto import tqdm

        window: dict[str, list[float]] = {}
        last: dict = {}
        started, start_step = time.perf_counter(), self.step
        bar = tqdm(total=steps, initial=self.step, unit="step", desc="training",
                   disable=not (self.progress and self.dist.is_main), dynamic_ncols=True)
        try:
            while self.step < steps:
                self._set_learning_rates(self.step)
                metrics = self.train_step(self.step)
                self.step += 1
                for k, v in metrics.items():
                    window.setdefault(k, []).append(v)
                bar.update(1)
                if self.step % self.log_every == 0 or self.step == steps:
                    last = {k: float(np.mean(v)) for k, v in window.items()}
                    last.update(step=self.step, s_per_step=(time.perf_counter() - started) / (self.step - start_step))
                    window = {}
                    bar.set_postfix({k: f"{last[k]:.3f}" for k in ("d_loss", "g_loss", "aux_acc_fake") if k in last})
                    if self.dist.is_main:
                        self.metrics_log.write(last, self.step)
                if self.sample_fn is not None and (self.step % self.sample_every == 0 or self.step == steps):
                    self._write_samples()
                if (self.step % self.checkpoint_every == 0 or self.step == steps) and self.bad_steps == 0:
                    self.save()  # never during a run of skipped steps: the last good checkpoint stays
        finally:
            bar.close()
            self.metrics_log.flush()
        return last

    def _write_samples(self) -> None:
        if not self.dist.is_main:
            return
        self.G_ema.eval()
        with torch.no_grad():
            samples = self.sample_fn(self.G_ema, self.step)
        self.metrics_log.write_samples(samples, self.step)

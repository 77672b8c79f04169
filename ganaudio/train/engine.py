"""A generic GAN training loop: discriminator step, then generator step.

:class:`GANTrainer` trains any conditional image GAN whose generator is
called ``G(z, labels)`` (with ``G.latent_dim``) and whose discriminator
returns ``(score, class_logits)`` from ``D(x, labels)``. It adds generator EMA,
separate learning rates, bf16 autocast on CUDA, skipping of non-finite steps,
checkpoints (:mod:`ganaudio.train.checkpoint`) with exact resume,
data-parallel runs (:mod:`ganaudio.train.distributed`), a progress bar, a
JSONL metrics file, sample WAVs, and TensorBoard when it is installed.

Determinism: the batch order, the latent vectors and the penalty
interpolates of step ``s`` come from generators seeded by ``(seed, s)`` (and
the process rank), never from state carried between steps, so a run resumed
from a checkpoint repeats the uninterrupted run exactly on the same machine.
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ganaudio import losses
from ganaudio.errors import CheckpointError, ParameterError, TrainingError
from ganaudio.train import distributed as dist_utils
from ganaudio.train.checkpoint import (
    config_differences,
    latest_checkpoint,
    load_checkpoint,
    load_train_state,
    remove_stale,
    save_checkpoint,
)

__all__ = ["GANTrainer"]

log = logging.getLogger(__name__)

BatchFn = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
SampleFn = Callable[[torch.nn.Module, int], dict]


def same_config(module: torch.nn.Module, stored: dict | None) -> bool:
    """Whether ``module`` was built with the constructor arguments ``stored`` (a checkpoint's config entry).

    Arguments a checkpoint predates (added since, with defaults that keep the
    old behaviour) count as their defaults, so an old checkpoint still matches.
    """
    if not isinstance(stored, dict):
        return False
    defaults = {name: p.default for name, p in inspect.signature(type(module)).parameters.items()
                if p.default is not inspect.Parameter.empty}
    current = module.config()
    filled = {k: defaults[k] for k in current if k not in stored and k in defaults}
    return {**filled, **stored} == current


class GANTrainer:
    """Train ``generator`` against ``discriminator`` on examples fetched by ``batch_fn``.

    Parameters
    ----------
    generator, discriminator : nn.Module
        ``generator(z (B, latent_dim), labels (B,)) -> x``; ``discriminator(x, labels) -> (score (B,), logits (B, K))``.
    batch_fn : callable
        ``indices (B,) -> (x (B, ...), labels (B,) long)`` on the CPU.
    n_examples : int
        Size of the data set ``batch_fn`` indexes.
    out_dir : path-like
        Run folder: ``checkpoints/``, ``samples/``, ``metrics.jsonl``, ``tensorboard/``.
    batch_size : int
        Examples per step per process.
    g_lr, d_lr, betas : float, float, (float, float)
        Adam settings for each network.
    loss : {"nonsaturating", "hinge", "wgan", "lsgan"}
    gp_weight, r1_weight, drift_weight, aux_weight : float
        WGAN-GP, R1 (applied as ``r1_weight / 2 * R1``), ProGAN drift and AC-GAN weights; 0 turns one off.
    mode_seeking_weight, mode_seeking_ceiling : float
        MSGAN's mode-seeking term against mode collapse (0 = off): the generator
        batch's second half repeats the first half's labels with fresh latents,
        and :func:`ganaudio.losses.mode_seeking_loss` of the pairs is added to
        the generator loss, each pair's output/latent distance ratio capped at the ceiling.
    r1_every : int
        Lazy R1 (StyleGAN2): apply it every this many steps, scaled up by the same factor.
    generator_penalty : callable, optional
        ``(fake (B, ...), labels (B,)) -> scalar`` added to the generator loss
        with weight ``generator_penalty_weight`` and reported as ``g_penalty``
        (e.g. :class:`ganaudio.train.periodicity.PeriodicityPrior`).
    aux_fake_in_d : bool
        Also train the discriminator's classifier on fakes (GANSynth) rather than on real notes only.
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
        (representation, normaliser, preset, data recipe...).
    sample_fn : callable, optional
        ``(generator_ema, step) -> {name: (waveform np.ndarray (time,), sample_rate)}``; written as WAVs.
    seed : int
    device : str or torch.device
    dist : DistInfo, optional
        From :func:`ganaudio.train.distributed.init_distributed`; single-process when None.
    progress, tensorboard : bool
    """

    def __init__(self, generator: torch.nn.Module, discriminator: torch.nn.Module, *, batch_fn: BatchFn,
                 n_examples: int, out_dir, batch_size: int, g_lr: float, d_lr: float,
                 betas: tuple[float, float] = (0.0, 0.99), loss: str = "hinge", gp_weight: float = 0.0,
                 r1_weight: float = 0.0, r1_every: int = 1, drift_weight: float = 0.0, aux_weight: float = 1.0,
                 mode_seeking_weight: float = 0.0, mode_seeking_ceiling: float = float("inf"),
                 generator_penalty: Callable | None = None, generator_penalty_weight: float = 0.0,
                 aux_fake_in_d: bool = False,
                 ema_decay: float = 0.999, grad_clip: float = 0.0, warmup_steps: int = 0, max_bad_steps: int = 20,
                 mixed_precision: bool = True, log_every: int = 10, sample_every: int = 1000,
                 checkpoint_every: int = 1000, keep_checkpoints: int = 3, checkpoint_config: dict | None = None,
                 sample_fn: SampleFn | None = None, seed: int = 0, device: str | torch.device = "cpu",
                 dist: dist_utils.DistInfo | None = None, progress: bool = True, tensorboard: bool = True):
        if n_examples < 1:
            raise ParameterError(f"the data set is empty (n_examples={n_examples})")
        if batch_size < 1 or max_bad_steps < 1:
            raise ParameterError(f"batch_size and max_bad_steps must be >= 1, got {batch_size}, {max_bad_steps}")
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
        self.d_adv, self.g_adv = losses.adversarial_losses(loss)
        self.batch_fn, self.n_examples, self.batch_size = batch_fn, int(n_examples), int(batch_size)
        self.weights = dict(gp=float(gp_weight), r1=float(r1_weight), drift=float(drift_weight), aux=float(aux_weight),
                            ms=float(mode_seeking_weight), penalty=float(generator_penalty_weight))
        self.generator_penalty = generator_penalty if generator_penalty_weight else None
        self.ms_ceiling = float(mode_seeking_ceiling)
        if r1_every < 1:
            raise ParameterError(f"r1_every must be >= 1, got {r1_every}")
        self.r1_every = int(r1_every)
        self.aux_fake_in_d, self.ema_decay, self.max_bad_steps = aux_fake_in_d, float(ema_decay), int(max_bad_steps)
        self.amp = bool(mixed_precision) and self.device.type == "cuda"
        self.log_every, self.sample_every = int(log_every), int(sample_every)
        self.checkpoint_every, self.keep_checkpoints = int(checkpoint_every), int(keep_checkpoints)
        self.checkpoint_config = dict(checkpoint_config or {})
        self.sample_fn, self.seed, self.progress = sample_fn, int(seed), progress
        self.out_dir = Path(out_dir)
        self.ckpt_dir = self.out_dir / "checkpoints"
        self.step, self.bad_steps = 0, 0
        self._use_tensorboard, self._tb = tensorboard, None
        self._perms: dict[int, torch.Tensor] = {}

    # ------------------------------------------------------------------ randomness
    def _step_generator(self, step: int, salt: int = 0) -> torch.Generator:
        seed = int(np.random.SeedSequence([self.seed, step, self.dist.rank, salt]).generate_state(1, np.uint64)[0])
        return torch.Generator().manual_seed(seed)

    def _indices(self, step: int) -> torch.Tensor:
        """This process's example indices for ``step``: epochs are seeded permutations, split across ranks."""
        global_batch = self.batch_size * self.dist.world_size
        start = step * global_batch + self.dist.rank * self.batch_size
        positions = torch.arange(start, start + self.batch_size)
        out = torch.empty(self.batch_size, dtype=torch.long)
        for epoch in positions.div(self.n_examples, rounding_mode="floor").unique().tolist():
            if epoch not in self._perms:
                seed = int(np.random.SeedSequence([self.seed, epoch, 7]).generate_state(1, np.uint64)[0])
                self._perms = {epoch: torch.randperm(self.n_examples, generator=torch.Generator().manual_seed(seed))}
            mask = positions.div(self.n_examples, rounding_mode="floor") == epoch
            out[mask] = self._perms[epoch][positions[mask] % self.n_examples]
        return out

    def _autocast(self):
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=self.amp)

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
        skip); subclasses' steps call this and then :meth:`_bad_step`. With
        ``grad_clip`` the averaged gradients are rescaled to at most that norm.
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
        """One discriminator update then one generator update; returns the step's metrics."""
        gen = self._step_generator(step)
        real, labels = self.batch_fn(self._indices(step))
        real, labels = real.to(self.device, non_blocking=True), labels.to(self.device)
        w, B = self.weights, real.shape[0]
        latent = self.G.latent_dim

        # ---------------- discriminator step
        z = torch.randn(B, latent, generator=gen).to(self.device)
        with self._autocast():
            with torch.no_grad():
                fake = self.G(z, labels)
            real_score, real_logits = self.D(real, labels)
            fake_score, fake_logits = self.D(fake, labels)
        real_score, fake_score = real_score.float(), fake_score.float()
        d_adv = self.d_adv(real_score, fake_score)
        d_aux = losses.aux_classifier_loss(real_logits, labels)
        if self.aux_fake_in_d:
            d_aux = (d_aux + losses.aux_classifier_loss(fake_logits, labels)) / 2
        d_loss = d_adv + w["aux"] * d_aux
        metrics = {"d_adv": d_adv, "d_aux": d_aux,
                   "aux_acc_real": (real_logits.argmax(dim=1) == labels).float().mean()}
        critic = lambda x: self.D(x, labels)[0]
        if w["gp"]:
            metrics["gp"] = losses.gradient_penalty(critic, real, fake.float(), generator=gen)
            d_loss = d_loss + w["gp"] * metrics["gp"]
        if w["r1"] and step % self.r1_every == 0:
            metrics["r1"] = losses.r1_penalty(critic, real)
            d_loss = d_loss + w["r1"] * self.r1_every / 2 * metrics["r1"]
        if w["drift"]:
            d_loss = d_loss + w["drift"] * losses.drift_penalty(real_score)
        metrics["d_loss"] = d_loss
        if not self.guarded_update(d_loss, self.opt_d, self.D):
            return self._bad_step(step, "discriminator", metrics)

        # ---------------- generator step
        z = torch.randn(B, latent, generator=gen).to(self.device)
        half = B // 2 if w["ms"] else 0
        if half:  # pairs (i, half + i) share a label and differ in latent
            labels = torch.cat([labels[:half], labels[:half], labels[2 * half:]])
        self.D.requires_grad_(False)
        try:
            with self._autocast():
                fake = self.G(z, labels)
                fake_score, fake_logits = self.D(fake, labels)
            g_adv = self.g_adv(fake_score.float())
            g_aux = losses.aux_classifier_loss(fake_logits, labels)
            g_loss = g_adv + w["aux"] * g_aux
            if half:
                metrics["ms"] = losses.mode_seeking_loss(fake[:half], fake[half:2 * half], z[:half],
                                                         z[half:2 * half], ceiling=self.ms_ceiling)
                g_loss = g_loss + w["ms"] * metrics["ms"]
            if self.generator_penalty is not None:
                metrics["g_penalty"] = self.generator_penalty(fake.float(), labels)
                g_loss = g_loss + w["penalty"] * metrics["g_penalty"]
            metrics.update(g_adv=g_adv, g_aux=g_aux, g_loss=g_loss,
                           aux_acc_fake=(fake_logits.argmax(dim=1) == labels).float().mean())
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

    # ------------------------------------------------------------------ checkpoints
    def modules(self) -> dict[str, torch.nn.Module]:
        return {"generator": self.G, "generator_ema": self.G_ema, "discriminator": self.D}

    def save(self) -> Path | None:
        """Write a checkpoint of the current step (rank 0 only)."""
        path = None
        if self.dist.is_main:
            config = {"generator": self.G.config(), "discriminator": self.D.config(), **self.checkpoint_config}
            state = {"step": self.step, "bad_steps": self.bad_steps, "seed": self.seed,
                     "warmup_start": self.warmup_start,
                     "optimizer_g": self.opt_g.state_dict(), "optimizer_d": self.opt_d.state_dict(),
                     "rng_torch": torch.get_rng_state(),
                     "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}
            path = save_checkpoint(self.ckpt_dir, step=self.step, modules=self.modules(), config=config,
                                   train_state=state, keep=self.keep_checkpoints)
        dist_utils.barrier(self.dist)
        return path

    def resume(self, path=None) -> int:
        """Load the newest checkpoint (or ``path``): weights, optimizers, RNG and step. Returns the step."""
        path = path or latest_checkpoint(self.ckpt_dir)
        if path is None:
            raise CheckpointError(f"nothing to resume: {self.ckpt_dir} holds no complete checkpoint")
        config, states = load_checkpoint(path)
        self._check_same_run(path, config)
        for name, module in self.modules().items():
            if name not in states:
                raise CheckpointError(f"{path}/model.safetensors has no {name} weights")
            try:
                module.load_state_dict(states[name])
            except RuntimeError as exc:
                raise CheckpointError(f"{path}: {name} weights do not fit ({str(exc).splitlines()[0]})") from None
        state = load_train_state(path)
        if state is None:
            raise CheckpointError(f"{path} has no train_state.pt; it can be loaded as a model but not resumed")
        self.opt_g.load_state_dict(state["optimizer_g"])
        self.opt_d.load_state_dict(state["optimizer_d"])
        torch.set_rng_state(state["rng_torch"])
        if state.get("rng_cuda") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng_cuda"])
        self.step, self.bad_steps = int(state["step"]), int(state["bad_steps"])
        self.warmup_start = int(state.get("warmup_start", 0))
        log.info("resumed from %s at step %d", path, self.step)
        return self.step

    def _check_same_run(self, path, config: dict) -> None:
        """CheckpointError naming only the fields that differ, if ``config`` is not this run's family and models."""
        family = self.checkpoint_config.get("family")
        if family is not None and config.get("family") != family:
            raise CheckpointError(f"{path} holds a {config.get('family')!r} run, this is {family!r}; "
                                  f"use a new --out folder")
        parts = []
        for key, module in (("generator", self.G), ("discriminator", self.D)):
            stored = config.get(key)
            if same_config(module, stored):
                continue
            if not parts and isinstance(config.get("preset"), dict) and "preset" in self.checkpoint_config:
                preset = config_differences(config["preset"], self.checkpoint_config["preset"])
                if preset:
                    parts.append("preset differs: " + "; ".join(preset))
            changed = config_differences(stored if isinstance(stored, dict) else {}, module.config(), limit=4)
            parts.append(f"{key} differs: " + "; ".join(changed or ["its layout"]))
        if parts:
            raise CheckpointError(f"{path} cannot be resumed by this run: {'; '.join(parts)}. "
                                  f"Use the same settings, or a new --out folder")

    def init_from(self, path) -> int:
        """Start from the weights of a model folder that has no optimizer state (a bundled model).

        Generator, discriminator and EMA weights and the step count come from
        ``path``; the optimizers start fresh. A folder with one generator gives
        it to both the generator and its EMA; a folder without discriminator
        weights (an exported vocoder), or with a discriminator of other
        settings (a wider one for a continued run), leaves the discriminator
        freshly initialised. This is how a run continues on a machine that has only
        the committed weights. Returns the step.
        """
        config, states = load_checkpoint(path)
        if not same_config(self.G, config.get("generator")):
            raise CheckpointError(f"{path} was saved with generator {config.get('generator')}, but this run builds "
                                  f"{self.G.config()}; use the same settings")
        for name, module in self.modules().items():
            source = name if name in states else "generator" if name == "generator_ema" else None
            if name == "discriminator" and source is None:
                log.info("%s has no discriminator weights; the discriminator starts fresh", path)
                continue
            if name == "discriminator" and not same_config(module, config.get("discriminator")):
                log.warning("%s holds a discriminator with other settings (%s); this run's %s starts fresh", path,
                            config.get("discriminator"), module.config())
                continue
            if source not in states:
                raise CheckpointError(f"{path}/model.safetensors has no {name} weights")
            try:
                module.load_state_dict(states[source])
            except RuntimeError as exc:
                raise CheckpointError(f"{path}: {name} weights do not fit ({str(exc).splitlines()[0]})") from None
        self.step = self.warmup_start = int(config.get("step", 0))
        log.info("initialised from %s at step %d (fresh optimizer state)", path, self.step)
        return self.step

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
                raise CheckpointError(f"{self.out_dir} already holds checkpoints; use --resume, or a new folder "
                                      f"to start from {init_from}")
            self.init_from(init_from)
        elif self.step == 0 and latest_checkpoint(self.ckpt_dir) is not None:
            raise CheckpointError(f"{self.out_dir} already holds checkpoints; pass --resume to continue that run "
                                  f"or choose a new output folder")
        metrics_file = self.out_dir / "metrics.jsonl"
        if self.dist.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            _truncate_metrics(metrics_file, self.step)
            self._open_tensorboard()
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
                        _append_jsonl(metrics_file, last)
                        if self._tb is not None:
                            for k, v in last.items():
                                if k != "step":
                                    self._tb.add_scalar(k, v, self.step)
                if self.sample_fn is not None and (self.step % self.sample_every == 0 or self.step == steps):
                    self._write_samples()
                if (self.step % self.checkpoint_every == 0 or self.step == steps) and self.bad_steps == 0:
                    self.save()  # never during a run of skipped steps: the last good checkpoint stays
        finally:
            bar.close()
            if self._tb is not None:
                self._tb.flush()
        return last

    def _write_samples(self) -> None:
        if not self.dist.is_main:
            return
        from ganaudio.io import save_audio

        self.G_ema.eval()
        with torch.no_grad():
            samples = self.sample_fn(self.G_ema, self.step)
        folder = self.out_dir / "samples" / f"step_{self.step:08d}"
        for name, (wave, rate) in samples.items():
            wave = np.asarray(wave, np.float32)
            save_audio(folder / f"{name}.wav", wave, rate)
            if self._tb is not None:
                self._tb.add_audio(f"samples/{name}", torch.from_numpy(wave).clamp(-1, 1), self.step,
                                   sample_rate=rate)

    def _open_tensorboard(self) -> None:
        if not self._use_tensorboard or self._tb is not None:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            log.info("tensorboard is not installed; metrics go to metrics.jsonl only")
            return
        self._tb = SummaryWriter(str(self.out_dir / "tensorboard"))


def _append_jsonl(path: Path, record: dict) -> None:
    with open(path, "a") as fh:
        fh.write(json.dumps({k: (v if math.isfinite(v) else str(v)) if isinstance(v, float) else v
                             for k, v in record.items()}) + "\n")


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop metric lines past ``step`` (written after the checkpoint a resumed run starts from)."""
    if not path.is_file():
        return
    from ganaudio.io import atomic_path

    kept = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line).get("step", 0) <= step:
                kept.append(line)
        except ValueError:
            continue
    with atomic_path(path) as tmp:
        tmp.write_text("".join(line + "\n" for line in kept))

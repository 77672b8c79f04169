"""GAN training step time for the GANSynth presets, and generation speed as multiples of real time.

    .venv/bin/python benchmarks/train.py [--presets tiny,paper] [--device cpu|cuda] [--steps 5]

Times :meth:`ganaudio.train.GANTrainer.train_step` (one D and one G update,
with the preset's penalties) on random normalised inputs: step time does not
depend on the values. ``run()`` returns a markdown section for RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))


def step_time(preset_name: str, *, device: str = "cpu", steps: int = 5, warmup: int = 1) -> dict:
    from ganaudio.models.gansynth import Discriminator, Generator
    from ganaudio.presets import load_preset
    from ganaudio.train.engine import GANTrainer
    from ganaudio.train.gansynth import ConditionalGANLoss

    p = load_preset(preset_name)
    torch.manual_seed(0)
    G, D = Generator(**p.generator_kwargs()), Discriminator(**p.discriminator_kwargs())
    n = 4 * p.batch_size
    data = torch.rand(n, 2, p.n_mels, p.n_frames) * 2 - 1
    labels = torch.randint(0, p.n_pitches, (n,))
    with tempfile.TemporaryDirectory() as tmp:
        objective = ConditionalGANLoss(loss=p.loss, gp_weight=p.gp_weight, r1_weight=p.r1_weight,
                                       r1_every=p.r1_every, drift_weight=p.drift_weight, aux_weight=p.aux_weight,
                                       aux_fake_in_d=p.aux_fake_in_d)
        tr = GANTrainer(G, D, objective=objective, batch_fn=lambda idx, gen: (data[idx], labels[idx]), n_examples=n,
                        out_dir=tmp, batch_size=p.batch_size, g_lr=p.g_lr, d_lr=p.d_lr, betas=(p.beta1, p.beta2),
                        ema_decay=p.ema_decay, mixed_precision=p.mixed_precision, device=device,
                        progress=False, tensorboard=False)
        sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
        times = []
        for step in range(warmup + steps):
            sync()
            start = time.perf_counter()
            tr.train_step(step)
            sync()
            if step >= warmup:
                times.append(time.perf_counter() - start)
    # lazy R1 makes steps uneven: report the mean over whole R1 periods where possible
    s = statistics.mean(times)
    params = sum(x.numel() for x in G.parameters()) + sum(x.numel() for x in D.parameters())
    return {"preset": preset_name, "device": device, "batch": p.batch_size, "image": f"{p.n_mels}x{p.n_frames}",
            "params_m": params / 1e6, "s_per_step": s, "examples_per_s": p.batch_size / s}


def generation_speed(preset_name: str, *, device: str = "cpu", batch: int = 16, n_iter: int = 8) -> dict:
    from ganaudio.models.gansynth import Generator
    from ganaudio.presets import load_preset
    from ganaudio.representations import Normalizer

    p = load_preset(preset_name)
    G = Generator(**p.generator_kwargs()).to(device).eval()
    rep = p.representation()
    norm = Normalizer(center=(-5.0, 0.0), scale=(8.0, 1.0))
    z = torch.randn(batch, p.latent_dim, device=device)
    pitch = torch.randint(0, p.n_pitches, (batch,), device=device)
    seconds = rep.samples_for(p.n_frames) / rep.sample_rate * batch
    with torch.no_grad():
        G(z, pitch)
        start = time.perf_counter()
        spec = G(z, pitch)
        t_gen = time.perf_counter() - start
        start = time.perf_counter()
        rep.decode(norm.denormalize(spec.float().cpu()), method="phase-griffinlim", n_iter=n_iter)
        t_dec = time.perf_counter() - start
    return {"preset": preset_name, "device": device, "generator_x_realtime": seconds / t_gen,
            "with_decode_x_realtime": seconds / (t_gen + t_dec), "n_iter": n_iter}


def run(presets=("tiny", "paper"), device: str = "cpu", steps: int = 5) -> str:
    rows = []
    for name in presets:
        st = step_time(name, device=device, steps=steps if name == "tiny" else max(1, steps // 5))
        gen = generation_speed(name, device=device)
        rows.append(f"| {name} | {device} | {st['image']} | {st['batch']} | {st['params_m']:.2f} M | "
                    f"{st['s_per_step']:.2f} | {st['examples_per_s']:.1f} | {gen['generator_x_realtime']:.0f}x | "
                    f"{gen['with_decode_x_realtime']:.1f}x |")
    return "\n".join([
        "## GANSynth training and generation",
        "",
        "One `GANTrainer.train_step` (D update then G update, the preset's penalties); generation of a batch",
        "of 16 notes by the generator alone and with phase-initialised Griffin-Lim (8 iterations) to audio.",
        "",
        "| preset | device | image | batch | G+D params | s/step | examples/s | generator | + decode |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="tiny,paper")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    from common import machine

    print(machine())
    print(run([p for p in args.presets.split(",") if p], device=args.device, steps=args.steps))


if __name__ == "__main__":
    main()

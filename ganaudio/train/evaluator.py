"""Train the evaluator network (:class:`ganaudio.eval.evaluator.NoteEvaluator`) on real notes.

Layout of a run::

    RUN/checkpoints/step_*/   model.safetensors, config.json, train_state.pt (newest two, every epoch)
    RUN/best/                 model.safetensors, config.json: the epoch with the best validation score,
                              with held-out (test split) accuracies in config["metrics"]

The validation and test splits of a SoundFont or NSynth note set hold other
instruments than the training split, so their accuracies measure how well
the evaluator generalises to timbres it has not heard (what it must do on
generated notes).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ganaudio.data.soundfont import NSYNTH_FAMILIES
from ganaudio.errors import DataError, ParameterError
from ganaudio.eval.evaluator import NoteEvaluator
from ganaudio.train.checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    load_train_state,
    remove_stale,
    save_checkpoint,
    write_model_folder,
)

__all__ = ["train_evaluator", "load_note_features", "export_model"]

log = logging.getLogger(__name__)

GAIN_DB = 12.0  # random gain augmentation, +-dB


def load_note_features(data: str | os.PathLike, *, split: str | None, representation, n_frames: int,
                       cache_dir: str | os.PathLike, pitch_range: tuple[int, int] | None = (24, 84),
                       sources: Sequence[str] | None = ("acoustic",), progress: bool = False,
                       skipped: dict | None = None):
    """Log-mel features and labels of one split, through the feature cache.

    Returns
    -------
    features : np.ndarray ``(n, 1, n_mels, n_frames)`` float32 (empty when the split has no notes)
    pitches : np.ndarray ``(n,)`` MIDI
    families : np.ndarray ``(n,)`` index into NSynth's families

    Unusable notes (unreadable, NaN, silent, truncated) are left out by the
    feature cache; ``skipped`` (optional dict) receives its
    :meth:`~ganaudio.data.screen.SkipReport.to_dict` when given.
    """
    from ganaudio.data.cache import build_note_cache
    from ganaudio.data.nsynth import load_note_examples

    try:
        notes = load_note_examples(data, split=split, pitch_range=pitch_range, sources=sources, verify=False)
    except DataError:
        if split is None:
            raise
        return np.zeros((0, 1, representation.n_bins, n_frames), np.float32), np.zeros(0, int), np.zeros(0, int)
    family_of = {n.instrument_str: NSYNTH_FAMILIES.index(n.instrument_family_str) for n in notes}
    cache = build_note_cache(data, cache_dir, representation=representation, n_frames=n_frames, split=split,
                             pitch_range=pitch_range, sources=sources, progress=progress)
    if skipped is not None:
        skipped.update(cache.skipped)
    features = np.concatenate([np.asarray(s) for s in cache.shards()]).astype(np.float32)
    pitches = np.array([e["pitch"] for e in cache.index])
    families = np.array([family_of[e["instrument_str"]] for e in cache.index])
    return features, pitches, families


def export_model(checkpoint: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Copy a checkpoint's ``model.safetensors`` and ``config.json`` to the model folder ``dest``, atomically."""
    import json

    from safetensors.torch import load_file

    checkpoint = Path(checkpoint)
    config = json.loads((checkpoint / "config.json").read_text())
    return write_model_folder(dest, tensors=load_file(str(checkpoint / "model.safetensors")), config=config)


@torch.no_grad()
def _accuracy(net: NoteEvaluator, x: np.ndarray, pitch: np.ndarray, family: np.ndarray, device) -> dict:
    if len(x) == 0:
        return {}
    net.eval()
    hits_p = hits_f = 0
    for start in range(0, len(x), 256):
        p, f, _ = net(torch.from_numpy(x[start:start + 256]).to(device))
        hits_p += int((p.argmax(1).cpu().numpy() + net.lowest_pitch == pitch[start:start + 256]).sum())
        hits_f += int((f.argmax(1).cpu().numpy() == family[start:start + 256]).sum())
    return {"pitch_accuracy": hits_p / len(x), "family_accuracy": hits_f / len(x), "n": int(len(x))}


def train_evaluator(
    data: str | os.PathLike,
    out: str | os.PathLike,
    *,
    epochs: int = 30,
    max_minutes: float | None = None,
    max_steps: int | None = None,
    batch_size: int = 64,
    lr: float = 2e-3,
    n_mels: int = 128,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_frames: int = 32,
    sample_rate: int = 16000,
    pitch_range: tuple[int, int] | None = (24, 84),
    sources: Sequence[str] | None = None,
    cache_dir: str | os.PathLike | None = None,
    resume: bool = False,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> dict:
    """Train a :class:`NoteEvaluator` on the train split of ``data``; pick the epoch by validation score.

    Parameters
    ----------
    data : path-like
        NSynth-layout note folder (``examples.json`` + ``audio/``), split by instrument.
    out : path-like
        Run folder (see the module notes).
    epochs, max_minutes, max_steps : limits; training stops at the first reached (with a checkpoint).
    batch_size, lr : AdamW settings (cosine decay over ``epochs``).
    n_mels, n_fft, hop_length, n_frames, sample_rate : the log-mel front end.
    pitch_range, sources : note filters (GANSynth's pitch range; every source by default: an evaluator
        should know every timbre a generator may produce).
    cache_dir : feature cache folder (default ``<data>/.ganaudio-cache``).
    resume : continue from the newest checkpoint in ``out``.
    seed : weights, batch order and augmentation.

    Returns
    -------
    dict
        ``valid`` and ``test`` accuracies of the best epoch (``pitch_accuracy``,
        ``family_accuracy``, ``n``), ``epoch``, ``steps``, ``seconds``.

    Examples
    --------
    >>> metrics = train_evaluator("data/notes", "runs/evaluator", max_minutes=20)
    >>> metrics["test"]["pitch_accuracy"]  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    from ganaudio.representations import Mel

    if batch_size < 1 or epochs < 1:
        raise ParameterError(f"batch_size and epochs must be >= 1, got {batch_size} and {epochs}")
    started = time.perf_counter()
    out = Path(out)
    device = torch.device(device)
    rep = Mel(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
    cache_dir = Path(cache_dir) if cache_dir is not None else Path(data) / ".ganaudio-cache"
    kw = dict(representation=rep, n_frames=n_frames, cache_dir=cache_dir, pitch_range=pitch_range, sources=sources)
    skipped: dict = {"train": {}, "valid": {}, "test": {}}
    x_train, p_train, f_train = load_note_features(data, split="train", progress=progress, skipped=skipped["train"],
                                                   **kw)
    if len(x_train) < 2:
        raise DataError(f"{data}: the train split has {len(x_train)} notes; the evaluator needs at least 2")
    held_out = {s: load_note_features(data, split=s, skipped=skipped[s], **kw) for s in ("valid", "test")}
    low, high = int(p_train.min()), int(p_train.max())
    net = NoteEvaluator(n_mels=n_mels, n_frames=n_frames, n_pitches=high - low + 1, lowest_pitch=low)
    flat = torch.from_numpy(x_train).transpose(0, 2).reshape(n_mels, -1)
    net.mean.copy_(flat.mean(1))
    net.std.copy_(flat.std(1).clamp_min(1e-3))
    net.to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps_per_epoch = -(-len(x_train) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch,
                                                pct_start=0.1)
    step, epoch, best = 0, 0, -1.0
    rng = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    remove_stale(out / "checkpoints")
    if resume and (last := latest_checkpoint(out / "checkpoints")) is not None:
        _, states = load_checkpoint(last)
        net.load_state_dict(states["evaluator"])
        state = load_train_state(last)
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        rng.set_state(state["rng"])
        step, epoch, best = int(state["step"]), int(state["epoch"]), float(state["best"])
        log.info("resumed from %s (epoch %d)", last, epoch)
    config = {"family": "evaluator", "evaluator": net.config(), "representation": rep.config(),
              "families": list(NSYNTH_FAMILIES),
              "data": {"root": str(data), "train_notes": int(len(x_train)), "pitch_range": [low, high],
                       "skipped": skipped,
                       "sources": list(sources) if sources else None}}
    x_all, p_all, f_all = torch.from_numpy(x_train), torch.from_numpy(p_train - low), torch.from_numpy(f_train)
    stop = False
    while epoch < epochs and not stop:
        net.train()
        order = torch.randperm(len(x_all), generator=rng)
        with tqdm(total=steps_per_epoch, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress,
                  unit="step") as bar:
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                x = x_all[idx]
                gain = (torch.rand(len(idx), 1, 1, 1, generator=rng) * 2 - 1) * GAIN_DB
                x = (x + gain * (np.log(10) / 10)).to(device)  # log power: +g dB adds g * ln(10) / 10
                pitch_logits, family_logits, _ = net(x)
                loss = (F.cross_entropy(pitch_logits, p_all[idx].to(device), label_smoothing=0.05)
                        + F.cross_entropy(family_logits, f_all[idx].to(device), label_smoothing=0.05))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if sched.last_epoch < sched.total_steps - 1:
                    sched.step()
                step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}")
                minutes = (time.perf_counter() - started) / 60
                if (max_steps is not None and step >= max_steps) or (max_minutes is not None
                                                                     and minutes >= max_minutes):
                    stop = True
                    break
        epoch += 1
        valid = _accuracy(net, *held_out["valid"], device) or _accuracy(net, x_train, p_train, f_train, device)
        score = valid["pitch_accuracy"] + valid["family_accuracy"]
        log.info("epoch %d step %d: valid %s", epoch, step, valid)
        is_best = score > best
        best = max(best, score)
        ckpt = save_checkpoint(out / "checkpoints", step=step, modules={"evaluator": net},
                               config={**config, "epoch": epoch, "metrics": {"valid": valid}},
                               train_state={"optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                                            "rng": rng.get_state(), "step": step, "epoch": epoch, "best": best},
                               keep=2)
        if is_best:
            export_model(ckpt, out / "best")
    # Held-out figures of the chosen epoch, written into its config.
    import json

    best_config, states = load_checkpoint(out / "best")
    net.load_state_dict(states["evaluator"])
    metrics = {"valid": best_config["metrics"]["valid"],
               "test": _accuracy(net, *held_out["test"], device),
               "train": _accuracy(net, x_train, p_train, f_train, device),
               "epoch": best_config["epoch"], "steps": best_config["step"],
               "data_skipped": {f"{split} split": v for split, v in skipped.items() if v},
               "seconds": round(time.perf_counter() - started, 1)}
    best_config["metrics"] = metrics
    from ganaudio.io import atomic_path

    with atomic_path(out / "best" / "config.json") as tmp:
        tmp.write_text(json.dumps(best_config, indent=2, sort_keys=True))
    return metrics

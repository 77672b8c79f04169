"""A trained GANSynth discriminator's auxiliary pitch head used as a pitch classifier on real notes.

The discriminator of an AC-GAN learns to name the pitch of real notes while
it learns to tell real from generated; its accuracy on held-out real notes,
beside the evaluator network's on the same notes, says how much of the data's
pitch structure the GAN's critic has learned.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from ganaudio.errors import CheckpointError
from ganaudio.loading import build_from_config, load_weights, open_model

__all__ = ["load_discriminator", "discriminator_pitch_accuracy"]


def load_discriminator(path: str | os.PathLike, *, device: str | torch.device = "cpu"):
    """The discriminator of a GANSynth checkpoint folder: ``(discriminator, representation, normalizer, config)``.

    Raises
    ------
    CheckpointError
        If the folder is not a GANSynth checkpoint, holds no discriminator (released
        models may keep the generator only) or its weights do not fit its config.

    Examples
    --------
    >>> D, rep, normalizer, config = load_discriminator("runs/tiny/checkpoints/step_00002000")
    """
    from ganaudio.models.gansynth import Discriminator
    from ganaudio.representations import Normalizer, from_config

    folder = open_model(path, family="gansynth", what="GANSynth model")
    if "discriminator" not in folder.states or "discriminator" not in folder.config:
        raise CheckpointError(f"{folder.path} holds no discriminator weights (a generator-only release?)")
    D, rep, normalizer, _ = build_from_config(folder, lambda c: (
        Discriminator.from_config(c["discriminator"]), from_config(c["representation"]),
        Normalizer.from_dict(c["normalizer"]), int(c["n_frames"])))
    load_weights(D, folder, keys=("discriminator",), what="discriminator")
    config = folder.config
    return D.to(device).eval(), rep, normalizer, config


@torch.no_grad()
def discriminator_pitch_accuracy(path: str | os.PathLike, audio: np.ndarray, pitches, *, sample_rate: int,
                                 batch_size: int = 32, device: str | torch.device = "cpu") -> dict:
    """Share of notes ``audio`` ``(n, time)`` whose pitch the discriminator's auxiliary head names.

    Notes are encoded with the checkpoint's own representation, frame count and
    normaliser (as in training). Pitches outside the model's range count as misses.

    Returns
    -------
    dict with ``accuracy``, ``n`` and ``out_of_range`` (notes the head cannot name)

    Examples
    --------
    >>> discriminator_pitch_accuracy("runs/tiny/checkpoints/step_00002000", real.audio, real.pitches,
    ...                              sample_rate=16000)
    {'accuracy': 0.93, 'n': 100, 'out_of_range': 0}
    """
    from ganaudio.errors import ParameterError
    from ganaudio.io import resample

    D, rep, normalizer, config = load_discriminator(path, device=device)
    audio = np.asarray(audio, dtype=np.float32)
    pitches = np.asarray(pitches, dtype=int)
    if audio.ndim != 2 or len(audio) != len(pitches) or len(audio) == 0:
        raise ParameterError(f"need notes (n, time) and n pitches, got {audio.shape} and {pitches.shape}")
    if sample_rate != rep.sample_rate:
        audio = np.stack([resample(y, orig_sr=sample_rate, target_sr=rep.sample_rate) for y in audio])
    n_frames = int(config["n_frames"])
    in_range = (pitches >= D.lowest_pitch) & (pitches < D.lowest_pitch + D.n_pitches)
    predicted = []
    for start in range(0, len(audio), batch_size):
        chunk = torch.from_numpy(audio[start:start + batch_size])
        spec = normalizer.normalize(rep.encode(rep.fit_length(chunk, n_frames), n_frames=n_frames)).float()
        # The projection term needs a pitch; the auxiliary logits do not depend on it.
        index = torch.from_numpy(np.clip(pitches[start:start + batch_size] - D.lowest_pitch, 0, D.n_pitches - 1))
        _, logits = D(spec.to(device), index.to(device))
        predicted.append(logits.argmax(1).cpu().numpy() + D.lowest_pitch)
    hits = (np.concatenate(predicted) == pitches) & in_range
    return {"accuracy": float(hits.mean()), "n": int(len(pitches)), "out_of_range": int((~in_range).sum())}

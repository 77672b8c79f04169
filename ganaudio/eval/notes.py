"""GANSynth's metrics for a set of generated notes, each beside the same figure on real notes.

The real notes are dealt into two disjoint halves: the *reference* half
anchors the distances (Frechet distance, NDB) and the *floor* half is scored
exactly as the generated notes are. So every figure has its real-data value
next to it: the distance between two samples of real data, the pitch
accuracy real notes reach under the same tracker, and so on.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import numpy as np

from ganaudio.errors import DataError, ParameterError
from ganaudio.synth.generator import generate_notes, load_gansynth

__all__ = ["NoteBatch", "load_note_batch", "split_halves", "generate_note_batch", "notes_report"]

_PITCH_IN_NAME = re.compile(r"(?:pitch_|-)(\d{1,3})(?:-\d{1,3})?$")


@dataclasses.dataclass(frozen=True)
class NoteBatch:
    """Notes of equal length with their target pitches.

    Attributes
    ----------
    audio : np.ndarray ``(n, time)`` float32, mono at ``sample_rate`` Hz
    pitches : np.ndarray ``(n,)`` target MIDI pitches
    families : tuple of str, or None where unknown (generated notes)
    names : tuple of str
    sample_rate : int
    skipped : dict
        :meth:`~ganaudio.data.screen.SkipReport.to_dict` of the files left out as unusable when read.
    """

    audio: np.ndarray
    pitches: np.ndarray
    families: tuple | None
    names: tuple
    sample_rate: int
    skipped: dict = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.pitches)

    def take(self, index) -> NoteBatch:
        """The notes at integer positions ``index``, in that order."""
        index = np.asarray(index, dtype=int)
        return NoteBatch(self.audio[index], self.pitches[index],
                         None if self.families is None else tuple(self.families[i] for i in index),
                         tuple(self.names[i] for i in index), self.sample_rate, self.skipped)


def _fit(y: np.ndarray, n_samples: int) -> np.ndarray:
    return y[:n_samples] if len(y) >= n_samples else np.pad(y, (0, n_samples - len(y)))


def load_note_batch(path: str | os.PathLike, *, sample_rate: int, n_samples: int, limit: int | None = None,
                    seed: int = 0, split: str | None = None, pitch_range: tuple[int, int] | None = None,
                    progress: bool = False) -> NoteBatch:
    """Notes from an NSynth-layout folder or a folder of WAV files named by pitch.

    A folder with ``examples.json`` is read with :func:`ganaudio.data.load_note_examples`
    (pitch and family from its metadata). Otherwise every ``.wav`` under ``path``
    whose name ends in a MIDI pitch (``pitch_060.wav``, ``anything-060.wav`` or
    NSynth's ``name-060-100.wav``) is a note of that pitch, family unknown.

    Parameters
    ----------
    sample_rate, n_samples : every note is resampled, then cropped or zero-padded from its start.
    limit : int, optional
        Keep this many notes, drawn at random with ``seed`` (before any audio is read); an
        unusable one is replaced by another drawn from the rest.
    split, pitch_range : filters (NSynth-layout folders; ``pitch_range`` applies to both kinds).

    Files that are unreadable, NaN/inf, silent or truncated are skipped,
    logged and counted in the batch's ``skipped``; the rest are used.

    Raises
    ------
    DataError
        If the folder is missing or holds no usable notes.

    Examples
    --------
    >>> real = load_note_batch("data/notes", sample_rate=16000, n_samples=16000, limit=200)
    >>> real.audio.shape
    (200, 16000)
    """
    from tqdm.auto import tqdm

    from ganaudio.data.screen import SkipReport, read_checked_audio

    path = Path(path)
    if not path.is_dir():
        raise DataError(f"{path}: no such note folder")
    if (path / "examples.json").is_file() or any(path.glob("*/examples.json")):
        from ganaudio.data.nsynth import load_note_examples

        notes = load_note_examples(path, split=split, pitch_range=pitch_range, sources=None, verify=False)
        entries = [(n.path, n.pitch, n.instrument_family_str, n.note_str) for n in notes]
        has_family = True
        listed = notes.skip_report()                     # entries whose file is missing or metadata malformed
        listed.total -= len(notes)                        # the listed notes are counted as they are read
    else:
        entries = []
        for file in sorted(path.rglob("*.wav")):
            match = _PITCH_IN_NAME.search(file.stem)
            if match and 0 <= int(match.group(1)) <= 127:
                pitch = int(match.group(1))
                if pitch_range is None or pitch_range[0] <= pitch <= pitch_range[1]:
                    entries.append((file, pitch, None, file.stem))
        has_family = False
        listed = SkipReport()
        if not entries:
            raise DataError(f"{path}: no examples.json and no .wav files named by pitch "
                            f"(e.g. pitch_060.wav or name-060-100.wav)")
    order = list(range(len(entries)))
    if limit is not None and limit < len(entries):
        rng = np.random.default_rng(seed)
        chosen = np.sort(rng.choice(len(entries), size=limit, replace=False))
        spare = rng.permutation(np.setdiff1d(np.arange(len(entries)), chosen))  # stand-ins for unusable files
        order = [int(i) for i in chosen] + [int(i) for i in spare]
    wanted = len(entries) if limit is None else min(limit, len(entries))
    report, read = SkipReport(total=listed.total, skipped=dict(listed.skipped)), []
    bar = tqdm(total=wanted, desc=f"reading {path.name}", disable=not progress, unit="note")
    for i, y in report.each(order, read=lambda i: read_checked_audio(entries[i][0], sample_rate=sample_rate),
                            name=lambda i: str(entries[i][0])):
        read.append((i, _fit(y, n_samples)))
        bar.update(1)
        if len(read) == wanted:
            break
    bar.close()
    report.log_summary(path)
    report.require_some(path)
    read.sort(key=lambda item: item[0])
    entries = [entries[i] for i, _ in read]
    audio = np.stack([y for _, y in read]).astype(np.float32)
    return NoteBatch(audio, np.array([e[1] for e in entries]),
                     tuple(e[2] for e in entries) if has_family else None,
                     tuple(str(e[3]) for e in entries), sample_rate, report.to_dict())


def split_halves(batch: NoteBatch, *, n: int | None = None, seed: int = 0) -> tuple[NoteBatch, NoteBatch]:
    """Two disjoint random halves of ``batch`` (reference, floor), each at most ``n`` notes.

    Examples
    --------
    >>> reference, floor = split_halves(real, n=100, seed=0)
    """
    if len(batch) < 4:
        raise DataError(f"need at least 4 real notes to split into halves, got {len(batch)}")
    order = np.random.default_rng(seed).permutation(len(batch))
    half = len(batch) // 2 if n is None else min(n, len(batch) // 2)
    return batch.take(np.sort(order[:half])), batch.take(np.sort(order[half:2 * half]))


def generate_note_batch(model: str | os.PathLike, pitches, *, seed: int = 0, n_samples: int | None = None,
                        n_iter: int = 16, device: str = "cpu") -> NoteBatch:
    """Notes from a GANSynth checkpoint folder (or a bundled model's name), one latent per note.

    Latent ``i`` comes from seed ``seed * 100003 + i``, so a seed fixes the set.

    Examples
    --------
    >>> fake = generate_note_batch("gansynth_tiny", [60, 62, 64], seed=0)
    """
    G, rep, normalizer, _ = load_gansynth(model, device=device)
    pitches = np.asarray(pitches, dtype=int)
    audio = generate_notes(G, rep, normalizer, pitches.tolist(), [seed * 100003 + i for i in range(len(pitches))],
                           n_iter=n_iter)
    if n_samples is not None:
        audio = np.stack([_fit(y, n_samples) for y in audio])
    names = tuple(f"generated_{i:04d}-{p:03d}" for i, p in enumerate(pitches))
    return NoteBatch(audio.astype(np.float32), pitches, None, names, rep.sample_rate)


def _track(batch: NoteBatch, *, tolerance_cents: float, progress: bool) -> tuple[dict, np.ndarray]:
    """pYIN figures of a set (as :func:`ganaudio.eval.pitch.pitch_accuracy`, with a progress bar)."""
    from tqdm.auto import tqdm

    from ganaudio.eval.pitch import note_pitch, pitch_entropy

    detected = [note_pitch(y, sample_rate=batch.sample_rate, seconds=None)
                for y in tqdm(batch.audio, desc="pYIN pitch", unit="note", disable=not progress)]
    errors = np.array([np.nan if d is None else 100.0 * (d - t) for d, t in zip(detected, batch.pitches)])
    voiced = ~np.isnan(errors)
    err = np.where(voiced, errors, 0.0)
    within = voiced & (np.abs(err) <= tolerance_cents)
    octave = voiced & ~within & (np.abs(err - 1200 * np.round(err / 1200)) <= tolerance_cents)
    return {"pitch_accuracy": float(within.mean()), "pitch_entropy": pitch_entropy([d for d in detected if d is not None]),
            "unvoiced": float((~voiced).mean()), "octave_errors": float(octave.mean())}, within


def _set_metrics(batch: NoteBatch, out, *, track: bool, tolerance_cents: float, progress: bool
                 ) -> tuple[dict, dict]:
    from ganaudio.eval.frechet import inception_score
    from ganaudio.eval.pitch import pitch_entropy

    hits_eval = out.pitches == batch.pitches
    metrics = {"evaluator_pitch_accuracy": float(hits_eval.mean()),
               "evaluator_pitch_entropy": pitch_entropy(out.pitches),
               "inception_score": inception_score(out.pitch_probs)}
    if batch.families is not None:
        metrics["family_accuracy"] = float(np.mean([a == b for a, b in zip(out.families, batch.families)]))
    per_note = {"evaluator": hits_eval}
    if track:
        values, per_note["pyin"] = _track(batch, tolerance_cents=tolerance_cents, progress=progress)
        metrics.update(values)
    return metrics, per_note


# Which way is better for each metric ("real": the closer to the real floor the better).
DIRECTION = {"frechet_distance": "lower", "ndb_fraction": "lower", "ndb_different": "lower",
             "pitch_accuracy": "higher", "evaluator_pitch_accuracy": "higher", "family_accuracy": "higher",
             "inception_score": "higher", "pitch_entropy": "real", "evaluator_pitch_entropy": "real",
             "unvoiced": "lower", "octave_errors": "lower"}


def notes_report(reference: NoteBatch, floor: NoteBatch, generated: NoteBatch, *, evaluator,
                 ndb_k: int = 50, tolerance_cents: float = 50.0, track_pitch: bool = True,
                 seed: int = 0, progress: bool = False) -> dict:
    """Every notes metric for ``generated`` beside the same metric for ``floor`` (real notes).

    Distances (Frechet distance on the evaluator's embedding, NDB on log-mel)
    are measured from ``reference``: generated vs reference, and floor vs
    reference. Per-set figures (pitch accuracy and entropy by pYIN, the
    evaluator's pitch accuracy and entropy, Inception Score, family accuracy
    where families are known) are computed on ``generated`` and on ``floor``.

    Parameters
    ----------
    reference, floor, generated : NoteBatch, at the evaluator's sample rate
    evaluator : ganaudio.eval.evaluator.Evaluator
    ndb_k : int
        NDB bins; lowered to ``len(reference) // 2`` for small sets (the report says which k ran).
    track_pitch : bool
        Run pYIN (about 0.7 s per 1-s note on one CPU core); False keeps the evaluator's figures only.
    seed : int
        k-means seed.
    progress : bool
        tqdm bars over the pYIN tracking.

    Returns
    -------
    dict
        ``metrics``: {name: {"generated", "real", "better"}}, ``per_pitch``, ``sizes``, ``ndb_k``.

    Examples
    --------
    >>> reference, floor = split_halves(real, n=100)
    >>> report = notes_report(reference, floor, fake, evaluator=load_evaluator())
    >>> report["metrics"]["frechet_distance"]
    {'generated': 41.3, 'real': 2.1, 'better': 'lower'}
    """
    from ganaudio.eval.frechet import frechet_distance
    from ganaudio.eval.ndb import log_mel_features, ndb

    for name, batch in (("reference", reference), ("floor", floor), ("generated", generated)):
        if len(batch) < 2:
            raise ParameterError(f"the {name} set needs at least 2 notes, got {len(batch)}")
        if batch.sample_rate != evaluator.sample_rate:
            raise ParameterError(f"the {name} set is at {batch.sample_rate} Hz; the evaluator reads "
                                 f"{evaluator.sample_rate} Hz")
    k = max(2, min(ndb_k, len(reference) // 2))
    outs = {name: evaluator.predict(b.audio, sample_rate=b.sample_rate)
            for name, b in (("reference", reference), ("floor", floor), ("generated", generated))}
    metrics: dict = {}
    per_note: dict = {}
    for name, batch in (("generated", generated), ("real", floor)):
        values, per_note[name] = _set_metrics(batch, outs["generated" if name == "generated" else "floor"],
                                              track=track_pitch, tolerance_cents=tolerance_cents,
                                              progress=progress)
        for key, value in values.items():
            metrics.setdefault(key, {})[name] = value
    mel = {name: log_mel_features(b.audio, sample_rate=b.sample_rate)
           for name, b in (("reference", reference), ("floor", floor), ("generated", generated))}
    for name, other in (("generated", "generated"), ("real", "floor")):
        metrics.setdefault("frechet_distance", {})[name] = frechet_distance(outs["reference"].embedding,
                                                                             outs[other].embedding)
        result = ndb(mel["reference"], mel[other], k=k, seed=seed)
        metrics.setdefault("ndb_fraction", {})[name] = result.fraction
        metrics.setdefault("ndb_different", {})[name] = result.n_different
    for key, value in metrics.items():
        value.setdefault("generated", None)
        value.setdefault("real", None)
        value["better"] = DIRECTION[key]
    per_pitch = {}
    for name, batch in (("generated", generated), ("real", floor)):
        pitches = sorted(set(batch.pitches.tolist()))
        per_pitch[name] = {method: {int(p): float(hits[batch.pitches == p].mean()) for p in pitches}
                           for method, hits in per_note[name].items()}
    return {"metrics": metrics, "per_pitch": per_pitch, "ndb_k": k, "tolerance_cents": tolerance_cents,
            "sizes": {"reference": len(reference), "real": len(floor), "generated": len(generated)}}

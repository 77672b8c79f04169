"""Timbre-transfer metrics: does the output keep the input's notes, and sound like the target instrument?

* :func:`pitch_agreement`: frame-wise pitch of input and output (pYIN), the
  share of frames voiced in both that agree within 50 cents.
* :func:`log_mel_distance`: mean absolute log-mel difference (dB) to a
  rendering of the same notes on the target instrument, where one exists.
* :func:`instrument_prediction`: the evaluator network's family posterior of
  the output, averaged over its note-length windows.
"""

from __future__ import annotations

import numpy as np

from ganaudio.errors import ParameterError
from ganaudio.eval.pitch import DEFAULT_MIDI_RANGE

__all__ = ["pitch_agreement", "log_mel_distance", "instrument_prediction"]


def _mono(y, name: str) -> np.ndarray:
    from ganaudio.io import check_waveform

    y = check_waveform(np.asarray(y, dtype=np.float32), name=name)
    if y.ndim != 1 or y.size == 0:
        raise ParameterError(f"{name} must be mono audio (time,), got shape {y.shape}")
    return y


def pitch_agreement(source: np.ndarray, output: np.ndarray, *, sample_rate: int, tolerance_cents: float = 50.0,
                    midi_range: tuple[float, float] = DEFAULT_MIDI_RANGE) -> dict:
    """Frame-wise pitch agreement between a transfer's input and its output.

    Both are tracked with pYIN on the same frames (the shorter length is
    used). ``agreement`` is the share of frames voiced in both whose pitches
    differ by at most ``tolerance_cents``; ``output_voiced`` the share of the
    input's voiced frames that are voiced in the output too (a silent or
    noisy output keeps few).

    Parameters
    ----------
    source, output : np.ndarray ``(time,)`` at ``sample_rate`` Hz

    Returns
    -------
    dict with ``agreement``, ``output_voiced``, ``median_abs_cents`` (over frames voiced in both),
    ``frames`` (voiced in both)

    Examples
    --------
    >>> pitch_agreement(flute_phrase, transferred, sample_rate=16000)["agreement"]
    0.97
    """
    from ganaudio.eval.pitch import track_pitch

    source, output = _mono(source, "source"), _mono(output, "output")
    n = min(len(source), len(output))
    f_in, v_in = track_pitch(source[:n], sample_rate=sample_rate, midi_range=midi_range)
    f_out, v_out = track_pitch(output[:n], sample_rate=sample_rate, midi_range=midi_range)
    both = v_in & v_out
    if not v_in.any():
        raise ParameterError("the source has no voiced frames: pitch agreement is undefined for it")
    cents = 1200.0 * np.abs(np.log2(f_out[both] / f_in[both]))
    return {"agreement": float((cents <= tolerance_cents).mean()) if both.any() else 0.0,
            "output_voiced": float(both.sum() / v_in.sum()),
            "median_abs_cents": float(np.median(cents)) if both.any() else float("nan"),
            "frames": int(both.sum())}


def log_mel_distance(output: np.ndarray, target: np.ndarray, *, sample_rate: int, n_mels: int = 80,
                     n_fft: int = 1024, hop_length: int = 256, floor_db: float = -80.0) -> float:
    """Mean absolute difference in dB between the log-mel power spectrograms of ``output`` and ``target``.

    Both are cropped to the shorter; each spectrogram is floored ``floor_db``
    below its own peak so silence does not dominate. 0 for identical audio.

    Examples
    --------
    >>> log_mel_distance(transferred, violin_render, sample_rate=16000)
    6.2
    """
    import torch

    from ganaudio.representations import Mel

    output, target = _mono(output, "output"), _mono(target, "target")
    n = min(len(output), len(target))
    rep = Mel(sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, eps=1e-10)
    with torch.no_grad():
        spec = rep.encode(torch.from_numpy(np.stack([output[:n], target[:n]])))[:, 0].double().numpy()
    db = spec * (10.0 / np.log(10.0))
    db = np.maximum(db, db.max(axis=(1, 2), keepdims=True) + floor_db)
    return float(np.abs(db[0] - db[1]).mean())


def instrument_prediction(audio: np.ndarray, *, sample_rate: int, evaluator=None,
                          silence_db: float = -50.0) -> dict:
    """The evaluator's instrument family for ``audio`` ``(time,)``: posterior averaged over windows.

    The audio is cut into windows of the evaluator's note length; windows
    quieter than ``silence_db`` (RMS, dBFS) are skipped.

    Returns
    -------
    dict with ``family`` (the most likely), ``probabilities`` ({family: p}), ``windows``

    Examples
    --------
    >>> instrument_prediction(transferred, sample_rate=16000)["family"]
    'string'
    """
    from ganaudio.eval.evaluator import load_evaluator
    from ganaudio.io import check_sample_rate, resample

    evaluator = evaluator or load_evaluator()
    y = _mono(audio, "audio")
    if check_sample_rate(sample_rate) != evaluator.sample_rate:
        y = resample(y, orig_sr=sample_rate, target_sr=evaluator.sample_rate)
    size = evaluator.n_samples
    y = np.pad(y, (0, -len(y) % size))
    windows = y.reshape(-1, size)
    rms_db = 10 * np.log10(np.maximum((windows ** 2).mean(axis=1), 1e-12))
    keep = windows[rms_db > silence_db]
    if len(keep) == 0:
        raise ParameterError(f"the audio is silent (every window below {silence_db} dBFS)")
    probs = evaluator.predict(keep, sample_rate=evaluator.sample_rate).family_probs.mean(axis=0)
    return {"family": evaluator.families[int(probs.argmax())],
            "probabilities": {name: float(p) for name, p in zip(evaluator.families, probs)},
            "windows": int(len(keep))}

"""FCPE pitch tracking (Fast Context-based Pitch Estimation, the ``torchfcpe`` package).

torchfcpe ships its trained weights inside its wheel, so this works offline.
The checkpoint is read here with ``torch.load(weights_only=True)`` (tensors
and plain containers only) rather than through torchfcpe's own loader, which
unpickles arbitrary objects. FCPE covers 32.7-1975.5 Hz (MIDI 24-95); pYIN
(:func:`ganaudio.eval.pitch.track_pitch`) stays the reference and reaches
lower, and above about MIDI 95 both miss even real notes.
"""

from __future__ import annotations

import contextlib
import functools
import io
from pathlib import Path

import numpy as np
import torch

from ganaudio.errors import ParameterError
from ganaudio.io import check_sample_rate, check_waveform

__all__ = ["FCPE_RANGE_HZ", "fcpe_available", "track_pitch_fcpe"]

FCPE_RANGE_HZ = (32.7, 1975.5)
FCPE_HOP_SECONDS = 0.01  # the bundled model analyses 16 kHz audio at hop 160


def fcpe_available() -> bool:
    """Whether the torchfcpe package (with its bundled weights) is installed."""
    try:
        import torchfcpe  # noqa: F401
    except ImportError:
        return False
    return _checkpoint_path().is_file()


def _checkpoint_path() -> Path:
    import torchfcpe

    return Path(torchfcpe.__file__).parent / "assets" / "fcpe_c_v001.pt"


@functools.lru_cache(maxsize=2)
def _model(device: str):
    from torchfcpe.models_infer import InferCFNaiveMelPE
    from torchfcpe.tools import DotDict

    checkpoint = torch.load(_checkpoint_path(), map_location=device, weights_only=True)
    config = checkpoint["config_dict"]
    config["model"]["conv_dropout"] = 0.0
    config["model"]["atten_dropout"] = 0.0
    with contextlib.redirect_stdout(io.StringIO()):  # torchfcpe prints notes about its defaults
        model = InferCFNaiveMelPE(DotDict(config), checkpoint["model"]).to(device)
    return model.eval()


def track_pitch_fcpe(y: np.ndarray, *, sample_rate: int, threshold: float = 0.006,
                     device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """Frame-wise fundamental frequency by FCPE, one frame per 10 ms.

    Parameters
    ----------
    y : np.ndarray
        ``(time,)`` mono audio at any rate (FCPE resamples to 16 kHz itself).
    threshold : float
        FCPE's voicing threshold on its pitch posterior.

    Returns
    -------
    f0 : np.ndarray
        ``(frames,)`` Hz, NaN where unvoiced.
    voiced : np.ndarray
        ``(frames,)`` bool.

    Examples
    --------
    >>> f0, voiced = track_pitch_fcpe(trumpet_c4, sample_rate=16000)  # doctest: +SKIP
    """
    if not fcpe_available():
        raise ParameterError("FCPE pitch tracking needs the torchfcpe package (pip install torchfcpe)")
    sample_rate = check_sample_rate(sample_rate)
    y = check_waveform(y)
    if y.ndim != 1:
        raise ParameterError(f"track_pitch_fcpe expects mono audio (time,), got {y.shape}")
    wav = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))[None, :, None]
    f0 = _model(device).infer(wav, sr=sample_rate, decoder_mode="local_argmax", threshold=threshold)
    f0 = f0[0, :, 0].cpu().numpy().astype(np.float64)
    voiced = f0 > 0
    return np.where(voiced, f0, np.nan), voiced

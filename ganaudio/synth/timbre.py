"""Timbres: latent vectors of one generator, with arithmetic, interpolation and small JSON files.

A :class:`Timbre` is a point in a generator's latent space together with the
identity of that generator (a hash of its weights), so a timbre saved from one
model is refused by another instead of silently sounding like noise. Timbres
add, subtract and scale like vectors (DCGAN's ``a - b + c``), mix with weights,
and interpolate linearly or along the great circle (slerp, the usual path
between Gaussian latents, GANSynth's timbre morphs).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from numbers import Real
from pathlib import Path

import numpy as np
import torch

from ganaudio.errors import ParameterError
from ganaudio.limits import reduce_seed

__all__ = ["Timbre", "TimbreBank", "interpolate_timbres", "model_id", "slerp"]

FILE_FORMAT = "ganaudio-timbre"
FILE_VERSION = 1
METHODS = ("slerp", "lerp")


class Timbre:
    """One generator latent ``(latent_dim,)`` float32, tagged with the model it belongs to.

    Parameters
    ----------
    latent : array-like, shape ``(latent_dim,)``
        Finite numbers; stored as a read-only float32 copy.
    model_id : str
        Identity of the generator (``Synth.model_id``); arithmetic between
        timbres of different models raises ParameterError.
    seed : int, optional
        The seed it was drawn from, kept for display and files.

    Examples
    --------
    >>> a, b, c = (synth.random_timbre(s) for s in (1, 2, 3))
    >>> d = a - b + c                          # vector arithmetic
    >>> e = Timbre.mix([a, b, c], weights=[0.5, 0.3, 0.2])
    >>> d.save("bright.timbre.json")
    """

    __slots__ = ("latent", "model_id", "seed")

    def __init__(self, latent, *, model_id: str, seed: int | None = None):
        z = np.array(latent, dtype=np.float32)
        if z.ndim != 1 or z.size == 0:
            raise ParameterError(f"a timbre latent must have shape (latent_dim,), got {z.shape}")
        if not np.all(np.isfinite(z)):
            raise ParameterError("a timbre latent must hold finite numbers (got NaN or inf)")
        if not isinstance(model_id, str) or not model_id:
            raise ParameterError(f"model_id must be a non-empty string, got {model_id!r}")
        z.setflags(write=False)
        self.latent, self.model_id, self.seed = z, model_id, seed

    def __repr__(self) -> str:
        origin = f"seed={self.seed}" if self.seed is not None else f"|z|={np.linalg.norm(self.latent):.3f}"
        return f"Timbre({origin}, latent_dim={self.latent_dim}, model={self.model_id[:8]})"

    @property
    def latent_dim(self) -> int:
        return int(self.latent.shape[0])

    # ------------------------------------------------------------ arithmetic
    def _other(self, other: Timbre) -> np.ndarray:
        if not isinstance(other, Timbre):
            raise ParameterError(f"timbres combine only with timbres, got {type(other).__name__}")
        if other.model_id != self.model_id or other.latent_dim != self.latent_dim:
            raise ParameterError(f"cannot combine timbres of different models ({self.model_id[:8]} and "
                                 f"{other.model_id[:8]})")
        return other.latent

    def _new(self, z: np.ndarray) -> Timbre:
        return Timbre(z, model_id=self.model_id)

    def __add__(self, other: Timbre) -> Timbre:
        return self._new(self.latent + self._other(other))

    def __sub__(self, other: Timbre) -> Timbre:
        return self._new(self.latent - self._other(other))

    def __neg__(self) -> Timbre:
        return self._new(-self.latent)

    def __mul__(self, factor: float) -> Timbre:
        if not isinstance(factor, Real) or isinstance(factor, bool):
            return NotImplemented
        return self._new(self.latent * float(factor))

    __rmul__ = __mul__

    def __truediv__(self, factor: float) -> Timbre:
        if not isinstance(factor, Real) or isinstance(factor, bool) or factor == 0:
            raise ParameterError(f"a timbre can be divided by a non-zero number only, got {factor!r}")
        return self._new(self.latent / float(factor))

    def __eq__(self, other) -> bool:
        return (isinstance(other, Timbre) and other.model_id == self.model_id
                and np.array_equal(other.latent, self.latent))

    __hash__ = None  # mutable-looking value type: compare, do not hash

    @staticmethod
    def mix(timbres: Sequence[Timbre], weights: Sequence[float] | None = None) -> Timbre:
        """Weighted mix ``sum(w_i z_i) / sum(w_i)``, rescaled to the weighted mean length of the inputs.

        Averaging near-orthogonal Gaussian latents shortens them; the rescale
        keeps the mix as "typical" a latent as its parts.

        Examples
        --------
        >>> Timbre.mix([violin, flute], weights=[3, 1])
        """
        timbres = list(timbres)
        if not timbres:
            raise ParameterError("Timbre.mix needs at least one timbre")
        w = np.ones(len(timbres)) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (len(timbres),) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ParameterError(f"weights must be {len(timbres)} non-negative numbers with a positive sum, "
                                 f"got {weights!r}")
        first = timbres[0]
        z = np.stack([first._other(t) for t in timbres]).astype(np.float64)
        w = w / w.sum()
        mixed = (w[:, None] * z).sum(axis=0)
        norm = float(np.linalg.norm(mixed))
        target = float((w * np.linalg.norm(z, axis=1)).sum())
        if norm > 1e-12:
            mixed *= target / norm
        return first._new(mixed)

    # ----------------------------------------------------------------- files
    def to_dict(self, *, model_name: str | None = None) -> dict:
        return {"format": FILE_FORMAT, "version": FILE_VERSION,
                "model": {"id": self.model_id, "name": model_name, "latent_dim": self.latent_dim},
                "seed": self.seed, "latent": [float(v) for v in self.latent]}

    def save(self, path: str | os.PathLike, *, model_name: str | None = None) -> Path:
        """Write a small JSON file (about 20 bytes per latent dimension), atomically.

        The latent round-trips exactly (float32 values written in full).
        """
        from ganaudio.io import atomic_path

        path = Path(path)
        with atomic_path(path) as tmp:  # a failure is an OutputError: cannot write PATH (reason)
            tmp.write_text(json.dumps(self.to_dict(model_name=model_name), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Timbre:
        """Read a file written by :meth:`save` (use ``Synth.load_timbre`` to also check the model)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise ParameterError(f"{path}: cannot read timbre file ({exc.strerror or exc})") from None
        except ValueError:
            raise ParameterError(f"{path}: not a timbre file (not JSON)") from None
        if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
            raise ParameterError(f"{path}: not a ganaudio timbre file (no format: {FILE_FORMAT!r})")
        if data.get("version", 0) > FILE_VERSION:
            raise ParameterError(f"{path}: timbre file version {data['version']} is newer than this ganaudio reads")
        try:
            model = data["model"]
            return cls(data["latent"], model_id=model["id"], seed=data.get("seed"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ParameterError(f"{path}: damaged timbre file ({exc})") from None


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation between latents ``a`` and ``b`` ``(dim,)`` at fractions ``t`` ``(n,)`` -> ``(n, dim)``.

    Follows the great circle between the directions of ``a`` and ``b`` while the
    length moves linearly; ``t = 0`` and ``t = 1`` return ``a`` and ``b``
    exactly. Nearly parallel or opposite latents fall back to linear mixing.

    Examples
    --------
    >>> slerp(np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([0.5])).round(3)
    array([[0.707, 0.707]])
    """
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.asarray(t, np.float64).reshape(-1, 1)
    na, nb = np.linalg.norm(a64), np.linalg.norm(b64)
    cos = np.clip(a64 @ b64 / max(na * nb, 1e-12), -1.0, 1.0)
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        out = (1 - t) * a64 + t * b64
    else:
        ua, ub = a64 / na, b64 / nb
        direction = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
        out = direction * ((1 - t) * na + t * nb)
    out[t[:, 0] == 0] = a64
    out[t[:, 0] == 1] = b64
    return out


def interpolate_timbres(a: Timbre, b: Timbre, fractions: Sequence[float] | np.ndarray, *,
                        method: str = "slerp") -> list[Timbre]:
    """Timbres at ``fractions`` (0 is ``a``, 1 is ``b``) along ``method`` ("slerp" or "lerp")."""
    if method not in METHODS:
        raise ParameterError(f"interpolation method must be one of {METHODS}, got {method!r}")
    zb = a._other(b)
    t = np.asarray(fractions, np.float64)
    if method == "slerp":
        z = slerp(a.latent, zb, t)
    else:
        z = (1 - t[:, None]) * a.latent.astype(np.float64) + t[:, None] * zb.astype(np.float64)
    return [a._new(row) for row in z]


def model_id(module) -> str:
    """A short hash of a module's constructor arguments and weights: the identity timbre files carry."""
    digest = hashlib.sha256(json.dumps(module.config(), sort_keys=True).encode())
    for key, value in sorted(module.state_dict().items()):
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


class TimbreBank:
    """Timbre handling shared by every note model: seeds, latents, files, interpolation.

    A subclass sets ``latent_dim``, ``model_id`` and ``name``.
    """

    latent_dim: int
    model_id: str
    name: str

    def random_timbre(self, seed: int) -> Timbre:
        """The timbre drawn from ``seed`` (standard normal latent); the same seed gives the same timbre.

        Examples
        --------
        >>> synth.random_timbre(3)
        Timbre(seed=3, latent_dim=64, model=...)
        """
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")
        z = torch.randn(self.latent_dim, generator=torch.Generator().manual_seed(reduce_seed(int(seed))))
        return Timbre(z.numpy(), model_id=self.model_id, seed=int(seed))

    def timbre(self, latent) -> Timbre:
        """A timbre from a latent vector ``(latent_dim,)`` of your own."""
        t = Timbre(latent, model_id=self.model_id)
        self.check_timbre(t)
        return t

    def check_timbre(self, timbre: Timbre) -> Timbre:
        """Return ``timbre`` if it belongs to this model, else raise ParameterError saying whose it is."""
        if not isinstance(timbre, Timbre):
            raise ParameterError(f"expected a Timbre, got {type(timbre).__name__}")
        if timbre.model_id != self.model_id or timbre.latent_dim != self.latent_dim:
            raise ParameterError(f"this timbre belongs to another model (id {timbre.model_id}, latent "
                                 f"{timbre.latent_dim}); {self.name} is id {self.model_id}, latent {self.latent_dim}")
        return timbre

    def load_timbre(self, path: str | os.PathLike) -> Timbre:
        """Read a timbre file, refusing one saved from another model."""
        timbre = Timbre.load(path)
        try:
            return self.check_timbre(timbre)
        except ParameterError as exc:
            raise ParameterError(f"{path}: {exc}") from None

    def save_timbre(self, timbre: Timbre, path: str | os.PathLike) -> Path:
        """Write ``timbre`` as a small JSON file naming this model."""
        return self.check_timbre(timbre).save(path, model_name=self.name)

    def interpolate(self, a: Timbre | int, b: Timbre | int, steps: int, method: str = "slerp") -> list[Timbre]:
        """``steps`` timbres from ``a`` to ``b`` inclusive (ints are seeds), by "slerp" or "lerp".

        Examples
        --------
        >>> sweep = synth.interpolate(1, 2, 8)
        >>> notes = synth.generate_many([60] * 8, sweep)                 # (8, time)
        """
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 2:
            raise ParameterError(f"steps must be an integer >= 2, got {steps!r}")
        a, b = (self.random_timbre(t) if isinstance(t, (int, np.integer)) else self.check_timbre(t) for t in (a, b))
        return interpolate_timbres(a, b, np.linspace(0.0, 1.0, int(steps)), method=method)


    # ----------------------------------------------------------------- sampler instruments
    def export_sfz(self, timbre: Timbre | int, out_dir: str | os.PathLike, **options):
        """Write ``timbre`` (a Timbre or a seed) as an SFZ instrument folder; see :func:`ganaudio.synth.sampler.export_sfz`.

        Examples
        --------
        >>> synth.export_sfz(7, "out/seven", velocities=[40, 80, 120])          # doctest: +SKIP
        """
        from ganaudio.synth.sampler import export_sfz

        return export_sfz(self, self._as_timbre(timbre), out_dir, **options)

    def export_sf2(self, timbre: Timbre | int, path: str | os.PathLike, **options):
        """Write ``timbre`` (a Timbre or a seed) as one .sf2 file; see :func:`ganaudio.synth.sampler.export_sf2`.

        Examples
        --------
        >>> synth.export_sf2(7, "out/seven.sf2")                                  # doctest: +SKIP
        """
        from ganaudio.synth.sampler import export_sf2

        return export_sf2(self, self._as_timbre(timbre), path, **options)

    def _as_timbre(self, timbre: Timbre | int) -> Timbre:
        if isinstance(timbre, (int, np.integer)) and not isinstance(timbre, bool):
            return self.random_timbre(int(timbre))
        return self.check_timbre(timbre)

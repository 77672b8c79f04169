"""A small SoundFont 2 writer: one preset of one instrument, mono 24-bit samples with loops and velocity layers.

No maintained Python library writes SoundFonts (``sf2utils`` and
``soundfonttools`` read them; FluidSynth and TinySoundFont play them), so the
RIFF chunks are written here, following the *SoundFont 2.04 Technical
Specification* (E-mu Systems, 2005). Section numbers below are that
document's.

File layout (section 4.1, 4.4)::

    RIFF 'sfbk'
      LIST 'INFO'  ifil (5.1: version 2.04), isng (5.2: "EMU8000"), INAM (5.3), ISFT (5.11), ICMT (5.10)
      LIST 'sdta'  smpl (6.1: 16-bit samples, each followed by 46 zero points),
                   sm24 (6.2: the low byte of each point, making them 24-bit)
      LIST 'pdta'  phdr pbag pmod pgen inst ibag imod igen shdr (7.2-7.10), each ending with its
                   terminal record

Each preset (bank 0, one per program asked for, 7.2) has one zone naming
the instrument (generator 41, 8.1.2). The instrument (7.6) has one zone per sample and
velocity layer: ``keyRange`` (43) first and ``velRange`` (44) second, as 8.1.2
requires, then ``overridingRootKey`` (58), ``sampleModes`` (54: 0 no loop, 1 loop, 3 loop while the key is held then
play the rest, 8.1.2), ``releaseVolEnv`` (38, in timecents), and
``sampleID`` (53) last. Each zone also overrides the default modulator
"note-on velocity to initial attenuation" (8.4.2, source 0x0502, amount 960
cB) with amount 0: the samples carry the model's own velocity response, so
the player must not scale them again.
"""

from __future__ import annotations

import dataclasses
import math
import os
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ganaudio.errors import ParameterError
from ganaudio.outputs import atomic_path

__all__ = ["SF2Sample", "SF2Zone", "sf2_bytes", "write_sf2"]

#: 46 zero data points follow every sample (7.10, dwEnd).
SAMPLE_PADDING = 46
#: sampleModes values (8.1.2, generator 54).
NO_LOOP, LOOP, LOOP_UNTIL_RELEASE = 0, 1, 3
_GEN = {"instrument": 41, "keyRange": 43, "velRange": 44, "releaseVolEnv": 38, "sampleID": 53,
        "sampleModes": 54, "overridingRootKey": 58}
_VELOCITY_TO_ATTENUATION = (0x0502, 48, 0, 0x0000, 0)  # 8.4.2: src, dest (initialAttenuation), amount, amtSrc, trans
_MONO_SAMPLE = 1  # sfSampleType (7.10)


@dataclasses.dataclass(frozen=True)
class SF2Sample:
    """One mono sample: ``audio`` float32 ``(time,)`` within [-1, 1] at ``sample_rate``.

    ``loop`` is ``(start, end)`` in samples, end exclusive (7.10's dwStartloop
    and dwEndloop, relative to the sample), or None; ``cents`` corrects the
    pitch of ``root_key`` (chPitchCorrection).
    """

    name: str
    audio: np.ndarray
    sample_rate: int
    root_key: int
    loop: tuple[int, int] | None = None
    cents: int = 0


@dataclasses.dataclass(frozen=True)
class SF2Zone:
    """Sample ``sample`` (an index) played for keys and velocities within the inclusive ranges.

    ``mode`` is a sampleModes value (0, 1 or 3); ``release`` the seconds of the
    volume envelope's release after the key goes up.
    """

    sample: int
    keys: tuple[int, int]
    velocities: tuple[int, int]
    mode: int = NO_LOOP
    release: float = 0.1


def _chunk(ck_id: bytes, data: bytes) -> bytes:
    """A RIFF chunk (4.1): id, little-endian size, data, a pad byte when the size is odd."""
    return ck_id + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def _list(kind: bytes, chunks: Sequence[bytes]) -> bytes:
    return _chunk(b"LIST", kind + b"".join(chunks))


def _name(text: str, size: int = 20) -> bytes:
    """A zero-terminated ASCII name in ``size`` bytes (names are at most 19 characters, 7.2)."""
    raw = text.encode("ascii", "replace")[:size - 1]
    return raw + b"\0" * (size - len(raw))


def _zstr(text: str, limit: int = 256) -> bytes:
    """An INFO string (5.3): zero-terminated, padded to an even length, at most ``limit`` bytes."""
    raw = text.encode("ascii", "replace")[:limit - 2] + b"\0"
    return raw + (b"\0" if len(raw) % 2 else b"")


def _timecents(seconds: float) -> int:
    """Seconds as timecents (8.1.3: ``1200 * log2(seconds)``), within the spec's -12000 to 8000."""
    return int(np.clip(round(1200 * math.log2(max(seconds, 1e-3))), -12000, 8000))


def _range(lo: int, hi: int) -> int:
    """A rangesType amount (7.5): low byte ``lo``, high byte ``hi``."""
    return (int(hi) << 8) | int(lo)


def _check(samples: Sequence[SF2Sample], zones: Sequence[SF2Zone]) -> None:
    if not samples or not zones:
        raise ParameterError("a SoundFont needs at least one sample and one zone")
    for s in samples:
        if s.audio.ndim != 1 or len(s.audio) < 48 or not np.all(np.isfinite(s.audio)):
            raise ParameterError(f"sample {s.name!r}: audio must be finite (time,) with at least 48 points")
        if not 0 <= s.root_key <= 127 or not -99 <= s.cents <= 99:
            raise ParameterError(f"sample {s.name!r}: root key 0-127 and cents -99..99, got {s.root_key}, {s.cents}")
        if s.loop is not None and not 8 <= s.loop[0] < s.loop[1] - 31 <= len(s.audio) - 39:
            raise ParameterError(f"sample {s.name!r}: loop {s.loop} must hold 32 points with 8 points before it and "
                                 f"after it (7.10), inside {len(s.audio)} samples")
    for z in zones:
        if not 0 <= z.sample < len(samples):
            raise ParameterError(f"zone names sample {z.sample}, there are {len(samples)}")
        if not (0 <= z.keys[0] <= z.keys[1] <= 127 and 0 <= z.velocities[0] <= z.velocities[1] <= 127):
            raise ParameterError(f"zone ranges must be 0-127, low <= high: {z.keys}, {z.velocities}")
        if z.mode not in (NO_LOOP, LOOP, LOOP_UNTIL_RELEASE) or (z.mode and samples[z.sample].loop is None):
            raise ParameterError(f"zone mode {z.mode} needs 0, or 1/3 with a sample that has a loop")


def _sample_data(samples: Sequence[SF2Sample]) -> tuple[bytes, bytes, list[int]]:
    """``smpl`` and ``sm24`` chunk data (6.1, 6.2) and each sample's first data point."""
    parts, starts, at = [], [], 0
    for s in samples:
        starts.append(at)
        parts.extend([np.asarray(s.audio, np.float64), np.zeros(SAMPLE_PADDING)])
        at += len(s.audio) + SAMPLE_PADDING
    if at % 2:  # an even count keeps sm24 (one byte a point) free of a pad byte
        parts.append(np.zeros(1))
    points = np.round(np.clip(np.concatenate(parts), -1.0, 1.0) * 8388607).astype(np.int32)
    high = (points >> 8).astype("<i2")  # arithmetic shift: the top 16 of the 24 bits
    low = (points & 0xFF).astype(np.uint8)
    return high.tobytes(), low.tobytes(), starts


def _shdr(samples: Sequence[SF2Sample], starts: list[int]) -> bytes:
    out = []
    for s, start in zip(samples, starts):
        end = start + len(s.audio)
        loop = s.loop or (8, len(s.audio) - 8)  # unused without a loop, but kept valid (7.10)
        out.append(_name(s.name) + struct.pack("<IIIIIBbHH", start, end, start + loop[0], start + loop[1],
                                               int(s.sample_rate), int(s.root_key), int(s.cents), 0, _MONO_SAMPLE))
    out.append(_name("EOS") + struct.pack("<IIIIIBbHH", 0, 0, 0, 0, 0, 0, 0, 0, 0))
    return b"".join(out)


def _instrument_zones(samples: Sequence[SF2Sample], zones: Sequence[SF2Zone]) -> tuple[bytes, bytes, bytes]:
    """``ibag``, ``imod`` and ``igen`` chunk data (7.7-7.9), terminal records included."""
    bags, mods, gens = [], [], []
    for z in zones:
        bags.append(struct.pack("<HH", len(gens), len(mods)))
        mods.append(struct.pack("<HHhHH", *_VELOCITY_TO_ATTENUATION))
        sample = samples[z.sample]
        for op, amount in (("keyRange", _range(*z.keys)), ("velRange", _range(*z.velocities)),
                           ("overridingRootKey", sample.root_key), ("sampleModes", z.mode),
                           ("releaseVolEnv", _timecents(z.release)), ("sampleID", z.sample)):
            fmt = "<HH" if op in ("keyRange", "velRange", "sampleID", "sampleModes") else "<Hh"
            gens.append(struct.pack(fmt, _GEN[op], amount))
    bags.append(struct.pack("<HH", len(gens), len(mods)))
    mods.append(b"\0" * 10)
    gens.append(b"\0" * 4)
    return b"".join(bags), b"".join(mods), b"".join(gens)


def sf2_bytes(name: str, samples: Sequence[SF2Sample], zones: Sequence[SF2Zone], *, comment: str = "",
              software: str = "ganaudio", programs: Sequence[int] = (0,)) -> bytes:
    """The SoundFont file of one instrument ``name`` playing ``zones`` over ``samples``, as bytes.

    One preset in bank 0 for each of ``programs`` plays the instrument (all
    128 let a General MIDI file with any program changes play it).

    Examples
    --------
    >>> tone = np.sin(np.arange(4410) * 2 * np.pi * 441 / 44100).astype(np.float32) * 0.5
    >>> data = sf2_bytes("tone", [SF2Sample("a4", tone, 44100, 69, loop=(1000, 4000))],
    ...                  [SF2Zone(0, keys=(0, 127), velocities=(1, 127), mode=3, release=0.2)])
    >>> data[:4], data[8:12]
    (b'RIFF', b'sfbk')
    """
    _check(samples, zones)
    info = [_chunk(b"ifil", struct.pack("<HH", 2, 4)), _chunk(b"isng", _zstr("EMU8000")),
            _chunk(b"INAM", _zstr(name)), _chunk(b"ISFT", _zstr(software))]
    if comment:
        info.append(_chunk(b"ICMT", _zstr(comment, limit=65536)))
    smpl, sm24, starts = _sample_data(samples)
    ibag, imod, igen = _instrument_zones(samples, zones)
    programs = sorted({int(p) for p in programs})
    if not programs or not all(0 <= p <= 127 for p in programs):
        raise ParameterError(f"programs must be General MIDI programs 0-127, got {programs}")
    n = len(programs)  # one preset per program, each one zone naming the instrument
    phdr = b"".join(_name(name) + struct.pack("<HHHIII", p, 0, i, 0, 0, 0) for i, p in enumerate(programs))
    pdta = [
        _chunk(b"phdr", phdr + _name("EOP") + struct.pack("<HHHIII", 0, 0, n, 0, 0, 0)),
        _chunk(b"pbag", b"".join(struct.pack("<HH", i, 0) for i in range(n + 1))),
        _chunk(b"pmod", b"\0" * 10),
        _chunk(b"pgen", struct.pack("<HH", _GEN["instrument"], 0) * n + b"\0" * 4),
        _chunk(b"inst", _name(name) + struct.pack("<H", 0) + _name("EOI") + struct.pack("<H", len(zones))),
        _chunk(b"ibag", ibag), _chunk(b"imod", imod), _chunk(b"igen", igen),
        _chunk(b"shdr", _shdr(samples, starts)),
    ]
    body = b"sfbk" + _list(b"INFO", info) + _list(b"sdta", [_chunk(b"smpl", smpl), _chunk(b"sm24", sm24)]) \
        + _list(b"pdta", pdta)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def write_sf2(path: str | os.PathLike, name: str, samples: Sequence[SF2Sample], zones: Sequence[SF2Zone], *,
              comment: str = "", programs: Sequence[int] = (0,), outputs=None) -> Path:
    """Write :func:`sf2_bytes` to ``path`` atomically (or stage it in the OutputSet ``outputs``).

    Raises
    ------
    ParameterError
        For samples or zones the format cannot hold.
    OutputError
        ``cannot write PATH (reason)``; nothing is left at ``path`` then.
    """
    data = sf2_bytes(name, samples, zones, comment=comment, programs=programs)
    path = Path(path)
    if outputs is None:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    else:
        with outputs.path(path) as tmp:
            tmp.write_bytes(data)
    return path

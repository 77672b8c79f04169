"""The SoundFont 2 writer: the chunk layout of the 2.04 specification, read back by FluidSynth."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from ganaudio.data.soundfont import SoundFontSynth
from ganaudio.errors import ParameterError
from ganaudio.synth.sf2 import LOOP_UNTIL_RELEASE, NO_LOOP, SF2Sample, SF2Zone, sf2_bytes, write_sf2

SR = 44100
RECORD = {"phdr": 38, "pbag": 4, "pmod": 10, "pgen": 4, "inst": 22, "ibag": 4, "imod": 10, "igen": 4, "shdr": 46}


def chunks(data: bytes, start: int, stop: int) -> dict[str, bytes]:
    """``{id or LIST kind: data}`` of the RIFF chunks in ``data[start:stop]``."""
    out = {}
    while start < stop:
        ck_id, size = data[start:start + 4].decode(), struct.unpack("<I", data[start + 4:start + 8])[0]
        body = data[start + 8:start + 8 + size]
        out[body[:4].decode() if ck_id == "LIST" else ck_id] = body[4:] if ck_id == "LIST" else body
        start += 8 + size + size % 2
    return out


def tone(f0: float, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * f0 * t)).astype(np.float32)


def two_layer_font(tmp_path):
    """A4 sample quiet (velocities 1-63, no loop) and loud (64-127, looped over whole periods)."""
    loop = (SR // 4, SR // 4 + 100 * 100)  # 441 Hz: a period of exactly 100 samples, 100 of them
    samples = [SF2Sample("a4_soft", tone(441, amplitude=0.1), SR, 69),
               SF2Sample("a4_loud", tone(441, amplitude=0.6), SR, 69, loop=loop)]
    zones = [SF2Zone(0, keys=(0, 127), velocities=(1, 63), mode=NO_LOOP, release=0.05),
             SF2Zone(1, keys=(0, 127), velocities=(64, 127), mode=LOOP_UNTIL_RELEASE, release=0.2)]
    return write_sf2(tmp_path / "a4.sf2", "test tone", samples, zones, comment="two layers"), samples


def test_chunk_layout_follows_the_specification(tmp_path):
    path, samples = two_layer_font(tmp_path)
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"sfbk" and struct.unpack("<I", data[4:8])[0] == len(data) - 8
    top = chunks(data, 12, len(data))
    assert list(top) == ["INFO", "sdta", "pdta"]
    info = chunks(top["INFO"], 0, len(top["INFO"]))
    assert struct.unpack("<HH", info["ifil"]) == (2, 4) and info["INAM"].rstrip(b"\0") == b"test tone"
    assert info["isng"].rstrip(b"\0") == b"EMU8000" and all(len(v) % 2 == 0 for v in info.values())
    pdta = chunks(top["pdta"], 0, len(top["pdta"]))
    assert list(pdta) == list(RECORD)
    counts = {k: len(v) // RECORD[k] for k, v in pdta.items()}
    assert all(len(pdta[k]) % RECORD[k] == 0 for k in RECORD)
    assert counts["phdr"] == 2 and counts["inst"] == 2 and counts["shdr"] == 3    # each with its terminal record
    assert counts["ibag"] == 3 and counts["igen"] == 2 * 6 + 1 and counts["imod"] == 2 + 1
    assert pdta["shdr"][-46:-26].rstrip(b"\0") == b"EOS" and pdta["inst"][-22:-2].rstrip(b"\0") == b"EOI"
    # every zone's generators: keyRange first, velRange second, sampleID last (8.1.2)
    gens = [struct.unpack("<HH", pdta["igen"][i:i + 4]) for i in range(0, len(pdta["igen"]) - 4, 4)]
    for zone in (gens[:6], gens[6:]):
        assert [g[0] for g in zone][:2] == [43, 44] and zone[-1][0] == 53
    # the samples, 24-bit: smpl holds the top 16 bits, sm24 the low 8; 46 zero points after each
    sdta = chunks(top["sdta"], 0, len(top["sdta"]))
    high = np.frombuffer(sdta["smpl"], "<i2").astype(np.int32)
    low = np.frombuffer(sdta["sm24"], np.uint8).astype(np.int32)
    assert len(low) == len(high)
    points = (high * 256 + low) / 8388607
    first = len(samples[0].audio)
    np.testing.assert_allclose(points[:first], samples[0].audio, atol=2 / 8388607)
    assert not np.any(points[first:first + 46])
    start, end, loop_start, loop_end, rate, key = struct.unpack("<IIIIIB", pdta["shdr"][46 + 20:46 + 41])
    assert (start, end, rate, key) == (first + 46, first + 46 + len(samples[1].audio), SR, 69)
    assert (loop_start - start, loop_end - start) == samples[1].loop


def test_fluidsynth_plays_the_layers_the_loop_and_the_release(tmp_path):
    path, _ = two_layer_font(tmp_path)
    player = SoundFontSynth(path)
    assert player.preset_name(0) == "test tone"
    level = lambda y, a, b: float(np.sqrt(np.mean(y[0, int(a * SR):int(b * SR)] ** 2)))  # noqa: E731
    loud, _ = player.render_note(program=0, pitch=69, velocity=100, duration=3.0, release=0.5)
    louder, _ = player.render_note(program=0, pitch=69, velocity=127, duration=3.0, release=0.5)
    soft, _ = player.render_note(program=0, pitch=69, velocity=40, duration=3.0, release=0.5)
    # the layer's own sample level, with no velocity scaling on top (the default modulator is overridden)
    assert level(loud, 0.1, 0.2) == pytest.approx(level(louder, 0.1, 0.2), rel=1e-3)
    assert level(soft, 0.1, 0.2) == pytest.approx(level(loud, 0.1, 0.2) / 6, rel=0.02)
    # held past the 1-s sample: the loud layer loops at its level, the unlooped soft one has ended
    assert level(loud, 2.2, 2.4) == pytest.approx(level(loud, 0.1, 0.2), rel=0.01)
    assert level(soft, 2.2, 2.4) == 0.0
    # after the key goes up (2.5 s) the envelope releases over about 0.2 s
    assert level(loud, 2.9, 3.0) < 0.01 * level(loud, 0.1, 0.2)
    spectrum = np.abs(np.fft.rfft(loud[0, SR // 2:SR // 2 + SR]))
    assert np.argmax(spectrum) == 441
    up, _ = player.render_note(program=0, pitch=76, velocity=100, duration=1.0, release=0.2)  # transposed a fifth
    assert np.argmax(np.abs(np.fft.rfft(up[0, SR // 4:SR // 4 + SR // 2]))) * 2 == pytest.approx(441 * 1.4983, abs=3)
    player.close()


def test_one_preset_per_program():
    data = sf2_bytes("x", [SF2Sample("x", tone(440), SR, 69)], [SF2Zone(0, (0, 127), (1, 127))],
                     programs=range(128))
    body = chunks(data, 12, len(data))["pdta"]
    pdta = chunks(body, 0, len(body))
    phdr = [struct.unpack("<HHH", pdta["phdr"][i + 20:i + 26]) for i in range(0, len(pdta["phdr"]), 38)]
    assert [p[0] for p in phdr[:-1]] == list(range(128)) and [p[2] for p in phdr] == list(range(129))
    assert len(pdta["pgen"]) == 4 * 129 and len(pdta["pbag"]) == 4 * 129
    with pytest.raises(ParameterError, match="programs"):
        sf2_bytes("x", [SF2Sample("x", tone(440), SR, 69)], [SF2Zone(0, (0, 127), (1, 127))], programs=[128])


@pytest.mark.parametrize("sample, zone, message", [
    (SF2Sample("x", tone(440), SR, 69, loop=(0, 1000)), SF2Zone(0, (0, 127), (1, 127), 1), "8 points"),
    (SF2Sample("x", tone(440), SR, 69, loop=(100, 120)), SF2Zone(0, (0, 127), (1, 127), 1), "32 points"),
    (SF2Sample("x", tone(440), SR, 200), SF2Zone(0, (0, 127), (1, 127)), "root key"),
    (SF2Sample("x", tone(440), SR, 69), SF2Zone(0, (0, 127), (1, 127), 3), "has a loop"),
    (SF2Sample("x", tone(440), SR, 69), SF2Zone(1, (0, 127), (1, 127)), "sample 1"),
    (SF2Sample("x", tone(440), SR, 69), SF2Zone(0, (60, 50), (1, 127)), "low <= high"),
    (SF2Sample("x", np.full(100, np.nan, np.float32), SR, 69), SF2Zone(0, (0, 127), (1, 127)), "finite"),
])
def test_what_the_format_cannot_hold_is_refused(sample, zone, message):
    with pytest.raises(ParameterError, match=message):
        sf2_bytes("x", [sample], [zone])


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(ParameterError):
        write_sf2(tmp_path / "x.sf2", "x", [SF2Sample("x", tone(440), SR, 300)], [SF2Zone(0, (0, 127), (1, 127))])
    assert list(tmp_path.iterdir()) == []

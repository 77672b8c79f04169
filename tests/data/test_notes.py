"""render_notes: NSynth schema, splits, resuming, pitch of real SoundFont notes, silence, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ganaudio.data import ACOUSTIC_PROGRAMS, SoundFontSynth, assign_splits, gm_instrument, render_notes
from ganaudio.errors import DataError, ParameterError

SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
PROGRAMS = (0, 24)               # piano, nylon guitar
PITCHES = (48, 60, 72, 120)      # TimGM6mb has no sample for 120: silent
KW = {"programs": PROGRAMS, "pitches": PITCHES, "velocities": (100,), "sample_rate": 16000, "duration": 1.0, "release": 0.3,
          "workers": 1, "progress": False}

pytestmark = pytest.mark.skipif(not SOUNDFONT.is_file(), reason="TimGM6mb SoundFont not installed")
pytest.importorskip("fluidsynth")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("notes")
    return out, render_notes(SOUNDFONT, out, **KW)


def test_schema_and_files(rendered):
    out, summary = rendered
    examples = json.loads((out / "examples.json").read_text())
    assert len(examples) == 6 and summary["examples"] == 6 and summary["requested"] == 8
    for key, entry in examples.items():
        assert re.fullmatch(r"[a-z_]+_acoustic_\d{3}-\d{3}-100", key), key
        assert entry["note_str"] == key and entry["sample_rate"] == 16000 and entry["split"] in ("train", "valid", "test")
        assert entry["instrument_source_str"] == "acoustic" and entry["instrument"] in PROGRAMS
        assert key == f"{entry['instrument_str']}-{entry['pitch']:03d}-{entry['velocity']:03d}"
        info = sf.info(str(out / "audio" / f"{key}.wav"))
        assert (info.samplerate, info.frames, info.channels, info.subtype) == (16000, 16000, 1, "PCM_16")
    families = {e["instrument_str"]: e["instrument_family_str"] for e in examples.values()}
    assert families == {"keyboard_acoustic_000": "keyboard", "guitar_acoustic_024": "guitar"}
    assert json.loads((out / "summary.json").read_text())["examples"] == 6


def test_silent_notes_left_out_and_counted(rendered):
    out, summary = rendered
    assert summary["silent"] == 2 and summary["clipped"] == 0
    assert sorted(summary["rejected"]) == ["guitar_acoustic_024-120-100", "keyboard_acoustic_000-120-100"]
    assert not list((out / "audio").glob("*-120-*"))


@pytest.mark.parametrize("name,midi", [("guitar_acoustic_024-060-100", 60), ("keyboard_acoustic_000-048-100", 48)])
def test_pitch_matches_midi_note(rendered, name, midi):
    import librosa

    y, sr = sf.read(str(rendered[0] / "audio" / f"{name}.wav"), dtype="float32")
    expected = librosa.midi_to_hz(midi)
    f0, voiced, _ = librosa.pyin(y[: sr // 2], fmin=expected / 2, fmax=expected * 2, sr=sr, frame_length=2048)
    cents = 1200 * np.log2(np.nanmedian(f0[voiced]) / expected)
    assert abs(cents) < 50, cents


def test_rerun_renders_nothing_new(rendered):
    out, _ = rendered
    mtimes = {p.name: p.stat().st_mtime_ns for p in (out / "audio").iterdir()}
    again = render_notes(SOUNDFONT, out, **KW)
    assert again["rendered"] == 0 and again["existing"] == 6 and again["silent"] == 2 and again["examples"] == 6
    assert {p.name: p.stat().st_mtime_ns for p in (out / "audio").iterdir()} == mtimes


def test_interrupted_run_resumes(tmp_path):
    first = render_notes(SOUNDFONT, tmp_path, **KW)
    (tmp_path / "audio" / "guitar_acoustic_024-072-100.wav").unlink()
    (tmp_path / "examples.json").unlink()
    (tmp_path / "summary.json").unlink()  # as if killed before the first checkpoint
    again = render_notes(SOUNDFONT, tmp_path, **KW)
    assert (again["existing"], again["rendered"], again["silent"]) == (5, 1, 2)
    assert again["rejected"] == first["rejected"]
    examples = json.loads((tmp_path / "examples.json").read_text())
    assert len(examples) == 6 and "guitar_acoustic_024-072-100" in examples
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]  # no temporary files left
    with pytest.raises(DataError, match="other settings"):
        render_notes(SOUNDFONT, tmp_path, **{**KW, "sample_rate": 22050})


def test_split_determinism(tmp_path):
    keys = [f"k{i:03d}" for i in range(100)]
    a, b = assign_splits(keys, seed=3), assign_splits(reversed(keys), seed=3)
    assert a == b and a != assign_splits(keys, seed=4)
    assert [sum(v == s for v in a.values()) for s in ("train", "valid", "test")] == [80, 10, 10]
    assert set(assign_splits(["a", "b", "c"], seed=0).values()) == {"train", "valid", "test"}
    assert set(assign_splits(["a", "b"], seed=0).values()) == {"train"}

    kw = {**KW, "pitches": (48, 60, 72), "programs": (0, 24, 40, 73)}
    one = render_notes(SOUNDFONT, tmp_path / "one", **kw, split="note", seed=7)
    two = render_notes(SOUNDFONT, tmp_path / "two", **kw, split="note", seed=7)
    ex1, ex2 = (json.loads((tmp_path / d / "examples.json").read_text()) for d in ("one", "two"))
    assert {k: e["split"] for k, e in ex1.items()} == {k: e["split"] for k, e in ex2.items()}
    assert one["splits"] == two["splits"] and sum(one["splits"].values()) == 12
    by_instrument = render_notes(SOUNDFONT, tmp_path / "inst", **kw, seed=7)
    assert sum(by_instrument["splits"].values()) == 12
    inst = json.loads((tmp_path / "inst" / "examples.json").read_text())
    for name in {e["instrument_str"] for e in inst.values()}:
        assert len({e["split"] for e in inst.values() if e["instrument_str"] == name}) == 1


def test_workers_match_single_process(tmp_path, rendered):
    kw = {**KW, "workers": 2}
    summary = render_notes(SOUNDFONT, tmp_path, **kw)
    assert summary["rendered"] == 6 and summary["silent"] == 2
    for path in (rendered[0] / "audio").iterdir():
        a, b = sf.read(str(path))[0], sf.read(str(tmp_path / "audio" / path.name))[0]
        assert np.max(np.abs(a - b)) < 2e-3  # FluidSynth's first 64 samples depend on voice history


def test_notes_do_not_bleed():
    synth = SoundFontSynth(SOUNDFONT)
    kw = {"duration": 0.5, "release": 0.2}
    first, _ = synth.render_note(program=24, pitch=60, velocity=100, **kw)
    synth.render_note(program=0, pitch=36, velocity=127, duration=0.5, release=0.0)  # cut off while loud
    again, _ = synth.render_note(program=24, pitch=60, velocity=100, **kw)
    synth.close()
    assert np.max(np.abs(first)) > 0.01
    np.testing.assert_array_equal(first[:, 64:], again[:, 64:])
    assert np.max(np.abs(first - again)) < 2e-3


def test_default_programs_are_recorded_instruments():
    assert len(ACOUSTIC_PROGRAMS) == 80
    sources = {gm_instrument(p)[1] for p in ACOUSTIC_PROGRAMS}
    assert sources == {"acoustic", "electronic"}  # no synth leads, pads, effects or drums
    assert not {38, 39, 50, 51, 54, 55, 62, 63, *range(80, 104), *range(112, 128)} & set(ACOUSTIC_PROGRAMS)


def test_missing_and_corrupt_soundfont(tmp_path):
    with pytest.raises(DataError, match="nope.sf2"):
        render_notes(tmp_path / "nope.sf2", tmp_path / "out", **KW)
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00not a soundfont" * 10)
    with pytest.raises(DataError, match="bad.sf2"):
        render_notes(bad, tmp_path / "out", **KW)


@pytest.mark.parametrize("change", [{"release": 1.0}, {"velocities": (0,)}, {"pitches": (200,)},
                                    {"split": "random"}, {"split_fractions": (0.5, 0.5, 0.5)},
                                    {"workers": 0}, {"programs": (128,)}])
def test_bad_parameters(tmp_path, change):
    with pytest.raises(ParameterError):
        render_notes(SOUNDFONT, tmp_path, **{**KW, **change})

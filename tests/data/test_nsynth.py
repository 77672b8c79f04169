"""load_note_examples on a fake NSynth folder (real TimGM6mb notes in NSynth's layout) and on our renders."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from ganaudio.data import NoteSet, load_note_examples, render_notes
from ganaudio.errors import DataError, ParameterError

SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
pytestmark = pytest.mark.skipif(not SOUNDFONT.is_file(), reason="TimGM6mb SoundFont not installed")
pytest.importorskip("fluidsynth")

PROGRAMS = (0, 24, 40)        # piano, guitar, violin
PITCHES = (22, 60, 86)        # 22 and 86 lie outside GANSynth's 24-84


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rendered")
    render_notes(SOUNDFONT, out, programs=PROGRAMS, pitches=PITCHES, velocities=(100,), duration=0.5,
                 release=0.2, workers=1, progress=False, split="instrument", split_fractions=(0.4, 0.3, 0.3))
    return out


@pytest.fixture
def nsynth(rendered, tmp_path) -> Path:
    """NSynth's layout: nsynth-train/ and nsynth-valid/, no split key, NSynth's source labels."""
    examples = json.loads((rendered / "examples.json").read_text())
    relabel = {"keyboard_acoustic_000": ("keyboard_electronic_000", "electronic"),
               "guitar_acoustic_024": ("guitar_synthetic_024", "synthetic")}
    folders = {"train": {}, "valid": {}}
    for key, entry in examples.items():
        instrument, source = relabel.get(entry["instrument_str"], (entry["instrument_str"], "acoustic"))
        name = f"{instrument}-{entry['pitch']:03d}-{entry['velocity']:03d}"
        split = "valid" if entry["pitch"] == 60 and instrument.startswith("string") else "train"
        folders[split][name] = {
            "note_str": name, "pitch": entry["pitch"], "velocity": entry["velocity"], "sample_rate": 16000,
            "instrument_str": instrument, "instrument_family_str": entry["instrument_family_str"],
            "instrument_source_str": source, "instrument": entry["instrument"], "qualities": [0] * 10,
        }
        audio = tmp_path / f"nsynth-{split}" / "audio"
        audio.mkdir(parents=True, exist_ok=True)
        shutil.copy(rendered / "audio" / f"{key}.wav", audio / f"{name}.wav")
    for split, entries in folders.items():
        (tmp_path / f"nsynth-{split}" / "examples.json").write_text(json.dumps(entries))
    return tmp_path


def test_reads_nsynth_layout_with_gansynth_filters(nsynth):
    everything = load_note_examples(nsynth, pitch_range=None, sources=None)
    assert isinstance(everything, NoteSet) and len(everything) == 9
    assert everything.counts("split") == {"train": 8, "valid": 1}
    assert everything.counts("instrument_source_str") == {"acoustic": 3, "electronic": 3, "synthetic": 3}

    gansynth = load_note_examples(nsynth)  # pitch 24-84, acoustic only
    assert [e.note_str for e in gansynth] == ["string_acoustic_040-060-100"]
    assert gansynth.filtered == {"split": 0, "pitch": 6, "source": 2, "family": 0}
    assert gansynth[0].split == "valid" and gansynth[0].pitch == 60

    train = load_note_examples(nsynth / "nsynth-train", sources=("electronic", "synthetic"), families=["guitar"])
    assert [e.note_str for e in train] == ["guitar_synthetic_024-060-100"] and train[0].split == "train"
    y = train[0].load()
    assert y.shape == (8000,) and y.dtype == np.float32 and np.max(np.abs(y)) > 0.01


def test_reads_our_renders_with_split_key(rendered):
    notes = load_note_examples(rendered, pitch_range=(0, 127))
    assert len(notes) == 9 and notes.instruments() == ["guitar_acoustic_024", "keyboard_acoustic_000",
                                                       "string_acoustic_040"]
    assert sum(notes.counts("split").values()) == 9 and len(notes.counts("split")) == 3
    test = load_note_examples(rendered, split="test", pitch_range=(0, 127))
    assert {e.split for e in test} == {"test"} and len(test) == 3
    assert test[0].sample_rate == 16000 and test[0].path.is_file()


def test_corrupt_and_missing_audio_skipped_and_counted(nsynth, caplog):
    audio = nsynth / "nsynth-train" / "audio"
    (audio / "string_acoustic_040-022-100.wav").write_bytes(b"RIFF garbage, not a wave file")
    (audio / "keyboard_electronic_000-060-100.wav").unlink()
    with caplog.at_level(logging.WARNING, logger="ganaudio.data.nsynth"):
        notes = load_note_examples(nsynth, pitch_range=None, sources=None)
    assert len(notes) == 7
    assert set(notes.skipped) == {"string_acoustic_040-022-100", "keyboard_electronic_000-060-100"}
    assert "string_acoustic_040-022-100.wav" in caplog.text and "keyboard_electronic_000-060-100" in caplog.text
    # without header checks the corrupt file passes; the missing one is still caught
    assert len(load_note_examples(nsynth, pitch_range=None, sources=None, verify=False)) == 8


def test_malformed_entry_skipped(nsynth):
    path = nsynth / "nsynth-valid" / "examples.json"
    entries = json.loads(path.read_text())
    entries["broken"] = {"pitch": 60}
    path.write_text(json.dumps(entries))
    notes = load_note_examples(nsynth, pitch_range=None, sources=None)
    assert len(notes) == 9 and "broken" in notes.skipped


def test_missing_empty_and_filtered_out_folders(tmp_path, nsynth):
    with pytest.raises(DataError, match="does not exist"):
        load_note_examples(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no examples.json"):
        load_note_examples(tmp_path / "empty")
    with pytest.raises(DataError, match="no usable notes"):
        load_note_examples(nsynth, families=["brass"])
    bad = tmp_path / "badjson"
    bad.mkdir()
    (bad / "examples.json").write_text("{not json")
    with pytest.raises(DataError, match="examples.json"):
        load_note_examples(bad)
    shutil.rmtree(nsynth / "nsynth-valid" / "audio")
    with pytest.raises(DataError, match="no usable notes"):
        load_note_examples(nsynth / "nsynth-valid")


@pytest.mark.parametrize("kwargs", [{"split": "validation"}, {"sources": ("analog",)}, {"families": ["drum"]},
                                    {"pitch_range": (90, 20)}, {"pitch_range": "low"}])
def test_bad_parameters(nsynth, kwargs):
    with pytest.raises(ParameterError):
        load_note_examples(nsynth, **kwargs)

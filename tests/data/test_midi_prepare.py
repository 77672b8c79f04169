"""prepare_midi: phrase shapes, 4/4 filter, bad files, transposition, round trip, splits; Bach export."""

from __future__ import annotations

import json

import numpy as np
import pretty_midi
import pytest

from ganaudio.data.midi import prepare_midi
from ganaudio.data.phrases import PhraseDataset
from ganaudio.errors import DataError, ParameterError
from ganaudio.functional.pianoroll import RollMeta, roll_to_midi

QPM = 120.0
SEC = 60.0 / QPM  # seconds per beat


def write_midi(path, *, bars=8, meter=(4, 4), names=("Lead", "Bass"), base=60, seed=0):
    """Quarter and half notes, no touching repeats, pitches base..base+11 (bass an octave lower)."""
    rng = np.random.default_rng(seed)
    pm = pretty_midi.PrettyMIDI(initial_tempo=QPM)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(meter[0], meter[1], 0.0))
    beats = bars * meter[0] * 4 / meter[1]
    for k, name in enumerate(names):
        inst = pretty_midi.Instrument(program=[0, 32, 40, 48][k % 4], name=name)
        beat, last = 0.0, -1
        while beat < beats:
            length = min(float(rng.choice([1, 2])), beats - beat)
            pitch = base - 12 * k + int(rng.integers(0, 12))
            if pitch == last:
                pitch += 1
            inst.notes.append(pretty_midi.Note(velocity=90, pitch=pitch, start=beat * SEC, end=(beat + length) * SEC))
            beat, last = beat + length, pitch
        pm.instruments.append(inst)
    path.parent.mkdir(parents=True, exist_ok=True)
    pm.write(str(path))
    return pm


@pytest.fixture
def corpus(tmp_path):
    src = tmp_path / "src"
    write_midi(src / "a.mid", bars=8, seed=1)
    write_midi(src / "sub" / "b.midi", bars=9, seed=2)
    return src


@pytest.mark.parametrize("resolution,bars,expected", [(24, 4, (2, 384, 84)), (4, 2, (2, 32, 84))])
def test_phrase_shapes(corpus, tmp_path, resolution, bars, expected):
    out = tmp_path / "out"
    summary = prepare_midi(corpus, out, resolution=resolution, bars_per_phrase=bars, progress=False)
    phrases = 8 // bars + 9 // bars
    assert summary["shape"] == list(expected) and summary["phrases"] == phrases
    shard = np.load(out / "shard_00000.npy", allow_pickle=False)
    assert shard.dtype == np.uint8 and shard.shape == (phrases, *expected) and set(np.unique(shard)) <= {0, 1}
    index = json.loads((out / "index.json").read_text())
    assert index["names"] == ["Lead", "Bass"] and index["programs"] == [0, 32] and index["is_drum"] == [False] * 2
    assert index["resolution"] == resolution and index["pitch_range"] == [24, 108]
    assert sorted(set(index["sources"])) == ["a.mid", "sub/b.midi"]


def test_program_family_and_velocity(corpus, tmp_path):
    summary = prepare_midi(corpus, tmp_path / "out", resolution=4, grouping="program_family", binary=False,
                           hop_bars=2, progress=False)
    assert summary["shape"] == [17, 64, 84]
    shard = np.load(tmp_path / "out" / "shard_00000.npy")
    assert shard.max() == 90 and shard[:, 0].any() and shard[:, 4].any() and not shard[:, 1].any()


def test_four_four_filter_and_bad_files(corpus, tmp_path, caplog):
    write_midi(corpus / "waltz.mid", meter=(3, 4), seed=3)
    (corpus / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    (corpus / "notes.txt").write_text("not midi")
    write_midi(corpus / "short.mid", bars=2, seed=4)
    with caplog.at_level("WARNING"):
        summary = prepare_midi(corpus, tmp_path / "out", resolution=4, progress=False)
    assert "broken.mid" in caplog.text
    assert summary["files"] == 5 and summary["used"] == 2 and summary["unreadable"] == 1
    assert summary["skipped"]["waltz.mid"].startswith("meter") and summary["other_meters"] == {"3/4": 1}
    assert summary["skipped"]["broken.mid"].startswith("unreadable")
    assert summary["skipped"]["short.mid"].startswith("too short")
    assert summary["not_midi"] == ["notes.txt"]
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["skip_reasons"] == {
        "meter": 1, "too short": 1, "unreadable": 1}


def test_nothing_usable(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no MIDI files"):
        prepare_midi(tmp_path / "empty", tmp_path / "out", progress=False)
    write_midi(tmp_path / "waltz" / "w.mid", meter=(3, 4))
    with pytest.raises(DataError, match="no usable"):
        prepare_midi(tmp_path / "waltz", tmp_path / "out", progress=False)
    with pytest.raises(ParameterError, match="bars_per_phrase"):
        prepare_midi(tmp_path / "waltz", tmp_path / "out", bars_per_phrase=0, progress=False)


def test_transposition_shifts_and_drops_out_of_range(tmp_path):
    src = tmp_path / "src"
    write_midi(src / "low.mid", names=("Lead",), base=26, bars=4)  # pitches 26-38(+1): -3 leaves C1..B7
    out = tmp_path / "out"
    summary = prepare_midi(src, out, resolution=4, transpose=(-3, 0, 2), progress=False)
    assert summary["phrases_by_shift"] == {"0": 1, "2": 1} and summary["out_of_range"] == 1
    index = json.loads((out / "index.json").read_text())
    shard = np.load(out / "shard_00000.npy")
    by = dict(zip(index["phrases"]["transpose"], shard))
    np.testing.assert_array_equal(by[2][..., 2:], by[0][..., :-2])  # +2 semitones = 2 columns up
    assert not by[2][..., :2].any() and by[0].sum() == by[2].sum()  # dropped, never clipped


def test_round_trip_phrase_to_midi(tmp_path):
    src = tmp_path / "src"
    pm = write_midi(src / "a.mid", bars=8, seed=5)
    out = tmp_path / "out"
    prepare_midi(src, out, resolution=4, bars_per_phrase=2, progress=False)
    index = json.loads((out / "index.json").read_text())
    shard = np.load(out / "shard_00000.npy")
    meta = RollMeta(names=index["names"], programs=index["programs"], is_drum=index["is_drum"], resolution=4,
                    pitch_offset=24, binary=True, tempo_changes=[[0.0, QPM]])
    for row, start in enumerate(index["phrases"]["start_step"]):
        b0, b1 = start / 4, start / 4 + 8  # beats covered by this phrase
        midi = roll_to_midi(shard[row], meta)
        for inst, got in zip(pm.instruments, midi.instruments):
            want = sorted((n.pitch, round(max(n.start / SEC, b0) - b0, 3), round(min(n.end / SEC, b1) - b0, 3))
                          for n in inst.notes if n.start / SEC < b1 and n.end / SEC > b0)  # cut at the edges
            have = sorted((n.pitch, round(n.start / SEC, 3), round(n.end / SEC, 3)) for n in got.notes)
            assert have == want


def test_rerun_idempotent_and_settings_checked(corpus, tmp_path):
    out = tmp_path / "out"
    first = prepare_midi(corpus, out, resolution=4, progress=False)
    again = prepare_midi(corpus, out, resolution=4, progress=False)
    assert again["reused"] and again["phrases"] == first["phrases"]
    with pytest.raises(DataError, match="other settings"):
        prepare_midi(corpus, out, resolution=8, progress=False)


def test_dataset_split_by_piece_is_deterministic(tmp_path):
    src = tmp_path / "src"
    for k in range(10):
        write_midi(src / f"p{k}.mid", bars=4, seed=k, names=("Lead",))
    out = tmp_path / "out"
    prepare_midi(src, out, resolution=4, bars_per_phrase=2, transpose=(0, 1), progress=False)
    full = PhraseDataset(out)
    assert len(full) == 40 and full[0].dtype.is_floating_point and tuple(full[0].shape) == (1, 32, 84)
    parts = {s: PhraseDataset(out, split=s, seed=3) for s in ("train", "valid", "test")}
    assert sum(len(d) for d in parts.values()) == 40
    pieces = {s: set(d.sources) for s, d in parts.items()}
    assert not (pieces["train"] & pieces["valid"]) and not (pieces["train"] & pieces["test"])
    assert pieces["train"] == set(PhraseDataset(out, split="train", seed=3).sources)
    assert len(pieces["valid"]) == 1 and len(pieces["test"]) == 1


def test_bach_chorales_export(tmp_path):
    pytest.importorskip("music21")
    from ganaudio.data.chorales import SATB, export_bach_chorales

    summary = export_bach_chorales(tmp_path / "midi", limit=3, progress=False)
    assert summary["scores"] == 3 and len(summary["files"]) + len(summary["dropped"]) == 3
    midi = pretty_midi.PrettyMIDI(summary["files"][0])
    assert [i.name for i in midi.instruments] == list(SATB)
    again = export_bach_chorales(tmp_path / "midi", limit=3, progress=False)
    assert again["existing"] == 3 and again["exported"] == 0
    prepared = prepare_midi(tmp_path / "midi", tmp_path / "phrases", tracks=list(SATB), progress=False)
    assert prepared["shape"] == [4, 384, 84] and prepared["phrases"] > 0


def test_music21_missing_is_a_clear_error(tmp_path, monkeypatch):
    import sys

    from ganaudio.data.chorales import export_bach_chorales

    monkeypatch.setitem(sys.modules, "music21", None)  # import music21 now raises ImportError
    with pytest.raises(DataError, match=r"pip install ganaudio\[data\]"):
        export_bach_chorales(tmp_path / "midi", limit=1, progress=False)

"""Piano roll: MIDI <-> (tracks, time, pitch) round trips, pretty_midi reference equality, grouping, errors."""

from __future__ import annotations

import io
import json

import mido
import numpy as np
import pretty_midi
import pytest
import torch

from ganaudio.errors import MidiFileError, ParameterError
from ganaudio.functional.pianoroll import RollMeta, count_notes, midi_to_roll, roll_to_midi
from ganaudio.representations.pianoroll import PianoRoll

# A track: (program, is_drum, name, [(pitch, start_tick, end_tick, velocity), ...])


def midi_bytes(tracks, *, tpb=480, tempos=((0, 120.0),), time_signatures=((0, 4, 4),), controls=()) -> bytes:
    """A type-1 MIDI file written with mido: tempo map, time signatures, one track per entry.

    ``controls`` holds ``(track index, tick, kind, value)`` with kind "pedal" (CC64) or "bend".
    """
    mf = mido.MidiFile(ticks_per_beat=tpb)
    head = [(tick, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))) for tick, bpm in tempos]
    head += [(tick, 0, mido.MetaMessage("time_signature", numerator=n, denominator=d)) for tick, n, d in
             time_signatures]
    for i, (program, is_drum, name, notes) in enumerate([(None, False, "", [])] + list(tracks)):
        channel = 9 if is_drum else [c for c in range(16) if c != 9][(i - 1) % 15]
        events = head if i == 0 else [(0, -1, mido.MetaMessage("track_name", name=name)),
                                      (0, -1, mido.Message("program_change", channel=channel, program=program))]
        for pitch, start, end, velocity in notes:
            events.append((start, 1, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))
            events.append((end, 0, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
        for track, tick, kind, value in controls:
            if track == i - 1:
                msg = (mido.Message("control_change", channel=channel, control=64, value=value) if kind == "pedal"
                       else mido.Message("pitchwheel", channel=channel, pitch=value))
                events.append((tick, 0, msg))
        track, now = mido.MidiTrack(), 0
        for tick, _, msg in sorted(events, key=lambda x: (x[0], x[1])):
            track.append(msg.copy(time=tick - now))
            now = tick
        mf.tracks.append(track)
    buf = io.BytesIO()
    mf.save(file=buf)
    return buf.getvalue()


def load(data: bytes) -> pretty_midi.PrettyMIDI:
    return pretty_midi.PrettyMIDI(io.BytesIO(data))


def note_tuples(inst, midi=None):
    """Sorted (start, end, pitch, velocity) per note; in ticks when ``midi`` is given."""
    conv = (lambda t: midi.time_to_tick(t)) if midi is not None else (lambda t: t)
    return sorted((conv(n.start), conv(n.end), n.pitch, n.velocity) for n in inst.notes)


def assert_same_notes(a, b, *, atol=1e-9):
    assert [(i.program, i.is_drum) for i in a.instruments] == [(i.program, i.is_drum) for i in b.instruments]
    for ia, ib in zip(a.instruments, b.instruments):
        na, nb = note_tuples(ia), note_tuples(ib)
        assert len(na) == len(nb)
        np.testing.assert_allclose(np.array(na), np.array(nb), atol=atol, rtol=0)


# Quarter notes at 480 ticks; 24 steps per beat = 20 ticks per step.
TEMPO_CHANGE = midi_bytes(
    [(0, False, "Piano", [(60, 0, 480, 90), (64, 480, 1440, 70), (60, 960, 1200, 30), (67, 1900, 2400, 127)]),
     (33, False, "Bass", [(36, 0, 960, 100), (43, 1000, 1920, 64), (36, 2400, 2880, 80)]),
     (0, True, "Kit", [(36, 0, 120, 100), (38, 480, 600, 110), (42, 2400, 2420, 50)])],
    tempos=((0, 120.0), (960, 90.0), (1920, 150.0)), time_signatures=((0, 4, 4), (1920, 3, 4)))


def test_round_trip_with_tempo_changes_is_note_for_note():
    midi = load(TEMPO_CHANGE)
    roll, meta = midi_to_roll(midi, resolution=24)
    assert roll.shape == (3, 2880 // 20, 128) and roll.dtype == torch.float32
    assert [b for b, _ in meta.tempo_changes] == [0.0, 2.0, 4.0]
    back = roll_to_midi(roll, meta)
    assert_same_notes(midi, back)
    assert [i.name for i in back.instruments] == ["Piano", "Bass", "Kit"]
    np.testing.assert_allclose(back.get_tempo_changes()[1], midi.get_tempo_changes()[1])
    assert [(ts.numerator, ts.denominator) for ts in back.time_signature_changes] == [(4, 4), (3, 4)]
    # through a file: ticks are exact
    buf = io.BytesIO()
    back.write(buf)
    again = load(buf.getvalue())
    for ia, ib in zip(midi.instruments, again.instruments):
        assert note_tuples(ia, midi) == note_tuples(ib, again)


def test_fewer_ticks_per_beat_than_resolution_needs():
    midi = load(midi_bytes([(5, False, "EP", [(60, 0, 100, 80), (62, 100, 300, 81)])], tpb=100))
    roll, meta = midi_to_roll(midi, resolution=24)  # 100 ticks is not a multiple of 24 steps
    back = roll_to_midi(roll, meta)
    assert back.resolution % 24 == 0
    notes = note_tuples(back.instruments[0])
    assert [(n[2], n[3]) for n in notes] == [(60, 80), (62, 81)]
    np.testing.assert_allclose([n[:2] for n in notes], [(0, 0.5), (0.5, 1.5)], atol=1e-9)


def test_bach_round_trip_only_repeats_shorten(samples_dir):
    midi = pretty_midi.PrettyMIDI(str(samples_dir / "bach_chorale.mid"))
    roll, meta = midi_to_roll(samples_dir / "bach_chorale.mid", resolution=24, pitch_range=(24, 108))
    assert roll.shape == (4, 864, 84) and meta.names == ["Soprano", "Alto", "Tenor", "Bass"]
    back = roll_to_midi(roll, meta)
    step = 60.0 / 96 / 24
    shortened = 0
    for ia, ib in zip(midi.instruments, back.instruments):
        starts = {(n.pitch, round(n.start, 6)) for n in ia.notes}
        for a, b in zip(note_tuples(ia), note_tuples(ib)):
            repeat = (a[2], round(a[1], 6)) in starts
            shortened += repeat
            assert a[0] == pytest.approx(b[0]) and a[2:] == b[2:]
            assert b[1] == pytest.approx(a[1] - step * repeat)
        assert len(ia.notes) == len(ib.notes)
    assert shortened > 0  # the chorale has repeated notes


def test_repeated_notes_stay_separate():
    data = midi_bytes([(0, False, "p", [(60, 0, 480, 80), (60, 480, 960, 80), (60, 960, 980, 80),
                                        (60, 980, 1440, 100)])])
    roll, meta = midi_to_roll(load(data), resolution=24)
    assert roll[0, 23, 60] == 0 and roll[0, 22, 60] == 80  # one empty step before the repeat
    notes = note_tuples(roll_to_midi(roll, meta).instruments[0])
    # the one-step note at 960 cannot shrink, so it merges with its repeat (documented)
    assert [x for n in notes for x in n[:2]] == pytest.approx([0, 0.5 - 1 / 48, 0.5, 1 - 1 / 48, 1.0, 1.5])
    merged, meta2 = midi_to_roll(load(data), resolution=24, separate_repeats=False)
    assert len(roll_to_midi(merged, meta2).instruments[0].notes) == 1
    binary, meta3 = midi_to_roll(load(data), resolution=24, binary=True)
    assert set(binary.unique().tolist()) == {0.0, 1.0} and count_notes(binary) == 3
    assert {n.velocity for n in roll_to_midi(binary, meta3, velocity=77).instruments[0].notes} == {77}


# --------------------------------------------------------------- pretty_midi reference
EFFECTS = midi_bytes(
    [(0, False, "Piano", [(60, 0, 700, 90), (60, 300, 900, 40), (64, 13, 1017, 70), (67, 1500, 1800, 20)]),
     (40, False, "Violin", [(69, 5, 2000, 99), (72, 2100, 2103, 64)]),
     (0, True, "Kit", [(36, 0, 120, 100), (38, 480, 600, 110)])],
    tempos=((0, 100.0), (777, 133.0)),
    controls=[(0, 100, "pedal", 100), (0, 1600, "pedal", 0), (0, 1700, "pedal", 90),
              (1, 400, "bend", 3000), (1, 900, "bend", -5000), (1, 1300, "bend", 0), (1, 2500, "bend", 8191)])


@pytest.mark.parametrize("fs", [100, 31.7, 8])
@pytest.mark.parametrize("data", [EFFECTS, TEMPO_CHANGE], ids=["pedal-bends", "tempo"])
def test_fs_mode_equals_pretty_midi(data, fs):
    midi = load(data)
    kw = {"fs": fs, "separate_repeats": False}
    merged, meta = midi_to_roll(midi, grouping="merged", drums="drop", **kw)
    ref = midi.get_piano_roll(fs=fs).T
    assert merged.shape == (1,) + ref.shape and meta.fs == fs
    np.testing.assert_array_equal(merged[0].numpy(), ref.astype(np.float32))
    per_track, _ = midi_to_roll(midi, **kw)
    for i, inst in enumerate(midi.instruments):
        ref = inst.get_piano_roll(fs=fs).T
        if inst.is_drum:  # pretty_midi leaves drums empty; we keep their notes
            assert per_track[i].sum() > 0
            continue
        np.testing.assert_array_equal(per_track[i, : len(ref)].numpy(), ref.astype(np.float32))
        assert per_track[i, len(ref):].abs().sum() == 0
    no_pedal, _ = midi_to_roll(midi, grouping="merged", drums="drop", pedal_threshold=None, **kw)
    np.testing.assert_array_equal(no_pedal[0].numpy(), midi.get_piano_roll(fs=fs, pedal_threshold=None).T
                                  .astype(np.float32))
    if data is EFFECTS:  # the pedal and the bends do change the roll
        no_bends, _ = midi_to_roll(midi, grouping="merged", drums="drop", pitch_bends=False, **kw)
        assert not torch.equal(no_pedal, merged) and not torch.equal(no_bends, merged)


def test_fs_mode_bach_exact(samples_dir):
    midi = pretty_midi.PrettyMIDI(str(samples_dir / "bach_chorale.mid"))
    roll, _ = midi_to_roll(midi, fs=50, grouping="merged", separate_repeats=False)
    assert np.array_equal(roll[0].numpy(), midi.get_piano_roll(fs=50).T)
    gapped, _ = midi_to_roll(midi, fs=50, grouping="merged")
    diff = (roll[0] != gapped[0]).nonzero()
    assert len(diff) > 0 and torch.all(gapped[0][tuple(diff.T)] == 0)  # only the steps before repeats


# --------------------------------------------------------------- grouping, cropping, options
def test_groupings_and_drums():
    midi = load(TEMPO_CHANGE)
    kw = {"resolution": 12, "separate_repeats": False}
    inst, _ = midi_to_roll(midi, **kw)
    fam, fmeta = midi_to_roll(midi, grouping="program_family", **kw)
    assert fam.shape[0] == 17 and fmeta.is_drum[-1] and fmeta.programs[4] == 33 and fmeta.names[4] == "Bass"
    assert torch.equal(fam[0], inst[0]) and torch.equal(fam[4], inst[1]) and torch.equal(fam[16], inst[2])
    assert fam[[1, 2, 3] + list(range(5, 16))].abs().sum() == 0
    merged, _ = midi_to_roll(midi, grouping="merged", **kw)
    assert torch.equal(merged[0], inst[0] + inst[1]) and torch.equal(merged[1], inst[2])
    dropped, _ = midi_to_roll(midi, grouping="merged", drums="drop", **kw)
    assert dropped.shape[0] == 1 and torch.equal(dropped[0], merged[0])
    mixed, _ = midi_to_roll(midi, grouping="merged", drums="merge", **kw)
    assert torch.equal(mixed[0], inst.sum(0))
    none, nmeta = midi_to_roll(midi, drums="drop", **kw)
    assert none.shape[0] == 2 and nmeta.names == ["Piano", "Bass"]


def test_crop_binary_and_overlap():
    midi = load(TEMPO_CHANGE)
    full, _ = midi_to_roll(midi)
    crop, meta = midi_to_roll(midi, pitch_range=(24, 108))
    assert meta.pitch_offset == 24 and torch.equal(crop, full[..., 24:108])
    binary, _ = midi_to_roll(midi, binary=True)
    assert torch.equal(binary, (full > 0).float())
    overlapping = pretty_midi.PrettyMIDI()  # one MIDI channel cannot hold these; pretty_midi objects can
    overlapping.instruments.append(pretty_midi.Instrument(0))
    overlapping.instruments[0].notes = [pretty_midi.Note(90, 60, 0.0, 0.5), pretty_midi.Note(30, 60, 0.25, 0.75)]
    added, _ = midi_to_roll(overlapping)
    loud, _ = midi_to_roll(overlapping, overlap="max")
    assert added[0, :, 60].tolist() == [90.0] * 12 + [120.0] * 12 + [30.0] * 12
    assert loud[0, :, 60].tolist() == [90.0] * 24 + [30.0] * 12
    back = roll_to_midi(crop, meta)
    assert min(n.pitch for i in back.instruments for n in i.notes) == 36


def test_off_grid_notes_round_to_nearest_step():
    data = midi_bytes([(0, False, "p", [(60, 7, 14, 80), (62, 31, 70, 80)])])  # 20 ticks per step
    roll, _ = midi_to_roll(load(data), resolution=24)
    assert roll[0, :, 60].nonzero().flatten().tolist() == [0]  # shorter than a step: keeps one
    assert roll[0, :, 62].nonzero().flatten().tolist() == [2, 3]


def test_meta_json_and_decode_without_meta():
    roll, meta = midi_to_roll(load(TEMPO_CHANGE), grouping="program_family", binary=True)
    text = json.dumps(meta.to_dict())
    again = RollMeta.from_dict(json.loads(text))
    assert again == meta
    plain = roll_to_midi(roll[:16], tempo=90.0, programs=[8 * f for f in range(16)])
    assert plain.get_tempo_changes()[1].tolist() == pytest.approx([90.0])
    assert all(n.velocity == 100 for i in plain.instruments for n in i.notes)  # 0/1 roll reads as binary
    with pytest.raises(ParameterError, match="unknown key"):
        RollMeta.from_dict({**meta.to_dict(), "bogus": 1})


def test_batch_decode_equals_items():
    roll, meta = midi_to_roll(load(TEMPO_CHANGE))
    batch = torch.stack([roll, roll.flip(1)])
    out = roll_to_midi(batch, meta)
    assert isinstance(out, list) and len(out) == 2
    for item, midi in zip(batch, out):
        assert_same_notes(roll_to_midi(item, meta), midi)
    assert count_notes(batch) == 2 * count_notes(roll)


def test_representation_config_and_round_trip(samples_dir):
    rep = PianoRoll(resolution=12, pitch_range=(24, 108), grouping="program_family", binary=True, threshold=0.5)
    config = json.loads(json.dumps(rep.config()))
    assert config["type"] == "pianoroll" and PianoRoll.from_config(config) == rep
    roll, meta = rep.encode(samples_dir / "bach_chorale.mid", return_meta=True)
    assert roll.shape == (17, 432, 84) and torch.equal(rep.encode(samples_dir / "bach_chorale.mid"), roll)
    midi = rep.decode(roll * 0.9, meta)
    assert sum(len(i.notes) for i in midi.instruments) == count_notes(roll)
    generated = rep.decode(torch.rand(2, 17, 48, 84))  # no meta: programs from the families, drums last
    assert len(generated) == 2 and generated[0].instruments[-1].is_drum
    with pytest.raises(ParameterError, match="84 pitches"):
        rep.decode(torch.zeros(17, 48, 128))
    with pytest.raises(ParameterError, match="no parameter"):
        PianoRoll.from_config({"type": "pianoroll", "resolutoin": 4})


# --------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs,match", [
    ({"resolution": 0}, "resolution"), ({"fs": -1.0}, "fs"), ({"pitch_range": (60, 60)}, "pitch_range"),
    ({"grouping": "tracks"}, "grouping"), ({"drums": "keep"}, "drums"), ({"overlap": "mean"}, "overlap"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        midi_to_roll(load(TEMPO_CHANGE), **kwargs)


def test_bad_files(tmp_path):
    with pytest.raises(MidiFileError, match="no such MIDI file"):
        midi_to_roll(tmp_path / "missing.mid")
    text = tmp_path / "notes.mid"
    text.write_text("not midi at all")
    with pytest.raises(MidiFileError, match="notes.mid: not a readable MIDI file"):
        midi_to_roll(text)
    empty = tmp_path / "empty.mid"
    empty.write_bytes(midi_bytes([]))
    with pytest.raises(MidiFileError, match="empty.mid: no notes"):
        midi_to_roll(empty)
    with pytest.raises(MidiFileError, match="no notes"):
        midi_to_roll(load(midi_bytes([(0, True, "kit", [(36, 0, 10, 90)])])), drums="drop")
    with pytest.raises(ParameterError, match="path or a pretty_midi"):
        midi_to_roll(42)


def test_bad_rolls():
    roll, meta = midi_to_roll(load(TEMPO_CHANGE))
    with pytest.raises(ParameterError, match="roll has 2 tracks but its meta describes 3"):
        roll_to_midi(roll[:2], meta)
    with pytest.raises(ParameterError, match="NaN"):
        roll_to_midi(torch.full((1, 4, 128), float("nan")))
    with pytest.raises(ParameterError, match="not both"):
        roll_to_midi(roll, meta, resolution=24, fs=100)
    with pytest.raises(ParameterError, match="pitch_offset"):
        roll_to_midi(roll, pitch_offset=12)
    with pytest.raises(ParameterError, match="programs"):
        roll_to_midi(roll, programs=[0, 200, 0])
    with pytest.raises(ParameterError, match="shape"):
        roll_to_midi(torch.zeros(5))

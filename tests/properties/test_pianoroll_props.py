"""Property tests for the piano roll: random grid-aligned songs survive MIDI -> roll -> MIDI;
repeated notes stay separate; batches and track groupings agree with their parts; fs mode is pretty_midi's."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ganaudio.errors import MidiFileError
from ganaudio.functional.pianoroll import count_notes, midi_to_roll, roll_to_midi
from tests.test_pianoroll import load, midi_bytes, note_tuples

SETTINGS = settings(max_examples=30, deadline=None)


@st.composite
def songs(draw, *, touching: bool = False, on_grid: bool = True):
    """``(midi bytes, resolution, ticks per step)``: 1-3 tracks of notes on a step grid (or any tick)
    under a random tempo map. Notes of one pitch never overlap; they touch only when ``touching``."""
    resolution = draw(st.sampled_from([4, 12, 24]))
    tpb = resolution * draw(st.sampled_from([1, 5, 20]))
    step = tpb // resolution if on_grid else 1
    change_ticks = sorted(set(draw(st.lists(st.integers(1, 16 * tpb), max_size=2))))
    tempos = [(t, draw(st.floats(30.0, 300.0))) for t in [0] + change_ticks]
    tracks = []
    for _ in range(draw(st.integers(1, 3))):
        notes = []
        for pitch in draw(st.lists(st.integers(0, 127), min_size=1, max_size=4, unique=True)):
            now = draw(st.integers(0, 8)) * step
            for _ in range(draw(st.integers(1, 4))):
                length = draw(st.integers(2 if touching else 1, 12)) * step
                notes.append((pitch, now, now + length, draw(st.integers(1, 127))))
                now += length + draw(st.integers(0 if touching else 1, 4)) * step
        tracks.append((draw(st.integers(0, 127)), draw(st.booleans()), "t", notes))
    return midi_bytes(tracks, tpb=tpb, tempos=tempos), resolution, tpb // resolution


@SETTINGS
@given(song=songs())
def test_grid_aligned_songs_round_trip_note_for_note(song):
    data, resolution, _ = song
    midi = load(data)
    roll, meta = midi_to_roll(midi, resolution=resolution)
    back = roll_to_midi(roll, meta)
    assert [(i.program, i.is_drum) for i in back.instruments] == [(i.program, i.is_drum) for i in midi.instruments]
    for ia, ib in zip(midi.instruments, back.instruments):
        assert note_tuples(ia, midi) == note_tuples(ib, back)  # ticks, pitch, velocity: exact
        np.testing.assert_allclose(np.array(note_tuples(ia)), np.array(note_tuples(ib)), atol=1e-9, rtol=0)
    buf = io.BytesIO()
    back.write(buf)
    again = load(buf.getvalue())
    for ia, ib in zip(midi.instruments, again.instruments):
        assert note_tuples(ia, midi) == note_tuples(ib, again)


@SETTINGS
@given(song=songs(touching=True))
def test_repeated_notes_come_back_separate(song):
    data, resolution, step = song
    midi = load(data)
    roll, meta = midi_to_roll(midi, resolution=resolution)
    back = roll_to_midi(roll, meta)
    for ia, ib in zip(midi.instruments, back.instruments):
        original = note_tuples(ia, midi)
        starts = {(pitch, start) for start, _, pitch, _ in original}
        expected = sorted((s, e - step * ((p, e) in starts), p, v) for s, e, p, v in original)
        assert note_tuples(ib, back) == expected


@SETTINGS
@given(song=songs(), data=st.data())
def test_batches_and_groupings_agree_with_their_parts(song, data):
    midi_data, resolution, _ = song
    midi = load(midi_data)
    kw = {"resolution": resolution, "separate_repeats": False}
    tracks, meta = midi_to_roll(midi, **kw)
    merged, _ = midi_to_roll(midi, grouping="merged", drums="merge", **kw)
    torch.testing.assert_close(merged[0], tracks.sum(0), rtol=0, atol=0)
    family, _ = midi_to_roll(midi, grouping="program_family", **kw)
    for f in range(16):
        parts = [t for t, (p, d) in enumerate(zip(meta.programs, meta.is_drum)) if p // 8 == f and not d]
        torch.testing.assert_close(family[f], tracks[parts].sum(0), rtol=0, atol=0)
    drums = [t for t, d in enumerate(meta.is_drum) if d]
    torch.testing.assert_close(family[16], tracks[drums].sum(0), rtol=0, atol=0)

    other = tracks.roll(data.draw(st.integers(0, tracks.shape[1]), label="shift"), dims=1)
    batch = torch.stack([tracks, other])
    decoded = roll_to_midi(batch, meta)
    assert count_notes(batch) == count_notes(tracks) + count_notes(other)
    for item, midi_item in zip(batch, decoded):
        single = roll_to_midi(item, meta)
        assert [note_tuples(i) for i in single.instruments] == [note_tuples(i) for i in midi_item.instruments]


@SETTINGS
@given(song=songs(on_grid=False), fs=st.sampled_from([10, 31.7, 100, 441]))
def test_fs_mode_equals_pretty_midi(song, fs):
    midi = load(song[0])
    if all(inst.is_drum for inst in midi.instruments):  # nothing pitched: pretty_midi's roll is all zeros
        with pytest.raises(MidiFileError, match="no notes"):
            midi_to_roll(midi, fs=fs, drums="drop")
        return
    roll, _ = midi_to_roll(midi, fs=fs, grouping="merged", drums="drop", separate_repeats=False)
    np.testing.assert_array_equal(roll[0].numpy(), midi.get_piano_roll(fs=fs).T.astype(np.float32))

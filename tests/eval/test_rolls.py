"""MuseGAN's piano-roll metrics: known answers, batch consistency, pypianoroll/muspy agreement, the Bach sample."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganaudio.errors import ParameterError
from ganaudio.eval.rolls import (
    drum_pattern_rate,
    empty_bar_rate,
    metrics_table,
    pitch_classes_per_bar,
    pitch_range,
    polyphony_rate,
    qualified_note_rate,
    roll_metrics,
    tonal_centroid,
    tonal_distance,
)
from ganaudio.functional.pianoroll import count_notes, midi_to_roll

# pitches whose class by pypianoroll 1.0.4's chroma (pitch // 10) equals pitch % 12: C, C#, ..., B
SAME_CLASS = [0, 13, 26, 39, 40, 53, 66, 79, 80, 93, 106, 119]


def roll(tracks=1, steps=24, pitches=12):
    return np.zeros((tracks, steps, pitches), np.float32)


def random_rolls(rng, shape, density=0.15):
    return (rng.random(shape) < density).astype(np.float32) * rng.integers(1, 128, size=shape)


# --- known answers -------------------------------------------------------------------------------------------

def test_empty_bars():
    r = roll(tracks=2, steps=24)
    r[0, 0:3, 5] = r[0, 17, 2] = 1  # bars 0 and 2 of 8 steps sound
    np.testing.assert_allclose(empty_bar_rate(r, steps_per_bar=8), [1 / 3, 1.0])


def test_pitch_classes_per_bar_skip_empty_bars_and_follow_offset():
    r = roll(steps=24, pitches=24)
    r[0, 0:4, [0, 12, 4]] = 1  # bar 0: C, C an octave up, E -> 2 classes; bar 1 empty
    r[0, 20, 7] = 1  # bar 2: G -> 1 class
    assert pitch_classes_per_bar(r, steps_per_bar=8, pitch_offset=0)[0] == 1.5
    r2 = roll(steps=8, pitches=12)
    r2[0, :, [0, 11]] = 1
    assert pitch_classes_per_bar(r2, steps_per_bar=8, pitch_offset=1)[0] == 2
    assert np.isnan(pitch_classes_per_bar(roll(steps=8), steps_per_bar=8, pitch_offset=0)[0])


def test_qualified_notes_threshold_from_steps_per_beat():
    r = roll(steps=24)
    r[0, 0:2, 0] = 1  # 2 steps: shorter than a 32nd at 24 steps per beat
    r[0, 0:3, 1] = 1  # 3 steps: a 32nd
    r[0, 4:10, 0] = 1  # 6 steps, overlapping another pitch's note
    assert qualified_note_rate(r, steps_per_beat=24)[0] == pytest.approx(2 / 3)
    assert qualified_note_rate(r, steps_per_beat=8)[0] == 1.0  # ceil(8 / 8) = 1 step
    assert qualified_note_rate(r, steps_per_beat=24, min_steps=4)[0] == pytest.approx(1 / 3)
    assert np.isnan(qualified_note_rate(roll(), steps_per_beat=24)[0])


def test_qualified_notes_repeat_gap():
    r = roll(steps=24)
    r[0, 0:2, 0] = 1  # a 3-step note that midi_to_roll shortened before its repeat
    r[0, 3:7, 0] = 1
    r[0, 10:12, 3] = 1  # a lone 2-step note, then a rest of 2 steps and another pitch
    assert qualified_note_rate(r, steps_per_beat=24)[0] == pytest.approx(2 / 3)
    assert qualified_note_rate(r, steps_per_beat=24, repeat_gap=False)[0] == pytest.approx(1 / 3)


def test_qualified_notes_of_midi_repeats():
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    piano = pretty_midi.Instrument(0)
    piano.notes = [pretty_midi.Note(100, 60, i * 0.0625, (i + 1) * 0.0625) for i in range(8)]  # 32nd notes
    midi.instruments.append(piano)
    r, _meta = midi_to_roll(midi, resolution=24)
    assert qualified_note_rate(r, steps_per_beat=24)[0] == 1.0


def test_drum_pattern():
    r = roll(steps=24, pitches=2)
    r[0, [0, 6, 13, 3], 0] = 1  # on the 16th grid twice, one step off once, off the grid once
    r[0, 12:15, 1] = 1  # one held hit on the grid
    assert drum_pattern_rate(r, steps_per_beat=24)[0] == pytest.approx(3.1 / 5)
    assert drum_pattern_rate(r, steps_per_beat=24, tolerance=0.0)[0] == pytest.approx(3 / 5)
    r6 = roll(steps=6, pitches=1)
    r6[0, [0, 2, 4], 0] = 1  # 6 steps per beat: an 8th-note grid of 3 steps
    assert drum_pattern_rate(r6, steps_per_beat=6)[0] == pytest.approx(1.2 / 3)
    assert drum_pattern_rate(r6, steps_per_beat=6, grid=2)[0] == 1.0  # every onset on a grid of 2


def test_polyphony_and_pitch_range():
    r = roll(steps=4, pitches=24)
    r[0, :, 0] = 1
    r[0, 0, [4, 7]] = 1
    r[0, 1, 16] = 1
    assert polyphony_rate(r)[0] == 0.5
    assert polyphony_rate(r, min_pitches=3)[0] == 0.25
    assert pitch_range(r)[0] == 16
    assert np.isnan(pitch_range(roll())[0])


def test_tonal_centroid_and_distance():
    c, g = tonal_centroid(np.eye(12)[0]), tonal_centroid(np.eye(12)[7])
    h = math.sqrt(3) / 2
    np.testing.assert_allclose(c, [0, 1, 0, 1, 0, 0.5], atol=1e-12)
    np.testing.assert_allclose(g, [0.5, h, 1, 0, 0.5 * h, -0.25], atol=1e-12)
    r = roll(tracks=3, steps=16, pitches=12)
    r[0, :, 0] = 1  # C at offset 60
    r[1, :, 7] = 1  # G
    r[2, :8, 0] = 1  # C in bar 0 only
    td = tonal_distance(r, window=8, pitch_offset=60)
    assert td[0, 1] == pytest.approx(np.linalg.norm(c - g)) and td[1, 0] == td[0, 1]
    assert td[0, 2] == 0.0 and td[1, 2] == pytest.approx(np.linalg.norm(c - g))  # bar 1 of track 2 is skipped
    assert np.isnan(tonal_distance(roll(tracks=2, steps=8), window=8, pitch_offset=0)[0, 1])
    triad = np.zeros(12)
    triad[[0, 4, 7]] = 1
    np.testing.assert_allclose(tonal_centroid(triad * 5), tonal_centroid(triad))  # L1-normalised


# --- batch consistency -----------------------------------------------------------------------------------------

CALLS = [
    lambda x: empty_bar_rate(x, steps_per_bar=8),
    lambda x: pitch_classes_per_bar(x, steps_per_bar=8, pitch_offset=21),
    lambda x: qualified_note_rate(x, steps_per_beat=12),
    lambda x: drum_pattern_rate(x, steps_per_beat=12),
    lambda x: polyphony_rate(x),
    lambda x: pitch_range(x),
    lambda x: tonal_distance(x, window=8, pitch_offset=21),
]


@pytest.mark.parametrize("call", CALLS)
def test_batch_equals_items_and_input_types(call, rng):
    batch = random_rolls(rng, (2, 3, 3, 32, 24))
    out = call(batch)
    assert out.shape[:2] == (2, 3)
    for i in range(2):
        for j in range(3):
            np.testing.assert_array_equal(out[i, j], call(batch[i, j]))
    np.testing.assert_array_equal(out, call(torch.from_numpy(batch)))
    np.testing.assert_array_equal(out, call(batch > 0))  # velocities are ignored


def test_roll_metrics_pools_a_batch_and_a_list(rng):
    grid = {"steps_per_bar": 8, "steps_per_beat": 4, "pitch_offset": 40, "track_names": ["a", "b", "drums"],
                "is_drum": [False, False, True]}
    batch = random_rolls(rng, (4, 3, 16, 24))
    batch[0, 0] = 0  # a silent phrase: no bars for UPC, no notes for QN
    report = roll_metrics(batch, **grid)
    assert report == roll_metrics(list(batch), **grid)
    assert report["phrases"] == 4 and report["bars"] == 8
    eb = empty_bar_rate(batch, steps_per_bar=8)
    assert report["metrics"]["empty_bar_rate"]["a"] == pytest.approx(eb[:, 0].mean())
    notes = np.array([count_notes(batch[i, :1]) for i in range(4)])  # phrase 0 of track a has none
    rates = np.nan_to_num(qualified_note_rate(batch[:, :1], steps_per_beat=4)[:, 0])
    assert report["metrics"]["qualified_note_rate"]["a"] == pytest.approx((rates * notes).sum() / notes.sum())
    assert report["metrics"]["drum_pattern_rate"]["a"] is None and report["metrics"]["drum_pattern_rate"]["drums"]
    assert report["metrics"]["pitch_classes_per_bar"]["drums"] is None
    assert list(report["tonal_distance"]) == ["a / b"]
    mixed = roll_metrics([batch[1], np.concatenate([batch[2], batch[3]], axis=1)], **grid)
    assert mixed["metrics"]["empty_bar_rate"] == roll_metrics(batch[1:], **grid)["metrics"]["empty_bar_rate"]


def test_metrics_table(rng):
    grid = {"steps_per_bar": 8, "steps_per_beat": 4, "pitch_offset": 0, "track_names": ["piano", "drums"],
                "is_drum": [False, True]}
    real = roll_metrics(random_rolls(rng, (2, 2, 16, 12)), **grid)
    fake = roll_metrics(np.zeros((2, 2, 16, 12)), **grid)
    table = metrics_table(real, fake)
    lines = table.splitlines()
    assert lines[0] == "| Metric | Track | Training data | Generated |"
    assert "| EB (empty bars) | piano | " in table and table.count("| DP (drum pattern) |") == 1
    assert "| QN (qualified notes) | piano | " in table and "| – |" in table
    assert "UPC (pitch classes per bar) | drums" not in table and "TD" not in table
    assert all(line.count("|") == 5 for line in lines)


# --- reference implementations, on inputs where the definitions coincide ----------------------------------------

def test_agrees_with_pypianoroll(rng):
    pypianoroll = pytest.importorskip("pypianoroll")
    for _ in range(5):
        r = random_rolls(rng, (96, 128), density=0.02)
        r[:24] = 0  # an empty beat
        # pypianoroll's empty_beat_rate is the share of non-empty beats
        assert 1 - empty_bar_rate(r[None], steps_per_bar=24)[0] == pypianoroll.empty_beat_rate(r, 24)
        assert polyphony_rate(r[None], min_pitches=3)[0] == pypianoroll.polyphonic_rate(r, threshold=2)
        assert pitch_range(r[None])[0] == pypianoroll.pitch_range(r)
        # one pitch column: its flattening of time and pitch changes nothing
        mono = r[:, 60:61]
        mono[[10, 11, 12, 40, 41, 70]] = 1  # at least one note
        assert qualified_note_rate(mono[None], steps_per_beat=24, min_steps=3, repeat_gap=False)[0] == \
            pytest.approx(pypianoroll.qualified_note_rate(mono, threshold=3))
        # one beat of single-step drum hits: its cells are onsets and its mask spans one beat
        hits = np.zeros((24, 128))
        hits[rng.choice(24, 8, replace=False), rng.integers(35, 60, 8)] = 1
        hits[1:][hits[:-1] > 0] = 0  # no hit of one pitch on two neighbouring steps
        assert drum_pattern_rate(hits[None], steps_per_beat=24)[0] == pytest.approx(
            pypianoroll.drum_in_pattern_rate(hits, 24, tolerance=0.1))
        # pitches where its chroma (pitch // 10) is right; its tonal_distance runs only at resolution 12 and
        # multiplies the tonal matrix along time, so TD is checked against librosa's tonnetz instead
        chord = np.zeros((24, 128))
        chord[:, rng.choice(SAME_CLASS, 3, replace=False)] = 1
        assert pitch_classes_per_bar(chord[None], steps_per_bar=24, pitch_offset=0)[0] == \
            pypianoroll.n_pitch_classes_used(chord)


def test_tonal_centroid_agrees_with_librosa_tonnetz(rng):
    librosa = pytest.importorskip("librosa")
    chroma = rng.random((12, 20)) * (rng.random((12, 20)) < 0.4)
    chroma[0] += 0.1  # no silent frame
    np.testing.assert_allclose(tonal_centroid(chroma.T), librosa.feature.tonnetz(chroma=chroma).T, atol=1e-12)
    a, b = (random_rolls(rng, (1, 48, 36)) for _ in range(2))
    ours = tonal_distance(np.concatenate([a, b]), window=48, pitch_offset=48)[0, 1]
    chroma_a, chroma_b = (x[0].sum(0).reshape(3, 12).sum(0)[:, None].astype(float) for x in (a > 0, b > 0))
    expected = np.linalg.norm(librosa.feature.tonnetz(chroma=chroma_a) - librosa.feature.tonnetz(chroma=chroma_b))
    assert ours == pytest.approx(expected)


def _music(notes, *, is_drum, resolution=24):
    import muspy

    track = muspy.Track(is_drum=is_drum, notes=[muspy.Note(time=s, pitch=p, duration=d) for s, p, d in notes])
    return muspy.Music(resolution=resolution, tracks=[track])


def _notes_to_roll(notes, steps):
    r = np.zeros((1, steps, 128))
    for s, p, d in notes:
        r[0, s:s + d, p] = 1
    return r


def test_agrees_with_muspy(rng):
    muspy = pytest.importorskip("muspy")
    for _ in range(5):
        notes, free = [], np.zeros((200, 128), bool)
        for _ in range(40):  # notes that neither overlap nor touch another of their pitch
            s, p, d = int(rng.integers(0, 180)), int(rng.integers(30, 90)), int(rng.integers(1, 12))
            if not free[max(s - 1, 0):s + d + 1, p].any():
                free[s:s + d, p] = True
                notes.append((s, p, d))
        notes = [n for n in notes if (n[0] + n[2]) % 48 and n[0] + n[2] < 192]  # none ends on a bar line
        notes.append((180, 40, 5))  # the last note ends inside the last bar
        r = _notes_to_roll(notes, 192)
        # tolerance 0: muspy's duple pattern is the bare 16th grid
        assert drum_pattern_rate(r, steps_per_beat=24, tolerance=0.0)[0] == pytest.approx(
            muspy.drum_in_pattern_rate(_music(notes, is_drum=True), "duple"))
        assert empty_bar_rate(r, steps_per_bar=48)[0] == pytest.approx(
            muspy.empty_measure_rate(_music(notes, is_drum=False), 48))
        length = max(s + d for s, _, d in notes)  # muspy's song ends with its last note
        assert polyphony_rate(r[:, :length], min_pitches=3)[0] == pytest.approx(
            muspy.polyphony_rate(_music(notes, is_drum=False), threshold=2))


# --- the committed Bach chorale (four voices, SATB) --------------------------------------------------------------

def test_bach_chorale(samples_dir):
    r, meta = midi_to_roll(samples_dir / "bach_chorale.mid", resolution=24, pitch_range=(24, 108))
    report = roll_metrics(r, steps_per_bar=96, steps_per_beat=24, pitch_offset=meta.pitch_offset,
                          track_names=meta.names, is_drum=meta.is_drum)
    m = report["metrics"]
    assert report["bars"] == 9 and list(m["empty_bar_rate"]) == ["Soprano", "Alto", "Tenor", "Bass"]
    assert all(v == 0 for v in m["empty_bar_rate"].values())
    assert all(v >= 0.95 for v in m["qualified_note_rate"].values())
    assert all(2 <= v <= 5 for v in m["pitch_classes_per_bar"].values())
    assert all(v == 0 for v in m["polyphony_rate"].values())  # one note at a time per voice
    assert all(10 <= v <= 24 for v in m["pitch_range"].values())
    assert len(report["tonal_distance"]) == 6
    assert all(0 < v < 1.5 for v in report["tonal_distance"].values())
    assert all(v is None for v in m["drum_pattern_rate"].values())


# --- bad input -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: empty_bar_rate(np.zeros((2, 20, 12)), steps_per_bar=8), "whole number of bars"),
    (lambda: empty_bar_rate(np.zeros((20, 12)), steps_per_bar=4), "tracks, time, pitch"),
    (lambda: empty_bar_rate(np.full((1, 8, 12), np.nan), steps_per_bar=8), "NaN"),
    (lambda: empty_bar_rate(np.zeros((1, 8, 12)), steps_per_bar=0), "steps_per_bar"),
    (lambda: empty_bar_rate(np.zeros((1, 8, 0)), steps_per_bar=8), "at least one"),
    (lambda: pitch_classes_per_bar(np.zeros((1, 8, 12)), steps_per_bar=8, pitch_offset=120), "pitch_offset"),
    (lambda: qualified_note_rate(np.zeros((1, 8, 12)), steps_per_beat=True), "steps_per_beat"),
    (lambda: qualified_note_rate(np.zeros((1, 8, 12)), steps_per_beat=24, min_steps=0), "min_steps"),
    (lambda: drum_pattern_rate(np.zeros((1, 8, 12)), steps_per_beat=3), "grid"),
    (lambda: drum_pattern_rate(np.zeros((1, 8, 12)), steps_per_beat=4, tolerance=2), "tolerance"),
    (lambda: tonal_distance(np.zeros((2, 12, 12)), window=8, pitch_offset=0), "windows"),
    (lambda: tonal_centroid(np.zeros(11)), "chroma"),
    (lambda: roll_metrics(np.zeros((2, 8, 12)), steps_per_bar=8, steps_per_beat=4, pitch_offset=0,
                          track_names=["a"], is_drum=[False]), "track_names"),
    (lambda: roll_metrics(np.zeros((1, 8, 12)), steps_per_bar=8, steps_per_beat=4, pitch_offset=0,
                          track_names=["a"], is_drum=[False], td_window="song"), "td_window"),
    (lambda: roll_metrics([], steps_per_bar=8, steps_per_beat=4, pitch_offset=0, track_names=["a"],
                          is_drum=[False]), "empty"),
    (lambda: metrics_table({"tracks": []}, {}), "roll_metrics result"),
])
def test_bad_input(call, match):
    with pytest.raises(ParameterError, match=match):
        call()

"""Composing: determinism for a seed, named tracks, compose -> MIDI -> piano roll round trip, bad input."""

import pretty_midi
import pytest
import torch

from ganaudio.compose import load_composer, roll_to_tracks_midi
from ganaudio.errors import CheckpointError, ParameterError
from ganaudio.functional.pianoroll import midi_to_roll
from tests.musegan_fixtures import phrase_folder, tiny_model  # noqa: F401  (fixtures)


def test_same_seed_same_piece(tiny_model):  # noqa: F811
    composer = load_composer(tiny_model)
    a, b, c = composer.roll(5, seed=3), composer.roll(5, seed=3), composer.roll(5, seed=4)
    assert a.shape == (4, 5 * 16, 36) and torch.equal(a, b)
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    assert not torch.equal(a, c) or not a.any()  # another seed, another latent
    assert torch.equal(load_composer(tiny_model).roll(5, seed=3), a)  # a fresh load too
    assert torch.equal(composer.phrases(3, seed=1)[1:], composer.phrases(3, seed=1)[1:])


def test_compose_midi_round_trip(tiny_model, tmp_path):  # noqa: F811
    composer = load_composer(tiny_model)
    roll = composer.roll(3, seed=0)
    midi = composer.compose(3, seed=0, qpm=90)
    assert [i.name for i in midi.instruments] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert all(i.program == 52 and not i.is_drum for i in midi.instruments)
    midi.write(str(tmp_path / "piece.mid"))
    back, meta = midi_to_roll(str(tmp_path / "piece.mid"), resolution=4, pitch_range=(44, 80), binary=True)
    assert meta.names == ["Soprano", "Alto", "Tenor", "Bass"]
    assert meta.tempo_changes[0][1] == pytest.approx(90.0, abs=1e-3)
    assert roll.sum() > 0  # an untrained generator's cells sit near 0.5: plenty of notes to compare
    assert torch.equal(back[:, :roll.shape[1]], roll)  # a run of cells is one note and comes back as it was
    assert not back[:, roll.shape[1]:].any()


def test_roll_to_tracks_midi_keeps_silent_tracks_and_round_trips():
    roll = torch.zeros(4, 32, 36)
    roll[0, 0:8, 20] = 1          # a half note
    roll[0, 8:10, 22] = 1         # an eighth
    roll[3, 4:16, 4] = 1
    midi = roll_to_tracks_midi(roll, names=["S", "A", "T", "B"], programs=[52, 52, 52, 0], is_drum=[False] * 4,
                               steps_per_beat=4, pitch_offset=44, qpm=120)
    assert [len(i.notes) for i in midi.instruments] == [2, 0, 0, 1]
    assert [i.name for i in midi.instruments] == ["S", "A", "T", "B"] and midi.instruments[3].program == 0
    first = midi.instruments[0].notes[0]
    assert (first.pitch, first.start, first.end) == (64, 0.0, 1.0)   # 8 steps at 4 per beat, 120 qpm
    assert midi.time_signature_changes[0].numerator == 4
    with pytest.raises(ParameterError, match="shape"):
        roll_to_tracks_midi(roll[:2], names=["S", "A", "T", "B"], programs=[0] * 4, is_drum=[False] * 4,
                            steps_per_beat=4, pitch_offset=44, qpm=120)


def test_bad_input(tiny_model, tmp_path):  # noqa: F811
    composer = load_composer(tiny_model)
    for bars in (0, -1, 2.5, True):
        with pytest.raises(ParameterError, match="bars"):
            composer.roll(bars)
    with pytest.raises(ParameterError, match="qpm"):
        composer.compose(2, qpm=0)
    with pytest.raises(CheckpointError, match="neither a bundled model"):
        load_composer(tmp_path / "missing")
    (tmp_path / "notmodel").mkdir()
    with pytest.raises(CheckpointError):
        load_composer(tmp_path / "notmodel")


def test_bundled_model_composes():
    try:
        composer = load_composer()
    except CheckpointError:
        pytest.skip("the bundled musegan_chorales model is not in this checkout")
    midi = composer.compose(bars=8, seed=0)
    assert isinstance(midi, pretty_midi.PrettyMIDI)
    assert [i.name for i in midi.instruments] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert midi.get_end_time() <= 8 * 4 * 60 / composer.qpm + 1e-6
    assert sum(len(i.notes) for i in midi.instruments) > 0

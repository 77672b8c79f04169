"""Synth.render: MIDI pieces with constant, per-program and drifting timbres; stems; bad MIDI."""

from __future__ import annotations

import logging
import math

import numpy as np
import pretty_midi
import pytest

from ganaudio.errors import MidiFileError, ParameterError
from ganaudio.synth import Drift
from ganaudio.synth.schedule import read_notes


def _midi(notes, *, program=0, drums=()):
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=program)
    inst.notes = [pretty_midi.Note(velocity=v, pitch=p, start=s, end=e) for p, s, e, v in notes]
    pm.instruments.append(inst)
    if drums:
        kit = pretty_midi.Instrument(program=0, is_drum=True)
        kit.notes = [pretty_midi.Note(velocity=100, pitch=36, start=s, end=s + 0.1) for s in drums]
        pm.instruments.append(kit)
    return pm


def test_chorale_renders_to_the_right_length_and_never_clips(synth, samples_dir):
    path = samples_dir / "bach_chorale.mid"
    pm = pretty_midi.PrettyMIDI(str(path))
    last_off = max(n.end for i in pm.instruments if not i.is_drum for n in i.notes)
    mix = synth.render(path, timbres=[synth.random_timbre(s) for s in (1, 2, 3)], seconds_per_timbre=4)
    assert mix.dtype == np.float32 and mix.ndim == 1
    assert mix.shape[0] == math.ceil((last_off + 0.1) * synth.sample_rate)
    assert np.isfinite(mix).all() and np.abs(mix).max() <= 0.98 + 1e-6 and np.abs(mix).max() > 0.1
    loud = synth.render(path, timbres=synth.random_timbre(1), gain=1000.0)          # forced far over full scale
    assert np.abs(loud).max() <= 0.98 + 1e-6
    assert np.array_equal(mix, synth.render(path, timbres=[synth.random_timbre(s) for s in (1, 2, 3)],
                                            seconds_per_timbre=4))                 # deterministic


def test_stems_add_up_to_the_mix(synth, samples_dir):
    mix, stems = synth.render(samples_dir / "bach_chorale.mid", stems=True, gain=0.05)
    assert len(stems) == 4 and all(s.shape == mix.shape for s in stems.values())
    if np.abs(mix).max() < 0.9:                                                       # limiter idle
        np.testing.assert_allclose(sum(stems.values()), mix, atol=1e-5)


def test_out_of_range_notes_move_by_octaves(synth, caplog):
    low, high = synth.pitch_range
    pm = _midi([(low - 12, 0.0, 0.2, 100), (high + 5, 0.1, 0.3, 100), (low + 3, 0.2, 0.4, 100)])
    notes = read_notes(pm, pitch_range=synth.pitch_range)
    assert sorted(notes.pitch.tolist()) == sorted([low, high + 5 - 12, low + 3])
    with caplog.at_level(logging.WARNING):
        mix = synth.render(pm)
    assert "moved by octaves" in caplog.text and f"{low - 12}->{low}" in caplog.text
    assert mix.shape[0] == math.ceil(0.4 * synth.sample_rate + 0.1 * synth.sample_rate)


def test_long_notes_are_extended_not_cut(synth):
    assert synth.note_length < 1.0
    mix = synth.render(_midi([(60, 0.0, 1.5, 100)]), timbres=synth.random_timbre(2), release=0.1)
    sr = synth.sample_rate
    assert mix.shape[0] == math.ceil(1.6 * sr)
    held = mix[int(0.1 * sr):int(1.45 * sr)]
    frames = np.sqrt(np.mean(held[: len(held) // 400 * 400].reshape(-1, 400) ** 2, axis=1))
    assert frames.min() > 0.05 * frames.max()                  # sounds all the way through the hold


def test_drums_skipped_with_a_warning(synth, caplog):
    with caplog.at_level(logging.WARNING):
        mix = synth.render(_midi([(60, 0.0, 0.3, 100)], drums=[0.0, 0.5, 1.0]))
    assert "drum" in caplog.text
    assert mix.shape[0] == math.ceil(0.4 * synth.sample_rate)


def test_drum_only_and_empty_midi_are_refused(synth, tmp_path):
    pm = _midi([], drums=[0.0, 0.5])
    with pytest.raises(MidiFileError, match="only drum notes"):
        synth.render(pm)
    with pytest.raises(MidiFileError, match="no notes"):
        synth.render(pretty_midi.PrettyMIDI())
    bad = tmp_path / "bad.mid"
    bad.write_text("this is not MIDI")
    with pytest.raises(MidiFileError, match="bad.mid"):
        synth.render(bad)


def test_schedules_assign_latents(synth):
    a, b, c = (synth.random_timbre(s) for s in (1, 2, 3))
    pm = _midi([(60, t, t + 0.2, 100) for t in (0.0, 2.0, 4.0, 6.0, 9.0)])
    notes = read_notes(pm, pitch_range=synth.pitch_range)
    z = Drift([a, b, c], seconds_per_timbre=4.0, steps=None).latents(notes)
    np.testing.assert_allclose(z[0], a.latent, rtol=1e-6)
    np.testing.assert_allclose(z[2], b.latent, rtol=1e-6)
    np.testing.assert_allclose(z[4], c.latent, rtol=1e-6)                       # held after the last anchor
    mid = synth.interpolate(a, b, 3)[1]
    np.testing.assert_allclose(z[1], mid.latent, rtol=1e-5)
    exact = Drift([a, b], times=[0.0, 8.0], method="lerp", steps=None).latents(notes)
    np.testing.assert_allclose(exact[1], 0.75 * a.latent + 0.25 * b.latent, rtol=1e-5)
    with pytest.raises(ParameterError, match="increasing"):
        Drift([a, b], times=[3.0, 1.0])


def test_per_program_timbres(synth):
    a, b = synth.random_timbre(1), synth.random_timbre(2)
    pm = _midi([(60, 0.0, 0.2, 100)], program=0)
    second = pretty_midi.Instrument(program=40)
    second.notes = [pretty_midi.Note(velocity=100, pitch=60, start=0.3, end=0.5)]
    pm.instruments.append(second)
    _, stems = synth.render(pm, timbres={0: a, 40: b}, stems=True, gain=0.1, attack=0.0)  # as generate() shapes
    piano, violin = (stems[name] for name in sorted(stems))
    sr = synth.sample_rate
    expect_a = synth.generate(60, a, duration=0.2)[: int(0.25 * sr)]
    expect_b = synth.generate(60, b, duration=0.2)[: int(0.25 * sr)]
    corr = lambda x, y: np.dot(x, y) / (np.linalg.norm(x) * np.linalg.norm(y) + 1e-12)
    seg_a, seg_b = piano[: len(expect_a)], violin[int(0.3 * sr): int(0.3 * sr) + len(expect_b)]
    assert corr(seg_a, expect_a) > 0.99 and corr(seg_b, expect_b) > 0.99
    with pytest.raises(ParameterError, match="schedule"):
        synth.render(pm, timbres=[a, b], schedule="program")


def test_demo_midi_matches_its_script(samples_dir):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_demo_midi", samples_dir / "make_demo_midi.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    order = lambda notes: sorted(notes, key=lambda n: (round(n.start, 3), n.pitch))  # noqa: E731
    made = order(script.prelude().instruments[0].notes)
    committed = order(pretty_midi.PrettyMIDI(str(samples_dir / "bach_prelude.mid")).instruments[0].notes)
    assert len(made) == len(committed) == 128
    for a, b in zip(made, committed):
        assert (a.pitch, a.velocity) == (b.pitch, b.velocity)
        assert a.start == pytest.approx(b.start, abs=2e-3) and a.end == pytest.approx(b.end, abs=2e-3)

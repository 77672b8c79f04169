"""Sampler instruments of any note model, checked by real players: FluidSynth (SF2), sfizz and sfzlint (SFZ)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from ganaudio.errors import OutputError, ParameterError
from ganaudio.eval.players import melody_scores, play_sfz, play_soundfont
from ganaudio.synth.sampler import (
    SAMPLE_RATE,
    export_sfz,
    key_splits,
    render_instrument,
    sampler_pitches,
    velocity_splits,
)
from ganaudio.synth.timbre import Timbre

SR = SAMPLE_RATE


def test_pitches_and_splits_cover_every_key_and_velocity():
    assert sampler_pitches((36, 84)) == list(range(36, 85, 3))
    assert sampler_pitches((21, 108), step=4)[-2:] == [105, 108]
    keys = key_splits(range(21, 109, 3))
    assert keys[0][0] == 0 and keys[-1][1] == 127 and all(a[1] + 1 == b[0] for a, b in zip(keys, keys[1:]))
    assert all(lo <= p <= hi for p, (lo, hi) in zip(range(21, 109, 3), keys))
    assert velocity_splits([40, 80, 120]) == [(1, 60), (61, 100), (101, 127)]
    assert velocity_splits([100]) == [(1, 127)]
    with pytest.raises(ParameterError, match="step"):
        sampler_pitches((36, 84), step=0)


def octave_levels(y: np.ndarray) -> np.ndarray:
    """Share of the energy (dB) in each octave band from 200 Hz to 12.8 kHz over 0.25-0.5 s of a note: its
    spectral balance, whatever its loudness."""
    power = np.abs(np.fft.rfft(y[SR // 4:SR // 2] * np.hanning(SR // 4))) ** 2
    freq = np.fft.rfftfreq(SR // 4, 1 / SR)
    edges = 200 * 2.0 ** np.arange(7)
    bands = np.array([power[(freq >= lo) & (freq < hi)].sum() for lo, hi in zip(edges, edges[1:])])
    return 10 * np.log10(bands / bands.sum())


def test_velocity_layers_differ_in_spectrum_for_a_harmonic_synth(young_harmonic, gansynth):
    inst = render_instrument(young_harmonic, young_harmonic.random_timbre(4), pitches=[60], velocities=[40, 120])
    soft, loud = (z.audio for z in inst.zones)
    assert np.sqrt(np.mean(loud[SR // 2:SR] ** 2)) > 1.5 * np.sqrt(np.mean(soft[SR // 2:SR] ** 2))
    # the model's velocity changes the balance of the partials by several dB, not only the level
    assert np.abs(octave_levels(loud) - octave_levels(soft)).max() > 3.0
    # GANSynth's velocity is a gain: its layers are one waveform at two levels
    g = render_instrument(gansynth, gansynth.random_timbre(4), pitches=[60], velocities=[40, 120])
    a, b = (z.audio for z in g.zones)
    assert np.corrcoef(a, b)[0, 1] > 0.999 and np.abs(octave_levels(a) - octave_levels(b)).max() < 0.1


class FadingModel:
    """A stand-in note model that plays plucked (fading) sines: any object with these members can be exported."""

    name, sample_rate, pitch_range = "pluck", 22050, (40, 80)

    def check_timbre(self, timbre):
        return timbre

    def generate_many(self, pitches, timbres, velocities, durations, *, release=None):
        n = int((durations[0] + 0.5) * self.sample_rate)
        t = np.arange(n) / self.sample_rate
        key_up = int(durations[0] * self.sample_rate)
        env = 10 ** (-20 * t / 20)                                          # 20 dB/s while held
        env[key_up:] *= 10 ** (-120 * (t[key_up:] - t[key_up]) / 20)        # T60 of 0.5 s after the key
        return np.stack([(v / 127) * np.sin(2 * np.pi * 440 * 2 ** ((p - 69) / 12) * t) * env
                         for p, v in zip(pitches, np.broadcast_to(velocities, len(pitches)))]).astype(np.float32)


def test_fading_timbres_get_no_loop_and_their_own_release(tmp_path):
    inst = render_instrument(FadingModel(), Timbre(np.ones(4), model_id="pluck", seed=1), pitches=[57, 69],
                             velocities=[100], hold=1.5)
    assert [z.loop for z in inst.zones] == [None, None]
    # released from a level already fading 20 dB/s, the tail falls 120 + 20 dB/s: 60 dB in 0.43 s
    assert all(z.decay == pytest.approx(20, abs=1) and z.release == pytest.approx(60 / 140, abs=0.03)
               for z in inst.zones)
    assert all(abs(z.audio).max() <= 0.9 for z in inst.zones)
    assert max(abs(z.audio).max() for z in inst.zones) == pytest.approx(10 ** (-1 / 20), rel=1e-4)


def test_sf2_of_a_harmonic_synth_plays_the_melody_in_fluidsynth(young_harmonic, melody, tmp_path):
    path = tmp_path / "young.sf2"
    inst = young_harmonic.export_sf2(3, path, pitches=[48, 60, 72], velocities=[40, 80, 120], hold=1.5)
    # the continue point changes as training goes on: whether a timbre sustains is the model's, the rule is ours
    from ganaudio.synth.sampler import DECAY_LIMIT

    assert len(inst.zones) == 9
    assert all(z.loop is None for z in inst.zones if z.decay >= DECAY_LIMIT)
    if inst.summary()["looped"]:
        assert inst.summary()["worst_seam_jump"] < 0.05
    y = play_soundfont(path, melody)
    scores = melody_scores(melody, y, sample_rate=SR)
    assert scores["f_measure"] >= 0.9 and scores["pitch_agreement"] >= 0.9, scores


def test_sf2_of_gansynth_plays_the_melody_in_fluidsynth(gansynth, melody, tmp_path):
    path = tmp_path / "gansynth.sf2"
    gansynth.export_sf2(gansynth.random_timbre(1), path, pitches=[48, 60, 72], velocities=[80])
    scores = melody_scores(melody, play_soundfont(path, melody), sample_rate=SR)
    assert scores["f_measure"] >= 0.9 and scores["pitch_agreement"] >= 0.9, scores


def lint(sfz) -> list[str]:
    from sfzlint.parser import SFZValidatorConfig, validate

    messages = []
    validate(sfz, err_cb=lambda severity, message, token, path: messages.append(f"{severity} {message}"),
             config=SFZValidatorConfig(file_path=sfz, check_includes=True))
    return messages


def test_sfz_passes_sfzlint_and_plays_in_sfizz(young_harmonic, melody, tmp_path):
    out = tmp_path / "young"
    inst = export_sfz(young_harmonic, young_harmonic.random_timbre(3), out, pitches=[48, 60, 72],
                      velocities=[40, 120], hold=1.5)
    sfz = out / f"{inst.name}.sfz"
    assert sorted(p.name for p in out.iterdir()) == sorted(["export.json", "samples", sfz.name])
    for zone in inst.zones:
        info = sf.info(out / "samples" / f"{zone.name}.wav")
        assert (info.samplerate, info.subtype, info.channels) == (44100, "PCM_24", 1)
    report = json.loads((out / "export.json").read_text())
    assert report["samples"] == 6 and len(report["zones"]) == 6
    assert lint(sfz) == []
    (out / "samples" / f"{inst.zones[0].name}.wav").rename(out / "elsewhere.wav")
    assert any("not found" in m for m in lint(sfz))   # the linter reads the sample paths
    (out / "elsewhere.wav").rename(out / "samples" / f"{inst.zones[0].name}.wav")
    y = play_sfz(sfz, melody)
    scores = melody_scores(melody, y, sample_rate=SR)
    assert scores["f_measure"] >= 0.9 and scores["pitch_agreement"] >= 0.9, scores


def test_sfizz_holds_a_note_on_its_loop_and_releases_it(young_harmonic, tmp_path):
    import pretty_midi

    out = tmp_path / "held"
    inst = young_harmonic.export_sfz(5, out, pitches=[60], velocities=[100], hold=1.0)
    release = inst.zones[0].release
    assert inst.zones[0].loop is not None and len(inst.zones[0].audio) < 2.5 * SR
    midi = pretty_midi.PrettyMIDI()
    part = pretty_midi.Instrument(0)
    part.notes.append(pretty_midi.Note(velocity=100, pitch=60, start=0.0, end=4.0))   # held past its sample
    midi.instruments.append(part)
    y = np.pad(play_sfz(out / f"{inst.name}.sfz", midi), (0, 3 * SR))   # the render stops once all is quiet
    level = lambda a, b: 20 * np.log10(np.sqrt(np.mean(y[int(a * SR):int(b * SR)] ** 2)) + 1e-12)  # noqa: E731
    assert level(0.6, 0.9) > -40                                   # sounding (-19 dBFS here)
    assert abs(level(3.5, 3.9) - level(0.6, 0.9)) < 3.0          # still sounding, at its held level
    steps = np.abs(np.diff(y[int(0.5 * SR):int(3.9 * SR)]))
    assert steps.max() < 3 * np.percentile(steps, 99.9)           # no click at any pass of the loop
    assert level(4.0, 4.05) > level(3.5, 3.9) - 10                  # the release starts from the held level
    assert level(4.0 + 1.5 * release, 4.1 + 1.5 * release) < level(3.5, 3.9) - 40


def test_export_refuses_a_full_folder_and_replaces_it_when_asked(tiny_harmonic, tmp_path):
    out = tmp_path / "inst"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not empty") as caught:
        tiny_harmonic.export_sfz(1, out, pitches=[60], velocities=[100], hold=0.5)
    assert caught.value.remedy == "replace-folder" and (out / "old.txt").read_text() == "keep me"
    tiny_harmonic.export_sfz(1, out, pitches=[60], velocities=[100], hold=0.5, replace=True)
    assert not (out / "old.txt").exists() and (out / "samples" / "p060_v100.wav").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inst"]     # no staging folder left behind


def test_a_failure_while_writing_leaves_nothing(tiny_harmonic, tmp_path, monkeypatch):
    import ganaudio.synth.sampler as sampler

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sampler, "save_audio", broken)
    with pytest.raises(OutputError, match="No space left"):
        tiny_harmonic.export_sfz(1, tmp_path / "inst", pitches=[60], velocities=[100], hold=0.5)
    assert list(tmp_path.iterdir()) == []


def test_timbres_of_another_model_are_refused(tiny_harmonic, gansynth, tmp_path):
    with pytest.raises(ParameterError, match="another model"):
        gansynth.export_sf2(tiny_harmonic.random_timbre(1), tmp_path / "x.sf2", pitches=[60])
    with pytest.raises(ParameterError, match="MIDI 36-84"):
        gansynth.export_sf2(1, tmp_path / "x.sf2", pitches=[30])
    with pytest.raises(ParameterError, match=".sf2"):
        gansynth.export_sf2(1, tmp_path / "x.wav", pitches=[60])
    assert list(tmp_path.iterdir()) == []

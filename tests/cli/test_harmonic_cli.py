"""Every synth command plays the harmonic-plus-noise family (a small random model): ganaudio.load dispatches."""

from __future__ import annotations

import json

import numpy as np
import pretty_midi
import pytest
import soundfile as sf
from click.testing import CliRunner

import ganaudio
from ganaudio.cli import main
from ganaudio.synth.harmonic import HarmonicSynth
from tests.api.test_harmonic_synth import folder  # noqa: F401  (module fixture: a tiny ddspgan folder)
from tests.conftest import SAMPLES


def _run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


def test_load_returns_the_harmonic_synth(folder):  # noqa: F811
    synth = ganaudio.load(folder)
    assert isinstance(synth, HarmonicSynth) and synth.sample_rate == 44100
    with pytest.raises(ganaudio.errors.CheckpointError, match="not a note model"):
        ganaudio.load("vocoder_16k")


def test_generate_interpolate_and_timbres(folder, tmp_path):  # noqa: F811
    r = _run("generate", "--pitch", 100, "--seed", 3, "--duration", 0.3, "-o", tmp_path / "n.wav", "--model", folder)
    assert r.exit_code == 0, r.output
    y, sr = sf.read(tmp_path / "n.wav")
    assert sr == 44100 and len(y) == round((0.3 + 1.0) * sr)  # held, then the model's own 1-s release
    r = _run("interpolate", "--pitch", 40, "--from", 1, "--to", 2, "--steps", 3, "--duration", 0.2,
             "-o", tmp_path / "sweep.wav", "--model", folder)
    assert r.exit_code == 0, r.output
    r = _run("timbres", "--count", 2, "-o", tmp_path / "bank", "--model", folder)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "bank").iterdir()) == [
        "seed_0000.timbre.json", "seed_0000.wav", "seed_0001.timbre.json", "seed_0001.wav"]


def test_timbre_from_a_recording_then_play_it(folder, tmp_path):  # noqa: F811
    out = tmp_path / "flute.timbre.json"
    r = _run("timbres", "--from-audio", SAMPLES / "flute_c3.wav", "-o", out, "--model", folder)
    assert r.exit_code == 0, r.output
    assert len(json.loads(out.read_text())["latent"]) == ganaudio.load(folder).latent_dim
    r = _run("generate", "--pitch", 72, "--timbre", out, "--duration", 0.2, "-o", tmp_path / "f.wav",
             "--model", folder)
    assert r.exit_code == 0, r.output


def test_timbre_from_audio_bad_inputs_write_nothing(folder, tmp_path):  # noqa: F811
    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(44100, np.float32), 44100)
    r = _run("timbres", "--from-audio", silence, "-o", tmp_path / "s.timbre.json", "--model", folder)
    assert r.exit_code == 2 and r.output.startswith("Error:") and len(r.output.strip().splitlines()) == 1
    assert not (tmp_path / "s.timbre.json").exists()
    r = _run("timbres", "--from-audio", SAMPLES / "flute_c3.wav", "-o", tmp_path / "x.json", "--model", folder)
    assert r.exit_code == 2 and ".timbre.json" in r.output
    r = _run("timbres", "--from-audio", SAMPLES / "flute_c3.wav", "-o", tmp_path / "g.timbre.json")
    assert r.exit_code == 2 and "cannot take a timbre from a recording" in r.output


def test_render_with_stems_plays_each_note_with_its_own_release(folder, tmp_path):  # noqa: F811
    pm = pretty_midi.PrettyMIDI()
    for program, pitches in ((0, (21, 60)), (40, (108, 72))):
        inst = pretty_midi.Instrument(program=program)
        inst.notes = [pretty_midi.Note(velocity=100, pitch=p, start=0.2 * i, end=0.2 * i + 0.15)
                      for i, p in enumerate(pitches)]
        pm.instruments.append(inst)
    pm.write(str(tmp_path / "song.mid"))
    r = _run("render", tmp_path / "song.mid", "-o", tmp_path / "song.wav", "--stems", tmp_path / "stems",
             "--timbres", "1,2", "--model", folder)
    assert r.exit_code == 0, r.output
    mix, sr = sf.read(tmp_path / "song.wav", dtype="float32")
    assert sr == 44100 and len(mix) == int(np.ceil((0.35 + 1.0) * sr))
    assert len(list((tmp_path / "stems").iterdir())) == 2
    synth = ganaudio.load(folder)
    whole = synth.render(tmp_path / "song.mid", timbres=[synth.random_timbre(1), synth.random_timbre(2)])
    np.testing.assert_allclose(whole, mix, atol=1e-6)  # the stems are summed in another order


def test_transfer_resynth_plays_the_recording_with_the_harmonic_instrument(folder, tmp_path):  # noqa: F811
    y, sr = sf.read(SAMPLES / "flute_phrase.wav", dtype="float32")
    sf.write(tmp_path / "phrase.wav", y[: int(1.5 * sr)], sr)
    r = _run("transfer", tmp_path / "phrase.wav", "-o", tmp_path / "t.wav", "--method", "resynth",
             "--synth", folder, "--timbre", 4)
    assert r.exit_code == 0, r.output
    info = sf.info(tmp_path / "t.wav")
    assert info.samplerate == 44100 and abs(info.duration - 1.5) < 0.05


def test_compose_renders_with_the_harmonic_instrument(folder, tmp_path):  # noqa: F811
    r = _run("compose", "--bars", 1, "-o", tmp_path / "c.mid", "--render", tmp_path / "c.wav",
             "--synth-model", folder)
    assert r.exit_code == 0, r.output
    assert sf.info(tmp_path / "c.wav").samplerate == 44100

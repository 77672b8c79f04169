"""The harmonic-plus-noise instrument as a synth: notes of any length, velocity as a control, timbre from audio."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganaudio.errors import CheckpointError, ParameterError
from ganaudio.io import resample
from ganaudio.loading import load_model, write_model_folder
from ganaudio.models.ddspgan import HarmonicInstrument
from ganaudio.synth.harmonic import HarmonicSynth, load_ddspgan
from ganaudio.synth.note_check import check_single_note
from tests.conftest import load_sample

SMALL = dict(decoder=dict(hidden=24, z_dim=6, n_harmonics=96, n_envelope=12, n_detail=4, n_noise_bands=9,
                          table_size=512),
             encoder=dict(channels=8, n_mels=24))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    torch.manual_seed(0)
    instrument = HarmonicInstrument(**SMALL)
    tensors = {f"generator.{k}": v for k, v in instrument.state_dict().items()}
    return write_model_folder(tmp_path_factory.mktemp("ddsp") / "tiny_ddsp", tensors=tensors,
                              config={"format": 1, "family": "ddspgan", "generator": instrument.config(), "step": 0})


@pytest.fixture(scope="module")
def synth(folder) -> HarmonicSynth:
    return load_ddspgan(folder)


def test_loads_through_the_family_registry(folder, synth):
    assert isinstance(load_model(folder), HarmonicSynth)
    assert synth.sample_rate == 44100 and synth.pitch_range == (21, 108)
    with pytest.raises(CheckpointError, match="not gansynth"):
        load_model(folder, family="gansynth")
    with pytest.raises(CheckpointError, match="ddspgan"):
        load_model("vocoder_16k", family="ddspgan")


def test_notes_of_any_length_with_their_release(synth):
    timbre = synth.random_timbre(3)
    short, long = synth.generate(60, timbre, duration=0.2, release=0.3), synth.generate(60, timbre, duration=8.0,
                                                                                       release=0.3)
    assert len(short) == round(0.5 * 44100) and len(long) == round(8.3 * 44100)
    # the same note, the key held longer: identical until the shorter one's key goes up
    hop = synth.hop
    held = int(np.ceil(0.2 * 44100 / hop)) * hop
    np.testing.assert_allclose(short[:held], long[:held], atol=1e-5)
    assert np.abs(short[-10:]).max() <= np.abs(short).max() * 0.6  # faded at the very end


def test_batch_equals_single_notes_and_velocity_is_a_control(synth):
    timbre = synth.random_timbre(1)
    many = synth.generate_many([21, 60, 108], timbre, velocities=[40, 100, 127], durations=[0.3, 0.3, 0.3])
    for row, (p, v) in zip(many, [(21, 40), (60, 100), (108, 127)]):
        np.testing.assert_allclose(row, synth.generate(p, timbre, velocity=v, duration=0.3), atol=1e-5)
    soft, hard = (synth.generate(60, timbre, velocity=v, duration=0.3) for v in (40, 120))
    assert not np.allclose(soft / np.abs(soft).max(), hard / np.abs(hard).max(), atol=1e-3)


def test_timbre_from_a_recording_plays_at_every_pitch(synth):
    y, sr = load_sample("violin_a4")
    violin = synth.timbre_from_audio(y.numpy(), sr)
    assert violin.latent_dim == synth.latent_dim and np.all(np.isfinite(violin.latent))
    stereo = synth.timbre_from_audio(np.stack([y.numpy(), y.numpy()]), sr)  # mixed down: the same timbre
    np.testing.assert_allclose(stereo.latent, violin.latent, atol=1e-4)
    notes = synth.generate_many([36, 72, 96], violin, durations=0.2)
    assert notes.shape[0] == 3 and np.all(np.isfinite(notes))


def test_timbre_from_audio_refuses_what_is_not_one_note(synth):
    sr = 44100
    t = np.arange(sr) / sr
    tone = lambda f: sum(np.sin(2 * np.pi * f * k * t) / k for k in range(1, 8)) * 0.1  # noqa: E731
    midi = lambda m: 440 * 2 ** ((m - 69) / 12)  # noqa: E731
    cases = {"silent": np.zeros(sr), "no clear pitch": np.random.default_rng(0).normal(scale=0.1, size=sr),
             "more than one pitch": tone(midi(60)) + tone(midi(64)) + tone(midi(67)),
             "0.1 s": tone(220)[:2000]}
    for message, audio in cases.items():
        with pytest.raises(ParameterError, match=message):
            synth.timbre_from_audio(audio.astype(np.float32), sr)


def test_real_notes_pass_the_single_note_check():
    for name in ("trumpet_c4", "flute_c3", "violin_a4", "piano_e3"):
        y, sr = load_sample(name)
        assert len(check_single_note(resample(y.numpy(), orig_sr=sr, target_sr=44100), sample_rate=44100)) > 0


def test_bad_requests_are_refused(synth):
    with pytest.raises(ParameterError, match="outside"):
        synth.generate(20, synth.random_timbre(0))
    with pytest.raises(ParameterError, match="velocities"):
        synth.generate(60, velocity=0)
    with pytest.raises(ParameterError, match="limit"):
        synth.generate(60, duration=1e6)
    other = HarmonicSynth(HarmonicInstrument(**SMALL))
    with pytest.raises(ParameterError, match="another model"):
        synth.generate(60, other.random_timbre(0))

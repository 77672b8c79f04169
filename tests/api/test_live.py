"""The live engine: streamed voices equal whole notes, sample-accurate note-ons, stealing, pedal, bend, morph."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganaudio.errors import ParameterError
from ganaudio.functional.harmonic import NOISE_PERIOD, synth_harmonic_noise
from ganaudio.models.ddspgan import ControlGenerator
from ganaudio.synth.live import LiveEngine, LiveEvent, event_from_midi
from ganaudio.synth.live_voices import NOISE_STRIDE, HarmonicVoices, SampleVoices
from ganaudio.synth.timbre import Timbre, slerp

HOP = 256


@pytest.fixture(scope="module")
def decoder() -> ControlGenerator:
    torch.manual_seed(0)
    return ControlGenerator(hidden=24, z_dim=6, n_harmonics=64, n_envelope=12, n_detail=4, n_noise_bands=9,
                            table_size=256).eval()


@pytest.fixture(scope="module")
def latents():
    g = torch.Generator().manual_seed(1)
    return [torch.randn(6, generator=g).numpy() for _ in range(2)]


def engine_for(decoder, latents, **options) -> LiveEngine:
    options.setdefault("gain", 1.0)
    pool = HarmonicVoices(decoder, release=options.pop("release_s", 1.0), slots=options.pop("slots", 32))
    return LiveEngine(pool, latents=latents, **options)


def whole_note(decoder, z, *, key, velocity, frames, release_frame=None, number=0, bend=0.0):
    """The note rendered in one call, as the engine's voice ``number`` reads the noise."""
    shape = (1, frames)
    gate = torch.ones(shape) if release_frame is None else (torch.arange(frames) < release_frame).float()[None]
    with torch.no_grad():
        c, _ = decoder.controls(torch.as_tensor(z)[None], torch.full(shape, key + bend), torch.full(shape, velocity),
                                gate)
        start = (number * NOISE_STRIDE) % (NOISE_PERIOD // HOP)
        audio, _ = synth_harmonic_noise(c["f0"], c["harmonics"], c["noise"], hop=HOP, sample_rate=44100,
                                        table_size=decoder.table_size, start_frame=torch.tensor([start]))
    return audio[0].numpy()


def play(engine, total: int, block: int, events: dict[int, list[LiveEvent]]) -> np.ndarray:
    """Render ``total`` samples in blocks; ``events[k]`` go to block k (with their offsets)."""
    out = [engine.render(block, events.get(k, ())) for k in range(-(-total // block))]
    return np.concatenate(out)[:total]


@pytest.mark.parametrize("block", [64, 100, 128, 512])
def test_a_streamed_note_equals_the_whole_note(decoder, latents, block):
    engine = engine_for(decoder, latents[:1])
    frames = 30
    y = [engine.render(block, [LiveEvent("note_on", note=57, value=90)])]
    while engine.voices[0].frames < 18:
        y.append(engine.render(block))
    release_frame = engine.voices[0].frames  # a queued note-off closes the gate from the next frame rendered
    engine.send(LiveEvent("note_off", note=57))
    while sum(map(len, y)) < frames * HOP:
        y.append(engine.render(block))
    reference = whole_note(decoder, latents[0], key=57, velocity=90 / 127, frames=frames,
                           release_frame=release_frame)
    np.testing.assert_allclose(np.concatenate(y)[:frames * HOP], reference, atol=1e-5)


def test_note_ons_are_sample_accurate_and_voices_batch_exactly(decoder, latents):
    engine = engine_for(decoder, latents[:1], max_voices=4, slots=1)  # the second voice grows the batch
    block, total = 128, 20 * HOP
    events = {0: [LiveEvent("note_on", offset=37, note=60, value=100)],
              3: [LiveEvent("note_on", offset=90, note=67, value=50)]}
    y = play(engine, total, block, events)
    first = whole_note(decoder, latents[0], key=60, velocity=100 / 127, frames=20, number=0)
    second = whole_note(decoder, latents[0], key=67, velocity=50 / 127, frames=20, number=1)
    expected = np.zeros(total, np.float32)
    expected[37:] += first[:total - 37]
    expected[3 * block + 90:] += second[:total - 3 * block - 90]
    assert np.all(y[:37] == 0) and engine.pool._slots == 2
    np.testing.assert_allclose(y, expected, atol=1e-5)


def test_onsets_are_recorded_for_tagged_notes(decoder, latents):
    engine = engine_for(decoder, latents[:1], onset_threshold=1e-4)
    play(engine, 4 * 128, 128, {1: [LiveEvent("note_on", offset=10, note=60, value=100, tag="a")]})
    assert set(engine.onsets) == {"a"} and 128 + 10 <= engine.onsets["a"] < 128 + 10 + HOP


def test_stealing_takes_the_oldest_released_voice_then_the_oldest(decoder, latents):
    engine = engine_for(decoder, latents[:1], max_voices=2, steal_fade=0.002)
    engine.render(128, [LiveEvent("note_on", note=60, value=90), LiveEvent("note_on", note=64, value=90)])
    engine.render(128, [LiveEvent("note_off", note=60)])
    engine.render(128, [LiveEvent("note_on", note=67, value=90)])
    assert engine.stats["stolen"] == 1
    assert [(v.key, v.fading) for v in engine.voices if v.key == 60] == []  # 2 ms fade ended within the block
    engine.render(128, [LiveEvent("note_on", note=72, value=90)])  # none released: the oldest (64) goes
    engine.render(128)
    assert sorted(v.key for v in engine.voices) == [67, 72] and engine.stats["stolen"] == 2


def test_sustain_pedal_holds_released_keys(decoder, latents):
    engine = engine_for(decoder, latents[:1])
    engine.render(128, [LiveEvent("note_on", note=60, value=90), LiveEvent("control", note=64, value=127)])
    engine.render(128, [LiveEvent("note_off", note=60)])
    assert engine.voices[0].gate and engine.voices[0].sustained
    engine.render(128, [LiveEvent("control", note=64, value=0)])
    assert not engine.voices[0].gate


def test_a_key_struck_again_and_all_notes_or_sound_off(decoder, latents):
    engine = engine_for(decoder, latents[:1])
    engine.render(128, [LiveEvent("note_on", note=60, value=90), LiveEvent("note_on", note=64, value=90)])
    engine.render(128, [LiveEvent("note_on", note=60, value=70)])
    assert [(v.key, v.gate) for v in engine.voices] == [(60, False), (64, True), (60, True)]
    engine.render(128, [LiveEvent("control", note=123, value=0)])  # all notes off: released, still ringing
    assert len(engine.voices) == 3 and not any(v.gate for v in engine.voices)
    engine.render(128, [LiveEvent("control", note=120, value=0)])  # all sound off: a 5 ms fade
    engine.render(256)
    assert engine.voices == []


def test_released_notes_end(decoder, latents):
    engine = engine_for(decoder, latents[:1], release_s=0.05)
    engine.render(512, [LiveEvent("note_on", note=60, value=90)])
    engine.render(512, [LiveEvent("note_off", note=60)])
    for _ in range(10):
        engine.render(512)
    assert engine.voices == [] and len(engine.pool._free) == engine.pool._slots


@pytest.mark.parametrize("bend, semitones", [(1.0, 2.0), (-1.0, -2.0)])
def test_pitch_bend_plays_the_bent_pitch(decoder, latents, bend, semitones):
    engine = engine_for(decoder, latents[:1])
    y = play(engine, 8 * HOP, 256, {0: [LiveEvent("bend", value=bend), LiveEvent("note_on", note=60, value=90)]})
    reference = whole_note(decoder, latents[0], key=60, velocity=90 / 127, frames=8, bend=semitones)
    np.testing.assert_allclose(y, reference, atol=1e-5)


@pytest.mark.parametrize("value", [0, 64, 127])
def test_the_mod_wheel_morphs_between_timbres(decoder, latents, value):
    engine = engine_for(decoder, latents)
    y = play(engine, 6 * HOP, 256, {0: [LiveEvent("control", note=1, value=value),
                                        LiveEvent("note_on", note=60, value=90)]})
    z = slerp(latents[0], latents[1], np.array([value / 127]))[0].astype(np.float32)
    reference = whole_note(decoder, z, key=60, velocity=90 / 127, frames=6)
    np.testing.assert_allclose(y, reference, atol=1e-5)


def test_events_from_raw_midi():
    assert event_from_midi([0x91, 60, 100]) == LiveEvent("note_on", note=60, value=100)
    assert event_from_midi([0x80, 60, 0]).kind == "note_off" and event_from_midi([0x90, 60, 0]).kind == "note_off"
    assert event_from_midi([0xB0, 64, 127]) == LiveEvent("control", note=64, value=127)
    assert event_from_midi([0xE0, 0x7F, 0x7F]).value == pytest.approx(8191 / 8192)
    assert event_from_midi([0xE0, 0, 0]).value == -1.0
    assert event_from_midi([0xF8]) is None and event_from_midi([0xC0, 5]) is None


def test_bad_settings_are_refused(decoder, latents):
    with pytest.raises(ParameterError, match="block size"):
        engine_for(decoder, latents[:1]).render(0)
    with pytest.raises(ParameterError, match="max_voices"):
        engine_for(decoder, latents[:1], max_voices=0)
    with pytest.raises(ParameterError, match="latents"):
        engine_for(decoder, [np.zeros(3)])
    with pytest.raises(ParameterError, match="sustain"):
        engine_for(decoder, latents, morph_cc=64)
    with pytest.raises(ParameterError, match="kind"):
        LiveEvent("chord")


class ToneModel:
    """A note model that cannot stream: each note a sine at its pitch, 16 kHz (as GANSynth's rate)."""

    sample_rate, pitch_range, latent_dim, model_id, name = 16000, (60, 64), 2, "tone", "tone"

    def check_timbre(self, timbre):
        return timbre

    def generate_many(self, pitches, timbre, velocities, durations, *, release):
        t = np.arange(int((durations + release) * self.sample_rate)) / self.sample_rate
        level = 0.5 if timbre.latent[0] == 1 else 0.25
        return np.stack([level * np.sin(2 * np.pi * 440 * 2 ** ((p - 69) / 12) * t) for p in pitches])


def test_sample_voices_play_notes_generated_ahead():
    model = ToneModel()
    timbres = [Timbre([1.0, 0.0], model_id="tone"), Timbre([0.0, 1.0], model_id="tone")]
    engine = LiveEngine.for_synth(model, *timbres, sample_rate=44100, gain=1.0)
    assert isinstance(engine.pool, SampleVoices) and engine.sample_rate == 44100
    y = play(engine, 44100, 441, {0: [LiveEvent("note_on", note=69 - 7, value=100)]})
    spectrum = np.abs(np.fft.rfft(y[4410:]))
    assert abs(np.argmax(spectrum) * 44100 / len(y[4410:]) - 440 * 2 ** (-7 / 12)) < 3
    assert np.abs(y[4410:]).max() == pytest.approx(0.5, abs=0.01)
    # the second timbre at full morph, bent up 2 semitones, then released with its ramp
    engine.render(441, [LiveEvent("control", note=1, value=127), LiveEvent("bend", value=1.0)])
    y = play(engine, 4410, 441, {})
    assert np.abs(y).max() == pytest.approx(0.25, abs=0.01)
    engine.render(441, [LiveEvent("note_off", note=62)])
    play(engine, int(0.2 * 44100), 441, {})
    assert engine.voices == []
    engine.render(441, [LiveEvent("note_on", note=70, value=100)])
    assert engine.stats["ignored"] == 1 and engine.voices == []


def test_gansynth_plays_from_notes_generated_ahead():
    import ganaudio.api

    synth = ganaudio.api.load()
    timbre = synth.random_timbre(2)
    pool = SampleVoices(synth, [timbre], sample_rate=44100, pitch_range=(60, 64), hold=1.0)
    engine = LiveEngine(pool, latents=[timbre.latent])
    assert pool.notes[0].shape == (5, round(1.05 * 44100))
    y = play(engine, 22050, 128, {0: [LiveEvent("note_on", note=60, value=100), LiveEvent("note_on", note=64,
                                                                                          value=60)]})
    assert len(engine.voices) == 2 and np.abs(y).max() > 0.01

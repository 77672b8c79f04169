"""Property tests: every streamed path (read, analyse, invert, vocode, mix, limit, level) equals the whole-clip one."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ganaudio.audio_stream import audio_blocks, open_audio_writer, stream_length
from ganaudio.functional import spectral as F
from ganaudio.io import load_audio
from ganaudio.representations import IF, STFT, IFMel, Mel
from ganaudio.representations.streaming import (
    FramePooler,
    StreamingDistance,
    context_frames,
    encode_blocks,
    estimate_bytes,
    synthesize_blocks,
)
from ganaudio.synth import dsp
from ganaudio.vocoders import make_vocoder


def _split(x, sizes):
    """``x`` cut into consecutive pieces of the given sizes (cycled)."""
    out, i, k = [], 0, 0
    while i < len(x):
        out.append(x[i:i + sizes[k % len(sizes)]])
        i, k = i + sizes[k % len(sizes)], k + 1
    return out


REPS = [
    STFT(sample_rate=16000, n_fft=256, hop_length=64),
    Mel(sample_rate=16000, n_fft=512, hop_length=128, n_mels=40),
    IF(sample_rate=16000, n_fft=256, hop_length=64),
    IFMel(sample_rate=16000, n_fft=512, hop_length=128, n_mels=128),
]


@settings(max_examples=16, deadline=None)
@given(rep=st.sampled_from(REPS), length=st.integers(1, 5000), sizes=st.lists(st.integers(50, 1500), min_size=1,
                                                                               max_size=4), seed=st.integers(0, 999))
def test_streamed_encode_equals_whole(rep, length, sizes, seed):
    y = torch.randn(length, generator=torch.Generator().manual_seed(seed)) * 0.3
    whole = rep.encode(y)
    streamed = torch.cat(list(encode_blocks(rep, _split(y, sizes))), dim=-1)
    assert streamed.shape == whole.shape == (rep.channels, rep.n_bins, rep.frames_for(length))
    torch.testing.assert_close(streamed, whole, atol=2e-4, rtol=1e-4)
    assert estimate_bytes(rep, length) == whole.numel() * 4


@pytest.mark.parametrize("rep, vocoder", [(REPS[0], "phase"), (REPS[2], "phase"), (REPS[2], "phase-griffinlim"),
                                          (REPS[3], "phase-griffinlim"), (REPS[3], "phase")])
@pytest.mark.parametrize("block_frames", [7, 40])
def test_streamed_inverse_equals_whole(rep, vocoder, block_frames):
    y = torch.randn(9001, generator=torch.Generator().manual_seed(3)) * 0.3
    voc = make_vocoder(vocoder, n_iter=3)
    spec = rep.encode(y)
    whole = voc(spec, rep, length=len(y)).numpy()
    pieces = synthesize_blocks(encode_blocks(rep, _split(y, [1000, 333])), lambda s, length: voc(s, rep, length=length),
                               hop_length=rep.hop_length, length=len(y), context=context_frames(rep, voc),
                               block_frames=block_frames, phase_channel=1 if rep.name in ("if", "ifmel") else None)
    streamed = np.concatenate(list(pieces))
    assert streamed.shape == whole.shape
    np.testing.assert_allclose(streamed, whole, atol=5e-4)


def test_streamed_gan_vocoder_equals_whole():
    from ganaudio.vocoders import load_vocoder

    voc = load_vocoder()
    rep = voc.representation
    y = torch.randn(12000, generator=torch.Generator().manual_seed(1)) * 0.2
    mel = rep.encode(y)
    whole = voc(mel, rep, length=len(y)).numpy()
    streamed = np.concatenate(list(synthesize_blocks(
        [mel[..., i:i + 13] for i in range(0, mel.shape[-1], 13)], lambda s, length: voc(s, rep, length=length),
        hop_length=rep.hop_length, length=len(y), context=context_frames(rep, voc), block_frames=10)))
    np.testing.assert_allclose(streamed, whole, atol=1e-5)


def test_streamed_read_and_write_equal_whole(tmp_path):
    rng = np.random.default_rng(0)
    stereo = (0.3 * rng.standard_normal((30011, 2))).astype(np.float32)
    sf.write(tmp_path / "in.wav", stereo, 44100, subtype="FLOAT")
    for rate in (None, 16000):
        whole, sr = load_audio(tmp_path / "in.wav", sample_rate=rate)
        blocks = list(audio_blocks(tmp_path / "in.wav", sample_rate=rate, block=4096))
        assert stream_length(tmp_path / "in.wav", sample_rate=rate) == (len(whole), sr)
        np.testing.assert_array_equal(np.concatenate(blocks), whole)
    with open_audio_writer(tmp_path / "out.wav", 16000) as out:
        for block in _split(whole, [1000, 77]):
            out.write(block)
    assert out.frames == len(whole)
    np.testing.assert_array_equal(sf.read(tmp_path / "out.wav", dtype="float32")[0], whole)
    with pytest.raises(RuntimeError), open_audio_writer(tmp_path / "out.wav", 16000) as out:
        out.write(np.zeros(10, np.float32))
        raise RuntimeError("stop")
    assert sf.info(tmp_path / "out.wav").frames == len(whole)  # the failed write left the old file as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav", "out.wav"]  # and no temporary file is left


def test_streaming_distance_equals_whole():
    g = torch.Generator().manual_seed(2)
    ref = torch.randn(20000, generator=g)
    est = ref + 0.1 * torch.randn(20000, generator=g)
    dist = StreamingDistance(sample_rate=16000)
    for a, b in zip(_split(est.numpy(), [3000, 517]), _split(ref.numpy(), [3000, 517])):
        dist.push(a, b)
    snr, sc = dist.result()
    assert snr == pytest.approx(F.snr_db(est, ref), abs=1e-4)
    assert sc == pytest.approx(F.spectral_convergence(est, ref), rel=1e-4)


def test_frame_pooler_bounds_columns():
    x = torch.arange(2 * 3 * 10, dtype=torch.float32).reshape(2, 3, 10)
    pooler = FramePooler(4, frames=10)
    pooler.push(x[..., :3])
    pooler.push(x[..., 3:])
    out = pooler.finish()
    assert out.shape == (2, 3, 3)
    torch.testing.assert_close(out[0], torch.stack([x[0, :, 0:4].mean(-1), x[0, :, 4:8].mean(-1),
                                                    x[0, :, 8:].mean(-1)], dim=-1))
    torch.testing.assert_close(out[1], x[1, :, [0, 4, 8]])


@settings(max_examples=30, deadline=None)
@given(length=st.integers(1, 30000), first=st.integers(0, 30000), size=st.integers(0, 5000),
       period=st.floats(20.0, 200.0), attack=st.integers(0, 500), release=st.integers(0, 3000))
def test_note_segments_equal_whole_note(length, first, size, period, attack, release):
    note = np.random.default_rng(length).standard_normal(4000).astype(np.float32)
    held = max(1, length - release)
    long = dsp.extend_note(note, held + release, period=period)
    whole = dsp.shape_note(long, held=held, attack=attack, release=release) if len(long) >= held + release else None
    first = min(first, held + release)
    stop = min(first + size, held + release)
    seg = dsp.extend_note_segment(note, held + release, first, stop, period=period)
    np.testing.assert_array_equal(seg, long[first:stop])
    if whole is not None:
        np.testing.assert_array_equal(dsp.shape_segment(seg, first, held=held, attack=attack, release=release),
                                      whole[first:stop])


@settings(max_examples=20, deadline=None)
@given(sizes=st.lists(st.integers(400, 5000), min_size=1, max_size=3), level=st.floats(0.1, 5.0),
       seed=st.integers(0, 999))
def test_streaming_limiter_equals_whole(sizes, level, seed):
    y = (level * np.random.default_rng(seed).standard_normal(12000)).astype(np.float32)
    limiter = dsp.StreamingLimiter(ceiling=0.98, lookahead=80)
    out = [limiter.push(b) for b in _split(y, sizes)] + [limiter.finish()]
    np.testing.assert_array_equal(np.concatenate(out), dsp.limit(y, ceiling=0.98, lookahead=80))


def test_streamed_level_is_within_0_02_percent_of_the_whole_mix_level():
    from ganaudio.synth.render import auto_gain, stream_gain

    rng = np.random.default_rng(5)
    mix = (rng.standard_normal(50000) * np.linspace(0, 2, 50000)).astype(np.float32)
    mix[:5000] = 0
    assert stream_gain(_split(mix, [7000, 123])) == pytest.approx(auto_gain(mix), rel=2e-4)
    assert stream_gain([np.zeros(100, np.float32)]) == 1.0

"""prepare_audio (fixed-length segments, silence trimmed, resumable) and render_midi (one timbre, no drums)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ganaudio.data import midi_events, prepare_audio, render_midi
from ganaudio.errors import DataError, ParameterError
from ganaudio.io import load_audio, resample

SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")


@pytest.fixture
def recordings(tmp_path, samples_dir) -> Path:
    """Real recordings padded with silence, in two formats and rates, plus a corrupt file and a text file."""
    src = tmp_path / "src"
    (src / "a").mkdir(parents=True)
    (src / "b").mkdir()
    flute, sr = load_audio(samples_dir / "flute_phrase.wav")
    silence = np.zeros(sr, np.float32)
    padded = np.concatenate([silence, flute, silence])
    sf.write(str(src / "a" / "flute.wav"), resample(padded, orig_sr=sr, target_sr=44100), 44100)
    violin, _ = load_audio(samples_dir / "violin_a4.wav")
    sf.write(str(src / "b" / "violin.flac"), np.concatenate([violin, silence, violin]), sr)
    (src / "b" / "broken.wav").write_bytes(b"RIFF\x00\x01\x00\x00WAVEjunk")
    (src / "notes.txt").write_text("not audio")
    return src


def test_segments_fixed_length_silence_trimmed(recordings, tmp_path):
    out = tmp_path / "out"
    summary = prepare_audio(recordings, out, sample_rate=16000, segment_seconds=1.0, progress=False)
    assert summary["files"] == 3 and summary["processed"] == 2 and list(summary["failed"]) == ["b/broken.wav"]
    segments = sorted((out / "audio").glob("*.wav"))
    assert len(segments) == summary["segments"] >= 6
    assert {p.name.rsplit("-", 1)[0] for p in segments} == {"a__flute", "b__violin"}
    for path in segments:
        info = sf.info(str(path))
        assert (info.samplerate, info.frames, info.channels) == (16000, 16000, 1)
        y, _ = sf.read(str(path))
        assert np.sqrt(np.mean(y**2)) > 1e-3
    assert summary["seconds_trimmed"] >= 2.5  # the 2 s of padding and the 1 s gap, less frame edges
    manifest = json.loads((out / "segments.json").read_text())
    assert set(manifest["sources"]) == {"a/flute.wav", "b/violin.flac"} and "b/broken.wav" in manifest["failed"]


def test_overlap_and_resume(recordings, tmp_path):
    out = tmp_path / "out"
    plain = prepare_audio(recordings, out, segment_seconds=1.0, progress=False)
    mtimes = {p.name: p.stat().st_mtime_ns for p in (out / "audio").iterdir()}
    again = prepare_audio(recordings, out, segment_seconds=1.0, progress=False)
    assert again["processed"] == 0 and again["existing"] == 2 and again["segments"] == plain["segments"]
    assert {p.name: p.stat().st_mtime_ns for p in (out / "audio").iterdir()} == mtimes
    min((out / "audio").glob("a__flute-*")).unlink()  # an interrupted file is redone
    assert prepare_audio(recordings, out, segment_seconds=1.0, progress=False)["processed"] == 1
    with pytest.raises(DataError, match="other settings"):
        prepare_audio(recordings, out, segment_seconds=2.0, progress=False)
    overlapped = prepare_audio(recordings, tmp_path / "hop", segment_seconds=1.0, hop_seconds=0.5, progress=False)
    assert overlapped["segments"] > 1.5 * plain["segments"]


def test_prepare_audio_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        prepare_audio(tmp_path / "nope", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no audio files"):
        prepare_audio(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(ParameterError):
        prepare_audio(tmp_path / "empty", tmp_path / "out", segment_seconds=0)


def _piece(path: Path, *, drums: bool) -> Path:
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    piano = pretty_midi.Instrument(program=0)
    for i, pitch in enumerate((60, 64, 67)):
        piano.notes.append(pretty_midi.Note(velocity=90, pitch=pitch, start=0.5 * i, end=0.5 * i + 0.45))
    violin = pretty_midi.Instrument(program=40)
    violin.notes.append(pretty_midi.Note(velocity=80, pitch=69, start=0.25, end=1.25))
    violin.control_changes.append(pretty_midi.ControlChange(number=11, value=100, time=0.0))
    midi.instruments += [piano, violin]
    if drums:
        kit = pretty_midi.Instrument(program=0, is_drum=True)
        kit.notes += [pretty_midi.Note(velocity=120, pitch=36, start=t, end=t + 0.1) for t in (0.0, 0.5, 1.0)]
        midi.instruments.append(kit)
    path.parent.mkdir(parents=True, exist_ok=True)
    midi.write(str(path))
    return path


@pytest.mark.skipif(not SOUNDFONT.is_file(), reason="TimGM6mb SoundFont not installed")
def test_render_midi_one_timbre_without_drums(tmp_path):
    pytest.importorskip("fluidsynth")
    _piece(tmp_path / "midi" / "piece.mid", drums=True)
    _piece(tmp_path / "nodrums" / "piece.mid", drums=False)
    (tmp_path / "midi" / "broken.mid").write_bytes(b"MThd garbage")
    flute = render_midi(tmp_path / "midi", tmp_path / "flute", soundfont=SOUNDFONT, program=73, progress=False)
    assert flute["rendered"] == 1 and list(flute["failed"]) == [str(tmp_path / "midi" / "broken.mid")]
    a, sr = sf.read(str(tmp_path / "flute" / "piece.wav"), dtype="float32")
    assert sr == 16000 and 1.45 < len(a) / sr < 1.45 + 3.1 and np.max(np.abs(a)) > 0.01

    nodrums = render_midi(tmp_path / "nodrums", tmp_path / "flute2", soundfont=SOUNDFONT, program=73, progress=False)
    b, _ = sf.read(str(tmp_path / "flute2" / "piece.wav"), dtype="float32")
    assert nodrums["rendered"] == 1 and len(a) == len(b) and np.max(np.abs(a - b)) < 5e-3  # drums dropped

    render_midi(tmp_path / "midi", tmp_path / "violin", soundfont=SOUNDFONT, program=40, progress=False)
    c, _ = sf.read(str(tmp_path / "violin" / "piece.wav"), dtype="float32")
    n = min(len(a), len(c))
    assert np.sqrt(np.mean((a[:n] - c[:n]) ** 2)) > 0.1 * np.sqrt(np.mean(a[:n] ** 2))  # another timbre

    again = render_midi(tmp_path / "midi", tmp_path / "flute", soundfont=SOUNDFONT, program=73, progress=False)
    assert again["rendered"] == 0 and again["existing"] == 1


def test_midi_events_skip_drum_channel(tmp_path):
    import pretty_midi

    midi = pretty_midi.PrettyMIDI()
    for k in range(11):
        inst = pretty_midi.Instrument(program=k)
        inst.notes.append(pretty_midi.Note(velocity=64, pitch=60 + k, start=0.1 * k, end=0.1 * k + 0.5))
        midi.instruments.append(inst)
    events, channels = midi_events(midi, program=5)
    assert channels == [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11]
    assert len(events) == 22 and [e[0] for e in events] == sorted(e[0] for e in events)


@pytest.mark.skipif(not SOUNDFONT.is_file(), reason="TimGM6mb SoundFont not installed")
def test_render_midi_errors(tmp_path):
    pytest.importorskip("fluidsynth")
    _piece(tmp_path / "midi" / "piece.mid", drums=False)
    with pytest.raises(DataError, match="nope.sf2"):
        render_midi(tmp_path / "midi", tmp_path / "out", soundfont=tmp_path / "nope.sf2", program=0)
    with pytest.raises(DataError, match="does not exist"):
        render_midi(tmp_path / "nope", tmp_path / "out", soundfont=SOUNDFONT, program=0)
    with pytest.raises(ParameterError):
        render_midi(tmp_path / "midi", tmp_path / "out", soundfont=SOUNDFONT, program=128)


def test_segment_dataset_splits_by_source_and_crops(recordings, tmp_path):
    import torch

    from ganaudio.data import SegmentDataset
    from ganaudio.errors import DataError, ParameterError

    out = tmp_path / "out"
    prepare_audio(recordings, out, sample_rate=16000, segment_seconds=1.0, progress=False)
    ds = SegmentDataset(out)
    assert ds.sources == ["a/flute.wav", "b/violin.flac"] and ds.sample_rate == 16000
    y = ds[0]
    assert y.dtype == torch.float32 and y.shape == (16000,)
    expected, _ = sf.read(str(ds.files[0]), dtype="float32")
    assert np.allclose(y.numpy(), expected)
    flute, violin = SegmentDataset(out, sources=["a/flute.wav"]), SegmentDataset(out, sources=["b/violin.flac"])
    assert len(flute) + len(violin) == len(ds) and not set(flute.files) & set(violin.files)
    fixed = SegmentDataset(out, crop=4000)
    assert torch.equal(fixed[1], ds[1][:4000])
    g = torch.Generator().manual_seed(0)
    random = SegmentDataset(out, crop=4000, generator=g)
    crops = [random[1] for _ in range(4)]
    assert all(c.shape == (4000,) for c in crops) and not all(torch.equal(crops[0], c) for c in crops[1:])
    assert SegmentDataset(out, crop=20000)[0].shape == (20000,)  # short segments are padded
    with pytest.raises(DataError, match="no source named"):
        SegmentDataset(out, sources=["c/none.wav"])
    with pytest.raises(DataError, match="segments.json"):
        SegmentDataset(tmp_path)
    with pytest.raises(ParameterError, match="crop"):
        SegmentDataset(out, crop=0)

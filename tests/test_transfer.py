"""Timbre transfer: note-level resynthesis (library and `ganaudio transfer`), bad input, and the CycleGAN path."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
from click.testing import CliRunner

import ganaudio
from ganaudio.api import model_path
from ganaudio.cli import main
from ganaudio.errors import ParameterError
from ganaudio.eval.timbre import pitch_agreement
from ganaudio.eval.transcription import midi_notes, note_agreement, transcribe
from ganaudio.io import audio_info, load_audio, resample, save_audio
from ganaudio.transfer.resynth import (
    notes_to_midi,
    resynthesize,
    resynthesize_file,
    transcribe_blocks,
    transcribe_long,
)

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
# A violin line (FluidR3 program 40): G4 A4 B4 C5 D5 B4, 0.45 s each with 0.05 s gaps.
MELODY = [67, 69, 71, 72, 74, 71]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def violin(tmp_path_factory) -> Path:
    """A real violin recording of MELODY (FluidR3_GM through FluidSynth), 16 kHz mono WAV."""
    if not SOUNDFONT.is_file():
        pytest.skip(f"{SOUNDFONT} is not installed (apt-get install fluid-soundfont-gm)")
    pytest.importorskip("fluidsynth")
    from ganaudio.data import render_midi

    root = tmp_path_factory.mktemp("violin")
    midi = pretty_midi.PrettyMIDI()
    track = pretty_midi.Instrument(program=40)
    track.notes = [pretty_midi.Note(100, p, 0.2 + 0.5 * i, 0.65 + 0.5 * i) for i, p in enumerate(MELODY)]
    midi.instruments.append(track)
    (root / "midi").mkdir()
    midi.write(str(root / "midi" / "line.mid"))
    render_midi(root / "midi", root / "wav", soundfont=SOUNDFONT, program=40, sample_rate=16000, progress=False)
    return root / "wav" / "line.wav"


@pytest.fixture(scope="module")
def synth():
    return ganaudio.load()  # the bundled gansynth_tiny: its notes are on pitch, a 2-step model's are not


def test_resynth_keeps_the_notes(violin, synth, tmp_path):
    y, sr = load_audio(violin)
    out, out_sr, notes = resynthesize(y, sample_rate=sr, timbre=3, synth=synth, midi_out=tmp_path / "line.mid")
    assert [n.pitch for n in notes] == MELODY
    assert out_sr == synth.sample_rate and out.dtype == np.float32 and out.shape == y.shape
    scores = pitch_agreement(y, out, sample_rate=sr)
    assert scores["agreement"] >= 0.9 and scores["output_voiced"] >= 0.7, scores
    assert [n.pitch for n in midi_notes(tmp_path / "line.mid")] == MELODY
    again = resynthesize(y, sample_rate=sr, timbre=synth.random_timbre(3), synth=synth)
    np.testing.assert_array_equal(again.audio, out)  # a seed and its Timbre are the same timbre
    assert not np.array_equal(resynthesize(y, sample_rate=sr, timbre=4, synth=synth).audio, out)


def test_transcribed_onsets_match_the_score(violin):
    # pYIN voices a bowed note 60-120 ms after its attack; the onset search must reach back that far
    y, sr = load_audio(violin)
    reference = midi_notes(violin.parent.parent / "midi" / "line.mid")
    notes = transcribe(y, sample_rate=sr)
    assert [n.pitch for n in notes] == MELODY
    assert note_agreement(reference, notes)["f_measure"] >= 5 / 6
    assert note_agreement(reference, transcribe(y, sample_rate=sr, onset_search=0.0))["f_measure"] <= 0.5


def test_long_input_is_transcribed_in_chunks(violin):
    y, sr = load_audio(violin)
    whole = transcribe_long(y, sample_rate=sr, chunk_seconds=60)
    chunked = transcribe_long(y, sample_rate=sr, chunk_seconds=0.8, context_seconds=0.6)  # cuts inside notes
    assert [n.pitch for n in chunked] == [n.pitch for n in whole] == MELODY
    for a, b in zip(whole, chunked):
        assert abs(a.start - b.start) < 0.05 and abs(a.end - b.end) < 0.05
    blocks = [y[i:i + 2345] for i in range(0, len(y), 2345)]  # read block by block: the same notes
    assert transcribe_blocks(blocks, sample_rate=sr, total=len(y), chunk_seconds=0.8, context_seconds=0.6) == chunked


def test_resynthesize_file_streams_to_the_same_audio(violin, synth, tmp_path):
    y, sr = load_audio(violin)
    whole = resynthesize(y, sample_rate=sr, timbre=3, synth=synth)
    notes = resynthesize_file(violin, tmp_path / "out.wav", timbre=3, synth=synth, midi_out=tmp_path / "out.mid")
    assert notes == whole.notes
    streamed, out_sr = load_audio(tmp_path / "out.wav")
    assert out_sr == synth.sample_rate
    np.testing.assert_allclose(streamed, whole.audio, atol=1e-6)
    assert [n.pitch for n in midi_notes(tmp_path / "out.mid")] == MELODY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mid", "out.wav"]  # no temporary file left


def test_resynth_bad_input(synth, tmp_path):
    with pytest.raises(ParameterError, match="mono"):
        resynthesize(np.zeros((2, 16000), np.float32), sample_rate=16000, synth=synth)
    with pytest.raises(ParameterError, match="seed"):
        resynthesize(np.zeros(16000, np.float32), sample_rate=16000, synth=synth, timbre="bright")
    with pytest.raises(ParameterError, match="finite|NaN"):
        resynthesize(np.full(16000, np.nan, np.float32), sample_rate=16000, synth=synth)
    assert notes_to_midi([]).instruments[0].notes == []


def test_cli_resynth_writes_audio_and_midi(violin, tmp_path):
    out, mid = tmp_path / "gan.wav", tmp_path / "line.mid"
    result = run("transfer", violin, "-o", out, "--timbre", 3, "--midi", mid)
    assert result.exit_code == 0, result.output
    assert "6 notes" in result.output and "monophonic" in result.output
    assert audio_info(out).frames == audio_info(violin).frames and audio_info(out).samplerate == 16000
    assert [n.pitch for n in midi_notes(mid)] == MELODY


def test_cli_stereo_44k_input(violin, tmp_path):
    y, sr = load_audio(violin)
    stereo = resample(np.stack([y, 0.5 * y]), orig_sr=sr, target_sr=44100)
    src = tmp_path / "stereo.wav"
    save_audio(src, stereo, 44100)
    out, mid = tmp_path / "gan.wav", tmp_path / "stereo.mid"
    result = run("transfer", src, "-o", out, "--method", "resynth", "--midi", mid)
    assert result.exit_code == 0, result.output
    info = audio_info(out)
    assert info.channels == 1 and info.samplerate == 16000
    assert abs(info.frames - stereo.shape[-1] * 16000 / 44100) <= 1
    assert [n.pitch for n in midi_notes(mid)] == MELODY


def test_cli_silence_gives_silence(tmp_path, caplog):
    src, out = tmp_path / "quiet.wav", tmp_path / "out.wav"
    save_audio(src, np.zeros(22050, np.float32), 22050)
    with caplog.at_level(logging.WARNING, logger="ganaudio.transfer.resynth"):
        result = run("transfer", src, "-o", out, "--midi", tmp_path / "quiet.mid")
    assert result.exit_code == 0, result.output
    assert "wrote silence" in result.output
    assert any("silent" in r.getMessage() for r in caplog.records)
    y, sr = load_audio(out)
    assert sr == 16000 and len(y) == 16000 and not np.any(y)
    assert midi_notes(tmp_path / "quiet.mid") == []


@pytest.mark.parametrize("extra, message", [
    ([], "no such audio file"),
    (["--model", "nowhere", "--timbre", "3"], "belong to --method resynth"),
    (["--method", "cyclegan"], "needs --model"),
    (["--direction", "b2a"], "belong to --method cyclegan"),
])
def test_cli_bad_input_is_one_line(tmp_path, extra, message):
    result = run("transfer", tmp_path / "missing.wav", "-o", tmp_path / "out.wav", *extra)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and message in lines[0], result.output
    assert not (tmp_path / "out.wav").exists()


def test_cli_bad_timbre_and_output(violin, tmp_path):
    for extra, message in [(["--timbre", "bright"], "neither a seed"),
                           (["--midi", tmp_path / "notes.txt"], "--midi")]:
        result = run("transfer", violin, "-o", tmp_path / "out.wav", *extra)
        assert result.exit_code == 2 and message in result.output, result.output
    result = run("transfer", violin, "-o", tmp_path / "out.mp4")
    assert result.exit_code == 2 and "must end in" in result.output


@pytest.fixture(scope="module")
def cyclegan_run(tmp_path_factory) -> Path:
    """A CycleGAN trained for 2 steps (sine tones <-> square waves) through its training API."""
    pytest.importorskip("ganaudio.transfer.cyclegan")
    from ganaudio.presets import load_preset
    from ganaudio.train.run import run_training
    from tests.test_cyclegan import TINY, _tone

    root = tmp_path_factory.mktemp("cyclegan")
    for kind in ("sine", "square"):
        for i, freq in enumerate((220.0, 330.0)):
            save_audio(root / kind / f"{i}.wav", _tone(kind, freq, 16000), 16000)
    run_training(load_preset("tiny", family="cyclegan", overrides=TINY), (root / "sine", root / "square"), root / "run",
                   steps=2, progress=False, tensorboard=False)
    return root / "run"


def test_cli_cyclegan(cyclegan_run, tmp_path):
    from ganaudio.transfer.cyclegan import load_cyclegan

    model = load_cyclegan(cyclegan_run)
    y = np.sin(2 * np.pi * 440 * np.arange(44100) / 44100).astype(np.float32) * 0.3
    src, out = tmp_path / "tone.wav", tmp_path / "out.wav"
    save_audio(src, np.stack([y, y]), 44100)  # stereo 44.1 kHz
    result = run("transfer", src, "-o", out, "--model", cyclegan_run, "--direction", model.domains[1],
                 "--vocoder", "griffinlim")
    assert result.exit_code == 0, result.output
    assert f"{model.domains[0]} -> {model.domains[1]}" in result.output
    info = audio_info(out)
    assert info.samplerate == model.sample_rate and abs(info.frames - model.sample_rate) <= 1
    quiet = tmp_path / "quiet.wav"
    save_audio(quiet, np.zeros(8000, np.float32), 8000)
    result = run("transfer", quiet, "-o", out, "--model", cyclegan_run)
    assert result.exit_code == 0 and "silent" in result.output, result.output
    assert not np.any(load_audio(out)[0])
    for extra, message in [(["--direction", "cello"], "direction"),
                           (["--model", model_path("gansynth_tiny")], "")]:
        args = ["--model", cyclegan_run, *extra] if extra[0] == "--direction" else extra
        result = run("transfer", src, "-o", tmp_path / "x.wav", *args)
        assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
        assert message in result.output and result.output.startswith("Error:")

"""A tiny SATB phrase folder (real MIDI written with pretty_midi, cut by prepare_midi) and a 2-step MuseGAN model."""

from __future__ import annotations

from pathlib import Path

import pretty_midi
import pytest

SATB = ("Soprano", "Alto", "Tenor", "Bass")
# C major cadence voicings (S, A, T, B), one chord per beat: I IV V I, then vi ii V I
CHORDS = [(72, 67, 64, 48), (72, 69, 65, 53), (71, 67, 62, 55), (72, 67, 64, 48),
          (72, 69, 64, 57), (74, 69, 65, 50), (74, 67, 62, 55), (72, 67, 64, 48)]
TINY = {"shared_dim": 4, "temporal_dim": 4, "track_dim": 4, "track_temporal_dim": 4, "temporal_hidden": 8,
        "g_channels": [8, 4], "d_channels": [4, 8], "feature_dim": 8, "batch_size": 4, "log_every": 1,
        "sample_every": 2, "checkpoint_every": 1, "split": None}


def write_chorales(folder: Path, n: int = 3) -> Path:
    """``n`` four-bar SATB pieces (named instruments, 4/4, 120 qpm), each transposed by ``k`` semitones."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        pm = pretty_midi.PrettyMIDI(initial_tempo=120)
        for v, name in enumerate(SATB):
            inst = pretty_midi.Instrument(program=52, name=name)
            for beat in range(16):
                pitch = CHORDS[(beat + k) % len(CHORDS)][v] + k
                length = 0.5 if v or beat % 4 else 0.25  # the soprano plays an eighth on each downbeat
                inst.notes.append(pretty_midi.Note(velocity=80, pitch=pitch, start=beat * 0.5,
                                                   end=beat * 0.5 + length))
            pm.instruments.append(inst)
        pm.write(str(folder / f"chorale_{k}.mid"))
    return folder


def prepare_tiny(tmp: Path) -> Path:
    """Phrases of 2 bars, 4 steps per beat, MIDI 44-80 (36 pitches): ``(4, 32, 36)``."""
    from ganaudio.data.midi import prepare_midi

    midi = write_chorales(tmp / "midi")
    prepare_midi(midi, tmp / "phrases", resolution=4, bars_per_phrase=2, pitch_range=(44, 80), tracks=list(SATB),
                 progress=False)
    return tmp / "phrases"


@pytest.fixture(scope="session")
def phrase_folder(tmp_path_factory) -> Path:
    return prepare_tiny(tmp_path_factory.mktemp("musegan_data"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, phrase_folder) -> Path:
    """A model folder exported from a 2-step run on :func:`phrase_folder`."""
    from ganaudio.presets import load_preset
    from ganaudio.train.checkpoint import latest_checkpoint
    from ganaudio.train.musegan import export_musegan
    from ganaudio.train.run import run_training

    run = tmp_path_factory.mktemp("musegan_run")
    run_training(load_preset("tiny", family="musegan", overrides=TINY), phrase_folder, run, steps=2, progress=False,
                  tensorboard=False)
    return export_musegan(latest_checkpoint(run / "checkpoints"), run / "model")

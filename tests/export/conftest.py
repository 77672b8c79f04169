"""Note models for the export tests: a tiny random harmonic-plus-noise synth, the committed young 44.1 kHz
checkpoint, the bundled GANSynth, and a melody to play through the exported instruments."""

from __future__ import annotations

from pathlib import Path

import pretty_midi
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
CONTINUE = ROOT / "recipes" / "ddspgan_44k" / "continue"
SMALL = dict(decoder=dict(hidden=24, z_dim=6, n_harmonics=96, n_envelope=12, n_detail=4, n_noise_bands=9,
                          table_size=512),
             encoder=dict(channels=8, n_mels=24))
#: A legato melody (each note ends where the next begins) over an octave and a half, MIDI 48-72.
MELODY = [60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 55, 48]


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory) -> Path:
    from ganaudio.loading import write_model_folder
    from ganaudio.models.ddspgan import HarmonicInstrument

    torch.manual_seed(0)
    instrument = HarmonicInstrument(**SMALL)
    tensors = {f"generator.{k}": v for k, v in instrument.state_dict().items()}
    return write_model_folder(tmp_path_factory.mktemp("ddsp") / "tiny_ddsp", tensors=tensors,
                              config={"format": 1, "family": "ddspgan", "generator": instrument.config(), "step": 0})


@pytest.fixture(scope="session")
def tiny_harmonic(tiny_folder):
    from ganaudio.synth.harmonic import load_ddspgan

    return load_ddspgan(tiny_folder)


@pytest.fixture(scope="session")
def young_harmonic():
    """The committed continue point of the 44.1 kHz family (recipes/ddspgan_44k/continue): real, if young, sound."""
    from ganaudio.synth.harmonic import load_ddspgan

    return load_ddspgan(CONTINUE)


@pytest.fixture(scope="session")
def gansynth():
    import ganaudio.api

    return ganaudio.api.load()


@pytest.fixture(scope="session")
def melody(tmp_path_factory) -> Path:
    midi = pretty_midi.PrettyMIDI()
    part = pretty_midi.Instrument(0)
    for k, pitch in enumerate(MELODY):
        part.notes.append(pretty_midi.Note(velocity=100, pitch=pitch, start=0.2 + 0.5 * k, end=0.7 + 0.5 * k))
    midi.instruments.append(part)
    path = tmp_path_factory.mktemp("melody") / "melody.mid"
    midi.write(str(path))
    return path

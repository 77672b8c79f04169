"""ganaudio: make music with generative adversarial networks.

Front ends turn audio into spectrograms and MIDI into piano-roll tensors, each
with an exact inverse; GANs train on those tensors; vocoders turn outputs back
into sound.

Examples
--------
>>> import ganaudio
>>> y, sr = ganaudio.load_audio("samples/trumpet_c4.wav", sample_rate=16000)
>>> rep = ganaudio.IFMel(sample_rate=sr, n_fft=1024, hop_length=256, n_mels=256)
>>> spec = rep.encode(torch.from_numpy(y))      # (2, 256, frames)
>>> y_hat = rep.decode(spec, length=len(y))      # (time,)
"""

import importlib

from ganaudio._version import __version__
from ganaudio.errors import (
    AudioFileError,
    CheckpointError,
    DataError,
    GanAudioError,
    MidiFileError,
    OutputError,
    ParameterError,
    TrainingError,
)
from ganaudio.functional.pianoroll import midi_to_roll, roll_to_midi
from ganaudio.io import load_audio, peak_normalize, resample, save_audio
from ganaudio.representations import CQT, IF, STFT, IFMel, Mel, Normalizer, PianoRoll
from ganaudio.vocoders import make_vocoder

# Models, training and evaluation load on first use, so `import ganaudio` stays light.
_LAZY = {
    "load": "ganaudio.api", "Synth": "ganaudio.api", "bundled_models": "ganaudio.api",
    "Timbre": "ganaudio.synth", "Constant": "ganaudio.synth", "Drift": "ganaudio.synth",
    "PerProgram": "ganaudio.synth",
    "load_composer": "ganaudio.compose", "Composer": "ganaudio.compose",
    "load_evaluator": "ganaudio.eval", "notes_report": "ganaudio.eval", "frechet_distance": "ganaudio.eval",
    "inception_score": "ganaudio.eval",
    "load_model": "ganaudio.loading",
    "GANTrainer": "ganaudio.train", "train_gansynth": "ganaudio.train", "load_gansynth": "ganaudio.synth.generator",
    "generate_notes": "ganaudio.synth.generator", "run_training": "ganaudio.train",
    "load_preset": "ganaudio.presets", "GANSynthPreset": "ganaudio.presets",
    "GANVocoder": "ganaudio.vocoders", "load_vocoder": "ganaudio.vocoders", "bundled_vocoders": "ganaudio.vocoders",
    "train_vocoder": "ganaudio.train", "load_vocoder_preset": "ganaudio.presets",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ganaudio' has no attribute {name!r}")


__all__ = [
    "__version__",
    "GanAudioError",
    "ParameterError",
    "AudioFileError",
    "MidiFileError",
    "CheckpointError",
    "OutputError",
    "DataError",
    "TrainingError",
    "load_audio",
    "save_audio",
    "resample",
    "peak_normalize",
    "midi_to_roll",
    "roll_to_midi",
    "STFT",
    "Mel",
    "IF",
    "IFMel",
    "CQT",
    "Normalizer",
    "PianoRoll",
    "make_vocoder",
    *_LAZY,
]

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

__version__ = "0.1.0"  # first, so submodules may import it

from ganaudio.errors import (
    AudioFileError,
    CheckpointError,
    DataError,
    GanAudioError,
    MidiFileError,
    ParameterError,
)
from ganaudio.functional.pianoroll import midi_to_roll, roll_to_midi
from ganaudio.io import load_audio, peak_normalize, resample, save_audio
from ganaudio.representations import CQT, IF, STFT, IFMel, Mel, Normalizer, PianoRoll
from ganaudio.vocoders import make_vocoder

__all__ = [
    "__version__",
    "GanAudioError",
    "ParameterError",
    "AudioFileError",
    "MidiFileError",
    "CheckpointError",
    "DataError",
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
]

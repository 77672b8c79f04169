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

from ganaudio.errors import (
    AudioFileError,
    CheckpointError,
    DataError,
    GanAudioError,
    MidiFileError,
    ParameterError,
)
from ganaudio.io import load_audio, peak_normalize, resample, save_audio

__version__ = "0.1.0"

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
]

"""Tiny vocoder settings and model folders shared by the vocoder tests."""

from __future__ import annotations

import torch

from ganaudio.presets import load_vocoder_preset

# 16 kHz, 40 mel bands, hop 128: a Vocos generator of a few thousand weights, 2 x 2048-sample examples.
TINY = {"n_fft": 512, "hop_length": 128, "n_mels": 40, "dim": 16, "intermediate_dim": 32, "n_layers": 1,
        "mpd_periods": [2, 3], "mpd_channels": [4, 8], "mrd_resolutions": [[256, 64]], "mrd_channels": 4,
        "segment_length": 2048, "batch_size": 2, "disc_start": 1, "log_every": 1, "sample_every": 2,
        "checkpoint_every": 2, "keep_checkpoints": 3}


def tiny_preset(**overrides):
    return load_vocoder_preset("vocos", overrides={**TINY, **overrides})


def write_tiny_vocoder(folder, *, seed: int = 0, **overrides):
    """An untrained tiny vocoder model folder (model.safetensors + config.json); returns its path."""
    from ganaudio.models.hifigan import VocoderDiscriminator
    from ganaudio.train.checkpoint import save_checkpoint

    preset = tiny_preset(**overrides)
    torch.manual_seed(seed)
    generator = preset.build_generator()
    config = {"family": "vocoder", "generator_type": preset.generator, "generator": generator.config(),
              "discriminator": VocoderDiscriminator(**preset.discriminator_kwargs()).config(),
              "representation": preset.representation().config()}
    return save_checkpoint(folder, step=0, modules={"generator": generator}, config=config)

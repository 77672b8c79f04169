"""Tiny GANSynth settings and trainer builders shared by the training tests."""

from __future__ import annotations

from ganaudio.presets import load_preset

TINY_TEST = dict(
    n_fft=256, hop_length=64, n_mels=32, n_frames=16, pitch_min=48, pitch_max=72, sample_pitches=[60],
    latent_dim=8, g_channels=[16, 8, 4], d_channels=[16, 8, 4], batch_size=4, log_every=1, sample_every=2,
    checkpoint_every=2, keep_checkpoints=2, griffinlim_iters=2,
    # the tiny preset's low-note options are off here: tests that need them turn them on
    harmonic_input=False, freq_branch=0, low_pitch_below=0, low_pitch_repeats=1,
    periodicity_weight=0.0,   # 32 bands cannot resolve these pitches' harmonics (see test_periodicity)
)


def tiny_preset(**overrides):
    return load_preset("tiny", overrides={**TINY_TEST, **overrides})


def trainer(note_folder, out, cache_dir, *, seed=0, dist=None, **overrides):
    from ganaudio.train.gansynth import build_gansynth_trainer

    return build_gansynth_trainer(note_folder, out, tiny_preset(**overrides), seed=seed, cache_dir=cache_dir,
                                  progress=False, tensorboard=False, dist=dist)

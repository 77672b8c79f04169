"""Training: the GAN engine, checkpoints, data-parallel helpers, each family's trainer builder and ``run_training``."""

from ganaudio.train.checkpoint import (
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    load_train_state,
    save_checkpoint,
)
from ganaudio.train.distributed import DistInfo, init_distributed
from ganaudio.train.engine import GANObjective, GANTrainer, Step
from ganaudio.train.gansynth import build_gansynth_trainer
from ganaudio.train.run import run_training, train_gansynth, train_vocoder
from ganaudio.train.vocoder import build_vocoder_trainer

__all__ = [
    "DistInfo",
    "GANObjective",
    "GANTrainer",
    "Step",
    "build_gansynth_trainer",
    "build_vocoder_trainer",
    "init_distributed",
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "load_train_state",
    "run_training",
    "save_checkpoint",
    "train_gansynth",
    "train_vocoder",
]

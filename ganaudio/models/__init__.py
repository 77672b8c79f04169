"""Model families, one per file, generator and discriminator side by side."""

from ganaudio.models.gansynth import Discriminator, Generator

__all__ = ["Generator", "Discriminator"]

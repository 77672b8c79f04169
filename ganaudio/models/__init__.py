"""Model families, one per file, generator and discriminator side by side.

Import a family's module (``from ganaudio.models.gansynth import Generator``);
names are not re-exported here because every family has a Generator.
"""

"""Building blocks of :mod:`ganaudio.api`: timbres, schedules, note shaping and MIDI rendering."""

from ganaudio.synth.schedule import Constant, Drift, PerProgram
from ganaudio.synth.timbre import Timbre

__all__ = ["Constant", "Drift", "PerProgram", "Timbre"]

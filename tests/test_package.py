"""The package's public names: every one in __all__ resolves, heavy ones only on first use."""

import subprocess
import sys

import pytest

import ganaudio


@pytest.mark.parametrize("name", ganaudio.__all__)
def test_public_name_resolves(name):
    assert getattr(ganaudio, name) is not None


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ganaudio.nope  # noqa: B018


def test_import_does_not_load_models_or_training():
    code = "import sys, ganaudio; print(any(m in sys.modules for m in ('ganaudio.api', 'ganaudio.train')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # last line: pyfluidsynth (imported by pretty_midi) may print where it found its library
    assert out.strip().splitlines()[-1] == "False"

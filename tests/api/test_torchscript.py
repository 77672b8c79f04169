"""TorchScript export: the file loads without ganaudio and plays what the Python model plays, call after call."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from ganaudio.cli import main
from ganaudio.errors import ParameterError
from ganaudio.loading import write_model_folder
from ganaudio.models.ddspgan import HarmonicInstrument
from ganaudio.synth.harmonic import load_ddspgan
from ganaudio.synth.torchscript import export_torchscript

SMALL = dict(decoder=dict(hidden=24, z_dim=6, n_harmonics=96, n_envelope=12, n_detail=4, n_noise_bands=9,
                          table_size=512), encoder=dict(channels=8, n_mels=24))
# (frames, pitch, velocity, gate) of consecutive calls; a reset starts a second note
CALLS = [(5, 60.0, 0.8, 1.0), (3, 60.7, 0.8, 1.0), (1, 61.0, 0.5, 1.0), (6, 61.0, 0.5, 0.0), "reset",
         (4, 48.0, 1.0, 1.0)]

LOADER = textwrap.dedent("""
    import json, sys
    import torch
    m = torch.jit.load(sys.argv[1])
    outputs = []
    for call in json.loads(sys.argv[2]):
        if call == "reset":
            m.reset()
            continue
        frames, pitch, velocity, gate = call
        outputs.append(m(torch.full((frames,), pitch), torch.full((frames,), velocity), torch.full((frames,), gate)))
    torch.save({"audio": outputs, "rate": m.sample_rate, "hop": m.hop}, sys.argv[3])
    assert not any(name.startswith("ganaudio") for name in sys.modules), "ganaudio was imported"
""")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    torch.manual_seed(0)
    instrument = HarmonicInstrument(**SMALL)
    tensors = {f"generator.{k}": v for k, v in instrument.state_dict().items()}
    return write_model_folder(tmp_path_factory.mktemp("ts") / "tiny_ddsp", tensors=tensors,
                              config={"format": 1, "family": "ddspgan", "generator": instrument.config(), "step": 0})


def python_model(synth, timbre) -> list[np.ndarray]:
    G, z, state, out = synth.instrument.decoder, torch.from_numpy(timbre.latent.copy())[None], None, []
    for call in CALLS:
        if call == "reset":
            state = None
            continue
        frames, pitch, velocity, gate = call
        with torch.no_grad():
            audio, state = G(z, torch.full((1, frames), pitch), torch.full((1, frames), velocity),
                             torch.full((1, frames), gate), state)
        out.append(audio[0].numpy())
    return out


def test_exported_file_plays_like_the_model_in_a_fresh_process(folder, tmp_path):
    out = tmp_path / "synth.ts"
    result = CliRunner().invoke(main, ["export", "torchscript", "--model", str(folder), "--timbre", "5", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "forward(pitch, velocity, gate)" in result.output
    loaded = tmp_path / "loaded.pt"
    subprocess.run([sys.executable, "-c", LOADER, str(out), json.dumps(CALLS), str(loaded)], check=True,
                   env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    got = torch.load(loaded, weights_only=True)
    assert got["rate"] == 44100 and got["hop"] == 256
    synth = load_ddspgan(folder)
    expected = python_model(synth, synth.random_timbre(5))
    assert [len(a) for a in got["audio"]] == [len(e) for e in expected] == [f * 256 for f, *_ in
                                                                            [c for c in CALLS if c != "reset"]]
    for a, e in zip(got["audio"], expected):
        np.testing.assert_allclose(a.numpy(), e, atol=1e-5)
    assert max(np.abs(e).max() for e in expected) > 1e-3  # the comparison is not of silence


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_metadata_names_the_model_and_the_signature(folder, tmp_path):
    synth = load_ddspgan(folder)
    path = export_torchscript(synth, synth.random_timbre(2), tmp_path / "a.pt")
    extra = {"ganaudio.json": ""}
    torch.jit.load(str(path), _extra_files=extra)
    info = json.loads(extra["ganaudio.json"])
    assert info["model_id"] == synth.model_id and info["timbre"]["seed"] == 2 and "reset()" in info["signature"]


def test_only_streaming_models_export_and_bad_outputs_leave_nothing(folder, tmp_path):
    import ganaudio.api

    with pytest.raises(ParameterError, match="cannot stream"):
        export_torchscript(ganaudio.api.load(), None, tmp_path / "x.ts")
    result = CliRunner().invoke(main, ["export", "torchscript", "--model", "gansynth_tiny", "-o",
                                       str(tmp_path / "x.ts")])
    assert result.exit_code == 2 and "cannot stream" in result.output
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(main, ["export", "torchscript", "--model", str(folder), "-o",
                                       str(blocker / "synth.ts")])
    assert result.exit_code == 2 and result.output.startswith("Error:")
    result = CliRunner().invoke(main, ["export", "torchscript", "--model", str(folder), "-o",
                                       str(tmp_path / "synth.onnx")])
    assert result.exit_code == 2 and ".ts" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]

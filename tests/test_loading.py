"""ganaudio.loading: bundled models, name-or-path resolution, the family registry (load_model) and its errors."""

from __future__ import annotations

import json
import shutil

import pytest

import ganaudio
from ganaudio.errors import CheckpointError
from ganaudio.loading import (
    ASSETS,
    FAMILY_LOADERS,
    bundled_models,
    load_model,
    open_model,
    read_model_folder,
    resolve_model_folder,
)

BUNDLED = {"gansynth_tiny": "gansynth", "musegan_chorales": "musegan", "vocoder_16k": "vocoder",
           "cyclegan_piano_violin": "cyclegan", "evaluator": "evaluator"}


def test_every_bundled_model_has_a_family_with_a_loader():
    assert set(bundled_models()) == set(BUNDLED)
    for name, family in BUNDLED.items():
        assert bundled_models(family) == [name]
        config, _ = read_model_folder(ASSETS / name)
        assert config["family"] == family and family in FAMILY_LOADERS


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_load_model_returns_the_family_object(name):
    from ganaudio.api import Synth
    from ganaudio.compose import Composer
    from ganaudio.eval.evaluator import Evaluator
    from ganaudio.transfer.cyclegan import CycleGANTransfer
    from ganaudio.vocoders.gan import GANVocoder

    kinds = {"gansynth": Synth, "musegan": Composer, "vocoder": GANVocoder, "cyclegan": CycleGANTransfer,
             "evaluator": Evaluator}
    family = BUNDLED[name]
    model = load_model(name)
    assert isinstance(model, kinds[family])
    assert isinstance(load_model(name, family=family), kinds[family])
    assert isinstance(ganaudio.load_model(ASSETS / name), kinds[family])  # a path as well as a name


def test_the_default_synth_is_what_load_gives():
    assert load_model("gansynth_tiny").model_id == ganaudio.load().model_id


def test_wrong_or_unknown_family_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="holds a 'vocoder' model, not gansynth"):
        load_model("vocoder_16k", family="gansynth")
    with pytest.raises(CheckpointError, match="unknown model family 'hnn'; families: cyclegan, ddspgan, evaluator"):
        load_model("vocoder_16k", family="hnn")
    folder = tmp_path / "odd"
    shutil.copytree(ASSETS / "vocoder_16k", folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "family": "theremin"}))
    with pytest.raises(CheckpointError, match="family 'theremin', which no loader knows"):
        load_model(folder)


def test_resolution_of_names_folders_and_runs(tmp_path):
    assert resolve_model_folder("vocoder_16k") == ASSETS / "vocoder_16k"
    assert resolve_model_folder(None, default="evaluator") == ASSETS / "evaluator"
    run = tmp_path / "run" / "checkpoints"
    for step in (2, 10):
        shutil.copytree(ASSETS / "vocoder_16k", run / f"step_{step:08d}")
    (run / "step_00000020").mkdir()  # incomplete: no weights, never picked
    assert resolve_model_folder(tmp_path / "run") == run / "step_00000010"
    assert open_model(tmp_path / "run", family="vocoder").path == run / "step_00000010"
    with pytest.raises(CheckpointError, match="model 'nope': no vocoder of that name: no such model folder, and neither a bundled"):
        resolve_model_folder("nope", what="vocoder", family="vocoder")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="no config.json"):
        resolve_model_folder(tmp_path / "empty")


def test_weights_that_do_not_fit_name_the_folder(tmp_path):
    folder = tmp_path / "voc"
    shutil.copytree(ASSETS / "vocoder_16k", folder)
    config = json.loads((folder / "config.json").read_text())
    config["generator"]["dim"] = config["generator"]["dim"] * 2
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="generator weights do not fit its config"):
        load_model(folder)
    del config["representation"]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="lacks or garbles 'representation'"):
        load_model(folder, family="vocoder")

"""MuseGAN training: 2-step smoke run through the CLI, exact resume, export, quality table, bad data."""

import json

import pytest
import torch
from click.testing import CliRunner

from ganaudio.errors import CheckpointError, DataError, ParameterError
from ganaudio.presets import MUSEGAN_PRESETS, apply_overrides, load_preset
from ganaudio.train.checkpoint import latest_checkpoint, load_checkpoint
from ganaudio.train.musegan import (
    build_musegan_trainer,
    export_musegan,
    monophonic_tracks,
    phrase_layout,
    quality_table,
)
from tests.musegan_fixtures import TINY, phrase_folder, tiny_model  # noqa: F401  (fixtures)


def _preset(**extra):
    return load_preset("tiny", family="musegan", overrides=TINY | extra)


def test_cli_two_step_smoke(phrase_folder, tmp_path):  # noqa: F811
    from ganaudio.cli import main

    out = tmp_path / "run"
    args = ["train", "musegan", "--data", str(phrase_folder), "--out", str(out), "--steps", "2", "--quiet"]
    for key, value in TINY.items():
        args += ["--set", f"{key}={json.dumps(value)}"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    ckpt = latest_checkpoint(out / "checkpoints")
    assert ckpt.name == "step_00000002"
    config, states = load_checkpoint(ckpt)
    assert config["family"] == "musegan" and config["layout"]["names"] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert config["layout"]["monophonic"] == [True] * 4  # the fixture's voices sing one note at a time
    assert config["generator"]["n_pitches"] == 36 and config["generator"]["steps_per_bar"] == 16
    assert {"generator", "generator_ema", "discriminator"} <= set(states)
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [1, 2] and "gp" in lines[0] and "aux_acc_real" not in lines[0]
    samples = sorted((out / "samples" / "step_00000002").glob("*.mid"))
    assert len(samples) == 4


def test_resume_repeats_the_uninterrupted_run(phrase_folder, tmp_path):  # noqa: F811
    straight = build_musegan_trainer(phrase_folder, tmp_path / "a", _preset(), progress=False, tensorboard=False)
    straight.fit(3)
    first = build_musegan_trainer(phrase_folder, tmp_path / "b", _preset(), progress=False, tensorboard=False)
    first.fit(2)
    second = build_musegan_trainer(phrase_folder, tmp_path / "b", _preset(), progress=False, tensorboard=False)
    second.fit(3, resume=True)
    for key, value in straight.G.state_dict().items():
        assert torch.equal(value, second.G.state_dict()[key]), key
    with pytest.raises(CheckpointError, match="already holds checkpoints"):
        build_musegan_trainer(phrase_folder, tmp_path / "b", _preset(), progress=False, tensorboard=False).fit(4)
    other = build_musegan_trainer(phrase_folder, tmp_path / "b", _preset(g_channels=[8, 8]), progress=False,
                                  tensorboard=False)
    with pytest.raises(CheckpointError, match="generator"):
        other.fit(4, resume=True)


def test_export_and_quality_table(tiny_model, phrase_folder, tmp_path):  # noqa: F811
    config = json.loads((tiny_model / "config.json").read_text())
    assert "discriminator" not in config and "root" not in config["data"]
    _, states = load_checkpoint(tiny_model)
    assert set(states) == {"generator_ema"}
    assert monophonic_tracks(phrase_folder) == [True] * 4
    plain = export_musegan(tiny_model, tmp_path / "plain", monophonic=[False] * 4)
    assert json.loads((plain / "config.json").read_text())["layout"]["monophonic"] == [False] * 4
    assert "table_threshold" not in quality_table(plain, phrase_folder, n_phrases=2)
    with pytest.raises(ParameterError, match="one flag per track"):
        export_musegan(tiny_model, tmp_path / "bad", monophonic=[True])
    result = quality_table(tiny_model, phrase_folder, n_phrases=5, batch_size=2)
    assert result["fake"]["metrics"]["polyphony_rate"]["Soprano"] in (0.0, None)  # voices decoded one pitch a step
    assert "table_threshold" in result and result["settings"]["monophonic"] == [True] * 4
    assert result["settings"]["generated_phrases"] == 5 and result["settings"]["qn_min_steps"] == 2
    assert result["real"]["phrases"] == 6 and result["fake"]["phrases"] == 5
    assert result["real"]["metrics"]["empty_bar_rate"]["Soprano"] == 0.0
    # the fixture's soprano plays an eighth (2 steps) on each downbeat: all notes qualify at 2 steps
    assert result["real"]["metrics"]["qualified_note_rate"]["Soprano"] == 1.0
    assert "| EB (empty bars) | Soprano | 0.000 |" in result["table"]
    with pytest.raises(ParameterError, match="n_phrases"):
        quality_table(tiny_model, phrase_folder, n_phrases=0)


def test_layout_and_bad_data(tmp_path, phrase_folder):  # noqa: F811
    layout = phrase_layout(phrase_folder)
    assert layout == {"names": ["Soprano", "Alto", "Tenor", "Bass"], "programs": [52] * 4, "is_drum": [False] * 4,
                      "n_bars": 2, "steps_per_bar": 16, "steps_per_beat": 4, "n_pitches": 36, "pitch_offset": 44}
    with pytest.raises(DataError, match="prepare midi"):
        build_musegan_trainer(tmp_path / "nothing", tmp_path / "run", _preset(), progress=False)
    with pytest.raises(CheckpointError, match="no such model folder"):
        export_musegan(tmp_path / "missing", tmp_path / "out")


def test_preset_overrides():
    assert apply_overrides(MUSEGAN_PRESETS["full"], {"binarize": "ste"}).binarize == "ste"
    with pytest.raises(ParameterError, match="did you mean g_lr"):
        apply_overrides(MUSEGAN_PRESETS["tiny"], {"g_lrr": 1e-3})
    with pytest.raises(ParameterError, match="binarize"):
        apply_overrides(MUSEGAN_PRESETS["tiny"], {"binarize": "round"})
    with pytest.raises(ParameterError, match="whole number"):
        apply_overrides(MUSEGAN_PRESETS["tiny"], {"batch_size": 2.5})
    with pytest.raises(ParameterError, match="unknown MuseGAN preset"):
        load_preset("huge", family="musegan")

"""Presets, config files and command-line overrides."""

import json

import pytest

from ganaudio.errors import ParameterError
from ganaudio.presets import apply_overrides, load_preset, parse_assignments


def test_paper_matches_gansynth():
    p = load_preset("paper")
    assert (p.sample_rate, p.n_frames, p.n_mels, p.latent_dim, p.pitch_min, p.pitch_max) == (16000, 128, 1024, 256, 24, 84)
    assert (p.batch_size, p.g_lr, p.d_lr, p.loss, p.gp_weight, p.aux_weight) == (8, 8e-4, 8e-4, "wgan", 10.0, 10.0)
    assert p.representation().samples_for(p.n_frames) == 65024  # ~4 s at 16 kHz


def test_files_and_overrides(tmp_path):
    (tmp_path / "a.yaml").write_text("preset: paper\nbatch_size: 4\ng_channels: [8, 4]\n")
    (tmp_path / "b.json").write_text(json.dumps({"steps": 7, "sources": None}))
    p = load_preset("tiny", config_file=tmp_path / "a.yaml", overrides=parse_assignments(["batch_size=2"]))
    assert p.n_mels == 1024 and p.batch_size == 2 and p.g_channels == (8, 4)
    q = load_preset("tiny", config_file=tmp_path / "b.json")
    assert q.steps == 7 and q.sources is None and q.n_mels == 512


@pytest.mark.parametrize("bad", [{"batchsize": 3}, {"batch_size": "many"}, {"batch_size": 2.5},
                                 {"coord": "yes"}, {"pitch_min": 90}, {"sample_pitches": [10]}])
def test_bad_overrides(bad):
    with pytest.raises(ParameterError):
        apply_overrides(load_preset("tiny"), bad)


def test_bad_files(tmp_path):
    (tmp_path / "x.yaml").write_text("- a\n- b\n")
    with pytest.raises(ParameterError, match="mapping"):
        load_preset(config_file=tmp_path / "x.yaml")
    with pytest.raises(ParameterError, match="cannot read"):
        load_preset(config_file=tmp_path / "missing.yaml")
    with pytest.raises(ParameterError, match="KEY=VALUE"):
        parse_assignments(["oops"])
    with pytest.raises(ParameterError, match="unknown GANSynth preset"):
        load_preset("huge")

"""ganaudio.limits (seeds, counts, seconds) and ganaudio.loading.validate_model_config (model-folder sizes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ganaudio.errors import CheckpointError, ParameterError
from ganaudio.limits import MAX_MODEL_WIDTH, check_count, check_seconds, reduce_seed
from ganaudio.loading import size_range, validate_model_config

ASSETS = Path(__file__).resolve().parent.parent / "ganaudio" / "assets"


def test_reduce_seed_keeps_ordinary_seeds_and_hashes_the_rest():
    assert [reduce_seed(s) for s in (0, 7, 2**63 - 1)] == [0, 7, 2**63 - 1]
    big = [reduce_seed(s) for s in (2**63, 10**23, -1, -(10**40))]
    assert all(0 <= s < 2**63 for s in big) and len(set(big)) == 4
    assert reduce_seed(10**23) == reduce_seed(10**23)
    with pytest.raises(ParameterError):
        reduce_seed("seven")


def test_check_count_and_seconds():
    assert check_count(5, name="--bars", limit=10) == 5
    with pytest.raises(ParameterError, match="--bars 11 is over the limit of 10; split it"):
        check_count(11, name="--bars", limit=10, way_past="split it")
    with pytest.raises(ParameterError, match=">= 2"):
        check_count(1, name="--steps", limit=10, low=2)
    for bad in (float("nan"), float("inf"), 0.0, -1.0):
        with pytest.raises(ParameterError):
            check_seconds(bad, name="--duration", limit=10.0)


@pytest.mark.parametrize("name", sorted(p.name for p in ASSETS.iterdir() if (p / "config.json").is_file()))
def test_bundled_configs_pass(name):
    config = json.loads((ASSETS / name / "config.json").read_text())
    assert validate_model_config(config) is config


def test_size_ranges():
    assert size_range("latent_dim") == (1, MAX_MODEL_WIDTH)
    assert size_range("upsample_initial_channel") == (0, MAX_MODEL_WIDTH)
    assert size_range("n_fft")[1] == 2**16
    assert size_range("eps") is None and size_range("harmonic_rows") is None


@pytest.mark.parametrize("section,value,needle", [
    ({"latent_dim": 10**9}, None, "generator.latent_dim is 1000000000; allowed 1 to 4096"),
    ({"channels": [8, -1]}, None, r"generator.channels\[1\] is -1"),
    ({"channels": True}, None, "generator.channels is True; expected a whole number"),
    ({"resblock_dilation_sizes": [[1, 3], [1, 10**6]]}, None, r"resblock_dilation_sizes\[1\]\[1\]"),
    ({"fmin": float("nan")}, None, "generator.fmin is nan; expected a finite number"),
])
def test_validate_refuses(section, value, needle):
    with pytest.raises(CheckpointError, match=needle):
        validate_model_config({"family": "x", "generator": section}, source="m/config.json")


def test_validate_family_and_type():
    with pytest.raises(CheckpointError, match="holds a 'musegan' model, not gansynth"):
        validate_model_config({"family": "musegan"}, family="gansynth")
    with pytest.raises(CheckpointError, match="expected a JSON object"):
        validate_model_config([1, 2])


def test_load_checkpoint_validates_before_reading_weights(tmp_path):
    from ganaudio.train.checkpoint import load_checkpoint

    config = json.loads((ASSETS / "vocoder_16k" / "config.json").read_text())
    config["representation"]["n_fft"] = 2**40
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "model.safetensors").write_bytes(b"not even read")
    with pytest.raises(CheckpointError, match="representation.n_fft is 1099511627776; allowed 2 to 65536"):
        load_checkpoint(tmp_path)

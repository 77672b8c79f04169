"""Checkpoints under kill -9: a save killed midway is never the latest, is cleaned up, and resume is bit-exact.

Also: the resume-mismatch message names only the fields that differ.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ganaudio.errors import CheckpointError
from ganaudio.train.checkpoint import PAUSE_ENV, config_differences, latest_checkpoint, remove_stale
from tests.gan_fixtures import note_folder  # noqa: F401  (fixture)
from tests.train.helpers import TINY_TEST, trainer

REPO = Path(__file__).resolve().parents[2]


def _fake_checkpoint(folder: Path, step: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"x" * 16)
    (folder / "config.json").write_text(json.dumps({"format": 1, "step": step}))
    return folder


def test_stale_temp_folders_are_never_latest_and_are_removed(tmp_path, caplog):
    ckpts = tmp_path / "checkpoints"
    _fake_checkpoint(ckpts / "step_00000002", 2)
    dead = ckpts / ".step_00000004.999999999.k2j3h4"          # a save killed midway (its pid is gone)
    (dead).mkdir()
    (dead / "model.safetensors").write_bytes(b"x" * 16)
    old_style = ckpts / ".step_00000006.ab12cd"                # written before temp names carried a pid
    _fake_checkpoint(old_style, 6)
    live = ckpts / f".step_00000008.{os.getppid()}.zz"         # another live process is writing this one
    live.mkdir()
    pruned = _fake_checkpoint(ckpts / ".pruned_step_00000001.999999999.", 1)   # killed while deleting it
    assert latest_checkpoint(ckpts).name == "step_00000002"
    removed = remove_stale(ckpts)
    assert sorted(p.name for p in removed) == sorted([dead.name, old_style.name, pruned.name])
    assert sorted(p.name for p in ckpts.iterdir()) == sorted(["step_00000002", live.name])
    assert "half-written" in caplog.text
    # a kill between moving the old copy of a step aside and putting the new one in place
    (ckpts / "step_00000002").rename(ckpts / ".old_step_00000002.999999999.")
    assert latest_checkpoint(ckpts) is None
    remove_stale(ckpts)
    assert latest_checkpoint(ckpts).name == "step_00000002"


def test_config_differences_are_named_and_bounded():
    saved = {"n_mels": 128, "channels": list(range(500)), "lr": 1e-3, **{f"k{i}": i for i in range(20)}}
    now = {"n_mels": 256, "channels": list(range(501)), "lr": 1e-3, **{f"k{i}": -i for i in range(20)}}
    diffs = config_differences(saved, now)
    assert "n_mels 128 (checkpoint) vs 256 (now)" in diffs and diffs[-1] == "and 15 more"  # k0: 0 == -0
    assert len("; ".join(diffs)) < 600
    assert config_differences({"a": {"b": (1, 2)}}, {"a": {"b": [1, 2]}, "c": 1}) == ["c absent (checkpoint) vs 1 (now)"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def test_resume_mismatch_names_only_the_differing_fields(note_folder, tmp_path, cache):  # noqa: F811
    trainer(note_folder, tmp_path / "run", cache).fit(2)
    with pytest.raises(CheckpointError) as info:
        trainer(note_folder, tmp_path / "run", cache, n_mels=48).fit(4, resume=True)
    message = str(info.value)
    assert "preset differs: n_mels 32 (checkpoint) vs 48 (now)" in message
    assert "generator differs: image_shape [32, 16] (checkpoint) vs [48, 16] (now)" in message
    assert "same settings" in message and "\n" not in message and len(message) < 1000
    other = trainer(note_folder, tmp_path / "run", cache)
    other.checkpoint_config = {**other.checkpoint_config, "family": "vocoder"}
    with pytest.raises(CheckpointError, match="holds a 'gansynth' run, this is 'vocoder'"):
        other.fit(4, resume=True)


def _train(note_folder, out, cache, *, steps, resume=False, env=None):  # noqa: F811
    args = [sys.executable, "-m", "ganaudio.cli", "train", "gansynth", "--data", str(note_folder), "--out", str(out),
            "--steps", str(steps), "--cache-dir", str(cache), "--quiet"] + (["--resume"] if resume else [])
    for key, value in TINY_TEST.items():
        args += ["--set", f"{key}={json.dumps(value)}"]
    full_env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.Popen(args, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _tensor_hashes(folder: Path) -> dict:
    from safetensors.torch import load_file

    return {k: hashlib.sha256(v.numpy().tobytes()).hexdigest() for k, v in load_file(folder / "model.safetensors").items()}


def test_sigkill_during_a_checkpoint_write_resumes_bit_exact(note_folder, tmp_path, cache):  # noqa: F811
    straight = _train(note_folder, tmp_path / "straight", cache, steps=6)
    out, err = straight.communicate(timeout=300)
    assert straight.returncode == 0, out
    # The second run pauses inside the save of step 4 (after its weights, before config.json and
    # train_state.pt) and is killed there with SIGKILL.
    killed = _train(note_folder, tmp_path / "killed", cache, steps=6, env={PAUSE_ENV: "4:120"})
    ckpts = tmp_path / "killed" / "checkpoints"
    deadline = time.monotonic() + 120
    while not list(ckpts.glob(".step_00000004.*/model.safetensors")):
        assert killed.poll() is None, killed.communicate()[0]
        assert time.monotonic() < deadline, "the save of step 4 never started"
        time.sleep(0.05)
    time.sleep(0.2)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert [p.name.split(".")[1] for p in ckpts.glob(".step_*")] == ["step_00000004"]   # half-written, left behind
    assert latest_checkpoint(ckpts).name == "step_00000002"                             # and never taken as latest

    resumed = _train(note_folder, tmp_path / "killed", cache, steps=6, resume=True)
    out, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, out
    assert "half-written" in out and not list(ckpts.glob(".step_*"))                    # cleaned at the resume
    a = _tensor_hashes(latest_checkpoint(tmp_path / "straight" / "checkpoints"))
    b = _tensor_hashes(latest_checkpoint(ckpts))
    assert latest_checkpoint(ckpts).name == "step_00000006" and len(a) > 20
    assert a == b                                                                        # bit for bit

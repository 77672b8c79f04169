"""GAN engine: smoke run through the CLI, exact kill-and-resume, NaN skipping, checkpoint safety."""

import json
import pickle

import pytest
import torch
from click.testing import CliRunner

from ganaudio.errors import CheckpointError, TrainingError
from ganaudio.models.gansynth import Generator
from ganaudio.train.checkpoint import latest_checkpoint, list_checkpoints, load_checkpoint, save_checkpoint
from tests.gan_fixtures import note_folder  # noqa: F401  (fixture)
from tests.train.helpers import TINY_TEST, trainer


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def _weights(tr):
    return {f"{name}.{k}": v.clone() for name, m in tr.modules().items() for k, v in m.state_dict().items()}


def test_cli_two_step_smoke(note_folder, tmp_path, cache_dir):  # noqa: F811
    import ganaudio.cli.train  # noqa: F401  (registers `train`)
    from ganaudio.cli import main

    out = tmp_path / "run"
    args = ["train", "gansynth", "--data", str(note_folder), "--out", str(out), "--preset", "tiny", "--steps", "2",
            "--cache-dir", str(cache_dir)]
    for key, value in TINY_TEST.items():
        args += ["--set", f"{key}={json.dumps(value)}"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    ckpt = latest_checkpoint(out / "checkpoints")
    assert ckpt.name == "step_00000002"
    config = json.loads((ckpt / "config.json").read_text())
    assert config["family"] == "gansynth" and config["representation"]["type"] == "ifmel"
    assert config["generator"]["image_shape"] == [32, 16] and "normalizer" in config and "ganaudio_version" in config
    assert config["data"]["notes"] == 16 and config["preset"]["batch_size"] == 4
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in lines] == [1, 2] and all(torch.isfinite(torch.tensor(m["d_loss"])) for m in lines)
    assert (out / "samples" / "step_00000002" / "pitch_060.wav").is_file()
    again = CliRunner().invoke(main, args)                       # same --out without --resume
    assert again.exit_code == 2 and "--resume" in again.output


def test_kill_and_resume_matches_uninterrupted(note_folder, tmp_path, cache_dir):  # noqa: F811
    straight = trainer(note_folder, tmp_path / "a", cache_dir)
    straight.fit(5)

    killed = trainer(note_folder, tmp_path / "b", cache_dir)
    original = killed.train_step

    def dies_at_step_3(step):
        if step == 3:
            raise KeyboardInterrupt  # killed mid-run; the newest checkpoint is step 2
        return original(step)

    killed.train_step = dies_at_step_3
    with pytest.raises(KeyboardInterrupt):
        killed.fit(5)
    assert latest_checkpoint(tmp_path / "b" / "checkpoints").name == "step_00000002"

    torch.manual_seed(1234)                                       # a fresh process: other initial weights
    resumed = trainer(note_folder, tmp_path / "b", cache_dir)
    resumed.fit(5, resume=True)
    assert resumed.step == 5
    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    steps = [json.loads(line)["step"] for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5]                               # lines after the checkpoint were replaced
    assert [p.name for p in list_checkpoints(tmp_path / "b" / "checkpoints")] == ["step_00000004", "step_00000005"]


def test_nan_step_skipped_then_stops(note_folder, tmp_path, cache_dir, caplog):  # noqa: F811
    tr = trainer(note_folder, tmp_path / "run", cache_dir, max_bad_steps=3, checkpoint_every=1)
    real_batch = tr.batch_fn
    poisoned = {1}

    def batch_fn(indices, generator=None):
        x, labels = real_batch(indices, generator)
        if tr.step in poisoned:
            x = x.clone()
            x[0, 0, 0, 0] = float("nan")
        return x, labels

    tr.batch_fn = batch_fn
    with caplog.at_level("WARNING"):
        tr.fit(3)
    assert "step 1: non-finite discriminator loss" in caplog.text
    assert all(torch.isfinite(v).all() for v in _weights(tr).values())
    before = _weights(tr)
    poisoned.update(range(3, 100))
    with pytest.raises(TrainingError, match="3 training steps in a row.*step_00000003"):
        tr.fit(10)
    after = _weights(tr)
    assert all(torch.equal(before[k], after[k]) for k in before)  # bad steps never touched the weights
    assert latest_checkpoint(tmp_path / "run" / "checkpoints").name == "step_00000003"


class _Payload:
    ran = False

    def __reduce__(self):
        return (_mark_ran, ())


def _mark_ran():
    _Payload.ran = True
    return "pwned"


def test_pickle_payload_refused(note_folder, tmp_path, cache_dir):  # noqa: F811
    tr = trainer(note_folder, tmp_path / "run", cache_dir)
    tr.fit(2)
    ckpt = latest_checkpoint(tmp_path / "run" / "checkpoints")
    state = torch.load(ckpt / "train_state.pt", weights_only=True)
    state["extra"] = _Payload()
    with open(ckpt / "train_state.pt", "wb") as fh:
        pickle.dump(state, fh, protocol=2)                             # same container, one arbitrary object inside
    with pytest.raises(CheckpointError, match="refusing"):
        trainer(note_folder, tmp_path / "run", cache_dir).fit(4, resume=True)
    assert not _Payload.ran
    (ckpt / "model.safetensors").write_bytes(pickle.dumps({"w": _Payload()}))
    with pytest.raises(CheckpointError, match="safetensors"):
        load_checkpoint(ckpt)
    assert not _Payload.ran


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    G = Generator(latent_dim=6, n_pitches=5, image_shape=(16, 8), channels=(8, 4), pitch_bias=True)
    ema = Generator.from_config(G.config())
    for k in range(3):
        save_checkpoint(tmp_path, step=k * 10, modules={"generator": G, "generator_ema": ema},
                        config={"family": "gansynth", "generator": G.config()}, keep=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step_00000010", "step_00000020"]
    config, states = load_checkpoint(latest_checkpoint(tmp_path))
    assert config["step"] == 20 and config["format"] == 1
    G2 = Generator.from_config(config["generator"])
    G2.load_state_dict(states["generator"])
    z, p = torch.randn(2, 6), torch.tensor([0, 4])
    assert torch.equal(G(z, p), G2(z, p))
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())   # no temporary folders left


def test_resume_refuses_other_settings(note_folder, tmp_path, cache_dir):  # noqa: F811
    trainer(note_folder, tmp_path / "run", cache_dir).fit(2)
    with pytest.raises(CheckpointError, match="same settings"):
        trainer(note_folder, tmp_path / "run", cache_dir, g_channels=[16, 8, 8]).fit(4, resume=True)
    with pytest.raises(CheckpointError, match="nothing to resume"):
        trainer(note_folder, tmp_path / "empty", cache_dir).fit(4, resume=True)


def test_lazy_r1_and_loading_the_trained_generator(note_folder, tmp_path, cache_dir):  # noqa: F811
    from ganaudio.synth.generator import generate_notes, load_gansynth

    tr = trainer(note_folder, tmp_path / "run", cache_dir, r1_every=2)
    assert "r1" in tr.train_step(0) and "r1" not in tr.train_step(1)
    tr.step = 2
    path = tr.save()
    G, rep, norm, config = load_gansynth(path)
    z, p = torch.randn(2, G.latent_dim), torch.tensor([0, 3])
    assert torch.equal(G(z, p), tr.G_ema(z, p))
    waves = generate_notes(G, rep, norm, [48, 60, 72], [0, 1, 2], n_iter=2)
    assert waves.shape == (3, rep.samples_for(config["n_frames"])) and torch.isfinite(torch.from_numpy(waves)).all()
    config["family"] = "musegan"
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="musegan"):
        load_gansynth(path)


def test_init_from_model_folder_without_train_state(note_folder, tmp_path, cache_dir):  # noqa: F811
    first = trainer(note_folder, tmp_path / "a", cache_dir)
    first.fit(2)
    folder = latest_checkpoint(tmp_path / "a" / "checkpoints")
    (folder / "train_state.pt").unlink()  # what a bundled model folder looks like
    with pytest.raises(CheckpointError, match="train_state"):
        first.resume(folder)
    second = trainer(note_folder, tmp_path / "b", cache_dir, seed=1)
    assert second.init_from(folder) == 2
    for name, module in first.modules().items():
        for key, value in module.state_dict().items():
            assert torch.equal(value, second.modules()[name].state_dict()[key]), (name, key)
    third = trainer(note_folder, tmp_path / "c", cache_dir)
    third.fit(3, init_from=folder)
    assert third.step == 3 and latest_checkpoint(tmp_path / "c" / "checkpoints").name == "step_00000003"
    with pytest.raises(CheckpointError, match="already holds checkpoints"):
        trainer(note_folder, tmp_path / "c", cache_dir).fit(4, init_from=folder)
    other = trainer(note_folder, tmp_path / "d", cache_dir, g_channels=[8, 8, 4])
    with pytest.raises(CheckpointError, match="same settings"):
        other.init_from(folder)


def test_mode_seeking_term_pairs_labels_and_pushes_latents_apart(note_folder, tmp_path, cache_dir):  # noqa: F811
    tr = trainer(note_folder, tmp_path / "run", cache_dir, mode_seeking_weight=1.0, mode_seeking_ceiling=0.5)
    metrics = tr.train_step(0)
    assert "ms" in metrics and metrics["ms"] >= 1 / 0.5 - 1e-3   # capped ratio: the term never falls below 1/ceiling
    assert "ms" not in trainer(note_folder, tmp_path / "off", cache_dir, mode_seeking_weight=0.0).train_step(0)
    # the generator loss minus the adversarial and auxiliary parts is exactly the weighted term
    assert metrics["g_loss"] == pytest.approx(metrics["g_adv"] + tr.objective.weights["aux"] * metrics["g_aux"] + metrics["ms"],
                                              rel=1e-5)


def test_init_from_generator_only_folder_keeps_a_fresh_discriminator(note_folder, tmp_path, cache_dir):  # noqa: F811
    first = trainer(note_folder, tmp_path / "a", cache_dir)
    first.fit(2)
    config = {"generator": first.G.config(), "family": "gansynth"}   # an exported model: EMA generator only
    folder = save_checkpoint(tmp_path / "export", step=2, modules={"generator": first.G_ema}, config=config)
    second = trainer(note_folder, tmp_path / "b", cache_dir, seed=1)
    fresh_d = {k: v.clone() for k, v in second.D.state_dict().items()}
    assert second.init_from(folder) == 2
    for key, value in first.G_ema.state_dict().items():
        assert torch.equal(second.G.state_dict()[key], value) and torch.equal(second.G_ema.state_dict()[key], value)
    assert all(torch.equal(second.D.state_dict()[k], v) for k, v in fresh_d.items())
    second.fit(3)
    assert second.step == 3


def test_gradient_clipping_caps_the_update_and_reports_the_norm(note_folder, tmp_path, cache_dir):  # noqa: F811
    tr = trainer(note_folder, tmp_path / "run", cache_dir, grad_clip=0.5)
    layer = torch.nn.Linear(4, 1)
    before = layer.weight.detach().clone()
    sgd = torch.optim.SGD(layer.parameters(), lr=1.0)
    loss = 100.0 * layer(torch.ones(2, 4)).sum()   # gradient norm 400: far above the cap
    assert tr.guarded_update(loss, sgd, layer)
    step = torch.cat([(layer.weight - before).flatten(), layer.bias.grad.flatten()])
    assert torch.cat([layer.weight.grad.flatten(), layer.bias.grad.flatten()]).norm() == pytest.approx(0.5, rel=1e-4)
    assert step[:4].norm() <= 0.5 + 1e-5
    assert tr.grad_norms[id(sgd)] == pytest.approx(float(torch.tensor([200.0] * 4 + [200.0]).norm()), rel=1e-4)
    metrics = tr.train_step(0)
    assert metrics["g_grad_norm"] > 0 and metrics["d_grad_norm"] > 0


def test_learning_rate_warm_up_counts_from_the_start_and_survives_resume(note_folder, tmp_path, cache_dir):  # noqa: F811
    tr = trainer(note_folder, tmp_path / "a", cache_dir, warmup_steps=4)
    base = tr.base_lr[id(tr.opt_g)]
    tr.fit(2)   # steps 0 and 1: factors 1/4 and 2/4
    assert tr.opt_g.param_groups[0]["lr"] == pytest.approx(base * 2 / 4)
    again = trainer(note_folder, tmp_path / "a", cache_dir, warmup_steps=4)
    again.fit(4, resume=True)
    assert again.warmup_start == 0 and again.opt_g.param_groups[0]["lr"] == pytest.approx(base)
    # a run started from a model folder warms up from that folder's step
    folder = latest_checkpoint(tmp_path / "a" / "checkpoints")
    warm = trainer(note_folder, tmp_path / "b", cache_dir, warmup_steps=4)
    warm.fit(5, init_from=folder)
    assert warm.warmup_start == 4 and warm.opt_g.param_groups[0]["lr"] == pytest.approx(base / 4)


def test_low_pitch_oversampling_repeats_low_notes_only(note_folder, tmp_path, cache_dir):  # noqa: F811
    from ganaudio.train.gansynth import oversampled_order

    assert oversampled_order(torch.tensor([40, 60, 50]), below=55, repeats=3).tolist() == [0, 1, 2, 0, 2, 0, 2]
    assert oversampled_order(torch.tensor([40, 60]), below=0, repeats=3).tolist() == [0, 1]
    uniform = trainer(note_folder, tmp_path / "a", cache_dir)
    tr = trainer(note_folder, tmp_path / "b", cache_dir, low_pitch_below=61, low_pitch_repeats=2)
    _, labels = uniform.batch_fn(torch.arange(uniform.n_examples))
    n_low = int((labels + 48 < 61).sum())
    assert 0 < n_low < uniform.n_examples and tr.n_examples == uniform.n_examples + n_low
    _, extra = tr.batch_fn(torch.arange(uniform.n_examples, tr.n_examples))
    assert bool((extra + 48 < 61).all())


def test_init_from_with_another_discriminator_keeps_the_generator_and_a_fresh_discriminator(
        note_folder, tmp_path, cache_dir, caplog):  # noqa: F811
    first = trainer(note_folder, tmp_path / "a", cache_dir)
    first.fit(2)
    folder = latest_checkpoint(tmp_path / "a" / "checkpoints")
    wider = trainer(note_folder, tmp_path / "b", cache_dir, d_channels=[16, 8, 8])
    fresh_d = {k: v.clone() for k, v in wider.D.state_dict().items()}
    with caplog.at_level("WARNING"):
        assert wider.init_from(folder) == 2
    assert "starts fresh" in caplog.text
    assert all(torch.equal(wider.D.state_dict()[k], v) for k, v in fresh_d.items())
    assert all(torch.equal(wider.G.state_dict()[k], v) for k, v in first.G.state_dict().items())
    wider.fit(3)
    assert wider.step == 3


def test_grown_model_computes_the_same_and_continues_training(note_folder, tmp_path, cache_dir):  # noqa: F811
    from ganaudio.models.gansynth import Discriminator
    from ganaudio.train.gansynth import grow_gansynth

    first = trainer(note_folder, tmp_path / "a", cache_dir)
    first.fit(2)
    folder = latest_checkpoint(tmp_path / "a" / "checkpoints")
    grown = grow_gansynth(folder, tmp_path / "grown", harmonic_input=True, freq_branch=4)
    config, states = load_checkpoint(grown)
    assert len(config["generator"]["harmonic_rows"]) == TINY_TEST["n_mels"]
    assert config["preset"]["harmonic_input"] and config["preset"]["freq_branch"] == 4
    G = Generator.from_config(config["generator"])
    G.load_state_dict(states["generator"])
    D = Discriminator.from_config(config["discriminator"])
    D.load_state_dict(states["discriminator"])
    z, p = torch.randn(3, TINY_TEST["latent_dim"]), torch.tensor([0, 7, 24])
    x = first.G(z, p)
    assert torch.allclose(G(z, p), x, atol=1e-4)
    for old, new in zip(first.D(x, p), D(x, p)):
        assert torch.allclose(old, new, atol=1e-4)
    more = trainer(note_folder, tmp_path / "b", cache_dir, harmonic_input=True, freq_branch=4)
    more.fit(3, init_from=grown)
    assert more.step == 3
    with pytest.raises(CheckpointError, match="same settings"):
        trainer(note_folder, tmp_path / "c", cache_dir).init_from(grown)


@pytest.mark.parametrize("equalized", [True, False])
def test_growing_input_channels_keeps_the_output_for_plain_and_equalized_convolutions(equalized):
    from ganaudio.nn.layers import EqualizedConv2d
    from ganaudio.train.gansynth import _grown_state

    torch.manual_seed(0)
    old = torch.nn.Sequential(EqualizedConv2d(2, 4, 3, equalized=equalized))
    new = torch.nn.Sequential(EqualizedConv2d(5, 4, 3, equalized=equalized))
    new.load_state_dict(_grown_state(old.state_dict(), new, "test"))
    x = torch.randn(2, 5, 8, 6)
    assert torch.allclose(new(x), old(x[:, :2]), atol=1e-5)


def test_checkpoints_from_before_an_option_existed_still_match(note_folder, tmp_path, cache_dir):  # noqa: F811
    first = trainer(note_folder, tmp_path / "a", cache_dir)
    first.fit(2)
    folder = latest_checkpoint(tmp_path / "a" / "checkpoints")
    config = json.loads((folder / "config.json").read_text())
    del config["generator"]["harmonic_rows"], config["discriminator"]["freq_branch"]  # as older versions wrote
    (folder / "config.json").write_text(json.dumps(config))
    again = trainer(note_folder, tmp_path / "a", cache_dir)
    assert again.resume() == 2

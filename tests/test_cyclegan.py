"""CycleGAN timbre transfer: model shapes, chunked = whole inference, CLI training smoke run, exact resume,
loading, export, conversion of any length, silence and bad inputs."""

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner

from ganaudio.errors import CheckpointError, DataError, ParameterError
from ganaudio.models.cyclegan import CycleGANDiscriminators, CycleGANGenerators, ResnetGenerator
from ganaudio.presets import CYCLEGAN_PRESETS, load_preset
from ganaudio.train.checkpoint import latest_checkpoint, load_checkpoint
from ganaudio.train.cyclegan import build_cyclegan_trainer, export_cyclegan
from ganaudio.transfer import CycleGANTransfer, load_cyclegan
from ganaudio.transfer.cyclegan import _crossfade_convert

TINY = {"crop_frames": 32, "crop_stride": 8, "batch_size": 2, "g_channels": 4, "g_max_channels": 8, "g_blocks": 1,
        "d_channels": 4, "d_max_channels": 8, "sample_every": 2, "sample_seconds": 1.0}


def _tone(kind: str, freq: float, sr: int, seconds: float = 1.2) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    wave = np.sin(2 * np.pi * freq * t)
    return (0.3 * (np.sign(wave) if kind == "square" else wave)).astype(np.float32)


@pytest.fixture(scope="module")
def domains(tmp_path_factory):
    """Two folders: sine tones (16 and 22.05 kHz) and square waves (one stereo, one silent file)."""
    root = tmp_path_factory.mktemp("domains")
    for kind in ("sine", "square"):
        (root / kind).mkdir()
        for i, freq in enumerate((220.0, 330.0, 440.0)):
            sr = 22050 if i else 16000
            y = _tone(kind, freq, sr)
            if kind == "square" and i == 1:
                y = np.stack([y, 0.5 * y], axis=1)  # stereo: mixed down on load
            sf.write(root / kind / f"{i}.wav", y, sr)
        sf.write(root / kind / "silence.wav", np.zeros(16000, np.float32), 16000)
    return root / "sine", root / "square"


@pytest.fixture(scope="module")
def run(domains, tmp_path_factory):
    """A 2-step run trained through the command line."""
    from ganaudio.cli import main

    out = tmp_path_factory.mktemp("run") / "sine2square"
    args = ["train", "cyclegan", "--domain-a", str(domains[0]), "--domain-b", str(domains[1]), "--out", str(out),
            "--steps", "2", "--quiet"]
    for key, value in TINY.items():
        args += ["--set", f"{key}={json.dumps(value)}"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "checkpoints in" in result.output and "cycle" in result.output
    return out


def _preset(**extra):
    return load_preset("tiny", family="cyclegan", overrides=TINY | extra)


# ---------------------------------------------------------------------------- models
def test_generator_keeps_any_shape_and_rebuilds_from_config():
    G = CycleGANGenerators(n_mels=81, channels=4, n_blocks=1, max_channels=8)
    for frames in (1, 5, 37):
        x = torch.randn(2, 1, 81, frames)
        assert G(x, "a2b").shape == x.shape and G(x, "b2a").shape == x.shape
    assert CycleGANGenerators(**G.config()).config() == G.config()
    D = CycleGANDiscriminators(channels=4, n_layers=3, max_channels=8)
    assert D(torch.randn(2, 1, 80, 64), "b").shape == (2, 1, 8, 6)
    with pytest.raises(ParameterError, match="direction"):
        G(torch.randn(1, 1, 81, 8), "a2c")
    with pytest.raises(ParameterError, match=r"\(batch, 1, 81, frames\)"):
        G(torch.randn(1, 1, 80, 8))
    with pytest.raises(ParameterError, match="n_blocks"):
        ResnetGenerator(n_mels=80, n_blocks=-1)


def test_receptive_radius_bounds_the_influence_of_a_frame():
    G = ResnetGenerator(n_mels=40, channels=4, n_blocks=2, max_channels=8).eval()
    x = torch.randn(1, 1, 40, 200)
    x2 = x.clone()
    x2[..., 100] += 1.0
    with torch.no_grad():
        changed = ((G(x2) - G(x)).abs().amax(dim=(0, 1, 2)) > 0).nonzero().flatten()
    assert changed.min() >= 100 - G.receptive_radius() and changed.max() <= 100 + G.receptive_radius()


@pytest.mark.parametrize("chunk, overlap, frames", [(64, 16, 300), (32, 0, 131), (256, 32, 700), (64, 32, 65)])
def test_chunked_inference_equals_the_whole_clip(chunk, overlap, frames):
    torch.manual_seed(0)
    G = CycleGANGenerators(n_mels=80, channels=4, n_blocks=2, max_channels=8).eval()
    x = torch.randn(80, frames)
    with torch.no_grad():
        whole = G(x[None, None], "b2a")[0, 0]
    chunked = _crossfade_convert(G, x, direction="b2a", chunk_frames=chunk, overlap_frames=overlap)
    assert chunked.shape == x.shape
    torch.testing.assert_close(chunked, whole, atol=1e-5, rtol=1e-5)


def test_bad_chunk_settings():
    G = CycleGANGenerators(n_mels=80, channels=4, n_blocks=0, max_channels=8)
    with pytest.raises(ParameterError, match="at most half"):
        _crossfade_convert(G, torch.zeros(80, 100), direction="a2b", chunk_frames=64, overlap_frames=40)
    with pytest.raises(ParameterError, match="chunk_frames must be"):
        _crossfade_convert(G, torch.zeros(80, 100), direction="a2b", chunk_frames=4, overlap_frames=0)


# ---------------------------------------------------------------------------- presets
def test_presets():
    tiny, full = CYCLEGAN_PRESETS["tiny"], CYCLEGAN_PRESETS["full"]
    assert tiny.representation().config() == {**full.representation().config()}
    assert (tiny.sample_rate, tiny.n_fft, tiny.hop_length, tiny.n_mels) == (16000, 1024, 256, 80)
    assert (tiny.cycle_weight, tiny.identity_weight, tiny.loss) == (10.0, 5.0, "lsgan")
    n = sum(p.numel() for p in CycleGANGenerators(**tiny.generator_kwargs()).a2b.parameters())
    assert 300_000 < n < 1_000_000
    assert load_preset(family="cyclegan", overrides={"domain_names": ["piano", "violin"]}).domain_names == ("piano", "violin")
    with pytest.raises(ParameterError, match="multiple of 4"):
        load_preset(family="cyclegan", overrides={"crop_frames": 66})
    with pytest.raises(ParameterError, match="two different names"):
        load_preset(family="cyclegan", overrides={"domain_names": ["x", "x"]})
    with pytest.raises(ParameterError, match="did you mean cycle_weight"):
        load_preset(family="cyclegan", overrides={"cycle_weigth": 1})
    with pytest.raises(ParameterError, match="unknown CycleGAN preset"):
        load_preset("huge", family="cyclegan")


# ---------------------------------------------------------------------------- training
def test_cli_two_step_run(run):
    ckpt = latest_checkpoint(run / "checkpoints")
    assert ckpt.name == "step_00000002"
    config, states = load_checkpoint(ckpt)
    assert config["family"] == "cyclegan" and config["domain_names"] == ["sine", "square"]
    assert config["representation"]["n_mels"] == 80 and config["normalization"]["std"] > 0
    # the all-zero file is skipped as silent by the data rule (ganaudio.data.screen), counted in the summary
    assert config["data"]["domain_b"]["files"] == 3 and config["data"]["domain_b"]["skipped"]["reasons"] == {"silent": 1}
    assert config["data"]["domain_b"]["skipped"]["total"] == 4
    assert {"generator", "generator_ema", "discriminator"} <= set(states)
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert lines[-1]["step"] == 2 and {"d_loss", "g_adv", "cycle", "identity"} <= set(lines[-1])
    names = sorted(p.stem for p in (run / "samples" / "step_00000002").glob("*.wav"))
    assert names == ["a2b", "a2b_input", "b2a", "b2a_input"]


def test_resume_repeats_the_uninterrupted_run(domains, tmp_path):
    def trainer(out, **extra):
        return build_cyclegan_trainer(*domains, tmp_path / out, _preset(sample_every=100, **extra), progress=False,
                                      tensorboard=False)

    straight = trainer("a")
    straight.fit(3)
    trainer("b").fit(2)
    resumed = trainer("b")
    resumed.fit(3, resume=True)
    for key, value in straight.G.state_dict().items():
        assert torch.equal(value, resumed.G.state_dict()[key]), key
    with pytest.raises(CheckpointError, match="already holds checkpoints"):
        trainer("b").fit(4)
    with pytest.raises(CheckpointError, match="generator"):
        trainer("b", g_channels=8).fit(4, resume=True)


def test_cli_errors(domains, run, tmp_path):
    from ganaudio.cli import main

    runner = CliRunner()
    base = ["train", "cyclegan", "--domain-a", str(domains[0]), "--domain-b", str(domains[1])]
    sets = [x for k, v in TINY.items() for x in ("--set", f"{k}={json.dumps(v)}")]
    other = runner.invoke(main, [*base, "--out", str(run), "--steps", "3", "--resume", *sets, "--set", "g_blocks=2"])
    assert other.exit_code == 2 and "Error:" in other.output and "generator" in other.output
    (tmp_path / "empty").mkdir()
    empty = runner.invoke(main, ["train", "cyclegan", "--domain-a", str(tmp_path / "empty"), "--domain-b",
                                 str(domains[1]), "--out", str(tmp_path / "r"), *sets])
    assert empty.exit_code == 2 and "holds no audio files" in empty.output
    shown = runner.invoke(main, [*base, "--out", str(tmp_path / "r"), "--preset", "full", "--show-config"])
    assert shown.exit_code == 0 and json.loads(shown.output)["g_blocks"] == 9
    assert runner.invoke(main, ["train", "cyclegan", "--help"]).exit_code == 0
    with pytest.raises(DataError, match="no crop"):
        build_cyclegan_trainer(domains[0], domains[1], tmp_path / "r2", _preset(crop_frames=128),
                               progress=False)


# ---------------------------------------------------------------------------- transfer
def test_convert_any_length_and_directions(run):
    model = load_cyclegan(run)
    assert isinstance(model, CycleGANTransfer) and model.domains == ("sine", "square")
    assert model.sample_rate == 16000 and model.representation.n_mels == 80
    y = _tone("sine", 330.0, 16000, seconds=2.0)
    out = model.convert(y, direction="square", vocoder="griffinlim")
    assert out.shape == y.shape and out.dtype == np.float32 and np.isfinite(out).all() and np.abs(out).max() <= 1
    gan = model.convert(y, direction="b2a")
    blocks = model.convert(y, direction="sine", block_frames=64)  # 126 frames: analysed and vocoded in 2 blocks
    np.testing.assert_allclose(blocks, gan, atol=1e-4)
    mel = model.representation.encode(torch.from_numpy(y))[0].numpy()
    converted = model.convert_mel(mel, chunk_frames=32, overlap_frames=8)
    assert isinstance(converted, np.ndarray) and converted.shape == mel.shape
    np.testing.assert_allclose(converted, model.convert_mel(mel), atol=1e-4)
    long = _tone("sine", 330.0, 16000, seconds=4.0)  # 251 frames: 4 blocks of 64, read in uneven pieces
    pieces = model.convert_blocks([long[i:i + 3001] for i in range(0, len(long), 3001)], length=len(long),
                                  direction="sine", block_frames=64)
    np.testing.assert_array_equal(np.concatenate(list(pieces)), model.convert(long, direction="sine",
                                                                              block_frames=64))
    resampled = model.convert(_tone("sine", 330.0, 22050, seconds=2.0), sample_rate=22050)
    assert abs(len(resampled) - len(y)) <= 1
    with pytest.raises(ParameterError, match="direction"):
        model.convert(y, direction="cello")
    with pytest.raises(ParameterError, match="mono"):
        model.convert(np.stack([y, y]))
    with pytest.raises(ParameterError, match=r"\(80, frames\)"):
        model.convert_mel(np.zeros((40, 10)))


def test_silence_gives_silence(run, caplog):
    model = load_cyclegan(run)
    with caplog.at_level(logging.WARNING, logger="ganaudio.transfer.cyclegan"):
        out = model.convert(np.zeros(20000, np.float32))
    assert out.shape == (20000,) and not out.any() and "silent" in caplog.text
    y = np.concatenate([_tone("sine", 440.0, 16000, 1.0), np.zeros(16000, np.float32)])
    mel = model.convert_mel(model.representation.encode(torch.from_numpy(y))[0])
    assert torch.all(mel[:, -40:] == float(np.log(model.representation.eps)))  # the silent second stays silent


def test_export_and_wrong_family(run, tmp_path):
    exported = export_cyclegan(run, tmp_path / "model", half=True)
    config, states = load_checkpoint(exported)
    assert set(states) == {"generator_ema"} and "discriminator" not in config
    assert "root" not in config["data"]["domain_a"]
    assert all(v.dtype == torch.float16 for v in states["generator_ema"].values())
    y = _tone("square", 220.0, 16000)
    a, b = load_cyclegan(exported).convert_mel(torch.ones(80, 50)), load_cyclegan(run).convert_mel(torch.ones(80, 50))
    torch.testing.assert_close(a, b, atol=2e-2, rtol=0)
    assert load_cyclegan(exported).convert(y).shape == y.shape
    with pytest.raises(CheckpointError, match="'vocoder' model, not a CycleGAN"):
        load_cyclegan("vocoder_16k")
    with pytest.raises(CheckpointError, match="no CycleGAN model"):
        load_cyclegan(tmp_path / "missing")


def test_bundled_piano_to_violin_model_keeps_the_notes():
    """The shipped cyclegan_piano_violin plays a real piano melody (soprano range) back at its pitches."""
    pretty_midi = pytest.importorskip("pretty_midi")
    soundfont = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
    if not soundfont.is_file():
        pytest.skip("FluidR3_GM is not installed")
    from ganaudio.eval.timbre import pitch_agreement
    from ganaudio.io import resample
    from ganaudio.transfer.cyclegan import load_cyclegan

    model = load_cyclegan("cyclegan_piano_violin")
    assert model.domains == ("piano", "violin") and model.sample_rate == 16000
    midi = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    for i, pitch in enumerate((67, 69, 71, 72, 74, 72)):
        piano.notes.append(pretty_midi.Note(velocity=90, pitch=pitch, start=0.5 * i, end=0.5 * i + 0.45))
    midi.instruments.append(piano)
    y = midi.fluidsynth(fs=44100, sf2_path=str(soundfont)).astype(np.float32)
    y = resample(y, orig_sr=44100, target_sr=16000)
    y = 0.5 * y / np.abs(y).max()
    out = model.convert(y, direction="violin", vocoder="griffinlim")
    assert out.shape == y.shape and np.isfinite(out).all() and np.abs(out).max() > 1e-3
    assert pitch_agreement(y, out, sample_rate=16000)["agreement"] >= 0.8

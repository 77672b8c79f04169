"""GANSynth generator and discriminator: shapes, conditioning, config round trip, bad input."""

import pytest
import torch

from ganaudio.errors import ParameterError
from ganaudio.models.gansynth import Discriminator, Generator
from ganaudio.presets import load_preset

SETTINGS = [
    dict(image_shape=(32, 16), channels=(16, 8, 4), pitch_bias=False, coord=False, projection=False),
    dict(image_shape=(64, 16), channels=(8, 8, 8, 4), pitch_bias=True, coord=True, projection=True,
         spectral_profile=True),
    dict(image_shape=(24, 8), channels=(12, 6), pitch_bias=True, coord=False, projection=True),
    dict(image_shape=(16, 64), channels=(8, 4, 4), pitch_bias=False, coord=True, projection=False),
]


def _models(s, n_pitches=7, latent=10):
    G = Generator(latent_dim=latent, n_pitches=n_pitches, lowest_pitch=60, image_shape=s["image_shape"],
                  channels=s["channels"], pitch_bias=s["pitch_bias"], coord=s["coord"])
    D = Discriminator(n_pitches=n_pitches, lowest_pitch=60, image_shape=s["image_shape"], channels=s["channels"],
                      projection=s["projection"], coord=s["coord"], spectral_profile=s.get("spectral_profile", False))
    return G, D


@pytest.mark.parametrize("s", SETTINGS)
def test_shapes(s):
    torch.manual_seed(0)
    G, D = _models(s)
    pitch = torch.tensor([0, 6, 3])
    x = G(torch.randn(3, 10), pitch)
    assert x.shape == (3, 2, *s["image_shape"])
    assert x.abs().max() <= 1.0
    score, logits, feats = D(x, pitch, return_features=True)
    assert score.shape == (3,) and logits.shape == (3, 7)
    assert len(feats) == len(s["channels"])
    score.sum().backward()


@pytest.mark.parametrize("s", SETTINGS[:2])
def test_pitch_conditioning_changes_output(s):
    torch.manual_seed(0)
    G, D = _models(s)
    z = torch.randn(1, 10).repeat(2, 1)
    x = G(z, torch.tensor([0, 5]))
    assert not torch.allclose(x[0], x[1], atol=1e-4)
    if s["projection"]:
        score, _ = D(x[:1].repeat(2, 1, 1, 1), torch.tensor([0, 5]))
        assert not torch.allclose(score[0], score[1])


def test_batch_consistency():
    torch.manual_seed(0)
    G, D = _models(SETTINGS[1])
    D.mbstd = None                                   # minibatch stats couple a batch's items on purpose
    z, p = torch.randn(4, 10), torch.tensor([1, 2, 3, 4])
    x = G(z, p)
    assert torch.allclose(torch.cat([G(z[i:i + 1], p[i:i + 1]) for i in range(4)]), x, atol=1e-4)


def test_config_round_trip():
    G, D = _models(SETTINGS[1])
    G2, D2 = Generator.from_config(G.config()), Discriminator.from_config(D.config())
    assert G2.config() == G.config() and D2.config() == D.config()
    G2.load_state_dict(G.state_dict())
    D2.load_state_dict(D.state_dict())


def test_pitch_index():
    G, _ = _models(SETTINGS[0])
    assert G.pitch_index([60, 66]).tolist() == [0, 6]
    with pytest.raises(ParameterError, match="60-66"):
        G.pitch_index([67])


def test_bad_input():
    G, D = _models(SETTINGS[2])
    with pytest.raises(ParameterError):
        G(torch.randn(2, 9), torch.tensor([0, 1]))
    with pytest.raises(ParameterError):
        G(torch.randn(2, 10), torch.tensor([0, 7]))
    with pytest.raises(ParameterError):
        D(torch.randn(2, 2, 24, 9), torch.tensor([0, 1]))
    with pytest.raises(ParameterError, match="needs the pitch"):
        D(torch.randn(2, 2, 24, 8))
    with pytest.raises(ParameterError, match="divisible"):
        Generator(image_shape=(30, 16), channels=(8, 8, 8))


@pytest.mark.parametrize("name", ["tiny", "paper"])
def test_presets_build_models(name):
    p = load_preset(name)
    G, D = Generator(**p.generator_kwargs()), Discriminator(**p.discriminator_kwargs())
    assert G.image_shape == (p.n_mels, p.n_frames) and G.n_pitches == p.n_pitches
    if name == "paper":
        assert G.base == (16, 2) and p.representation().n_mels == 1024 and p.latent_dim == 256
    else:
        x = G(torch.randn(2, p.latent_dim), torch.tensor([0, p.n_pitches - 1]))
        assert x.shape == (2, 2, 512, 32) and G.base == (16, 1)
        assert D(x, torch.tensor([0, 1]))[1].shape == (2, p.n_pitches)

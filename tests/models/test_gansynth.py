"""GANSynth generator and discriminator: shapes, conditioning, config round trip, bad input."""

import pytest
import torch
from torch import nn

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


def _rows(n, top=4000.0):
    return [top * (i + 0.5) / n for i in range(n)]


def test_harmonic_comb_peaks_on_the_harmonics_of_the_asked_pitch():
    G = Generator(latent_dim=4, n_pitches=13, lowest_pitch=57, image_shape=(64, 8), channels=(8, 4),
                  harmonic_rows=_rows(64))
    comb = G.harmonic_comb(torch.tensor([0, 12]))            # A3 (220 Hz) and A4 (440 Hz)
    assert comb.shape == (2, 1, 64, 1)
    rows = torch.tensor(_rows(64))
    for i, f0 in enumerate((220.0, 440.0)):
        on = (rows / f0 - torch.round(rows / f0)).abs() < 0.03
        off = (rows / f0 - torch.round(rows / f0)).abs() > 0.47
        assert on.any() and off.any()
        assert (comb[i, 0, on, 0] > 0.98).all() and (comb[i, 0, off, 0] < -0.98).all()


def test_harmonic_input_changes_the_output_only_through_new_weights():
    torch.manual_seed(0)
    plain = Generator(latent_dim=6, n_pitches=5, lowest_pitch=60, image_shape=(32, 8), channels=(8, 8, 4),
                      pitch_bias=True, coord=True)
    comb = Generator(latent_dim=6, n_pitches=5, lowest_pitch=60, image_shape=(32, 8), channels=(8, 8, 4),
                     pitch_bias=True, coord=True, harmonic_rows=_rows(32))
    assert comb.config()["harmonic_rows"] == _rows(32)
    assert Generator.from_config(comb.config()).config() == comb.config()
    z, p = torch.randn(3, 6), torch.tensor([0, 2, 4])
    assert comb(z, p).shape == (3, 2, 32, 8)
    # every first convolution reads one more input channel, the comb
    assert [b.conv1.weight.shape[1] - 1 for b in comb.blocks] == [b.conv1.weight.shape[1] for b in plain.blocks]
    with pytest.raises(ParameterError, match="harmonic_rows"):
        Generator(latent_dim=6, n_pitches=5, image_shape=(32, 8), channels=(8, 4), harmonic_rows=_rows(31))


def test_frequency_branch_starts_silent_then_learns():
    torch.manual_seed(0)
    kwargs = dict(n_pitches=5, lowest_pitch=60, image_shape=(32, 8), channels=(8, 8, 4), projection=True,
                  coord=True)
    D = Discriminator(**kwargs)
    Db = Discriminator(**kwargs, freq_branch=6)
    Db.load_state_dict(D.state_dict(), strict=False)
    x, p = torch.randn(4, 2, 32, 8), torch.tensor([0, 1, 2, 3])
    for a, b in zip(D(x, p), Db(x, p)):
        assert torch.equal(a, b)
    Db(x, p)[0].sum().backward()
    assert Db.branch_out.weight.grad.abs().sum() > 0       # the zero output layer still gets a gradient
    nn.init.normal_(Db.branch_out.weight)
    one = torch.cat([Db._frequency_branch(x[i:i + 1]) for i in range(4)])
    assert torch.allclose(one, Db._frequency_branch(x), atol=1e-5) and one.abs().sum() > 0
    with pytest.raises(ParameterError, match="freq_branch"):
        Discriminator(**kwargs, freq_branch=-1)

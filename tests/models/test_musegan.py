"""MuseGAN networks: shapes for several layouts, batch consistency, binarisation, config round trip, bad input."""

import pytest
import torch

from ganaudio.errors import ParameterError
from ganaudio.models.musegan import Discriminator, Generator

SMALL = {"shared_dim": 4, "temporal_dim": 3, "track_dim": 5, "track_temporal_dim": 2, "temporal_hidden": 8, "channels": (8, 4)}


@pytest.mark.parametrize("tracks,bars,steps,pitches", [(4, 4, 16, 56), (5, 2, 24, 84), (1, 1, 12, 13), (2, 3, 8, 50)])
def test_shapes(tracks, bars, steps, pitches):
    G = Generator(n_tracks=tracks, n_bars=bars, steps_per_bar=steps, n_pitches=pitches, **SMALL).eval()
    assert G.latent_dim == 4 + 3 + tracks * (5 + 2)
    with torch.no_grad():
        x = G(torch.randn(3, G.latent_dim))
    assert x.shape == (3, tracks, bars * steps, pitches)
    assert 0 <= float(x.min()) and float(x.max()) <= 1
    D = Discriminator(n_tracks=tracks, n_bars=bars, steps_per_bar=steps, n_pitches=pitches, steps_per_beat=4,
                      pitch_offset=24, channels=(4, 8), feature_dim=8)
    score, logits = D(x)
    assert score.shape == (3,) and logits.shape == (3, 1) and not logits.any()


def test_batch_consistency_and_generate():
    G = Generator(n_tracks=4, n_bars=2, steps_per_bar=16, n_pitches=20, **SMALL).eval()
    z = torch.randn(4, G.latent_dim)
    whole = G(z)
    assert torch.allclose(torch.cat([G(z[i:i + 1]) for i in range(4)]), whole, atol=1e-6)
    binary = G.generate(z, threshold=0.5)
    assert set(binary.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(binary, (whole > 0.5).float())
    with pytest.raises(ParameterError, match="threshold"):
        G.generate(z, threshold=1.0)


def test_straight_through_binarisation_passes_gradients():
    G = Generator(n_tracks=2, n_bars=1, steps_per_bar=8, n_pitches=12, binarize="ste", **SMALL).train()
    x = G(torch.randn(4, G.latent_dim))
    assert set(x.detach().unique().tolist()) <= {0.0, 1.0}
    x.sum().backward()
    assert G.bars.tracks[0][0].weight.grad.abs().sum() > 0
    soft = Generator(n_tracks=2, n_bars=1, steps_per_bar=8, n_pitches=12, **SMALL).train()
    assert ((soft(torch.randn(4, soft.latent_dim)) % 1) > 0).any()  # "none": probabilities


def test_shared_latents_shape_every_track():
    """The shared parts reach every track; a track's private part changes that track only."""
    G = Generator(n_tracks=3, n_bars=2, steps_per_bar=8, n_pitches=12, **SMALL).eval()
    z = torch.randn(1, G.latent_dim)
    shared, _temporal, track, track_temporal = G.split_latent(z)
    assert shared.shape == (1, 4) and track.shape == (1, 3, 5) and track_temporal.shape == (1, 3, 2)
    z2 = z.clone()
    start = 4 + 3 + 5  # track 1's private time-independent latent
    z2[0, start:start + 5] += 3.0
    diff = (G(z) - G(z2)).abs().sum(dim=(0, 2, 3))
    assert diff[1] > 0 and diff[0] == 0 and diff[2] == 0


def test_config_round_trip():
    G = Generator(n_tracks=4, n_bars=4, steps_per_bar=16, n_pitches=56, **SMALL)
    G2 = Generator.from_config(G.config())
    assert G2.config() == G.config()
    G2.load_state_dict(G.state_dict())


@pytest.mark.parametrize("kwargs,match", [
    ({"n_tracks": 0}, "n_tracks"), ({"n_pitches": 2.5}, "n_pitches"), ({"binarize": "sigmoid"}, "binarize"),
    ({"channels": ()}, "channels")])
def test_bad_generator_arguments(kwargs, match):
    args = dict(n_tracks=4, n_bars=4, steps_per_bar=16, n_pitches=56, **SMALL) | kwargs
    with pytest.raises(ParameterError, match=match):
        Generator(**args)


def test_bad_discriminator_input():
    D = Discriminator(n_tracks=4, n_bars=2, steps_per_bar=16, n_pitches=20, steps_per_beat=4, pitch_offset=40,
                      channels=(4,), feature_dim=8)
    with pytest.raises(ParameterError, match="expected rolls"):
        D(torch.rand(2, 4, 16, 20))
    with pytest.raises(ParameterError, match="whole number of beats"):
        Discriminator(n_tracks=4, n_bars=2, steps_per_bar=10, n_pitches=20, steps_per_beat=4, pitch_offset=40)
    with pytest.raises(ParameterError, match="pitch_offset"):
        Discriminator(n_tracks=4, n_bars=2, steps_per_bar=16, n_pitches=20, steps_per_beat=4, pitch_offset=-1)


def test_monophonic_decoding_keeps_the_top_pitch_per_step():
    G = Generator(n_tracks=3, n_bars=1, steps_per_bar=8, n_pitches=12, **SMALL).eval()
    z = torch.randn(6, G.latent_dim)
    plain = G.generate(z, threshold=0.3)
    mono = G.generate(z, threshold=0.3, monophonic=[True, False, True])
    assert torch.equal(mono[:, 1], plain[:, 1])
    assert int(mono[:, [0, 2]].sum(-1).max()) <= 1 and bool((mono <= plain).all())
    top = G(z).argmax(-1)                                              # (B, tracks, time)
    kept = plain.gather(-1, top[..., None]).squeeze(-1)
    assert torch.equal(mono[:, 0].sum(-1), kept[:, 0])                 # the top pitch survives wherever it sounded
    with pytest.raises(ParameterError, match="one flag per track"):
        G.generate(z, monophonic=[True])

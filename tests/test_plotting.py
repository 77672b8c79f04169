import numpy as np
import pytest
import torch

from ganaudio.plotting import plot_representation
from ganaudio.representations.spectral import IFMel, Mel


@pytest.mark.parametrize("rep", [Mel(sample_rate=16000, n_fft=512, hop_length=128, n_mels=40),
                                 IFMel(sample_rate=16000, n_fft=512, hop_length=128, n_mels=40)])
def test_mel_panels_are_labelled_with_band_centres(rep):
    spec = rep.encode(torch.randn(4000))
    figure = plot_representation(spec, rep, title="noise")
    assert len([ax for ax in figure.axes if ax.get_ylabel().startswith("frequency")]) == spec.shape[0]
    ax = figure.axes[0]
    centres = np.asarray(rep.band_frequencies())
    labels = [float(t.get_text()) for t in ax.get_yticklabels()]
    ticks = ax.get_yticks().round().astype(int)
    assert np.allclose(labels, centres[ticks].round())
    assert labels[0] > 0  # band edges would label the lowest row 0 Hz

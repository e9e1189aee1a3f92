"""Spectral normalisation (Miyato et al. 2018).

Each weight matrix of D is divided by its largest singular value, estimated by one power iteration
per forward pass, so every layer is 1-Lipschitz and D as a whole is Lipschitz-bounded: its
gradients to G stay informative without a penalty term. The power-iteration vectors are buffers,
saved with the checkpoint.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)


def apply_spectral_norm(net: nn.Module) -> int:
    """Spectrally normalise every linear and convolutional layer of ``net`` in place; returns how many."""
    layers = [m for m in net.modules() if isinstance(m, LAYERS)]
    for layer in layers:
        spectral_norm(layer)
    return len(layers)

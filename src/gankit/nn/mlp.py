"""The fully connected generator and discriminator of the lecture (seed 001).

Each hidden block is ``Linear -> [BatchNorm1d] -> LeakyReLU -> [Dropout]``, as in the lecture's
``MNIST_Generator`` / ``MNIST_Discriminator`` (``nn.LeakyReLU()`` there, i.e. slope 0.01, and
``Dropout(0.1)``). The generator ends in ``Tanh`` so that its samples live in [-1, 1] like the
normalised data; the discriminator returns logits (``gankit.losses`` explains why).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def mlp_blocks(in_features: int, widths: Sequence[int], slope: float, dropout: float, batchnorm: bool = False,
               batchnorm_from: int = 0) -> tuple[nn.Sequential, int]:
    """Hidden blocks; BatchNorm (if asked) on blocks ``batchnorm_from`` onwards. Returns (blocks, width)."""
    layers: list[nn.Module] = []
    width = in_features
    for i, out in enumerate(widths):
        layers.append(nn.Linear(width, out))
        if batchnorm and i >= batchnorm_from:
            layers.append(nn.BatchNorm1d(out))
        layers.append(nn.LeakyReLU(slope))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = out
    return nn.Sequential(*layers), width


class MLPGenerator(nn.Module):
    """z (N, latent_dim) -> samples (N, *out_shape) in [-1, 1] (Tanh), or unbounded for toy data."""

    def __init__(self, latent_dim: int, widths: Sequence[int], out_shape: Sequence[int], slope: float = 0.01,
                 dropout: float = 0.1, batchnorm: bool = False, tanh: bool = True):
        super().__init__()
        self.latent_dim = latent_dim
        self.out_shape = tuple(out_shape)
        # PyTorch-GAN's gan.py (and DCGAN practice) leaves the first block un-normalised.
        self.hidden, width = mlp_blocks(latent_dim, widths, slope, dropout, batchnorm, batchnorm_from=1)
        self.out = nn.Linear(width, int(torch.tensor(self.out_shape).prod()))
        self.tanh = tanh

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.out(self.hidden(z))
        if self.tanh:
            x = torch.tanh(x)
        return x.view(z.shape[0], *self.out_shape)


class MLPDiscriminator(nn.Module):
    """samples (N, *in_shape) -> logits (N,). ``sigmoid(logits)`` is the lecture's D(x)."""

    def __init__(self, in_shape: Sequence[int], widths: Sequence[int], slope: float = 0.01, dropout: float = 0.1):
        super().__init__()
        self.hidden, width = mlp_blocks(int(torch.tensor(tuple(in_shape)).prod()), widths, slope, dropout)
        self.out = nn.Linear(width, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer (what feature matching compares)."""
        return self.hidden(x.flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x)).squeeze(1)

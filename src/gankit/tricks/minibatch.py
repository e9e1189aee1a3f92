"""Minibatch discrimination (Salimans et al. 2016, section 3.2): a layer that lets D compare samples.

A discriminator that looks at one sample at a time cannot tell that G emits the same point for
every z. The layer projects each sample's features ``f(x_i)`` (A values) with a learned tensor
``T`` (A x B x C) to B rows ``M_i,b`` of C values, and measures the closeness of sample ``i`` to
the rest of the batch per kernel b: ``o(x_i)_b = sum_{j != i} exp(-||M_i,b - M_j,b||_1)``. The B
closeness values are appended to the features; a collapsed batch has large ones (all its samples
are close), so D can reject it.
"""

from __future__ import annotations

import torch
from torch import nn

KERNEL_DIM = 5  # C, as in Salimans et al.'s code


class MinibatchDiscrimination(nn.Module):
    """(N, A) features -> (N, A + B): the features and each sample's closeness to the batch.

    Parameters
    ----------
    in_features : A.
    kernels : B, the number of closeness values per sample.
    kernel_dim : C, the size of each projection.

    The output of a sample depends on the whole batch, so real and generated batches must go
    through D separately (``batch_dependent`` tells :class:`AdversarialRecipe` so).
    """

    batch_dependent = True

    def __init__(self, in_features: int, kernels: int, kernel_dim: int = KERNEL_DIM):
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * 0.1)

    def closeness(self, f: torch.Tensor) -> torch.Tensor:
        """(N, A) -> (N, B): ``o(x_i)_b``, the sum over the other samples of ``exp(-L1 distance)``."""
        m = (f @ self.T).view(-1, self.kernels, self.kernel_dim)  # (N, B, C)
        l1 = (m[:, None] - m[None, :]).abs().sum(-1)  # (N, N, B)
        return torch.exp(-l1).sum(1) - 1.0  # exp(0) = 1 for j = i

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return torch.cat([f, self.closeness(f)], dim=1)


def add_minibatch_discrimination(D: nn.Module, in_shape: tuple[int, ...], kernels: int) -> None:
    """Put a minibatch-discrimination layer before D's output layer, in place.

    D must expose ``features`` (its body) and ``out`` (the layer that makes the logit), as gankit's
    MLP and DCGAN discriminators do; ``out`` is replaced by flatten -> the layer -> a linear logit.
    """
    if not (hasattr(D, "features") and isinstance(getattr(D, "out", None), nn.Module)):
        raise ValueError(f"minibatch discrimination needs a discriminator with `features` and `out` "
                         f"(gankit's MLP and DCGAN ones have them); {type(D).__name__} has not")
    with torch.no_grad():
        was_training = D.training
        D.eval()
        width = D.features(torch.zeros(2, *in_shape)).flatten(1).shape[1]
        D.train(was_training)
    D.out = nn.Sequential(nn.Flatten(), MinibatchDiscrimination(width, kernels), nn.Linear(width + kernels, 1))

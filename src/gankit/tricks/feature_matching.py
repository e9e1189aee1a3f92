"""Feature matching (Salimans et al. 2016, section 3.1).

Instead of maximising D's output, G matches the expected value of the features on an intermediate
layer of D: ``|| E f(x) - E f(G(z)) ||_2^2``. D still trains as usual and keeps choosing the
features worth matching; G no longer overtrains on the current D, which helps against collapse.
"""

from __future__ import annotations

import torch


REDUCTIONS = ("sum", "mean")


def feature_matching_loss(real_features: torch.Tensor, fake_features: torch.Tensor,
                          reduction: str = "sum") -> torch.Tensor:
    """Squared distance between the batch means of D's features (flattened) on real and fake data.

    ``reduction`` over the features: "sum", the paper's squared norm (the stability trick's), or
    "mean", as in Salimans et al.'s semi-supervised code, whose loss scale then does not grow with
    the width of D's layer (the semi-supervised GAN's weights were tuned for it).
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    real = real_features.float().flatten(1).mean(0).detach()
    fake = fake_features.float().flatten(1).mean(0)
    squared = (real - fake).pow(2)
    return squared.sum() if reduction == "sum" else squared.mean()

"""Feature matching (Salimans et al. 2016, section 3.1).

Instead of maximising D's output, G matches the expected value of the features on an intermediate
layer of D: ``|| E f(x) - E f(G(z)) ||_2^2``. D still trains as usual and keeps choosing the
features worth matching; G no longer overtrains on the current D, which helps against collapse.
"""

from __future__ import annotations

import torch


def feature_matching_loss(real_features: torch.Tensor, fake_features: torch.Tensor) -> torch.Tensor:
    """Squared distance between the batch means of D's features (flattened) on real and fake data."""
    real = real_features.float().flatten(1).mean(0).detach()
    fake = fake_features.float().flatten(1).mean(0)
    return (real - fake).pow(2).sum()

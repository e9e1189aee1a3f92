"""Instance noise (Sonderby et al. 2017; Arjovsky & Bottou 2017).

Real and generated samples of a low-dimensional support rarely overlap, so an optimal D separates
them perfectly and gives G no useful gradient. Adding the same Gaussian noise to both makes the
two distributions overlap; the noise is annealed linearly to zero over the training budget, or
by the fraction ``model.instance_noise_until`` of it, so the model is fitted to the clean data in
the end (:func:`gankit.models.schedules.linear_decay`).
"""

from __future__ import annotations

import torch


def add_instance_noise(x: torch.Tensor, std: float, randn) -> torch.Tensor:
    """``x`` plus ``std`` times standard normal noise from ``randn(n, *shape)`` (a seeded stream)."""
    if std <= 0:
        return x
    return x + std * randn(x.shape[0], *x.shape[1:]).to(x.dtype)

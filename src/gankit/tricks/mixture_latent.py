"""A latent drawn from a mixture of narrow Gaussians (after DeLiGAN, Gurumurthy et al. 2017, and
Gaussian-mixture GANs, Ben-Yosef & Weinshall 2018).

A generator is a continuous map, so from one connected latent distribution N(0, I) it can only
make a connected set of samples: to cover modes that lie apart it must pass between them, and the
samples it draws on the way are off every mode (on the grid of 25 Gaussians, strings of samples
along the grid lines). With ``model.latent_components=K`` the latent is instead

    z = mu_c + 0.2 * eps,   c ~ uniform over K components,   eps ~ N(0, I),

with K centres mu drawn once from N(0, I) (seeded, saved with the run). Neighbouring centres lie
several spreads apart, so G may send each component to one mode and leave nothing in between.
The centres are fixed rather than learnt (DeLiGAN learns them): nothing to tune, and K only needs
to be at least the number of modes. The component is a named input (``component``), so
``gankit sample --code component=3`` draws from one of them.
"""

from __future__ import annotations

import torch

SPREAD = 0.2  # std of each component; the centres' spacing is about sqrt(2 * latent_dim)


def mixture_latent(centres: torch.Tensor, component: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """``centres[component] + SPREAD * eps``: the latent of a mixture of narrow Gaussians."""
    return centres[component] + SPREAD * eps

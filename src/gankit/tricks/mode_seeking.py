"""Mode seeking (Mao et al. 2019, "Mode Seeking Generative Adversarial Networks for Diverse Image Synthesis").

A conditional generator tends to ignore its noise: G(z|y) drifts towards one image per condition,
the within-class collapse that cGAN and ACGAN show on Fashion-MNIST (recall near 0 while the class
is right). Mode seeking asks two samples of one condition to differ as much as their noises do. For
pairs (z1, y) and (z2, y) of one batch,

    d = mean |G(z1|y) - G(z2|y)| / mean |z1 - z2|,      L_ms = 1 / (d + eps),

and G minimises its usual loss plus lambda * L_ms: collapsing two noises onto one image makes
L_ms large, spreading them apart makes it small. The paper uses lambda = 1 and eps = 1e-5.
"""

from __future__ import annotations

import torch

EPS = 1e-5


def paired_conditions(y: torch.Tensor) -> torch.Tensor:
    """Labels whose second half repeats the first (an odd last one is kept), so that sample i and
    sample i + n//2 share a condition; the labels stay uniformly distributed."""
    half = len(y) // 2
    out = y.clone()
    out[half:2 * half] = y[:half]
    return out


def mode_seeking_loss(fake: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """1 / (mean|G(z1) - G(z2)| / mean|z1 - z2| + eps) over the pairs (i, i + n//2) of a batch whose
    conditions were made by :func:`paired_conditions`."""
    half = len(fake) // 2
    if half == 0:
        raise ValueError("mode seeking needs at least two samples per batch")
    images = (fake[:half].float() - fake[half:2 * half].float()).abs().mean()
    noises = (z[:half].float() - z[half:2 * half].float()).abs().mean()
    return 1.0 / (images / noises + EPS)

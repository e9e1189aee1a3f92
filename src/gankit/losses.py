"""Adversarial losses as plain functions of discriminator outputs.

Every discriminator in gankit returns *logits* ``l``; the lectures' ``D(x)`` is ``sigmoid(l)``.
Writing the binary cross-entropy through logits is the same function as ``nn.Sigmoid`` followed by
``nn.BCELoss`` (seed 001), but it stays exact where ``D`` saturates: ``BCELoss`` clamps
``log`` at -100, which would hide exactly the vanishing gradient that the minimax generator loss
is known for. With ``softplus(t) = log(1 + e^t)``:

* ``-log D(x)       = softplus(-l)``
* ``-log(1 - D(x))  = softplus(l)``

The least-squares losses (LSGAN, Mao et al. 2017) read the raw output with targets a=0, b=1, c=1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = {
    "minimax": "Goodfellow et al.'s saturating G loss: minimise E[log(1 - D(G(z)))]",
    "non-saturating": "G maximises E[log D(G(z))] instead (stronger gradients early in training)",
    "least-squares": "LSGAN: D and G regress the raw output to 1 (real) and 0 (fake), a=0 b=1 c=1",
}


def d_loss_bce(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
    """Discriminator loss of the GAN paper: ``-(E[log D(x)] + E[log(1 - D(G(z)))])``.

    ``real_target`` below 1 is one-sided label smoothing (Salimans et al. 2016).
    """
    real_logits, fake_logits = real_logits.float(), fake_logits.float()
    if real_target == 1.0:
        real_term = F.softplus(-real_logits).mean()
    else:
        real_term = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_target))
    return real_term + F.softplus(fake_logits).mean()


def g_loss_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """The saturating generator loss ``E[log(1 - D(G(z)))]`` that G minimises."""
    return -F.softplus(fake_logits.float()).mean()


def g_loss_non_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss ``-E[log D(G(z))]``."""
    return F.softplus(-fake_logits.float()).mean()


def d_loss_least_squares(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """LSGAN discriminator loss ``1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]``."""
    return 0.5 * ((real_out.float() - 1).pow(2).mean() + fake_out.float().pow(2).mean())


def g_loss_least_squares(fake_out: torch.Tensor) -> torch.Tensor:
    """LSGAN generator loss ``1/2 E[(D(G(z)) - 1)^2]``."""
    return 0.5 * (fake_out.float() - 1).pow(2).mean()


def discriminator_loss(kind: str, real_out: torch.Tensor, fake_out: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
    """The discriminator's loss for the adversarial loss named ``kind`` (a key of ``LOSSES``)."""
    check_loss_name(kind)
    if kind == "least-squares":
        return d_loss_least_squares(real_out, fake_out)
    return d_loss_bce(real_out, fake_out, real_target)


def generator_loss(kind: str, fake_out: torch.Tensor) -> torch.Tensor:
    """The generator's loss for the adversarial loss named ``kind`` (a key of ``LOSSES``)."""
    check_loss_name(kind)
    if kind == "least-squares":
        return g_loss_least_squares(fake_out)
    if kind == "minimax":
        return g_loss_minimax(fake_out)
    return g_loss_non_saturating(fake_out)


def discriminator_score(kind: str, out: torch.Tensor) -> torch.Tensor:
    """What to report as "D(x)": a probability for the BCE losses, the raw output for LSGAN."""
    return out.float() if kind == "least-squares" else torch.sigmoid(out.float())


def check_loss_name(kind: str) -> None:
    if kind not in LOSSES:
        raise ValueError(f"unknown loss {kind!r}; expected one of {sorted(LOSSES)}")

"""Adversarial losses, registered by name: ``--set train.loss=NAME``.

Every discriminator in gankit returns *logits* ``l``; the lectures' ``D(x)`` is ``sigmoid(l)``.
Writing the binary cross-entropy through logits is the same function as ``nn.Sigmoid`` followed by
``nn.BCELoss`` (seed 001), but it stays exact where ``D`` saturates: ``BCELoss`` clamps
``log`` at -100, which would hide exactly the vanishing gradient that the minimax generator loss
is known for. With ``softplus(t) = log(1 + e^t)``:

* ``-log D(x)       = softplus(-l)``
* ``-log(1 - D(x))  = softplus(l)``

The least-squares losses (LSGAN, Mao et al. 2017) read the raw output with targets a=0, b=1, c=1;
the hinge loss (Lim & Ye 2017; Miyato et al. 2018) and the Wasserstein critic loss (Arjovsky et
al. 2017, which needs a Lipschitz critic: a gradient penalty or spectral normalisation) read it too.
All losses are computed in float32, also under bf16 autocast.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import torch
import torch.nn.functional as F

from gankit.config import closest


class AdversarialLoss(abc.ABC):
    """A pair of losses for D and G over D's outputs on real and generated batches.

    Subclasses set ``name`` and ``description`` (which registers them in ``LOSSES``) and
    implement ``d_loss`` and ``g_loss``.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    probabilities: ClassVar[bool] = False  # whether sigmoid(output) is the lectures' D(x)
    boundary: ClassVar[float] = 0.0  # the output between "real" and "fake" (ADA's sign heuristic)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            LOSSES[cls.name] = cls()

    @abc.abstractmethod
    def d_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
        """D's loss; ``real_target`` below 1 is one-sided label smoothing where the loss has targets."""

    @abc.abstractmethod
    def g_loss(self, fake_out: torch.Tensor) -> torch.Tensor:
        """G's loss on D's outputs for generated samples."""

    def score(self, out: torch.Tensor) -> torch.Tensor:
        """What to report as "D(x)": a probability for the BCE losses, the raw output otherwise."""
        return torch.sigmoid(out.float()) if self.probabilities else out.float()


LOSSES: dict[str, AdversarialLoss] = {}


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


class Minimax(AdversarialLoss):
    name = "minimax"
    description = "Goodfellow et al.'s saturating G loss: minimise E[log(1 - D(G(z)))]"
    probabilities = True

    def d_loss(self, real_out, fake_out, real_target=1.0):
        return d_loss_bce(real_out, fake_out, real_target)

    def g_loss(self, fake_out):
        return -F.softplus(fake_out.float()).mean()


class NonSaturating(Minimax):
    name = "non-saturating"
    description = "G maximises E[log D(G(z))] instead (stronger gradients early in training)"

    def g_loss(self, fake_out):
        return F.softplus(-fake_out.float()).mean()


class LeastSquares(AdversarialLoss):
    name = "least-squares"
    description = "LSGAN: D and G regress the raw output to 1 (real) and 0 (fake), a=0 b=1 c=1"
    boundary = 0.5

    def d_loss(self, real_out, fake_out, real_target=1.0):
        return 0.5 * ((real_out.float() - 1).pow(2).mean() + fake_out.float().pow(2).mean())

    def g_loss(self, fake_out):
        return 0.5 * (fake_out.float() - 1).pow(2).mean()


class Hinge(AdversarialLoss):
    name = "hinge"
    description = "hinge loss (SNGAN, BigGAN): D minimises E[relu(1 - D(x))] + E[relu(1 + D(G(z)))], G -E[D(G(z))]"

    def d_loss(self, real_out, fake_out, real_target=1.0):
        return F.relu(1 - real_out.float()).mean() + F.relu(1 + fake_out.float()).mean()

    def g_loss(self, fake_out):
        return -fake_out.float().mean()


class Wasserstein(AdversarialLoss):
    name = "wasserstein"
    description = "WGAN critic: D minimises E[D(G(z))] - E[D(x)], G -E[D(G(z))]; needs a Lipschitz D (GP or SN)"

    def d_loss(self, real_out, fake_out, real_target=1.0):
        return fake_out.float().mean() - real_out.float().mean()

    def g_loss(self, fake_out):
        return -fake_out.float().mean()


def get_loss(name: str) -> AdversarialLoss:
    """The registered loss called ``name``, or a ValueError that lists them."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}{closest(name, list(LOSSES))}; expected one of {sorted(LOSSES)}")
    return LOSSES[name]


def discriminator_loss(kind: str, real_out: torch.Tensor, fake_out: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
    """The discriminator's loss for the adversarial loss named ``kind``."""
    return get_loss(kind).d_loss(real_out, fake_out, real_target)


def generator_loss(kind: str, fake_out: torch.Tensor) -> torch.Tensor:
    """The generator's loss for the adversarial loss named ``kind``."""
    return get_loss(kind).g_loss(fake_out)

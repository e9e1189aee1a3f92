"""The base of the families trained with the run's adversarial loss, ``train.loss``.

The vanilla GAN and its descendants, InfoGAN and the semi-supervised GAN all let the user choose
the loss (``--set train.loss=least-squares``); they look it up here, once, instead of each its own way.
"""

from __future__ import annotations

import functools

import torch

from gankit.losses import AdversarialLoss, get_loss
from gankit.models.recipe import Recipe
from gankit.tricks.mode_seeking import mode_seeking_loss


class TrainLossRecipe(Recipe):
    """A recipe whose adversarial loss is the registered loss named by ``train.loss``."""

    @functools.cached_property
    def adversarial_loss(self) -> AdversarialLoss:
        return get_loss(self.train_config.loss)

    @property
    def mode_seeking(self) -> float:
        """lambda of the mode-seeking term in G's loss (0: off): ``model.mode_seeking`` of the families
        that have it (the StabilityOptions ones, cgan, acgan, stackgan), 0 for the others."""
        return getattr(self.options, "mode_seeking", 0.0)

    def with_mode_seeking(self, loss: torch.Tensor, stats: dict, fake: torch.Tensor, z: torch.Tensor):
        """G's ``loss`` plus lambda times the mode-seeking term of ``fake`` drawn from ``z`` (logged as
        ``g_mode_seeking``); ``loss`` itself when the trick is off."""
        if not self.mode_seeking:
            return loss
        seeking = mode_seeking_loss(fake, z)
        stats["g_mode_seeking"] = seeking.detach()
        return loss + self.mode_seeking * seeking

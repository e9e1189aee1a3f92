"""The base of the families trained with the run's adversarial loss, ``train.loss``.

The vanilla GAN and its descendants, InfoGAN and the semi-supervised GAN all let the user choose
the loss (``--set train.loss=least-squares``); they look it up here, once, instead of each its own way.
"""

from __future__ import annotations

import functools

from gankit.losses import AdversarialLoss, get_loss
from gankit.models.recipe import Recipe


class TrainLossRecipe(Recipe):
    """A recipe whose adversarial loss is the registered loss named by ``train.loss``."""

    @functools.cached_property
    def adversarial_loss(self) -> AdversarialLoss:
        return get_loss(self.train_config.loss)

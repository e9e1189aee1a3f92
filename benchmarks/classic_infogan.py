"""The classic PyTorch-GAN InfoGAN networks (eriklindernoren/PyTorch-GAN ``infogan.py``), in our own code.

``infogan.py`` reuses the shapes of its ``dcgan.py``: G is the classic DCGAN generator fed the
concatenation of the noise (62), the one-hot categorical code (10) and the continuous codes (2);
D is the classic DCGAN discriminator body (four Conv-LeakyReLU-Dropout2d[-BatchNorm] blocks) with
three linear heads on its 128 * 2 * 2 features: validity (1), the categorical code (10) and the
continuous codes (2). So this file builds them from ``classic.py``'s classes.

``ClassicInfoGAN`` (registered as ``infogan-classic`` on import) plugs these networks into gankit's
``infogan`` recipe, which trains them the gankit way: one generator pass per iteration, the
information term added to the D and G losses, data resident on the device. Differences from the
script that change numbers, not cost: the categorical head returns logits (the script applies
``nn.Softmax`` before ``CrossEntropyLoss``, a softmax twice), the continuous codes are read with a
fixed-variance Gaussian (the script's MSE), and BatchNorm uses the default eps (see classic.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

import classic
from gankit.models.infogan import InfoGAN, InfoGANOptions

LATENT, CATEGORIES, CODES = 62, 10, 2


class ClassicInfoGANDiscriminator(classic.ClassicDCGANDiscriminator):
    """images -> (validity logits (N,), [categorical logits (N, 10), continuous codes (N, 2)])."""

    def __init__(self, channels: int = 1, size: int = 32, categories: int = CATEGORIES, codes: int = CODES):
        super().__init__(channels, size)
        features = self.adv_layer.in_features
        self.aux_layer = nn.Linear(features, categories)  # the script: Linear + Softmax, then CrossEntropyLoss
        self.latent_layer = nn.Linear(features, codes)

    def heads(self, img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The three outputs as the script returns them (validity logits (N, 1))."""
        h = self.model(img).flatten(1)
        return self.adv_layer(h), self.aux_layer(h), self.latent_layer(h)

    def forward(self, img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        validity, label, code = self.heads(img)
        return validity.squeeze(1), torch.cat([label, code], 1)


def classic_infogan_nets(channels: int, size: int) -> tuple[nn.Module, nn.Module]:
    generator = classic.ClassicDCGANGenerator(LATENT + CATEGORIES + CODES, channels, size)
    return generator, ClassicInfoGANDiscriminator(channels, size)


@dataclass
class ClassicInfoGANOptions(InfoGANOptions):
    learn_std: bool = False  # the script's MSE on the continuous codes: a fixed-variance Gaussian


class ClassicInfoGAN(InfoGAN):
    name = "infogan-classic"
    description = "PyTorch-GAN's infogan.py networks (classic DCGAN G, D with three heads), trained by gankit"
    Options = ClassicInfoGANOptions
    train_defaults = {}  # the script's lr 2e-4 for both networks

    def __init__(self, options: ClassicInfoGANOptions, data, train):
        super().__init__(options, data, train)
        channels, size = self.square_images()
        self.nets["G"], self.nets["D"] = classic_infogan_nets(channels, size)

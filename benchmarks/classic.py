"""The classic PyTorch-GAN DCGAN networks (eriklindernoren/PyTorch-GAN ``dcgan.py``), in our own code.

Used by ``benchmarks/throughput.py`` twice: plugged into gankit's Trainer as a new recipe
(``ClassicDCGAN``, which registers itself as ``dcgan-classic`` when this file is imported), and trained by the re-implemented
classic loop of the baseline. The recipe shows that a new family is one small file: an Options
dataclass and ``self.nets["G"]`` / ``self.nets["D"]``; ``AdversarialRecipe`` supplies the phases,
the losses and ``generate``.

Architecture (32x32, latent 100):

* G: Linear(100, 128*s*s) -> view (128, s, s) -> BatchNorm2d(128) -> Upsample x2 ->
  Conv(128, 128, 3, 1, 1) -> BN -> LeakyReLU(0.2) -> Upsample x2 -> Conv(128, 64, 3, 1, 1) -> BN ->
  LeakyReLU(0.2) -> Conv(64, C, 3, 1, 1) -> Tanh, with s = size / 4.
* D: four blocks Conv(in, out, 3, 2, 1) -> LeakyReLU(0.2) -> Dropout2d(0.25) [-> BatchNorm2d(out),
  not in the first block] for C -> 16 -> 32 -> 64 -> 128, then Linear(128 * (size/16)**2, 1).
  D returns logits: gankit's losses apply the sigmoid (the baseline loop wraps it in one).

The original constructs its inner BatchNorm layers as ``BatchNorm2d(n, 0.8)``, i.e. eps = 0.8 (the
second positional argument is eps, probably meant as momentum). We use the default eps: it changes
the numbers a little, not the cost, which is what the benchmark measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gankit.models.gan import AdversarialRecipe


def init_normal(module: nn.Module) -> None:
    """The classic script's init: conv weights N(0, 0.02); BatchNorm scales N(1, 0.02), shifts 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class ClassicDCGANGenerator(nn.Module):
    """z (N, latent_dim) -> images (N, channels, size, size) in [-1, 1]."""

    def __init__(self, latent_dim: int = 100, channels: int = 1, size: int = 32):
        super().__init__()
        if size % 4:
            raise ValueError(f"the classic DCGAN generator needs a size divisible by 4, got {size}")
        self.init_size = size // 4
        self.l1 = nn.Linear(latent_dim, 128 * self.init_size ** 2)
        self.conv_blocks = nn.Sequential(
            nn.BatchNorm2d(128),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 128, 3, stride=1, padding=1),
            nn.BatchNorm2d(128),  # eps 0.8 in the original, see the module docstring
            nn.LeakyReLU(0.2, inplace=True),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 64, 3, stride=1, padding=1),
            nn.BatchNorm2d(64),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(64, channels, 3, stride=1, padding=1),
            nn.Tanh(),
        )
        init_normal(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.l1(z).view(z.shape[0], 128, self.init_size, self.init_size)
        return self.conv_blocks(x)


class ClassicDCGANDiscriminator(nn.Module):
    """images (N, channels, size, size) -> logits (N,)."""

    def __init__(self, channels: int = 1, size: int = 32):
        super().__init__()
        if size % 16:
            raise ValueError(f"the classic DCGAN discriminator needs a size divisible by 16, got {size}")

        def block(cin: int, cout: int, bn: bool = True) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True),
                                       nn.Dropout2d(0.25)]
            if bn:
                layers.append(nn.BatchNorm2d(cout))  # eps 0.8 in the original
            return layers

        self.model = nn.Sequential(*block(channels, 16, bn=False), *block(16, 32), *block(32, 64), *block(64, 128))
        ds = size // 2 ** 4
        self.adv_layer = nn.Linear(128 * ds * ds, 1)  # the original follows it with nn.Sigmoid()
        init_normal(self)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return self.adv_layer(self.model(img).flatten(1)).squeeze(1)


@dataclass
class ClassicDCGANOptions:
    latent_dim: int = 100


class ClassicDCGAN(AdversarialRecipe):
    """gankit recipe for the classic networks; the Trainer does the rest (k, losses, precision, EMA ...)."""

    name = "dcgan-classic"
    description = "PyTorch-GAN's dcgan.py networks (Upsample+Conv G, Conv+Dropout2d D), trained by gankit"
    Options = ClassicDCGANOptions

    def __init__(self, options: ClassicDCGANOptions, data, train):
        super().__init__(options, data, train)
        channels, size = self.square_images()
        self.nets["G"] = ClassicDCGANGenerator(options.latent_dim, channels, size)
        self.nets["D"] = ClassicDCGANDiscriminator(channels, size)


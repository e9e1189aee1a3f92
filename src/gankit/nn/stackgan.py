"""StackGAN's networks (Zhang et al. 2017), stage I, built on gankit's DCGAN bodies.

* :class:`ConditioningAugmentation`: the text embedding e gives a Gaussian N(mu(e), sigma(e)^2)
  and the generator is conditioned on a sample ``c = mu + sigma * eps`` of it, so a few thousand
  captions cover a smooth conditioning manifold rather than isolated points; a KL term keeps the
  Gaussian near N(0, I). Without augmentation (the ablation), ``c = mu(e)``.
* :class:`TextGenerator`: G(z, eps, e) = DCGAN generator of ``cat(z, c)``.
* :class:`MatchingDiscriminator`: D(x, e): the DCGAN body's last feature map (4x4) joined with a
  compressed e copied to every position, a 3x3 convolution over both, then the logit over the 4x4
  map, as StackGAN's ``D_GET_LOGITS`` joins image and text.
"""

from __future__ import annotations

import torch
from torch import nn

from .dcgan import DCGANGenerator, discriminator_body, init_weights, layout


class ConditioningAugmentation(nn.Module):
    """Text embedding (N, embed_dim) -> (c, mu, logvar), each (N, condition_dim)."""

    def __init__(self, embed_dim: int, condition_dim: int, sample: bool = True):
        super().__init__()
        self.sample = sample
        self.fc = nn.Linear(embed_dim, 2 * condition_dim)
        self.act = nn.ReLU(True)

    def forward(self, embedding: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.act(self.fc(embedding)).chunk(2, dim=1)
        if not self.sample:
            return mu, mu, torch.zeros_like(mu)
        return mu + eps * (0.5 * logvar).exp(), mu, logvar


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per element, averaged (StackGAN's code averages over the
    elements rather than summing over dimensions; its weight of 2 is set for that)."""
    return 0.5 * (mu.float().square() + logvar.float().exp() - 1.0 - logvar.float()).mean()


class TextGenerator(nn.Module):
    """(z, eps, embedding) -> images; ``last_kl`` holds the KL term of the latest forward pass."""

    def __init__(self, latent_dim: int, embed_dim: int, condition_dim: int, channels: int, resolution: int,
                 base: int = 64, augmentation: bool = True):
        super().__init__()
        self.augmentation = ConditioningAugmentation(embed_dim, condition_dim, augmentation)
        self.body = DCGANGenerator(latent_dim + condition_dim, channels, resolution, base)

    def forward(self, z: torch.Tensor, eps: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        c, mu, logvar = self.augmentation(embedding.to(z.dtype), eps)
        self.last_kl = kl_to_standard_normal(mu, logvar)
        return self.body(torch.cat([z, c], 1))


class MatchingDiscriminator(nn.Module):
    """(images, embedding) -> logits (N,): is this a real image of this caption?"""

    def __init__(self, channels: int, resolution: int, embed_dim: int, base: int = 64, text_dim: int = 128,
                 slope: float = 0.2):
        super().__init__()
        self.features, width = discriminator_body(channels, resolution, base)
        self.start, _ = layout(resolution)
        self.text = nn.Sequential(nn.Linear(embed_dim, text_dim), nn.LeakyReLU(slope, True))
        self.joint = nn.Sequential(nn.Conv2d(width + text_dim, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width),
                                   nn.LeakyReLU(slope, True), nn.Conv2d(width, 1, self.start, 1, 0))
        init_weights(self)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        t = self.text(embedding.to(h.dtype))[:, :, None, None].expand(-1, -1, self.start, self.start)
        return self.joint(torch.cat([h, t], 1)).flatten()

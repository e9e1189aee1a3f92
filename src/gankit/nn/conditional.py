"""Class-conditional wrappers around gankit's unconditional networks (cGAN, ACGAN).

Mirza & Osindero (2014) feed the label ``y`` to both networks: G(z|y), D(x|y). Here

* :class:`LabelledGenerator` joins a learned label embedding to ``z`` before any generator body
  that maps (N, latent) to samples (the DCGAN or the MLP generator);
* :class:`LabelMapD` joins the label to a convolutional discriminator's *input* as a learned
  per-class image channel, so that every layer can compare image and label;
* :class:`LabelConcatD` joins a label embedding to a fully connected discriminator's input;
* :class:`ProjectionD` is Miyato & Koyama's (2018) projection discriminator:
  ``D(x, y) = psi(phi(x)) + <embed(y), phi(x)>``, with ``phi`` the body's (spatially summed)
  features and ``psi`` its unconditional output layer;
* :class:`ClassHeadD` is ACGAN's discriminator (Odena et al. 2017): the unconditional body with a
  second, K-way class head beside the real/fake one.

Discriminator bodies are gankit's ``DCGANDiscriminator`` or ``MLPDiscriminator``: both expose
``features(x)`` and the output layer ``out`` applied to them.
"""

from __future__ import annotations

import torch
from torch import nn


def pooled(h: torch.Tensor) -> torch.Tensor:
    """Features (N, C, H, W) summed over space as in Miyato & Koyama; (N, C) features as they are."""
    return h.sum((2, 3)) if h.ndim == 4 else h


def body_output(body: nn.Module, h: torch.Tensor) -> torch.Tensor:
    """The body's unconditional logits (N,) from its features."""
    return body.out(h).reshape(len(h))


class LabelledGenerator(nn.Module):
    """G(z|y): ``body(cat(z, embed(y)))``; ``body`` must take ``latent_dim + embed_dim`` inputs."""

    def __init__(self, body: nn.Module, classes: int, embed_dim: int):
        super().__init__()
        self.embed = nn.Embedding(classes, embed_dim)
        self.body = body

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([z, self.embed(y).to(z.dtype)], 1))


class LabelMapD(nn.Module):
    """D(x|y) for images: ``body(cat(x, map(y)))``, a learned per-class H x W map as one more input channel.

    One channel rather than K one-hot maps keeps the first convolution's cost near the
    unconditional one; the map is a class-dependent, position-dependent input that the first
    layer can combine with the pixels.
    """

    def __init__(self, body: nn.Module, classes: int, height: int, width: int):
        super().__init__()
        self.body, self.size = body, (height, width)
        self.embed = nn.Embedding(classes, height * width)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        maps = self.embed(y).to(x.dtype).view(y.shape[0], 1, *self.size)
        joined = torch.cat([x, maps], 1)
        if x.is_contiguous(memory_format=torch.channels_last):  # keep the Trainer's NHWC layout
            joined = joined.contiguous(memory_format=torch.channels_last)
        return self.body(joined)


class LabelConcatD(nn.Module):
    """D(x|y) for points: ``body(cat(flatten(x), embed(y)))``; body takes D + embed_dim inputs."""

    def __init__(self, body: nn.Module, classes: int, embed_dim: int):
        super().__init__()
        self.embed = nn.Embedding(classes, embed_dim)
        self.body = body

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([x.flatten(1), self.embed(y).to(x.dtype)], 1))


class ProjectionD(nn.Module):
    """Miyato & Koyama's projection discriminator around an unconditional body.

    The class embedding starts small (N(0, 0.02), like DCGAN's weights), so training begins as an
    unconditional GAN and the inner product grows as D learns which features tell the classes apart.
    """

    def __init__(self, body: nn.Module, classes: int, feature_dim: int):
        super().__init__()
        self.body = body
        self.embed = nn.Embedding(classes, feature_dim)
        nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.body.features(x)
        phi = pooled(h)
        return body_output(self.body, h) + (self.embed(y).to(phi.dtype) * phi).sum(1)


class ClassHeadD(nn.Module):
    """ACGAN's D: ``x -> (real/fake logits (N,), class logits (N, K))`` from one shared body."""

    def __init__(self, body: nn.Module, classes: int, feature_dim: int):
        super().__init__()
        self.body = body
        self.classify = nn.Linear(feature_dim, classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body.features(x)
        return body_output(self.body, h), self.classify(h.flatten(1))


@torch.no_grad()
def feature_shape(body: nn.Module, in_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of one example's ``body.features`` (a dry run in eval mode, so BatchNorm is untouched)."""
    was_training = body.training
    body.eval()
    try:
        return tuple(body.features(torch.zeros(2, *in_shape)).shape[1:])
    finally:
        body.train(was_training)

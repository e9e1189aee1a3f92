"""Radford et al. (2016) DCGAN networks at any resolution ``start * 2**m`` (start 4 or 7).

Guidelines followed: no pooling (strided convolutions in D, fractional-strided in G), BatchNorm
in both networks except G's output and D's input layer, ReLU in G with a Tanh output, LeakyReLU
(0.2) in D, weights drawn from N(0, 0.02).
28x28 images start from 7x7 and 32/64/... from 4x4.

Radford et al. also drop fully connected hidden layers; ``fc=WIDTH`` puts one back in each network
(G: z -> FC -> FC to the first feature map; D: the last feature map -> FC -> the logit, both with
BatchNorm), which is how InfoGAN's MNIST networks (Chen et al. 2016, appendix Table 1) differ from
DCGAN's. On 28x28 data at a few CPU minutes these train to a far lower FID (benchmarks/RESULTS.md).
"""

from __future__ import annotations

from torch import nn


def layout(resolution: int) -> tuple[int, int]:
    """(start, doublings) with ``start * 2**doublings == resolution``; start is 4 or 7."""
    for start in (4, 7):
        m, r = 0, resolution
        while r > start and r % 2 == 0:
            r //= 2
            m += 1
        if r == start and m >= 1:
            return start, m
    raise ValueError(f"DCGAN needs an image size of 4 or 7 times a power of two (8, 14, 28, 32, 64, ...), "
                     f"got {resolution}; resize with --set data.size=32")


def init_weights(module: nn.Module) -> None:
    """Radford et al.: all weights from N(0, 0.02); BatchNorm scales from N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d) and m.affine:  # a BatchNorm without affine has nothing to draw
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def generator_widths(resolution: int, base: int) -> tuple[int, list[int]]:
    """(start, widths): the generator's feature maps from the first (``start`` x ``start``, widest)
    to the last before the image, halving the channels at each doubling of the size down to ``base``."""
    start, m = layout(resolution)
    return start, [base * 2 ** (m - 1 - i) for i in range(m)]


def upsampling_layers(widths: list[int], channels: int) -> list[nn.Module]:
    """DCGAN's generator body after its first feature map of ``widths[0]`` channels: a
    fractional-strided convolution to each next width doubling the size (BatchNorm, ReLU), then one
    more to ``channels`` with Tanh."""
    layers: list[nn.Module] = []
    for width, half in zip(widths, widths[1:]):
        layers += [nn.ConvTranspose2d(width, half, 4, 2, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(True)]
    return layers + [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]


def fully_connected(in_features: int, out_features: int, activation: nn.Module) -> list[nn.Module]:
    """A hidden fully connected layer as DCGAN treats its convolutions: no bias, BatchNorm, activation."""
    return [nn.Linear(in_features, out_features, bias=False), nn.BatchNorm1d(out_features), activation]


def discriminator_body(channels: int, resolution: int, base: int = 64, fc: int = 0,
                       slope: float = 0.2, batchnorm: bool = True) -> tuple[nn.Sequential, int]:
    """DCGAN's discriminator without its output layer, and the width of what it outputs.

    Strided convolutions from ``channels`` to ``base`` channels, doubling them at each coarser scale
    (BatchNorm after all but the first unless ``batchnorm`` is False, LeakyReLU); with ``fc=WIDTH``
    then a fully connected hidden layer of that width, whose output width is returned instead of the
    last feature map's channels.
    """
    start, m = layout(resolution)
    layers: list[nn.Module] = [nn.Conv2d(channels, base, 4, 2, 1), nn.LeakyReLU(slope, True)]
    width = base
    for _ in range(m - 1):
        layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=not batchnorm),
                   nn.BatchNorm2d(width * 2) if batchnorm else nn.Identity(), nn.LeakyReLU(slope, True)]
        width *= 2
    if fc:
        layers += [nn.Flatten(), *fully_connected(width * start * start, fc, nn.LeakyReLU(slope, True))]
        width = fc
    return nn.Sequential(*layers), width


class DCGANGenerator(nn.Module):
    """z (N, latent_dim) -> images (N, channels, resolution, resolution) in [-1, 1].

    ``fc=0`` projects z to the first feature map with a transposed convolution (``net``);
    ``fc=WIDTH`` with two fully connected layers (``fc``) before the upsampling ones (``conv``).
    """

    def __init__(self, latent_dim: int, channels: int, resolution: int, base: int = 64, fc: int = 0):
        super().__init__()
        start, widths = generator_widths(resolution, base)
        width = widths[0]
        self.first_map = (width, start, start) if fc else None  # what the fully connected layers reshape to
        if fc:
            self.fc = nn.Sequential(*fully_connected(latent_dim, fc, nn.ReLU(True)),
                                    *fully_connected(fc, width * start * start, nn.ReLU(True)))
            self.conv = nn.Sequential(*upsampling_layers(widths, channels))
        else:
            self.net = nn.Sequential(nn.ConvTranspose2d(latent_dim, width, start, 1, 0, bias=False),
                                     nn.BatchNorm2d(width), nn.ReLU(True), *upsampling_layers(widths, channels))
        init_weights(self)

    def forward(self, z):
        if self.first_map:
            return self.conv(self.fc(z).view(z.shape[0], *self.first_map))
        return self.net(z[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    """images (N, channels, resolution, resolution) -> logits (N,).

    ``features`` is the body (:func:`discriminator_body`) and ``out`` the logit layer: a convolution
    over the last feature map, or with ``fc=WIDTH`` a linear layer after the fully connected one.
    """

    def __init__(self, channels: int, resolution: int, base: int = 64, fc: int = 0):
        super().__init__()
        self.features, width = discriminator_body(channels, resolution, base, fc)
        start, _ = layout(resolution)
        self.out = nn.Linear(width, 1) if fc else nn.Conv2d(width, 1, start, 1, 0)
        init_weights(self)

    def forward(self, x):
        return self.out(self.features(x)).flatten()

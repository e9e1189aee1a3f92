"""Progressive GAN's networks (Karras et al. 2018): a generator and a discriminator that grow by doubling.

Both hold a block for every resolution from the start (4x4, or 7x7 for 28x28 data) to the data's
size; a call names the ``stage`` (how many doublings are in use) and the fade-in weight ``alpha``
of the newest block:

* G: the newest block's image is blended with the 2x-upsampled image of the previous resolution,
  ``lerp(up(toRGB_{s-1}(h_{s-1})), toRGB_s(h_s), alpha)``;
* D: the newest block's output is blended with the image 2x-downsampled through the previous
  resolution's input layer, ``lerp(fromRGB_{s-1}(down(x)), block_s(fromRGB_s(x)), alpha)``;

so at ``alpha = 0`` each network computes exactly what it did at the previous stage (the lectures'
16x16 -> 32x32 figure). The official choices: equalised learning rate everywhere, pixelwise feature
normalisation after every convolution of G, leaky ReLU 0.2, a linear toRGB, minibatch standard
deviation before D's last block, nearest upsampling and average-pool downsampling.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gankit.nn.equalized import HE_GAIN, EqualizedConv2d, EqualizedLinear, MinibatchStddev, PixelNorm, pixel_norm

SLOPE = 0.2


def resolutions(size: int) -> list[int]:
    """The resolutions a network for ``size`` x ``size`` images grows through: 4, 8, ..., or 7, 14, 28."""
    for start in (4, 7):
        grown = [start]
        while grown[-1] < size:
            grown.append(2 * grown[-1])
        if grown[-1] == size:
            return grown
    raise ValueError(f"Progressive GAN grows by doubling from 4x4 (or 7x7): image sizes 4, 8, 16, 32, 64, ... "
                     f"or 7, 14, 28, 56; got {size}x{size}; resize with --set data.size=32 (or 64)")


def feature_widths(size: int, width_base: int, max_width: int) -> list[int]:
    """Feature maps per resolution: ``min(max_width, width_base / resolution)`` (the paper: 8192 and 512)."""
    return [max(1, min(max_width, width_base // r)) for r in resolutions(size)]


def act() -> nn.Module:
    return nn.LeakyReLU(SLOPE)


def upsample(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="nearest")


def downsample(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 2)


def fading(stage: int, alpha: torch.Tensor | float) -> bool:
    """Whether the newest block is still fading in (else the previous resolution's path is skipped)."""
    return stage > 0 and float(alpha) < 1.0


def fade(previous: torch.Tensor, newest: torch.Tensor, alpha: torch.Tensor | float) -> torch.Tensor:
    """``previous`` at alpha = 0, ``newest`` at alpha = 1, linear between (exactly ``previous`` at 0)."""
    alpha = torch.as_tensor(alpha, dtype=newest.dtype, device=newest.device)
    return previous + alpha * (newest - previous)


class ProgressiveGenerator(nn.Module):
    """z (N, latent_dim) -> images (N, channels, r, r) at the resolution ``r`` of ``stage``."""

    def __init__(self, latent_dim: int, channels: int, size: int, width_base: int = 1024, max_width: int = 64):
        super().__init__()
        self.resolutions = resolutions(size)
        widths = feature_widths(size, width_base, max_width)
        start, first = self.resolutions[0], widths[0]
        self.first_shape = (first, start, start)
        # The paper's 4x4 block: a dense layer to a 4x4 map (He gain / 4, as the official code), then 3x3.
        self.dense = EqualizedLinear(latent_dim, first * start * start, gain=HE_GAIN / 4)
        self.first = nn.Sequential(act(), PixelNorm(), EqualizedConv2d(first, first, 3), act(), PixelNorm())
        self.blocks = nn.ModuleList(
            nn.Sequential(EqualizedConv2d(w_in, w_out, 3, up=True), act(), PixelNorm(),
                          EqualizedConv2d(w_out, w_out, 3), act(), PixelNorm())
            for w_in, w_out in zip(widths, widths[1:]))
        self.to_rgb = nn.ModuleList(EqualizedConv2d(w, channels, 1, gain=1.0) for w in widths)

    def forward(self, z: torch.Tensor, stage: int, alpha: torch.Tensor | float = 1.0) -> torch.Tensor:
        h = self.first(self.dense(pixel_norm(z)).view(z.shape[0], *self.first_shape))
        previous = h
        for block in self.blocks[:stage]:
            previous, h = h, block(h)
        image = self.to_rgb[stage](h)
        if not fading(stage, alpha):
            return image
        return fade(upsample(self.to_rgb[stage - 1](previous)), image, alpha)


class ProgressiveDiscriminator(nn.Module):
    """images (N, channels, r, r) at any of the resolutions -> scores (N,); the stage follows from r."""

    def __init__(self, channels: int, size: int, width_base: int = 1024, max_width: int = 64,
                 group_size: int = 4):
        super().__init__()
        self.resolutions = resolutions(size)
        widths = feature_widths(size, width_base, max_width)
        start, first = self.resolutions[0], widths[0]
        self.from_rgb = nn.ModuleList(nn.Sequential(EqualizedConv2d(channels, w, 1), act()) for w in widths)
        # blocks[i] takes resolution i + 1 down to resolution i.
        self.blocks = nn.ModuleList(
            nn.Sequential(EqualizedConv2d(w_in, w_in, 3), act(), EqualizedConv2d(w_in, w_out, 3, down=True), act())
            for w_out, w_in in zip(widths, widths[1:]))
        self.last = nn.Sequential(MinibatchStddev(group_size), EqualizedConv2d(first + 1, first, 3), act(),
                                  nn.Flatten(), EqualizedLinear(first * start * start, first), act(),
                                  EqualizedLinear(first, 1, gain=1.0))

    def stage_of(self, x: torch.Tensor) -> int:
        size = x.shape[-1]
        if size not in self.resolutions:
            raise ValueError(f"this discriminator takes images of {self.resolutions} pixels, got {size}x{size}")
        return self.resolutions.index(size)

    def forward(self, x: torch.Tensor, alpha: torch.Tensor | float = 1.0) -> torch.Tensor:
        stage = self.stage_of(x)
        h = self.from_rgb[stage](x)
        if stage > 0:
            h = self.blocks[stage - 1](h)
            if fading(stage, alpha):
                h = fade(self.from_rgb[stage - 1](downsample(x)), h, alpha)
            for block in reversed(self.blocks[:stage - 1]):
                h = block(h)
        return self.last(h).flatten()

"""Layers with an equalised learning rate (Karras et al. 2018, section 4.1), and the two normalisations
Progressive GAN adds around them.

An equalised layer draws its weights from N(0, 1) and multiplies them at run time by He's constant
``gain / sqrt(fan_in)``. The function is that of a He-initialised layer, but Adam (whose step is
about the learning rate whatever a weight's scale) now moves every layer's effective weights by
the same relative amount, so no layer learns faster because its fan-in is small. StyleGAN's
mapping network adds a learning-rate multiplier: weights stored ``1 / lr_multiplier`` times larger
and scaled back down, so the same Adam step moves them ``lr_multiplier`` times less.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gankit.nn.fuse import conv2d_downsampled, upsampled_conv2d

HE_GAIN = math.sqrt(2.0)  # for layers followed by a (leaky) ReLU


class EqualizedLinear(nn.Module):
    """``y = x @ (scale * W).T + lr_multiplier * b`` with ``W ~ N(0, 1 / lr_multiplier**2)``."""

    def __init__(self, in_features: int, out_features: int, gain: float = HE_GAIN, lr_multiplier: float = 1.0,
                 bias: bool = True, bias_init: float = 0.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full((out_features,), bias_init / lr_multiplier)) if bias else None
        self.scale = gain / math.sqrt(in_features) * lr_multiplier
        self.lr_multiplier = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = None if self.bias is None else self.bias * self.lr_multiplier
        return F.linear(x, self.weight * self.scale, bias)

    def extra_repr(self) -> str:
        return f"{self.weight.shape[1]}, {self.weight.shape[0]}, scale={self.scale:.4g}"


class EqualizedConv2d(nn.Module):
    """A ``kernel`` x ``kernel`` convolution (same padding) with He's constant applied at run time.

    ``up=True`` convolves the input upsampled x2 (nearest) and ``down=True`` average-pools the
    output x2; both are computed as one 4x4 (transposed) strided convolution for a 3x3 kernel
    (:mod:`gankit.nn.fuse`), the same function at 2.25x fewer multiply-adds.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int, gain: float = HE_GAIN,
                 bias: bool = True, up: bool = False, down: bool = False):
        super().__init__()
        if (up or down) and kernel != 3:
            raise ValueError(f"up/down-sampling convolutions are fused for 3x3 kernels only, got {kernel}x{kernel}")
        if up and down:
            raise ValueError("a convolution either upsamples or downsamples, not both")
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.scale = gain / math.sqrt(in_channels * kernel * kernel)
        self.up, self.down = up, down

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight * self.scale
        if self.up:
            return upsampled_conv2d(x, weight, self.bias)
        if self.down:
            return conv2d_downsampled(x, weight, self.bias)
        return F.conv2d(x, weight, self.bias, padding=weight.shape[-1] // 2)

    def extra_repr(self) -> str:
        out, inp, k, _ = self.weight.shape
        return f"{inp}, {out}, kernel={k}, scale={self.scale:.4g}, up={self.up}, down={self.down}"


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Each pixel's feature vector scaled to unit mean square (Karras et al. 2018, section 4.2)."""
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + eps)


class PixelNorm(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return pixel_norm(x)


class MinibatchStddev(nn.Module):
    """Appends one feature map: the standard deviation over a group of samples, averaged over
    features and pixels (Karras et al. 2018, section 3), so D can see how varied a batch is.

    Samples ``i`` and ``i + N/G`` fall in one group of ``G`` (``group_size``, or the largest divisor of
    the batch below it), as in the official code. A group of identical samples gets
    ``sqrt(eps) = 1e-4``, the square root's guard against a zero variance.
    """

    def __init__(self, group_size: int = 4, eps: float = 1e-8):
        super().__init__()
        self.group_size, self.eps = group_size, eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n)
        while n % g:
            g -= 1
        # Features flattened in memory order (a view also of the Trainer's channels-last tensors): the
        # average over them does not care about their order, and one flat dimension costs fewer ops
        # through the gradient penalty's double backward.
        flat = x.permute(0, 2, 3, 1) if x.is_contiguous(memory_format=torch.channels_last) else x
        y = flat.float().reshape(g, n // g, c * h * w)
        # The variance written out: with torch.var a Progressive GAN step at 4x4 took 30 % longer (its double backward).
        y = ((y - y.mean(dim=0)).square().mean(dim=0) + self.eps).sqrt().mean(dim=1)  # (N/G,)
        y = y.repeat(g).reshape(n, 1, 1, 1).expand(n, 1, h, w)
        return torch.cat([x, y.to(x.dtype)], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}"

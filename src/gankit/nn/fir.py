"""Blurred resampling with the binomial filter [1, 3, 3, 1] (StyleGAN's anti-aliasing, after Zhang 2019).

Nearest upsampling and strided convolutions alias: a checkerboard leaks into G's images and D's
features move with sub-pixel shifts. StyleGAN and StyleGAN2 low-pass filter around every change of
resolution with the separable 4-tap filter ``[1, 3, 3, 1] / 8`` per axis. Written here in plain
PyTorch (depthwise convolutions), so it runs on any device and exports; NVlabs' ``upfirdn2d``
does the same with a custom kernel.

* :func:`upsample2d`: zero insertion then the filter with gain 4 (a bilinear x2 upsampling);
* :func:`downsample2d`: the filter then every other pixel (a [1, 3, 3, 1] x2 downsampling);
* :func:`blur`: the filter alone, with chosen padding, around a strided convolution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

TAPS = (1.0, 3.0, 3.0, 1.0)


def kernel_2d(channels: int, gain: float = 1.0, device=None, dtype=None) -> torch.Tensor:
    """The filter's outer product, normalised to sum ``gain``, as a depthwise weight (C, 1, 4, 4)."""
    taps = torch.tensor(TAPS, device=device, dtype=dtype)
    k = torch.outer(taps, taps)
    k = k * (gain / k.sum())
    return k.expand(channels, 1, 4, 4)


def blur(x: torch.Tensor, pad: tuple[int, int], gain: float = 1.0) -> torch.Tensor:
    """The 4x4 filter over every channel, after padding ``pad = (before, after)`` zeros on each axis.

    The output has ``size + before + after - 3`` pixels per axis.
    """
    x = F.pad(x, (pad[0], pad[1], pad[0], pad[1]))
    return F.conv2d(x, kernel_2d(x.shape[1], gain, x.device, x.dtype), groups=x.shape[1])


def upsample2d(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, 2H, 2W): zeros between the pixels, then the filter with gain 4.

    As one transposed depthwise convolution with stride 2: each output pixel mixes its two nearest
    inputs with weights 3/4 and 1/4 per axis (bilinear interpolation).
    """
    c = x.shape[1]
    return F.conv_transpose2d(x, kernel_2d(c, 4.0, x.device, x.dtype), stride=2, padding=1, groups=c)


def downsample2d(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, H/2, W/2): the filter, then every other pixel (one strided depthwise convolution)."""
    c = x.shape[1]
    return F.conv2d(x, kernel_2d(c, 1.0, x.device, x.dtype), stride=2, padding=1, groups=c)

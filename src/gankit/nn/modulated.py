"""StyleGAN2's modulated convolution with weight demodulation (Karras et al. 2020, section 2.2).

A style ``s = A(w)`` (a learned affine map of the intermediate latent) scales the convolution's
input channels, ``w'_{ijk} = s_i * w_{ijk}``, and demodulation rescales each output channel by
``1 / sqrt(sum_{i,k} w'_{ijk}^2 + eps)``: for inputs of unit variance the outputs have unit
variance again, whatever the style, which is what StyleGAN's instance normalisation was for,
without the "water droplet" artefacts it caused.

Computed here without per-sample weights: scaling the input by ``s``, one convolution with the
shared weight, and scaling the output by the demodulation coefficients is the same function (the
official code's ``fused_modconv=False`` path) and runs as one ordinary batched convolution on a CPU
instead of a grouped convolution with a group per sample.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gankit.nn.equalized import EqualizedLinear
from gankit.nn.fir import blur


def demodulation(weight: torch.Tensor, styles: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``1 / ||s * w_j||`` for each sample and output channel: (N, out) from ``weight`` (out, in, k, k)
    and ``styles`` (N, in), without building the (N, out, in, k, k) modulated weights."""
    energy = weight.square().sum(dim=(2, 3))  # (out, in)
    return torch.rsqrt(styles.square() @ energy.t() + eps)


class ModulatedConv2d(nn.Module):
    """A ``kernel`` x ``kernel`` convolution whose input channels a style from ``w`` scales per sample.

    Parameters
    ----------
    w_dim : width of the intermediate latent w.
    in_channels, out_channels, kernel : as ``nn.Conv2d`` (same padding).
    demodulate : rescale each output channel to unit variance (off for toRGB layers).
    up : upsample x2 first: a transposed convolution with stride 2, blurred by [1, 3, 3, 1].
    """

    def __init__(self, w_dim: int, in_channels: int, out_channels: int, kernel: int, demodulate: bool = True,
                 up: bool = False):
        super().__init__()
        # Styles start at 1 (bias 1), so an untrained layer is a plain convolution.
        self.affine = EqualizedLinear(w_dim, in_channels, gain=1.0, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.scale = 1.0 / math.sqrt(in_channels * kernel * kernel)  # equalised learning rate
        self.demodulate, self.up = demodulate, up

    def forward(self, x: torch.Tensor, w: torch.Tensor, bias: torch.Tensor | None = None,
                gain: float = 1.0) -> torch.Tensor:
        """``gain * (conv(x) + bias)``, the bias added in the same pass as the demodulation."""
        styles = self.affine(w)  # (N, in)
        weight = self.weight * self.scale
        x = x * styles[:, :, None, None].to(x.dtype)
        if self.up:  # (H, W) -> (2H+1, 2W+1) -> blurred to (2H, 2W)
            x = blur(F.conv_transpose2d(x, weight.transpose(0, 1), stride=2), (1, 1), gain=4.0)
        else:
            x = F.conv2d(x, weight, padding=weight.shape[-1] // 2)
        scale = demodulation(weight, styles) * gain if self.demodulate else torch.full_like(styles[:, :1], gain)
        if bias is None:
            return x * scale[:, :, None, None].to(x.dtype)
        return torch.addcmul((bias * gain)[:, None, None].to(x.dtype), x, scale[:, :, None, None].to(x.dtype))

    def extra_repr(self) -> str:
        out, inp, k, _ = self.weight.shape
        return f"{inp}, {out}, kernel={k}, demodulate={self.demodulate}, up={self.up}"

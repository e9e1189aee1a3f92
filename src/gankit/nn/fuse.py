"""Nearest-neighbour x2 upsampling followed by a 3x3 convolution, computed as one transposed convolution.

Generators in the style of PyTorch-GAN's ``dcgan.py`` / ``acgan.py`` grow images with
``nn.Upsample(scale_factor=2)`` then ``nn.Conv2d(k=3, s=1, p=1)``: the convolution runs on an image
four times larger than its information. Along one axis, with taps ``w[-1], w[0], w[1]``, the
even output pixel ``2i`` sees ``w[-1] x[i-1] + (w[0] + w[1]) x[i]`` and the odd one ``2i+1`` sees
``(w[-1] + w[0]) x[i] + w[1] x[i+1]``: a transposed convolution with stride 2, padding 1 and the
4-tap kernel ``(w[1], w[0] + w[1], w[-1] + w[0], w[-1])`` (the outer product of that map on both
axes for 2-D). It computes the same function with 16 instead of 36 multiply-adds per input pixel
and channel pair, and the 3x3 weights stay the parameters (autograd differentiates the kernel
construction), so optimisers, checkpoints and state dicts are unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# TAPS[k, t]: how much 3x3 tap t (0: w[-1], 1: w[0], 2: w[1]) contributes to transposed-kernel tap k.
TAPS = torch.tensor([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def upsampled_conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``conv2d(upsample_nearest_x2(x), weight, bias, padding=1)`` for a 3x3 ``weight``, as one transposed convolution."""
    taps = TAPS.to(device=weight.device, dtype=weight.dtype)
    kernel = torch.einsum("pi,qj,ocij->copq", taps, taps, weight)  # (in, out, 4, 4)
    return F.conv_transpose2d(x, kernel, bias, stride=2, padding=1)


def conv2d_downsampled(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``avg_pool2d(conv2d(x, weight, bias, padding=1), 2)`` for a 3x3 ``weight``, as one strided convolution.

    The mirror image of :func:`upsampled_conv2d`: output pixel ``i`` averages the 3x3 responses at
    ``2i`` and ``2i+1``, which see the inputs ``2i-1 .. 2i+2`` with the 4-tap kernel
    ``(w[-1], w[-1] + w[0], w[0] + w[1], w[1]) / 2`` per axis: 16 instead of 36 multiply-adds per
    output pixel and channel pair (Progressive GAN's "fused scale" in its discriminator).
    """
    taps = TAPS.flip(0).to(device=weight.device, dtype=weight.dtype) / 2
    kernel = torch.einsum("pi,qj,ocij->ocpq", taps, taps, weight)  # (out, in, 4, 4)
    return F.conv2d(x, kernel, bias, stride=2, padding=1)


class UpsampledConv2d(nn.Conv2d):
    """``Conv2d(k=3, s=1, p=1)`` applied to the input upsampled x2 (nearest), in one transposed convolution."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upsampled_conv2d(x, self.weight, self.bias)


def _is_nearest_x2(m: nn.Module) -> bool:
    if type(m) is not nn.Upsample or m.mode != "nearest" or m.size is not None:
        return False
    scale = m.scale_factor if isinstance(m.scale_factor, tuple) else (m.scale_factor,) * 2
    return tuple(float(s) for s in scale) == (2.0, 2.0)


def _is_plain_3x3(m: nn.Module) -> bool:
    return (type(m) is nn.Conv2d and m.kernel_size == (3, 3) and m.stride == (1, 1) and m.padding == (1, 1)
            and m.dilation == (1, 1) and m.groups == 1 and m.padding_mode == "zeros")


def fuse_upsample_conv(module: nn.Module) -> int:
    """Rewrite every ``Upsample(x2, nearest) -> Conv2d(3x3, s1, p1)`` pair inside an ``nn.Sequential`` in place.

    The upsampling becomes ``nn.Identity`` and the convolution an :class:`UpsampledConv2d` holding
    the same parameters, so the module's state dict keeps its keys and values. Returns the number
    of pairs fused. Call it before the optimisers are built (the parameters stay the same objects,
    so afterwards is harmless too).
    """
    fused = 0
    for seq in list(module.modules()):
        if not isinstance(seq, nn.Sequential):
            continue
        names = list(seq._modules)
        for first, second in zip(names, names[1:]):
            up, conv = seq._modules[first], seq._modules[second]
            if _is_nearest_x2(up) and _is_plain_3x3(conv):
                seq._modules[first] = nn.Identity()
                conv.__class__ = UpsampledConv2d
                fused += 1
    return fused

"""The U-Net generator of pix2pix (Isola et al. 2017, after Ronneberger et al. 2015).

An encoder of ``depth`` stride-2 4x4 convolutions (LeakyReLU 0.2, BatchNorm but on the first and
the innermost) halves the image ``depth`` times; a decoder of stride-2 4x4 transposed convolutions
(ReLU, BatchNorm) doubles it back, and every decoder layer also sees the encoder layer of the same
resolution (a skip connection: concatenated channels), so low-level structure such as the
position of edges passes straight across. Dropout 0.5 in the three innermost decoder layers is
pix2pix's noise source: the generator takes no latent z. With ``depth = log2(size)`` the
bottleneck is 1x1, as in the paper (8 levels for 256x256).

An image whose sides the encoder cannot halve ``depth`` times (Fashion-MNIST's 28x28) is padded
by repeating its border up to the next multiple of ``2 ** depth``, and the output is cropped back:
the network then reads images at their own resolution instead of resized ones.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def down(c_in: int, c_out: int, norm: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(c_out))
    return nn.Sequential(*layers)


def up(c_in: int, c_out: int, dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = [nn.ReLU(), nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
                               nn.BatchNorm2d(c_out)]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class UNetGenerator(nn.Module):
    """Image (N, in_channels, S, S) in [-1, 1] -> image (N, out_channels, S, S) in [-1, 1].

    Parameters
    ----------
    in_channels, out_channels : channels of the input and of the translated image.
    size : the image side the default depth is chosen for; other sides are padded (see above).
    base : channels of the first encoder layer, doubled per level up to ``8 * base`` (64 in the paper).
    depth : down-sampling levels; None takes ``ceil(log2(size))`` (a 1x1 bottleneck).
    dropout : dropout of the three innermost decoder layers (0.5 in the paper; 0 makes G deterministic).
    """

    def __init__(self, in_channels: int, out_channels: int, size: int, base: int = 64, depth: int | None = None,
                 dropout: float = 0.5):
        super().__init__()
        depth = math.ceil(math.log2(size)) if depth is None else depth
        if depth < 1:
            raise ValueError(f"a U-Net needs at least one level (model.depth >= 1), got {depth}")
        self.depth = depth
        widths = [min(base * 2 ** i, 8 * base) for i in range(depth)]
        self.encoder = nn.ModuleList()
        c = in_channels
        for i, w in enumerate(widths):
            # No BatchNorm on the first layer (raw pixels) nor the innermost (1x1 at full depth).
            self.encoder.append(down(c, w, norm=0 < i < depth - 1))
            c = w
        self.decoder = nn.ModuleList()
        for i in reversed(range(1, depth)):  # up to the resolution of encoder level i - 1
            innermost = i == depth - 1
            c_in = widths[i] if innermost else 2 * widths[i]
            self.decoder.append(up(c_in, widths[i - 1], dropout if i >= depth - 3 else 0.0))
        last = widths[0] if depth == 1 else 2 * widths[0]  # with one level there is nothing to skip across
        self.out = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(last, out_channels, 4, 2, 1), nn.Tanh())
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        multiple = 2 ** self.depth
        pad_h, pad_w = -h % multiple, -w % multiple
        if pad_h or pad_w:
            top, left = pad_h // 2, pad_w // 2
            x = F.pad(x, (left, pad_w - left, top, pad_h - top), mode="replicate")
            return self._translate(x)[..., top:top + h, left:left + w]
        return self._translate(x)

    def _translate(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, layer in enumerate(self.encoder):
            x = layer(x if i == 0 else self.act(x))
            skips.append(x)
        for layer, skip in zip(self.decoder, reversed(skips[:-1])):
            x = torch.cat([layer(x), skip], 1)
        return self.out(x)

"""PatchGAN discriminators (Isola et al. 2017): one real/fake logit per image patch.

The pix2pix stack is ``n`` stride-2 4x4 convolutions (64, 128, 256, 512, ... channels, capped at
512), then a stride-1 4x4 convolution and a stride-1 4x4 convolution to one channel. Each output
logit sees an N x N patch of the input, its receptive field: 16 for n = 1, 34 for 2, 70 for 3
(the paper's default), 142 for 4 and 286 for 5 (the paper's ImageGAN on 256x256). The PixelGAN
(N = 1) is three 1x1 convolutions. :func:`receptive_field` computes N from the layers themselves.

``patch`` picks the stack: ``"pixel"``, a receptive field (``"16"``, ``"34"``, ``"70"``, ``"142"``,
``"286"``), ``"image"`` (the smallest stack whose field covers the whole image: the ImageGAN), or
``"auto"`` (the field closest to 70/256 of the image side: the paper's 70x70 at any resolution).
"""

from __future__ import annotations

from torch import nn

PATCH_FIELDS = {1: 16, 2: 34, 3: 70, 4: 142, 5: 286}  # stride-2 layers -> receptive field
PATCH_CHOICES = ("auto", "pixel", "image") + tuple(str(f) for f in PATCH_FIELDS.values())


def receptive_field(net: nn.Module) -> int:
    """The side of the input square one output of a stack of convolutions sees, from its layers."""
    field, jump = 1, 1
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            field += (m.kernel_size[0] - 1) * m.dilation[0] * jump
            jump *= m.stride[0]
    return field


def norm_layer(kind: str, channels: int) -> nn.Module:
    """BatchNorm (pix2pix), instance normalisation (CycleGAN) or none."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        # Instance normalisation (per example and channel, over the pixels) as a GroupNorm of one
        # channel per group: the same arithmetic, and ~14x faster than InstanceNorm2d on CPU for
        # the channels_last tensors the Trainer uses (torch 2.13).
        return nn.GroupNorm(channels, channels, affine=False)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}: expected batch, instance or none")


def stride2_layers(patch: str, size: int) -> int:
    """How many stride-2 layers give ``patch`` at image side ``size``; 0 for the PixelGAN."""
    if patch not in PATCH_CHOICES:
        raise ValueError(f"model.patch must be one of {', '.join(PATCH_CHOICES)}, got {patch!r}")
    # Each layer must leave at least 3x3 for the two stride-1 4x4 convolutions to give an output.
    deepest = max((n for n in PATCH_FIELDS if size // 2 ** n >= 3), default=None)
    if patch == "pixel":
        return 0
    if deepest is None:
        raise ValueError(f"images of side {size} are too small for a PatchGAN (at least 6 pixels)")
    if patch == "auto":
        n = min(PATCH_FIELDS, key=lambda n: abs(PATCH_FIELDS[n] - 70 / 256 * size))
    elif patch == "image":
        n = next((n for n in PATCH_FIELDS if PATCH_FIELDS[n] >= size), max(PATCH_FIELDS))
    else:
        n = next(n for n, f in PATCH_FIELDS.items() if str(f) == patch)
    if n > deepest:
        raise ValueError(f"a {PATCH_FIELDS[n]}x{PATCH_FIELDS[n]} PatchGAN needs images of side at least "
                         f"{3 * 2 ** n}, got {size}; choose a smaller model.patch (or 'image')")
    return n


class PatchDiscriminator(nn.Module):
    """Logits (N, 1, H', W'), one per patch, for images (N, in_channels, S, S).

    For a conditional D (pix2pix) ``in_channels`` counts the input and the output image, which are
    concatenated along the channels.
    """

    def __init__(self, in_channels: int, size: int, patch: str = "auto", base: int = 64, norm: str = "batch"):
        super().__init__()
        n = stride2_layers(patch, size)
        act = nn.LeakyReLU(0.2)
        if n == 0:
            layers = [nn.Conv2d(in_channels, base, 1), act, nn.Conv2d(base, 2 * base, 1, bias=norm == "none"),
                      norm_layer(norm, 2 * base), act, nn.Conv2d(2 * base, 1, 1)]
        else:
            widths = [min(base * 2 ** i, 8 * base) for i in range(n + 1)]
            layers, c = [], in_channels
            for i in range(n):
                layers += [nn.Conv2d(c, widths[i], 4, 2, 1, bias=i == 0 or norm == "none")]
                if i:
                    layers.append(norm_layer(norm, widths[i]))
                layers.append(act)
                c = widths[i]
            layers += [nn.Conv2d(c, widths[n], 4, 1, 1, bias=norm == "none"), norm_layer(norm, widths[n]), act,
                       nn.Conv2d(widths[n], 1, 4, 1, 1)]
        self.net = nn.Sequential(*layers)
        self.receptive_field = receptive_field(self.net)

    def forward(self, x):
        return self.net(x)

"""The ResNet generator of CycleGAN (Zhu et al. 2017, after Johnson et al. 2016).

c7s1-b, d2b, d4b, R4b x blocks, u2b, ub, c7s1-C: a 7x7 convolution, two stride-2 down-sampling
convolutions, residual blocks of two 3x3 convolutions at a quarter of the resolution, two
fractional-strided up-sampling convolutions and a 7x7 convolution to the output channels with
tanh. Instance normalisation and reflection padding throughout, as in the paper (6 blocks for
128x128 images, 9 for 256x256).
"""

from __future__ import annotations

from torch import nn

from gankit.nn.patchgan import norm_layer


def conv_norm_relu(c_in: int, c_out: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    pad = [nn.ReflectionPad2d(kernel // 2)] if stride == 1 else []
    conv = nn.Conv2d(c_in, c_out, kernel, stride, padding=0 if stride == 1 else 1, bias=False)
    return [*pad, conv, norm_layer("instance", c_out), nn.ReLU()]


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(*conv_norm_relu(channels, channels, 3)[:-1], nn.ReLU(),
                                  *conv_norm_relu(channels, channels, 3)[:-1])

    def forward(self, x):
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Image (N, in_channels, S, S) -> image (N, out_channels, S, S) in [-1, 1]; S divisible by 4."""

    def __init__(self, in_channels: int, out_channels: int, base: int = 64, blocks: int = 6):
        super().__init__()
        layers = conv_norm_relu(in_channels, base, 7)
        layers += conv_norm_relu(base, 2 * base, 3, stride=2) + conv_norm_relu(2 * base, 4 * base, 3, stride=2)
        layers += [ResidualBlock(4 * base) for _ in range(blocks)]
        for c in (4 * base, 2 * base):
            layers += [nn.ConvTranspose2d(c, c // 2, 3, 2, padding=1, output_padding=1, bias=False),
                       norm_layer("instance", c // 2), nn.ReLU()]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(base, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        if x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(f"the ResNet generator needs image sides divisible by 4, got {tuple(x.shape[-2:])}")
        return self.net(x)

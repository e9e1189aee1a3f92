"""StyleGAN2's networks (Karras et al. 2020): a skip-connection generator driven by styles and a
residual discriminator, in plain PyTorch operations (no custom kernels: they run on a CPU and export).

Generator = :class:`~gankit.nn.mapping.MappingNetwork` (z -> w) + :class:`SynthesisNetwork` (one w per
layer -> image). Synthesis starts from a learned 4x4 constant; every layer is a modulated 3x3
convolution (the first of each resolution upsampling x2), per-pixel noise with a learned strength,
a bias and leaky ReLU; every resolution adds its modulated 1x1 "toRGB" output to the bilinearly
upsampled image so far (the skip architecture of the paper's figure 7).

The discriminator mirrors it: fromRGB once at full resolution, then residual blocks (two 3x3
convolutions, the second blurred and strided, beside a blurred 1x1 skip, summed times sqrt(1/2)),
and at 4x4 the minibatch standard deviation, a convolution and two dense layers. Widths at
resolution r are ``min(channel_base / r, channel_max)`` in both, as the official configurations.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gankit.nn.equalized import EqualizedConv2d, EqualizedLinear, MinibatchStddev
from gankit.nn.fir import blur, downsample2d, upsample2d
from gankit.nn.mapping import SLOPE, MappingNetwork, lrelu
from gankit.nn.modulated import ModulatedConv2d

GAIN = math.sqrt(2.0)  # leaky ReLU's gain in StyleGAN2: keeps the signal's magnitude


def resolutions(size: int) -> list[int]:
    """4, 8, ..., size: StyleGAN2 grows from 4x4 by doubling, so the image size must be 4 * 2^k."""
    if size < 4 or size & (size - 1):
        raise ValueError(f"StyleGAN2 makes images of 4 * 2^k pixels (8, 16, 32, 64, ...), got {size}x{size}; "
                         "resize with --set data.size=32 (or 64)")
    return [2 ** k for k in range(2, int(math.log2(size)) + 1)]


def widths(size: int, channel_base: int, channel_max: int) -> dict[int, int]:
    return {r: max(1, min(channel_base // r, channel_max)) for r in resolutions(size)}


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution, noise, bias, leaky ReLU."""

    def __init__(self, w_dim: int, in_channels: int, out_channels: int, resolution: int, up: bool = False):
        super().__init__()
        self.conv = ModulatedConv2d(w_dim, in_channels, out_channels, 3, up=up)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.resolution = resolution

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        # lrelu(conv + noise + bias) * sqrt(2), in three passes: leaky ReLU commutes with a positive
        # gain, so sqrt(2) scales the demodulation, the noise strength and the bias instead.
        x = self.conv(x, w, self.bias, GAIN).add_(noise * (self.noise_strength * GAIN))
        return F.leaky_relu_(x, SLOPE)


class ToRGB(nn.Module):
    """A modulated 1x1 convolution without demodulation, and a bias: the image a resolution adds."""

    def __init__(self, w_dim: int, in_channels: int, channels: int):
        super().__init__()
        self.conv = ModulatedConv2d(w_dim, in_channels, channels, 1, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w, self.bias)


class SynthesisNetwork(nn.Module):
    """ws (N, num_ws, w_dim) -> images (N, channels, size, size).

    Layer ``i`` (0: the 4x4 convolution; then two per resolution) reads ``ws[:, i]``; the toRGB after
    layer ``i`` reads ``ws[:, i + 1]``, as the official code, so ``num_ws = layers + 1`` (8 at 32x32,
    10 at 64x64). Style mixing at index ``m`` takes one latent below ``m`` and another from ``m`` on.
    """

    def __init__(self, w_dim: int, channels: int, size: int, channel_base: int = 4096, channel_max: int = 128):
        super().__init__()
        width = widths(size, channel_base, channel_max)
        self.resolutions = list(width)
        self.const = nn.Parameter(torch.randn(width[4], 4, 4))
        layers = [SynthesisLayer(w_dim, width[4], width[4], 4)]
        to_rgb = [ToRGB(w_dim, width[4], channels)]
        for r in self.resolutions[1:]:
            layers += [SynthesisLayer(w_dim, width[r // 2], width[r], r, up=True),
                       SynthesisLayer(w_dim, width[r], width[r], r)]
            to_rgb.append(ToRGB(w_dim, width[r], channels))
        self.layers, self.to_rgb = nn.ModuleList(layers), nn.ModuleList(to_rgb)
        self.num_ws = len(layers) + 1
        # Fixed noise maps for deterministic sampling (the official noise_mode='const'), drawn from a
        # generator of their own so they never move the global random stream.
        g = torch.Generator().manual_seed(0)
        for i, layer in enumerate(layers):
            self.register_buffer(f"noise_const_{i}", torch.randn(1, 1, layer.resolution, layer.resolution, generator=g))

    def noise_shapes(self, n: int) -> list[tuple[int, int, int, int]]:
        """The shape of each layer's noise input for ``n`` samples."""
        return [(n, 1, layer.resolution, layer.resolution) for layer in self.layers]

    def const_noise(self) -> list[torch.Tensor]:
        return [getattr(self, f"noise_const_{i}") for i in range(len(self.layers))]

    def forward(self, ws: torch.Tensor, noise: list[torch.Tensor] | None = None) -> torch.Tensor:
        if ws.ndim != 3 or ws.shape[1] != self.num_ws:
            raise ValueError(f"the synthesis network takes ws of shape (N, {self.num_ws}, w_dim), got {tuple(ws.shape)}")
        noise = self.const_noise() if noise is None else noise
        # Channels-last activations: oneDNN's convolutions on a CPU run ~20 % faster on them.
        x = self.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1).to(ws.dtype)
        x = x.contiguous(memory_format=torch.channels_last)
        image = None
        layer = 0
        for block, to_rgb in enumerate(self.to_rgb):
            for _ in range(1 if block == 0 else 2):
                x = self.layers[layer](x, ws[:, layer], noise[layer].to(x.dtype))
                layer += 1
            y = to_rgb(x, ws[:, layer])
            image = y if image is None else upsample2d(image) + y
        return image


class StyleGenerator(nn.Module):
    """z (N, z_dim) [, y] -> images: w = mapping(z), one copy per layer, then synthesis.

    ``psi`` truncates w towards ``w_avg`` (a float, or a tensor broadcast over (N, num_ws, w_dim),
    e.g. (N, num_ws, 1) to truncate some layers only). ``mix_z`` and ``mix_cutoff`` (N,) mix styles:
    sample i takes ``mapping(mix_z[i])`` from layer ``mix_cutoff[i]`` on (``num_ws``: no mixing).
    ``noise`` lists one map per layer (:meth:`SynthesisNetwork.noise_shapes`); None uses the fixed
    maps. ``return_ws`` also returns the per-layer latents, in the graph, for path-length regularisation.
    """

    def __init__(self, z_dim: int, w_dim: int, channels: int, size: int, mapping_layers: int = 2,
                 channel_base: int = 4096, channel_max: int = 128, num_classes: int = 0):
        super().__init__()
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers, num_classes)
        self.synthesis = SynthesisNetwork(w_dim, channels, size, channel_base, channel_max)
        self.num_ws = self.synthesis.num_ws

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, psi: torch.Tensor | float = 1.0,
                noise: list[torch.Tensor] | None = None, mix_z: torch.Tensor | None = None,
                mix_cutoff: torch.Tensor | None = None, return_ws: bool = False):
        ws = self.mapping(z, y).unsqueeze(1).expand(-1, self.num_ws, -1)
        if mix_z is not None:
            layer = torch.arange(self.num_ws, device=z.device)
            second = (layer[None, :] >= mix_cutoff[:, None])[:, :, None]
            ws = torch.where(second, self.mapping(mix_z, y).unsqueeze(1), ws)
        if torch.is_tensor(psi) or psi != 1.0:
            ws = self.mapping.truncate(ws, psi)
        image = self.synthesis(ws, noise)
        return (image, ws) if return_ws else image


class ConvLReLU(EqualizedConv2d):
    """``lrelu(conv(x)) * gain`` with ``gain`` (sqrt(2) by default) folded into the weights and the bias,
    and the leaky ReLU in place: two passes over the output instead of three. ``down=True`` blurs
    with [1, 3, 3, 1] and convolves with stride 2 (the official ``down=2``)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, down: bool = False, gain: float = GAIN):
        super().__init__(in_channels, out_channels, kernel, gain=1.0)
        self.blur_down, self.gain = down, gain

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.weight.shape[-1]
        weight, bias = self.weight * (self.scale * self.gain), self.bias * self.gain
        if self.blur_down:  # pad so that the blur then the strided convolution give exactly half the pixels
            p = (k - 1) // 2 + 1
            x = F.conv2d(blur(x, (p, p)), weight, bias, stride=2)
        else:
            x = F.conv2d(x, weight, bias, padding=k // 2)
        return F.leaky_relu_(x, SLOPE)


class ResidualBlock(nn.Module):
    """D's block at one resolution: two 3x3 convolutions (the second blurred-strided) beside a
    blurred 1x1 skip, summed times sqrt(1/2) so the sum keeps the signal's variance (the factor
    folded into both branches' last layers)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv0 = ConvLReLU(in_channels, in_channels, 3)
        self.conv1 = ConvLReLU(in_channels, out_channels, 3, down=True, gain=GAIN * math.sqrt(0.5))
        self.skip = EqualizedConv2d(in_channels, out_channels, 1, gain=math.sqrt(0.5), bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip(downsample2d(x)) + self.conv1(self.conv0(x))


class ResidualDiscriminator(nn.Module):
    """images (N, channels, size, size) [, labels y] -> logits (N,).

    A conditional D (``num_classes > 0``) projects its last features on an embedding of the label
    (Miyato and Koyama 2018), as the official code's conditioning does.
    """

    def __init__(self, channels: int, size: int, channel_base: int = 4096, channel_max: int = 128,
                 group_size: int = 4, num_classes: int = 0):
        super().__init__()
        width = widths(size, channel_base, channel_max)
        self.size = size
        self.from_rgb = ConvLReLU(channels, width[size], 1)
        self.blocks = nn.ModuleList(ResidualBlock(width[r], width[r // 2]) for r in reversed(list(width)[1:]))
        c = width[4]
        self.stddev = MinibatchStddev(group_size)
        self.conv = ConvLReLU(c + 1, c, 3)
        self.fc = EqualizedLinear(c * 16, c, gain=1.0)
        self.num_classes = num_classes
        self.out = EqualizedLinear(c, c if num_classes else 1, gain=1.0)
        self.embed = EqualizedLinear(num_classes, c, gain=1.0) if num_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if x.shape[-1] != self.size or x.shape[-2] != self.size:
            raise ValueError(f"this discriminator takes {self.size}x{self.size} images, got {tuple(x.shape[-2:])}")
        h = self.from_rgb(x.contiguous(memory_format=torch.channels_last))
        for block in self.blocks:
            h = block(h)
        h = self.conv(self.stddev(h))
        h = self.out(lrelu(self.fc(h.flatten(1))))
        if self.embed is None:
            return h.flatten()
        if y is None:
            raise ValueError("this discriminator is class-conditional: pass the labels y")
        e = self.embed(F.one_hot(y.long(), self.num_classes).to(h.dtype))
        return (h * e).sum(dim=1) / math.sqrt(h.shape[1])

"""DiffAugment (Zhao et al., "Differentiable Augmentation for Data-Efficient GAN Training", 2020).

The same random, differentiable transformations are applied to every image the discriminator sees,
real and generated, in both the D and the G step. D then cannot memorise the few training images
pixel for pixel, and because every operation is differentiable G still gets gradients through it.
Because fakes are augmented too, G is not pushed to make augmented-looking images: the augmentation
does not "leak" into the samples.

Three policies, as in the paper, each drawn per image:

* ``color``: brightness shift in [-0.5, 0.5), saturation scale in [0, 2), contrast scale in [0.5, 1.5);
* ``translation``: an integer shift of up to 1/8 of the image size on each axis, zero-filled;
* ``cutout``: a square of half the image size, anywhere (partly outside the image), set to zero.

Zero is the middle grey of gankit's [-1, 1] pixel range. Random draws come from the Trainer's
seeded :class:`~gankit.noise.Noise`, so a resumed run augments exactly as an unbroken one.
"""

from __future__ import annotations

import torch
from torch import nn

from gankit.noise import Noise

POLICIES = ("color", "translation", "cutout")


def brightness(x: torch.Tensor, noise: Noise) -> torch.Tensor:
    return x + (noise.rand(len(x), 1, 1, 1).to(x.dtype) - 0.5)


def saturation(x: torch.Tensor, noise: Noise) -> torch.Tensor:
    # One-channel images equal their channel mean, so this is the identity on them (draw kept so
    # the random stream does not depend on the channel count).
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (noise.rand(len(x), 1, 1, 1).to(x.dtype) * 2) + mean


def contrast(x: torch.Tensor, noise: Noise) -> torch.Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (noise.rand(len(x), 1, 1, 1).to(x.dtype) + 0.5) + mean


def translation(x: torch.Tensor, noise: Noise, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by whole pixels, up to ``ratio`` of its size per axis, filling with zeros."""
    n, c, h, w = x.shape
    reach_y, reach_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    shift_y = noise.randint(2 * reach_y + 1, n).to(x.device) - reach_y
    shift_x = noise.randint(2 * reach_x + 1, n).to(x.device) - reach_x
    padded = nn.functional.pad(x, (reach_x, reach_x, reach_y, reach_y))
    # Pixel (i, j) of the result is pixel (i - shift_y, j - shift_x) of the input, i.e. of the
    # padded image at (i - shift_y + reach_y, j - shift_x + reach_x).
    rows = torch.arange(h, device=x.device)[None, :] - shift_y[:, None] + reach_y  # (n, h)
    cols = torch.arange(w, device=x.device)[None, :] - shift_x[:, None] + reach_x  # (n, w)
    picked_rows = padded.gather(2, rows[:, None, :, None].expand(n, c, h, padded.shape[3]))
    return picked_rows.gather(3, cols[:, None, None, :].expand(n, c, h, w))


def cutout(x: torch.Tensor, noise: Noise, ratio: float = 0.5) -> torch.Tensor:
    """Zero a square of ``ratio`` of the image size per image; its centre may be anywhere."""
    n, _, h, w = x.shape
    size_y, size_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    centre_y = noise.randint(h + (1 - size_y % 2), n).to(x.device)
    centre_x = noise.randint(w + (1 - size_x % 2), n).to(x.device)
    rows = torch.arange(h, device=x.device)[None, :]
    cols = torch.arange(w, device=x.device)[None, :]
    inside_y = (rows >= centre_y[:, None] - size_y // 2) & (rows < centre_y[:, None] - size_y // 2 + size_y)
    inside_x = (cols >= centre_x[:, None] - size_x // 2) & (cols < centre_x[:, None] - size_x // 2 + size_x)
    hole = inside_y[:, :, None] & inside_x[:, None, :]  # (n, h, w)
    return x * (~hole)[:, None].to(x.dtype)


OPERATIONS = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
}


class DiffAugment(nn.Module):
    """Apply DiffAugment ``policy`` (a subset of ``color``, ``translation``, ``cutout``) to a batch.

    >>> augment = DiffAugment(("translation", "cutout"))
    >>> augmented = augment(images, noise)   # same shape, differentiable in ``images``
    """

    def __init__(self, policy: tuple[str, ...] = POLICIES):
        super().__init__()
        unknown = [p for p in policy if p not in OPERATIONS]
        if unknown:
            raise ValueError(f"unknown DiffAugment policy {unknown}; choose from {', '.join(POLICIES)}")
        self.policy = tuple(policy)

    def forward(self, x: torch.Tensor, noise: Noise) -> torch.Tensor:
        if x.dim() != 4:
            raise ValueError(f"DiffAugment needs image batches (N, C, H, W), got shape {tuple(x.shape)}")
        for name in self.policy:
            for operation in OPERATIONS[name]:
                x = operation(x, noise)
        return x

    def extra_repr(self) -> str:
        return f"policy={','.join(self.policy)}"

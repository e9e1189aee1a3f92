"""The history of generated images that CycleGAN's discriminators see (Shrivastava et al. 2017).

A discriminator trained only on the generator's latest images can oscillate; showing it a mix
of the latest and of earlier ones damps that. Until the pool holds ``size`` images every new
image is stored and returned as it is; afterwards each new image is, with probability 1/2,
returned as it is, or else swapped with a random stored one, which is returned instead.
"""

from __future__ import annotations

import torch
from torch import nn


class ImagePool(nn.Module):
    """A buffer of up to ``size`` past images of shape ``shape``; saved and restored with the checkpoint."""

    def __init__(self, size: int, shape: tuple[int, ...]):
        super().__init__()
        self.size = size
        self.register_buffer("images", torch.zeros(size, *shape))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def query(self, images: torch.Tensor, rand: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """The images to show the discriminator for a batch of new (detached) ``images``.

        ``rand`` (uniform in [0, 1)) and ``index`` (integers in [0, size)) hold one draw per image,
        from the caller's seeded stream, so a resumed run makes the same choices.
        """
        if self.size == 0:
            return images
        out = images.detach().clone()
        for i, image in enumerate(images.detach()):
            n = int(self.count)
            if n < self.size:
                self.images[n] = image
                self.count += 1
            elif rand[i] < 0.5:
                j = int(index[i])
                out[i] = self.images[j]
                self.images[j] = image
        return out

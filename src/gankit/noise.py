"""Seeded random draws: the one stream every random input, augmentation and sample grid draws from.

A stream is a CPU ``torch.Generator`` whose state the Trainer checkpoints, so a resumed run draws
exactly what an unbroken one would. Under DDP it draws the global batch and returns this rank's
rows, so 2 ranks x B see exactly the draws of 1 process x 2B. It knows nothing of models: the
generator's inputs (:mod:`gankit.models.inputs`) and the augmentations (:mod:`gankit.augment`)
both draw from it.
"""

from __future__ import annotations

import torch


class Noise:
    """Seeded random draws for a batch of ``n`` examples.

    Parameters
    ----------
    generator : the CPU ``torch.Generator`` that owns the stream (its state is checkpointed).
    device : where the draws are returned.
    rank, world_size : under DDP every rank draws the global batch of ``n * world_size`` rows
        from the same stream and keeps its own ``n``: 2 ranks x B equal 1 x 2B, and the stream
        stays the same on every rank.
    """

    def __init__(self, generator: torch.Generator, device: torch.device | str = "cpu", rank: int = 0,
                 world_size: int = 1):
        self.generator = generator
        self.device = torch.device(device)
        self.rank, self.world_size = rank, world_size

    @classmethod
    def seeded(cls, seed: int, device: torch.device | str = "cpu") -> "Noise":
        return cls(torch.Generator().manual_seed(seed), device)

    def _mine(self, full: torch.Tensor, n: int) -> torch.Tensor:
        if self.world_size > 1:
            full = full[self.rank * n:(self.rank + 1) * n]
        return full.to(self.device, non_blocking=True)

    def randn(self, n: int, *shape: int) -> torch.Tensor:
        return self._mine(torch.randn((n * self.world_size, *shape), generator=self.generator), n)

    def rand(self, n: int, *shape: int) -> torch.Tensor:
        return self._mine(torch.rand((n * self.world_size, *shape), generator=self.generator), n)

    def randint(self, high: int, n: int, *shape: int) -> torch.Tensor:
        return self._mine(torch.randint(high, (n * self.world_size, *shape), generator=self.generator), n)

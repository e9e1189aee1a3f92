"""Exponential moving average of the generator's weights (Karras et al. 2018; Yazici et al. 2019)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """``shadow = d * shadow + (1 - d) * live`` after each generator step; buffers are copied.

    ``d = min(decay, (1 + step) / (10 + step))``: a warm-up (as TensorFlow's moving averages with
    ``num_updates``), so the average forgets the random initial weights within the first hundreds of
    steps instead of carrying ``decay ** step`` of them: with 0.999, 18 % still after 1,700 steps,
    about what a 4-minute CPU run makes.
    """

    def __init__(self, module: nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"train.ema must be in (0, 1) (e.g. 0.999) or 0 to disable it, got {decay}")
        self.decay = decay
        self.module = copy.deepcopy(module).eval().requires_grad_(False)

    def decay_at(self, step: int) -> float:
        return min(self.decay, (1.0 + step) / (10.0 + step))

    @torch.no_grad()
    def update(self, live: nn.Module, step: int) -> None:
        """Average in ``live`` after iteration ``step`` (0-based; a resumed run passes the same steps)."""
        shadow = list(self.module.parameters())
        torch._foreach_lerp_(shadow, [p.detach() for p in live.parameters()], 1.0 - self.decay_at(step))
        for s, b in zip(self.module.buffers(), live.buffers()):
            s.copy_(b)

"""Exponential moving average of the generator's weights (Karras et al. 2018; Yazici et al. 2019)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """``shadow = decay * shadow + (1 - decay) * live`` after each generator step; buffers are copied."""

    def __init__(self, module: nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"train.ema must be in (0, 1) (e.g. 0.999) or 0 to disable it, got {decay}")
        self.decay = decay
        self.module = copy.deepcopy(module).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, live: nn.Module) -> None:
        shadow = list(self.module.parameters())
        torch._foreach_lerp_(shadow, [p.detach() for p in live.parameters()], 1.0 - self.decay)
        for s, b in zip(self.module.buffers(), live.buffers()):
            s.copy_(b)

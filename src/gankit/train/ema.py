"""Exponential moving average of the generator's weights (Karras et al. 2018; Yazici et al. 2019)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """``shadow = d * shadow + (1 - d) * live`` after each generator step; buffers are copied.

    Two ways to set ``d``:

    * ``decay`` (``train.ema``, e.g. 0.999) per step, with a warm-up ``d = min(decay, (1 + step) /
      (10 + step))`` (as TensorFlow's moving averages with ``num_updates``), so the average forgets
      the random initial weights within the first hundreds of steps instead of carrying
      ``decay ** step`` of them: with 0.999, 18 % still after 1,700 steps, about what a 4-minute
      CPU run makes.
    * ``half_life_kimg`` (``train.ema_kimg``): a half-life in thousands of real images, as NVlabs'
      StyleGAN2-ADA (``ema_kimg``): ``d = 0.5 ** (batch / half_life)``, so the average covers the
      same number of images at any batch size, also when a stage of Progressive GAN changes it.
      ``rampup`` (``train.ema_rampup``) caps the half-life at that fraction of the images seen so
      far, the same warm-up in images.
    """

    def __init__(self, module: nn.Module, decay: float = 0.0, half_life_kimg: float | None = None,
                 rampup: float | None = None):
        if half_life_kimg is None and not 0.0 < decay < 1.0:
            raise ValueError(f"train.ema must be in (0, 1) (e.g. 0.999) or 0 to disable it, got {decay}")
        if half_life_kimg is not None and half_life_kimg <= 0:
            raise ValueError(f"train.ema_kimg must be positive (NVlabs uses 10 at batch 32-64), got {half_life_kimg}")
        if rampup is not None and (half_life_kimg is None or rampup <= 0):
            raise ValueError("train.ema_rampup caps the half-life of train.ema_kimg: set train.ema_kimg too, and a "
                             f"positive fraction (e.g. 0.05); got {rampup}")
        self.decay = decay
        self.half_life = None if half_life_kimg is None else 1000.0 * half_life_kimg
        self.rampup = rampup
        self.module = copy.deepcopy(module).eval().requires_grad_(False)
        self.origin = (0, 0)  # (iteration, images) the warm-up counts from: see restart()

    def restart(self, step: int, images: int) -> None:
        """Count the warm-up from iteration ``step`` (``images`` real images seen): a new stage."""
        self.origin = (int(step), int(images))

    def decay_at(self, step: int, images: int = 0, batch: int = 1) -> float:
        """``d`` after iteration ``step`` (0-based), with ``images`` real images drawn by then
        and ``batch`` of them in this iteration (all ranks)."""
        step, images = step - self.origin[0], images - self.origin[1]
        if self.half_life is None:
            return min(self.decay, (1.0 + step) / (10.0 + step))
        half_life = self.half_life if self.rampup is None else min(self.half_life, images * self.rampup)
        return 0.5 ** (batch / max(half_life, 1e-8))

    @torch.no_grad()
    def update(self, live: nn.Module, step: int, images: int = 0, batch: int = 1) -> None:
        """Average in ``live`` after iteration ``step`` (a resumed run passes the same arguments)."""
        shadow = list(self.module.parameters())
        torch._foreach_lerp_(shadow, [p.detach() for p in live.parameters()],
                             1.0 - self.decay_at(step, images, batch))
        for s, b in zip(self.module.buffers(), live.buffers()):
            s.copy_(b)

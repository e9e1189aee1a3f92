"""StyleGAN's mapping network: z -> w, an intermediate latent space the synthesis network reads
through styles (Karras et al. 2019, section 2), with the running average of w that truncation needs.

z (and a class label's embedding, for a conditional model, as the official code) is normalised to
unit second moment, then ``layers`` fully connected layers with leaky ReLU map it to w. Their
learning rate is 100x lower than the rest of G (``lr_multiplier = 0.01``; see
:class:`~gankit.nn.equalized.EqualizedLinear`), which the paper found keeps training stable.
``w_avg`` follows the batches' mean w (decay ``w_avg_beta`` per update); it is a buffer, so
checkpoints and the generator's EMA copy carry it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gankit.nn.equalized import EqualizedLinear

SLOPE = 0.2


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + eps)


def lrelu(x: torch.Tensor) -> torch.Tensor:
    """Leaky ReLU 0.2 times sqrt(2), which keeps the signal's magnitude (the official ``lrelu`` gain)."""
    return F.leaky_relu(x, SLOPE) * math.sqrt(2.0)


class MappingNetwork(nn.Module):
    """z (N, z_dim) [and labels y (N,)] -> w (N, w_dim)."""

    def __init__(self, z_dim: int, w_dim: int, layers: int = 2, num_classes: int = 0, lr_multiplier: float = 0.01,
                 w_avg_beta: float = 0.995):
        super().__init__()
        if layers < 1:
            raise ValueError(f"the mapping network needs at least one layer, got {layers}")
        self.num_classes, self.w_avg_beta = num_classes, w_avg_beta
        self.embed = EqualizedLinear(num_classes, w_dim, gain=1.0) if num_classes else None
        widths = [z_dim + (w_dim if num_classes else 0)] + [w_dim] * layers
        self.fcs = nn.ModuleList(EqualizedLinear(a, b, gain=1.0, lr_multiplier=lr_multiplier)
                                 for a, b in zip(widths, widths[1:]))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        x = normalize_2nd_moment(z)
        if self.embed is not None:
            if y is None:
                raise ValueError("this mapping network is class-conditional: pass the labels y")
            one_hot = F.one_hot(y.long(), self.num_classes).to(z.dtype)
            x = torch.cat([x, normalize_2nd_moment(self.embed(one_hot))], dim=1)
        for fc in self.fcs:
            x = lrelu(fc(x))
        return x

    @torch.no_grad()
    def track(self, w: torch.Tensor) -> None:
        """Move ``w_avg`` towards the mean of ``w`` (a training batch's latents) by ``1 - w_avg_beta``."""
        self.w_avg.lerp_(w.detach().float().mean(dim=0), 1.0 - self.w_avg_beta)

    def truncate(self, w: torch.Tensor, psi: torch.Tensor | float) -> torch.Tensor:
        """``w_avg + psi * (w - w_avg)``: psi = 0 gives the average latent, 1 leaves ``w`` as it is."""
        return torch.lerp(self.w_avg.to(w.dtype), w, torch.as_tensor(psi, dtype=w.dtype, device=w.device))

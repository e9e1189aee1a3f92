"""Virtual batch normalisation (Salimans et al. 2016, section 3.4).

BatchNorm makes each generated sample depend on the other samples of its batch. VBN normalises
every example with the statistics of a *reference batch*, drawn once at the start and fixed,
together with the example itself: ``mean = (n * mean_ref + x) / (n + 1)`` (the same for the mean
square), per feature (per channel and example over H x W for images). The reference batch goes
through G first in every forward pass, so its statistics follow G's current weights and
gradients flow through them, as in the paper. It costs a second generator pass; Salimans et al.
use it in G only, and so does gankit.
"""

from __future__ import annotations

import torch
from torch import nn


class VirtualBatchNorm(nn.Module):
    """A BatchNorm replacement normalising with a reference batch's statistics plus the example's own.

    Built from an existing ``nn.BatchNorm1d``/``2d`` (its scale, shift and eps are kept). Set
    ``collecting = True`` for the pass of the reference batch: it normalises that batch by its own
    statistics and remembers them for the passes that follow.
    """

    def __init__(self, bn: nn.modules.batchnorm._BatchNorm):
        super().__init__()
        self.eps = bn.eps
        self.weight = nn.Parameter(bn.weight.detach().clone()) if bn.affine else None
        self.bias = nn.Parameter(bn.bias.detach().clone()) if bn.affine else None
        self.collecting = False
        self.reference: tuple[torch.Tensor, torch.Tensor, int] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spatial = tuple(range(2, x.ndim))
        if self.collecting:
            dims = (0, *spatial)
            mean, mean_sq = x.mean(dims, keepdim=True), x.pow(2).mean(dims, keepdim=True)
            self.reference = (mean, mean_sq, x.shape[0])
        else:
            if self.reference is None:
                raise RuntimeError("VirtualBatchNorm needs the reference batch first "
                                   "(call the generator through VirtualBatchNormGenerator)")
            ref_mean, ref_sq, n = self.reference
            own_mean = x.mean(spatial, keepdim=True) if spatial else x
            own_sq = x.pow(2).mean(spatial, keepdim=True) if spatial else x.pow(2)
            mean = (n * ref_mean + own_mean) / (n + 1)
            mean_sq = (n * ref_sq + own_sq) / (n + 1)
        var = (mean_sq - mean.pow(2)).clamp_min(0)
        y = (x - mean) / torch.sqrt(var + self.eps)
        if self.weight is not None:
            shape = (1, -1) + (1,) * len(spatial)
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y


def replace_batchnorm(net: nn.Module) -> int:
    """Swap every BatchNorm of ``net`` for a VirtualBatchNorm, in place; returns how many."""
    count = 0
    for name, child in list(net.named_children()):
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(net, name, VirtualBatchNorm(child))
            count += 1
        else:
            count += replace_batchnorm(child)
    return count


class VirtualBatchNormGenerator(nn.Module):
    """A generator whose BatchNorm layers became VBN, and its fixed reference latents.

    ``forward(z)`` runs the reference batch first (collecting its statistics), then ``z``. The
    reference latents are a buffer, so they are saved with the checkpoint and the EMA copy shares
    them. Training and evaluation behave the same (there are no running statistics).
    """

    def __init__(self, net: nn.Module, reference_z: torch.Tensor):
        super().__init__()
        if replace_batchnorm(net) == 0:
            raise ValueError("virtual batch normalisation replaces the generator's BatchNorm layers, and this "
                             "generator has none (for the MLP `gan`, add them with model.g_batchnorm=true)")
        self.net = net
        self.register_buffer("reference_z", reference_z)

    def layers(self) -> list[VirtualBatchNorm]:
        return [m for m in self.net.modules() if isinstance(m, VirtualBatchNorm)]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        layers = self.layers()
        for layer in layers:
            layer.collecting = True
        try:
            self.net(self.reference_z.to(z.dtype))
        finally:
            for layer in layers:
                layer.collecting = False
        out = self.net(z)
        for layer in layers:  # the statistics hold a graph: drop it with this pass
            layer.reference = None
        return out

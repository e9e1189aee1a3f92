"""PacGAN (Lin et al. 2018): the discriminator judges m samples at once.

Packing concatenates m consecutive samples of a batch along the channel (or feature) axis, so a
batch of N samples becomes N/m inputs with m times the channels. All m samples of a pack are real
or all are fake; a generator that collapses produces packs of near-copies, which a discriminator
sees easily, while real packs are varied.
"""

from __future__ import annotations

import torch


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """(N, C, ...) -> (N/m, m*C, ...): samples ``i*m .. i*m+m-1`` side by side in input ``i``."""
    if m == 1:
        return x
    n = x.shape[0]
    if n % m:
        raise ValueError(f"PacGAN packs {m} samples per input, but the batch has {n}; "
                         f"use a train.batch_size divisible by {m}")
    return x.reshape(n // m, m * x.shape[1], *x.shape[2:])


def packed_shape(shape: tuple[int, ...], m: int) -> tuple[int, ...]:
    """The shape of one packed input for samples of ``shape``: the first axis m times larger."""
    return (shape[0] * m, *shape[1:])

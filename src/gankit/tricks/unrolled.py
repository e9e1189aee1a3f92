"""Unrolled GAN (Metz et al. 2017): the generator's loss against a discriminator k steps ahead.

G's usual gradient treats D as fixed. Unrolling makes G's loss ``L_G(G, D_k)`` where
``D_k = D_{k-1} - lr * grad L_D(G, D_{k-1})`` on fresh real and generated batches, and
differentiates through the k updates, so G also sees how D would react to its move: moving all
samples onto one mode would be punished by D's next steps, and G learns to avoid it. D's own
training is unchanged; the k updates are made on a functional copy of D's parameters
(``torch.func.functional_call``) and thrown away. With k = 0 the gradient is the plain one.

The updates here are plain gradient steps of size ``lr`` (Metz et al. unrolled Adam; an Adam step
from fresh moments is nearly ``lr * sign(g)``, whose derivative is zero, which would hide exactly
the second-order term unrolling is for).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.func import functional_call

Critic = Callable[[torch.Tensor], torch.Tensor]


def unrolled_critic(D: nn.Module, d_loss: Callable[[Critic, int], torch.Tensor], steps: int, lr: float) -> Critic:
    """D after ``steps`` differentiable gradient steps, as a function of its input.

    Parameters
    ----------
    D : the discriminator; its own parameters and buffers are not changed.
    d_loss : ``d_loss(critic, i)`` -> D's loss for unrolling step ``i`` with ``critic`` as D (it
        should draw fresh real and generated batches, the generated ones with their graph to G).
    steps : k; 0 returns D as it is.
    lr : the step size of each update.
    """
    params = {name: p.detach().requires_grad_(True) for name, p in D.named_parameters()}
    buffers = {name: b.clone() for name, b in D.named_buffers()}

    def critic_with(weights):
        return lambda x: functional_call(D, (weights, buffers), (x,))

    for i in range(steps):
        loss = d_loss(critic_with(params), i)
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=True, allow_unused=True)
        params = {name: p if g is None else p - lr * g for (name, p), g in zip(params.items(), grads)}
    return critic_with(params)

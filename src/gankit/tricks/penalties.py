"""Gradient penalties on D's input: WGAN-GP (Gulrajani et al. 2017), R1 (Mescheder et al. 2018) and
DF-GAN's matching-aware penalty (Tao et al. 2022) on a text-conditioned D's image and sentence.

All differentiate D's output with respect to its input and penalise the gradient's norm; that
double backward is sensitive to rounding, so both run in float32 even inside a bf16 autocast
region (the rest of the step may stay in bf16).
"""

from __future__ import annotations

from typing import Callable

import torch

Critic = Callable[[torch.Tensor], torch.Tensor]


def input_gradient(critic: Critic, x: torch.Tensor) -> torch.Tensor:
    """d sum(critic(x)) / dx per sample, flattened to (N, features), with the graph kept, in fp32."""
    with torch.autocast(x.device.type, enabled=False):
        x = x.detach().float().requires_grad_(True)
        out = critic(x).float()
        (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return grad.flatten(1)


def gradient_penalty(critic: Critic, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """WGAN-GP: ``E[(||grad D(x_hat)||_2 - 1)^2]`` at ``x_hat = eps*real + (1-eps)*fake``.

    ``eps`` holds one U(0, 1) draw per sample, shaped to broadcast over a sample (e.g. (N, 1, 1, 1)).
    """
    x_hat = eps * real.detach().float() + (1 - eps) * fake.detach().float()
    return (input_gradient(critic, x_hat).norm(dim=1) - 1).pow(2).mean()


def r1_penalty(critic: Critic, real: torch.Tensor) -> torch.Tensor:
    """R1: ``E[||grad D(x)||_2^2]`` on real data (multiply by gamma/2)."""
    return input_gradient(critic, real).pow(2).sum(1).mean()


def matching_aware_penalty(critic: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], real: torch.Tensor,
                           text: torch.Tensor, power: float = 6.0) -> torch.Tensor:
    """DF-GAN's MA-GP: ``E[||(grad_x D(x, e), grad_e D(x, e))||_2 ^ power]`` at real images with their
    own captions' embeddings (multiply by its weight, 2 in DF-GAN), so D is smooth around the real,
    matching pairs."""
    with torch.autocast(real.device.type, enabled=False):
        x = real.detach().float().requires_grad_(True)
        e = text.detach().float().requires_grad_(True)
        out = critic(x, e).float()
        grad_x, grad_e = torch.autograd.grad(out.sum(), (x, e), create_graph=True)
    norm = torch.cat([grad_x.flatten(1), grad_e.flatten(1)], 1).norm(dim=1)
    return norm.pow(power).mean()


def path_lengths(images: torch.Tensor, ws: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """StyleGAN2's path lengths ``||J_w^T y||`` per sample (Karras et al. 2020, section 3.2), with the
    graph kept: ``J_w`` is the Jacobian of the images with respect to the per-layer latents ``ws``
    (N, num_ws, w_dim) and ``y = directions`` random images, N(0, 1) / sqrt(H * W) in the paper.

    The squared norm is summed over w's width and averaged over the layers, as the official code.
    """
    (grad,) = torch.autograd.grad((images.float() * directions).sum(), ws, create_graph=True)
    return grad.float().square().sum(dim=2).mean(dim=1).sqrt()

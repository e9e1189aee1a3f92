"""A discriminator trained against a frozen affine generator, compared with D*."""

from __future__ import annotations

import numpy as np
import torch

from gankit.losses import discriminator_loss
from gankit.models.gan1d import make_discriminator
from gankit.nn.mlp import MLPGenerator
from gankit.theory.gaussians import (
    P_DATA,
    Normal1D,
    optimal_discriminator,
)


class single_thread:
    """Tiny MLPs gain nothing from intra-op threads; on a busy 2-core machine they lose 100x to contention."""

    def __enter__(self):
        self.saved = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        torch.set_num_threads(self.saved)

def affine_generator(p_g: Normal1D) -> MLPGenerator:
    """An MLPGenerator with no hidden layer is ``x = a z + b``; with ``z ~ N(0, 1)`` it draws ``p_g``."""
    g = MLPGenerator(1, [], (1,), dropout=0.0, tanh=False)
    with torch.no_grad():
        g.out.weight.fill_(p_g.sigma)
        g.out.bias.fill_(p_g.mu)
    return g.requires_grad_(False).eval()


def discriminator_on(d: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        logits = d(torch.as_tensor(x, dtype=torch.float32).reshape(-1, 1))
    return torch.sigmoid(logits).double().numpy()


def dstar_region(p_g: Normal1D, p_data: Normal1D = P_DATA, n: int = 2001, frac: float = 0.01):
    """A grid over both densities and the mask where ``p_data + p_g`` exceeds ``frac`` of its max."""
    lo = min(p_data.mu - 5 * p_data.sigma, p_g.mu - 5 * p_g.sigma)
    hi = max(p_data.mu + 5 * p_data.sigma, p_g.mu + 5 * p_g.sigma)
    x = np.linspace(lo, hi, n)
    s = p_data.pdf(x) + p_g.pdf(x)
    return x, s > frac * s.max()


def dstar_error(d: torch.nn.Module, p_g: Normal1D, p_data: Normal1D = P_DATA) -> float:
    """``max |D(x) - D*(x)|`` where ``p_data + p_g`` is at least 1% of its maximum."""
    x, mask = dstar_region(p_g, p_data)
    return float(np.abs(discriminator_on(d, x) - optimal_discriminator(x, p_data, p_g))[mask].max())


def fit_discriminator(p_g: Normal1D, steps: int = 3000, seed: int = 0, batch: int = 1024, lr: float = 3e-3,
                      widths=(64, 64), p_data: Normal1D = P_DATA, record_every: int = 100):
    """Train a fresh D against the frozen affine G with the BCE loss on fresh samples every step.

    The learning rate decays to zero (cosine) so the last iterates average out the minibatch noise,
    which otherwise sets the floor of ``|D - D*|``. Returns ``(D, untrained error, [(step, error)])``.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    g = affine_generator(p_g)
    d = make_discriminator(widths)
    history = [(0, dstar_error(d, p_g, p_data))]
    opt = torch.optim.Adam(d.parameters(), lr=lr, betas=(0.9, 0.999))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    for step in range(1, steps + 1):
        real = p_data.sample(batch, gen)
        fake = g(torch.randn(batch, 1, generator=gen))
        loss = discriminator_loss("minimax", d(real), d(fake))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % record_every == 0 or step == steps:
            history.append((step, dstar_error(d, p_g, p_data)))
    return d.eval(), history[0][1], history

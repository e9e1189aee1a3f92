"""Algorithm 1 on the 1-D toy problem, trained by the Trainer, with snapshots for Figure 1.

The recipe it trains, ``gan1d``, is a family like any other (:mod:`gankit.models.gan1d`).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import gaussian_kde

from gankit.config import RunConfig
from gankit.models.gan1d import GAN_K
from gankit.theory.optimal_d import discriminator_on

@dataclass
class Snapshot:
    step: int
    z_grid: np.ndarray      # z values drawn as the bottom line of Figure 1
    x_of_z: np.ndarray      # G(z) for them
    samples: np.ndarray     # many G samples for the density estimate
    d_x: np.ndarray         # x grid where D is evaluated
    d_of_x: np.ndarray


def train_gan_1d(steps: int = 2000, seed: int = 0, k: int = GAN_K, batch: int = 256, lr: float = 5e-4,
                 widths=(32, 32), g_loss: str = "non-saturating", snapshot_fractions=(0.0, 0.05, 0.15, 1.0),
                 x_range=(-2.0, 7.0), progress: bool = False) -> list[Snapshot]:
    """Algorithm 1 through the Trainer: for each iteration, k D-steps on fresh minibatches, then one G step.

    p_data is the ``gauss1d`` dataset (50,000 draws of N(4, 0.5^2)). Snapshots are taken at the
    given fractions of ``steps`` (the interesting motion is early). With k=1 this toy problem
    keeps circling the equilibrium; k=2 and the decaying learning rate settle it.
    """
    cfg = RunConfig(model="gan1d")
    cfg.data.name = "gauss1d"
    cfg.options = {"widths": list(widths)}
    t = cfg.train
    t.steps, t.seed, t.k, t.batch_size, t.lr_g, t.lr_d, t.loss = steps, seed, k, batch, lr, lr, g_loss
    t.log_every, t.sample_every, t.checkpoint_every = max(1, steps // 10), steps, steps

    snap_at = sorted({int(round(f * steps)) for f in snapshot_fractions})
    z_grid = torch.linspace(-1, 1, 17).reshape(-1, 1)
    d_x = np.linspace(x_range[0], x_range[1], 600)
    eval_gen = torch.Generator().manual_seed(seed + 1)
    snaps: list[Snapshot] = []

    def snapshot(trainer) -> None:
        if trainer.step not in snap_at:
            return
        g, d = trainer.recipe.nets["G"], trainer.recipe.nets["D"]
        with torch.no_grad():
            samples = g(torch.rand(20_000, 1, generator=eval_gen) * 2 - 1).squeeze(1).numpy()
            x_of_z = g(z_grid).squeeze(1).numpy()
        snaps.append(Snapshot(trainer.step, z_grid.squeeze(1).numpy(), x_of_z, samples.astype(np.float64), d_x,
                              discriminator_on(d, d_x)))

    from gankit.train.trainer import Trainer  # the theory package stays importable without the Trainer

    with tempfile.TemporaryDirectory(prefix="gankit-theory-") as run_dir:
        trainer = Trainer(cfg, run_dir, progress=progress, on_iteration=snapshot)
        snapshot(trainer)
        trainer.fit()
    return snaps


def generator_density(samples: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gaussian KDE of G's samples (Scott's bandwidth); a collapsed G gets a tiny floor on its spread."""
    if samples.std() < 1e-4:
        samples = samples + np.random.default_rng(0).normal(0, 1e-4, samples.shape)
    return gaussian_kde(samples)(x)


def jsd_on_grid(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """JSD of two densities tabulated on a grid (each renormalised on it), in nats."""
    p, q = p / np.trapezoid(p, x), q / np.trapezoid(q, x)
    m = 0.5 * (p + q)
    def kl(a):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.trapezoid(np.where(a > 0, a * np.log(a / m), 0.0), x)
    return float(0.5 * kl(p) + 0.5 * kl(q))

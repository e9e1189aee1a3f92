"""Toy point distributions: Gaussian mixtures for the theory demo and mode-collapse benchmarks.

Only the distributions: the catalog describes them and the registry loads their fixed samples
(:func:`gankit.data.registry.load_toy`), so this module imports nothing of the data layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOY_SIZES = {"train": 50_000, "test": 10_000}
# Fixed, different seeds per split so train and test are independent draws.
TOY_SEEDS = {"train": 0, "test": 1}


@dataclass(frozen=True)
class ToyDistribution:
    """An equal-weight mixture of isotropic Gaussians.

    Attributes
    ----------
    centers : ndarray of float, shape (M, D)
    std : float
        Standard deviation of every component.
    """

    centers: np.ndarray
    std: float

    @property
    def weights(self) -> np.ndarray:
        m = len(self.centers)
        return np.full(m, 1.0 / m)

    @property
    def dim(self) -> int:
        return int(self.centers.shape[1])

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` points; returns x float32 (n, D) and the component index y int64 (n,)."""
        rng = np.random.default_rng(seed)
        y = rng.integers(len(self.centers), size=n)
        x = self.centers[y] + self.std * rng.standard_normal((n, self.dim))
        return x.astype(np.float32), y.astype(np.int64)


def _ring(m: int, radius: float) -> np.ndarray:
    t = 2 * np.pi * np.arange(m) / m
    return np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1)


_GRID = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])

TOY_DISTRIBUTIONS: dict[str, ToyDistribution] = {
    "gauss1d": ToyDistribution(np.array([[4.0]]), 0.5),
    "ring8": ToyDistribution(_ring(8, 2.0), 0.02),
    "grid25": ToyDistribution(np.stack(np.meshgrid(_GRID, _GRID, indexing="ij"), -1).reshape(-1, 2), 0.05),
}

